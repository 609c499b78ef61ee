import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import * as Config from "../src/Config.js"
import * as FolderChecksModule from "../src/files/FolderChecks.js"
import { FolderChecks } from "../src/files/FolderChecks.js"
import type { FolderChecksService } from "../src/files/FolderChecks.js"
import { FileOps } from "../src/files/FileOps.js"
import * as MemoryFileSystem from "../src/files/adapters/MemoryFileSystem.js"
import { FOLDERS } from "./support/app.js"
import { TODAY } from "./support/today.js"

const withChecks = <A, E>(memory: MemoryFileSystem.MemoryFileSystem, f: (checks: FolderChecksService) => Effect.Effect<A, E>) =>
  Effect.flatMap(FolderChecks, f).pipe(
    Effect.provide(FolderChecksModule.layer.pipe(Layer.provide(Layer.merge(memory.layer, Config.layerFixed(FOLDERS)))))
  )

const STALE = ".cjp-probe-0123456789abcdef0123456789abcdef.tmp"
const FRESH = ".cjp-fsprobe-fedcba9876543210fedcba9876543210.tmp"

describe("FolderChecks: the folder checks as a service of their own", () => {
  it.effect("prepares the folders, and sweeps only the probes an instance killed mid-probe left behind", () => {
    const memory = MemoryFileSystem.make({
      [`${FOLDERS.VALIDATED_DIR}/${STALE}`]: "",
      [`${FOLDERS.VALIDATED_DIR}/${FRESH}`]: "",
      [`${FOLDERS.VALIDATED_DIR}/.cjp-probe-planted.tmp`]: ""
    })
    // Ages by effect's Clock: ten minutes and one second before the TestClock's time.
    const old = new Date(TODAY - 10 * 60_000)
    const recent = new Date(TODAY - 1000)
    memory.volume.utimesSync(`${FOLDERS.VALIDATED_DIR}/${STALE}`, old, old)
    memory.volume.utimesSync(`${FOLDERS.VALIDATED_DIR}/${FRESH}`, recent, recent)
    return TestClock.setTime(TODAY).pipe(Effect.zipRight(withChecks(memory, (checks) => checks.prepareFolders)), 
      Effect.map(() => {
        for (const dir of Object.values(FOLDERS)) expect(memory.volume.statSync(dir).isDirectory()).toBe(true)
        // a probe still in progress (recent) and a name that is not a probe's stay
        expect((memory.volume.readdirSync(FOLDERS.VALIDATED_DIR) as Array<string>).map(String).sort()).toEqual([FRESH, ".cjp-probe-planted.tmp"])
      })
    )
  })

  it.effect("sweeps a folder of thousands of names in pieces, never listing it whole", () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 3000; i++) files[`${FOLDERS.DATA_DIR}/f${i}.json`] = "{}"
    const stale = [0, 1500, 2999].map((i) => `.cjp-probe-${i.toString(16).padStart(32, "0")}.tmp`)
    for (const name of stale) files[`${FOLDERS.DATA_DIR}/${name}`] = ""
    const memory = MemoryFileSystem.make(files)
    const old = new Date(TODAY - 10 * 60_000)
    for (const name of stale) memory.volume.utimesSync(`${FOLDERS.DATA_DIR}/${name}`, old, old)
    let largestPiece = 0
    // The in-memory FileOps, with whole listings refused and the pieces measured.
    const watched = Layer.effect(
      FileOps,
      Effect.map(FileOps, (ops) => ({
        ...ops,
        list: (dir: string) => Effect.dieMessage(`listed ${dir} whole`),
        listPieces: (dir: string) =>
          Effect.map(ops.listPieces(dir), (listing) => ({
            ...listing,
            next: (max: number) => Effect.tap(listing.next(max), (piece) => Effect.sync(() => (largestPiece = Math.max(largestPiece, piece.length))))
          }))
      }))
    ).pipe(Layer.provide(memory.layer))
    return TestClock.setTime(TODAY).pipe(
      Effect.zipRight(Effect.flatMap(FolderChecks, (checks) => checks.prepareFolders)),
      Effect.provide(FolderChecksModule.layer.pipe(Layer.provide(Layer.mergeAll(memory.layer, watched, Config.layerFixed(FOLDERS))))),
      Effect.map(() => {
        const left = (memory.volume.readdirSync(FOLDERS.DATA_DIR) as Array<string>).map(String)
        expect(left.filter((n) => n.startsWith(".cjp-probe"))).toEqual([])
        expect(left.length).toBe(3000)
        expect(largestPiece).toBeGreaterThan(0)
        expect(largestPiece).toBeLessThanOrEqual(1024)
      })
    )
  })

  it.effect("checks free space on the output folders only, and probes the filesystems routing relies on", () => {
    const memory = MemoryFileSystem.make()
    memory.setFreeBytes(50 * 1024 * 1024)
    return withChecks(memory, (checks) =>
      Effect.gen(function*() {
        yield* checks.prepareFolders
        const low = yield* Effect.flip(checks.checkDiskSpace)
        expect(low).toMatchObject({ _tag: "DiskSpaceLow", setting: "PROCESSING_DIR", freeMb: 50, requiredMb: 100 })
        const guarantees = yield* checks.probeFilesystems
        expect(guarantees.map((g) => g.setting)).toEqual(["PROCESSING_DIR", "VALIDATED_DIR", "RETURNS_DIR"])
        expect(checks.folders).toEqual({ data: "/srv/data", processing: "/srv/processing", validated: "/srv/validated", returns: "/srv/returns", logs: "/srv/logs" })
      }))
  })
})
