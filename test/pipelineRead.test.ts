/**
 * A fresh file is read in the input folder (to see that its writer has
 * finished) and claimed only then. The claimed entry is judged from that read
 * when it is the very file read, unchanged; anything else is read again where
 * no producer can reach it. Either way the bytes stored are the bytes judged.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { runDaemon } from "../src/daemon/Daemon.js"
import { sameFileUnchanged } from "../src/daemon/Pipeline.js"
import type { FileOpsService, Meta } from "../src/files/FileOps.js"
import { FOLDERS, listing, makeTestApp } from "./support/app.js"
import { fixture } from "./support/fixtures.js"
import { provideToday } from "./support/today.js"

const D = FOLDERS.DATA_DIR
const V = FOLDERS.VALIDATED_DIR
const R = FOLDERS.RETURNS_DIR

// Every daemon here runs under provideToday: memfs gives files real mtimes, later than TODAY, so every file is fresh and read before its claim.

const meta = (over: Partial<Meta> = {}): Meta => ({
  type: "File",
  nlink: 1,
  uid: 0,
  gid: 0,
  mode: 0o100644,
  size: 10,
  mtimeMs: 1000,
  blocks: 1,
  id: "1:2",
  ...over
})

describe("sameFileUnchanged", () => {
  it("holds for the same regular file with one link, same size and mtime", () => {
    expect(sameFileUnchanged(meta(), meta())).toBe(true)
  })
  it("fails for another inode, another size or mtime, a second link, or not a regular file", () => {
    expect(sameFileUnchanged(meta(), meta({ id: "1:3" }))).toBe(false)
    expect(sameFileUnchanged(meta(), meta({ size: 11 }))).toBe(false)
    expect(sameFileUnchanged(meta(), meta({ mtimeMs: 1001 }))).toBe(false)
    expect(sameFileUnchanged(meta(), meta({ nlink: 2 }))).toBe(false)
    expect(sameFileUnchanged(meta(), meta({ type: "SymbolicLink" }))).toBe(false)
  })
})

/** Counts the reads of each path through FileOps. */
const countingReads = (counts: Map<string, number>) => (ops: FileOpsService): FileOpsService => ({
  ...ops,
  readRegular: (path, maxBytes) => Effect.zipRight(Effect.sync(() => counts.set(path, (counts.get(path) ?? 0) + 1)), ops.readRegular(path, maxBytes))
})

describe("a fresh file is judged from one read", () => {
  it.scoped("a complete fresh file is opened and read once, and stored as read", () => {
    const valid = fixture("valid-batch.json")
    const counts = new Map<string, number>()
    const app = makeTestApp({ files: { [`${D}/a.json`]: valid }, wrapExtra: countingReads(counts) })
    return Effect.gen(function*() {
      const summary = yield* runDaemon({ once: true })
      expect(summary.validated).toBe(1)
      expect(app.volume.readFileSync(`${V}/a.json`, "utf8")).toBe(valid)
      const reads = [...counts.entries()].filter(([path]) => path.endsWith("a.json"))
      expect(reads).toEqual([[`${D}/a.json`, 1]])
    }).pipe(provideToday(app.layer))
  })

  it.scoped("a file changed between its read and its claim is read again, and the verdict is on what was claimed", () => {
    const valid = fixture("valid-single.json")
    const invalid = fixture("invalid-mixed-batch.json")
    const counts = new Map<string, number>()
    let swapped = false
    const app = makeTestApp({
      files: { [`${D}/b.json`]: valid },
      wrapExtra: (ops) => {
        const counted = countingReads(counts)(ops)
        return {
          ...counted,
          // The producer rewrites the file just before the claim's rename.
          rename: (from, to) =>
            Effect.zipRight(
              Effect.sync(() => {
                if (from === `${D}/b.json` && !swapped) {
                  swapped = true
                  app.volume.writeFileSync(from, invalid)
                }
              }),
              ops.rename(from, to)
            )
        }
      }
    })
    return Effect.gen(function*() {
      const summary = yield* runDaemon({ once: true })
      expect(swapped).toBe(true)
      expect(summary.returned).toBe(1)
      expect(listing(app.volume, V)).toEqual([])
      expect(app.volume.readFileSync(`${R}/b.json`, "utf8")).toBe(invalid)
      const reads = [...counts.entries()].filter(([path]) => path.endsWith("b.json"))
      expect(reads.length).toBe(2)
      expect(reads.every(([, n]) => n === 1)).toBe(true)
    }).pipe(provideToday(app.layer))
  })
})

describe("--once on a filesystem whose listings lag", () => {
  it.scoped("a claimed name a listing shows but that is not there is not counted as left behind", () => {
    // As GlusterFS does through a FUSE mount: a name unlinked a moment ago can still be listed.
    const ghost = "1795981363948-7_gone.json"
    let listedGhost = 0
    const app = makeTestApp({
      files: { [`${D}/a.json`]: fixture("valid-single.json") },
      wrapExtra: (ops) => ({
        ...ops,
        list: (dir) =>
          Effect.map(ops.list(dir), (entries) => {
            if (!dir.startsWith(`${FOLDERS.PROCESSING_DIR}/`)) return entries
            listedGhost++
            return [...entries, { name: ghost, type: "File" as const }]
          })
      })
    })
    return Effect.gen(function*() {
      const summary = yield* runDaemon({ once: true })
      expect(listedGhost).toBeGreaterThan(0)
      expect(summary).toMatchObject({ validated: 1, failed: 0, leftBehind: 0 })
    }).pipe(provideToday(app.layer))
  })
})
