import * as FileSystem from "@effect/platform/FileSystem"
import { SystemError } from "@effect/platform/Error"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Config from "../src/Config.js"
import * as FileStoreModule from "../src/files/FileStore.js"
import { FileStore } from "../src/files/FileStore.js"
import type { Content, FileStoreService } from "../src/files/FileStore.js"
import { FileOps } from "../src/files/FileOps.js"
import { metaOf } from "../src/files/internal/Stats.js"
import type { FileOpsService } from "../src/files/FileOps.js"
import * as MemoryFileSystem from "../src/files/adapters/MemoryFileSystem.js"
import { FOLDERS, listing } from "./support/app.js"

const NOW = new Date("2026-11-28T09:30:00.120Z")
const STAMP = "20261128T093000120Z"

const withStore = <A, E>(
  memory: MemoryFileSystem.MemoryFileSystem,
  f: (store: FileStoreService) => Effect.Effect<A, E>,
  options: {
    wrapFs?: (fs: FileSystem.FileSystem) => FileSystem.FileSystem
    wrapExtra?: (extra: FileOpsService) => FileOpsService
    settings?: Record<string, string>
  } = {}
) => {
  const fsLayer = Layer.merge(
    Layer.effect(FileSystem.FileSystem, Effect.map(FileSystem.FileSystem, options.wrapFs ?? ((fs) => fs))),
    Layer.effect(FileOps, Effect.map(FileOps, options.wrapExtra ?? ((e) => e)))
  ).pipe(Layer.provide(memory.layer))
  return Effect.flatMap(FileStore, (store) => Effect.zipRight(store.prepareFolders, f(store))).pipe(
    Effect.provide(FileStoreModule.layer.pipe(Layer.provide(Layer.merge(fsLayer, Config.layerFixed({ ...FOLDERS, ...options.settings })))))
  )
}

const claimed = "/srv/processing/i1/1-1_a.json"
const bytes = (text: string): Content => ({ _tag: "Bytes", bytes: Buffer.from(text) })

/** Stores, then releases the claimed name, as the pipeline and the ClaimReleaser do. */
const storeValidAndRelease = (store: FileStoreService, path: string, name: string, content: Content = bytes("new")) =>
  Effect.tap(store.storeValid(path, name, NOW, content), () => store.releaseClaim(path, "validated"))
const storeReturnedAndRelease = (store: FileStoreService, path: string, name: string, report: (s: string) => string, content: Content = bytes("bad")) =>
  Effect.tap(store.storeReturned(path, name, NOW, content, report), () => store.releaseClaim(path, "returns"))

/** Recovery's question, with the claimed file's look as recovery reads it. */
const storedAlready = (store: FileStoreService, memory: MemoryFileSystem.MemoryFileSystem, path: string, tooLarge = false) =>
  Effect.suspend(() => store.storedAlready(path, metaOf(memory.volume.lstatSync(path, { bigint: true })), tooLarge))

const all = (volume: MemoryFileSystem.MemoryVolume, dir: string) => (volume.readdirSync(dir) as Array<string>).map(String).sort()

const systemFailure = (method: string, path: string, code: string) =>
  new SystemError({ reason: "Unknown", module: "FileSystem", method, syscall: method, pathOrDescriptor: path, cause: Object.assign(new Error(`${code}: ${method}`), { code }) })

describe("FileStore", () => {
  it.effect("creates the five folders and checks they are usable, leaving no probe behind", () => {
    const memory = MemoryFileSystem.make()
    return withStore(memory, () => Effect.void).pipe(
      Effect.map(() => {
        for (const dir of Object.values(FOLDERS)) {
          expect(memory.volume.statSync(dir).isDirectory()).toBe(true)
          expect(all(memory.volume, dir)).toEqual([])
        }
        expect(memory.volume.statSync(FOLDERS.PROCESSING_DIR).mode & 0o777).toBe(0o750)
      })
    )
  })

  it.effect("names a folder that is not usable", () => {
    const memory = MemoryFileSystem.make({ "/srv/returns": "I am a file" })
    return Effect.flip(withStore(memory, () => Effect.void)).pipe(
      Effect.map((e) => {
        expect(e._tag).toBe("FolderUnusable")
        expect(e.message).toMatch(/^folder \/srv\/returns \(RETURNS_DIR\) is not usable/)
      })
    )
  })

  it.effect("refuses a processing folder every user may write", () => {
    const memory = MemoryFileSystem.make()
    memory.volume.mkdirSync("/srv/processing", { recursive: true })
    memory.volume.chmodSync("/srv/processing", 0o777)
    return Effect.flip(withStore(memory, () => Effect.void)).pipe(
      Effect.map((e) => expect(e.message).toMatch(/^folder \/srv\/processing \(PROCESSING_DIR\) is not usable: every user may write it.*chmod 750/))
    )
  })

  it.effect("refuses to start with too little free disk", () => {
    const memory = MemoryFileSystem.make()
    memory.setFreeBytes(50 * 1024 * 1024)
    return Effect.flip(withStore(memory, (store) => store.checkDiskSpace)).pipe(
      Effect.map((e) => expect(e.message).toMatch(/^only 50 MB free on \/srv\/processing \(PROCESSING_DIR\); MIN_FREE_DISK_MB requires 100 MB$/))
    )
  })

  it.effect("finds link counts, identity and link semantics on a filesystem that keeps them", () => {
    const memory = MemoryFileSystem.make()
    return withStore(memory, (store) => store.probeFilesystems).pipe(
      Effect.map((found) => {
        expect(found.map((g) => g.setting)).toEqual(["PROCESSING_DIR", "VALIDATED_DIR", "RETURNS_DIR"])
        for (const g of found) expect(g).toMatchObject({ linkCounts: true, linkRefusesExisting: true, stableIdentity: true, atomicRename: true })
        for (const dir of Object.values(FOLDERS)) expect(all(memory.volume, dir)).toEqual([])
      })
    )
  })

  it.effect("refuses a filesystem without link counts (sshfs), naming the folder", () => {
    const memory = MemoryFileSystem.make()
    const wrapExtra = (extra: FileOpsService): FileOpsService => ({
      ...extra,
      identify: (path) => Effect.map(extra.identify(path), (meta) => (path.startsWith("/srv/validated/") ? { ...meta, nlink: 1 } : meta))
    })
    return Effect.flip(withStore(memory, (store) => store.probeFilesystems, { wrapExtra })).pipe(
      Effect.map((e) => {
        expect(e._tag).toBe("FilesystemUnsupported")
        expect(e.message).toMatch(/^folder \/srv\/validated \(VALIDATED_DIR\) is on a filesystem that cannot be used: it reports no link counts/)
        expect(all(memory.volume, "/srv/validated")).toEqual([])
      })
    )
  })

  it.effect("stores what was judged, never the claimed file itself, in a file of its own", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "changed after it was judged" })
    return withStore(memory, (store) => store.storeValid(claimed, "a.json", NOW, bytes("judged"))).pipe(
      Effect.map((stored) => {
        expect(memory.volume.readFileSync(`/srv/validated/${stored}`, "utf8")).toBe("judged")
        expect(memory.volume.statSync(`/srv/validated/${stored}`).ino).not.toBe(memory.volume.statSync(claimed).ino)
        expect(memory.volume.statSync(`/srv/validated/${stored}`).mode & 0o777).toBe(0o640)
      })
    )
  })

  it.effect("never replaces a file in validated/: stamped name, then -2", () => {
    const memory = MemoryFileSystem.make({
      [claimed]: "new",
      "/srv/validated/a.json": "old",
      [`/srv/validated/a-${STAMP}.json`]: "older"
    })
    return withStore(memory, (store) => storeValidAndRelease(store, claimed, "a.json")).pipe(
      Effect.map((stored) => {
        expect(stored).toBe(`a-${STAMP}-2.json`)
        expect(memory.volume.readFileSync("/srv/validated/a.json", "utf8")).toBe("old")
        expect(memory.volume.readFileSync(`/srv/validated/${stored}`, "utf8")).toBe("new")
        expect(memory.volume.existsSync(claimed)).toBe(false)
        expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
      })
    )
  })

  it.effect("puts the report in place before the data file, and never a partial one; nothing is staged in returns/", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "bad data" })
    const links: Array<string> = []
    const wrapExtra = (extra: FileOpsService): FileOpsService => ({
      ...extra,
      link: (from, to) => Effect.zipRight(Effect.sync(() => links.push(to)), extra.link(from, to))
    })
    return withStore(memory, (store) => storeReturnedAndRelease(store, claimed, "a.json", (s) => `{"stored_as":"${s}"}`, bytes("bad data")), { wrapExtra }).pipe(
      Effect.map((stored) => {
        expect(stored).toBe("a.json")
        expect(links).toEqual(["/srv/returns/a.json.error.json", "/srv/returns/a.json"])
        expect(all(memory.volume, "/srv/returns")).toEqual(["a.json", "a.json.error.json"])
        expect(memory.volume.readFileSync("/srv/returns/a.json.error.json", "utf8")).toBe('{"stored_as":"a.json"}')
        expect(memory.volume.readFileSync("/srv/returns/a.json", "utf8")).toBe("bad data")
        expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
      })
    )
  })

  it.effect("moves to the next name when either the data or the report name is taken", () => {
    const memory = MemoryFileSystem.make({
      [claimed]: "bad",
      "/srv/returns/a.json": "someone else's",
      [`/srv/returns/a-${STAMP}.json.error.json`]: "orphan report"
    })
    return withStore(memory, (store) => store.storeReturned(claimed, "a.json", NOW, bytes("bad"), (s) => s)).pipe(
      Effect.map((stored) => {
        expect(stored).toBe(`a-${STAMP}-2.json`)
        expect(memory.volume.readFileSync("/srv/returns/a.json", "utf8")).toBe("someone else's")
        expect(memory.volume.readFileSync(`/srv/returns/a-${STAMP}.json.error.json`, "utf8")).toBe("orphan report")
        expect(memory.volume.readFileSync(`/srv/returns/${stored}.error.json`, "utf8")).toBe(stored)
      })
    )
  })

  it.effect("after a crash between report and data, withdraws the orphan report and starts again", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "bad" })
    // The first attempt dies right after placing the report (the data file's link fails for good).
    let crash = true
    const wrapExtra = (extra: FileOpsService): FileOpsService => ({
      ...extra,
      link: (from, to) => (crash && to === "/srv/returns/a.json" ? Effect.die("crash") : extra.link(from, to))
    })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        yield* Effect.exit(store.storeReturned(claimed, "a.json", NOW, bytes("bad"), (s) => `{"stored_as":"${s}"}`))
        expect(all(memory.volume, "/srv/returns")).toEqual(["a.json.error.json"])
        crash = false
        // Recovery: not stored yet; the orphan report is withdrawn, then the file is stored afresh.
        expect(yield* storedAlready(store, memory, claimed)).toBe(false)
        yield* store.clearAttempt(claimed)
        expect(all(memory.volume, "/srv/returns")).toEqual([])
        const stored = yield* storeReturnedAndRelease(store, claimed, "a.json", (s) => `{"stored_as":"${s}","new":true}`)
        expect(stored).toBe("a.json")
        expect(all(memory.volume, "/srv/returns")).toEqual(["a.json", "a.json.error.json"])
        expect(memory.volume.readFileSync("/srv/returns/a.json.error.json", "utf8")).toBe('{"stored_as":"a.json","new":true}')
        expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
      }), { wrapExtra })
  })

  it.effect("leaves alone a report that is not its own", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "bad", "/srv/returns/a.json.error.json": "theirs" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        yield* store.clearAttempt(claimed)
        return yield* store.storeReturned(claimed, "a.json", NOW, bytes("bad"), (s) => s)
      })).pipe(
        Effect.map((stored) => {
          expect(stored).toBe(`a-${STAMP}.json`)
          expect(memory.volume.readFileSync("/srv/returns/a.json.error.json", "utf8")).toBe("theirs")
          expect(listing(memory.volume, "/srv/returns")).toEqual([`a-${STAMP}.json`, `a-${STAMP}.json.error.json`, "a.json.error.json"])
        })
      )
  })

  it.effect("a crash after placing leaves the stage linked twice: recovery sees it stored already", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "new" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        expect(yield* storedAlready(store, memory, claimed)).toBe(false)
        const stored = yield* store.storeValid(claimed, "a.json", NOW, bytes("new"))
        expect(memory.volume.readFileSync(`/srv/validated/${stored}`, "utf8")).toBe("new")
        expect(yield* storedAlready(store, memory, claimed)).toBe(true)
        yield* store.releaseClaim(claimed, "validated")
        expect(memory.volume.existsSync(claimed)).toBe(false)
        expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
        expect(all(memory.volume, "/srv/validated")).toEqual(["a.json"])
        // Released already (or by another instance): nothing to do, no error.
        yield* store.releaseClaim(claimed, "validated")
      }))
  })

  it.effect.each([
    ["returns", []],
    ["unknown", []],
    // (a role that keeps no report does not look for a report's stages: they are not its own)
    ["validated", ["report", "rtarget"]]
  ] as const)("releasing a returned file as stored in %s leaves of its stages: %j", ([storedIn, left]) => {
    const memory = MemoryFileSystem.make({ [claimed]: "bad" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        yield* store.storeReturned(claimed, "a.json", NOW, bytes("bad"), (s) => s)
        yield* store.releaseClaim(claimed, storedIn)
        expect(memory.volume.existsSync(claimed)).toBe(false)
        expect(all(memory.volume, "/srv/processing/i1").map((n) => n.split(".").pop())).toEqual([...left].sort())
        expect(all(memory.volume, "/srv/returns")).toEqual(["a.json", "a.json.error.json"])
      }))
  })

  const exdevFor = (prefix: string) => (extra: FileOpsService): FileOpsService => ({
    ...extra,
    link: (from, to) => (from.startsWith(prefix) && !to.startsWith(prefix) ? Effect.fail(systemFailure("link", from, "EXDEV")) : extra.link(from, to))
  })

  it.effect("across filesystems (EXDEV) stages in the destination under a random name, journaled, and leaves nothing behind", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "payload" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        const stored = yield* store.storeValid(claimed, "a.json", NOW, bytes("payload"))
        const hidden = all(memory.volume, "/srv/validated").filter((n) => n.startsWith("."))
        expect(hidden).toHaveLength(1)
        expect(hidden[0]).toMatch(/^\.cjp-stage-[0-9a-f]{32}\.tmp$/)
        // The journal in the private folder names the stage: recovery finds the file stored.
        expect(yield* storedAlready(store, memory, claimed)).toBe(true)
        yield* store.releaseClaim(claimed, "validated")
        return stored
      }), { wrapExtra: exdevFor("/srv/processing/") }).pipe(
        Effect.map((stored) => {
          expect(stored).toBe("a.json")
          expect(memory.volume.readFileSync("/srv/validated/a.json", "utf8")).toBe("payload")
          expect(all(memory.volume, "/srv/validated")).toEqual(["a.json"])
          expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
        })
      )
  })

  it.effect("across filesystems, a stage swapped by someone else before it is linked is never stored; a new one is", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "bad", "/srv/elsewhere/secret": "not yours" })
    let swaps = 0
    const wrapExtra = (extra: FileOpsService): FileOpsService => {
      const exdev = exdevFor("/srv/processing/")(extra)
      return {
        ...exdev,
        // A hostile producer replaces the freshly written stage with a file of their own.
        writeNew: (path, content, mode) =>
          Effect.tap(extra.writeNew(path, content, mode), () =>
            Effect.sync(() => {
              if (path.startsWith("/srv/returns/.cjp-stage-") && swaps++ === 0) {
                memory.volume.unlinkSync(path)
                memory.volume.linkSync("/srv/elsewhere/secret", path)
              }
            }))
      }
    }
    return withStore(memory, (store) => storeReturnedAndRelease(store, claimed, "a.json", (s) => `{"stored_as":"${s}"}`), { wrapExtra }).pipe(
      Effect.map((stored) => {
        expect(swaps).toBeGreaterThan(1)
        expect(stored).toBe("a.json")
        expect(memory.volume.readFileSync("/srv/returns/a.json.error.json", "utf8")).toBe('{"stored_as":"a.json"}')
        expect(memory.volume.readFileSync("/srv/returns/a.json", "utf8")).toBe("bad")
        expect(listing(memory.volume, "/srv/returns")).toEqual(["a.json", "a.json.error.json"])
      })
    )
  })

  it.effect("sweeps stages whose claimed file is gone, and keeps the others", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "new" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        yield* store.storeValid(claimed, "a.json", NOW, bytes("new"))
        memory.volume.writeFileSync("/srv/processing/i1/.0123456789abcdef0123456789abcdef.data", "orphan")
        memory.volume.writeFileSync("/srv/processing/i1/.heartbeat", "{}")
        yield* store.sweepStages("/srv/processing/i1", () => [])
        const left = all(memory.volume, "/srv/processing/i1")
        expect(left).toContain(".heartbeat")
        expect(left).toContain("1-1_a.json")
        expect(left).not.toContain(".0123456789abcdef0123456789abcdef.data")
        expect(left.filter((n) => n.endsWith(".data"))).toHaveLength(1)
      }))
  })

  it.effect("keeps the stages of a claim being worked on when the listing missed the claim", () => {
    // A listing read while files come and go (through the thread pool) may show a stage made
    // after its claim but not the claim: the stage of a stored file must not go with it.
    const memory = MemoryFileSystem.make({ [claimed]: "new" })
    const wrapExtra = (extra: FileOpsService): FileOpsService => ({
      ...extra,
      list: (dir) => Effect.map(extra.list(dir), (entries) => entries.filter((e) => e.name !== "1-1_a.json"))
    })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        yield* store.storeValid(claimed, "a.json", NOW, bytes("new"))
        yield* store.sweepStages("/srv/processing/i1", () => ["1-1_a.json"])
        expect(yield* storedAlready(store, memory, claimed)).toBe(true)
        expect(all(memory.volume, "/srv/processing/i1").filter((n) => n.endsWith(".data"))).toHaveLength(1)
        // Not in use: swept.
        yield* store.sweepStages("/srv/processing/i1", () => [])
        expect(all(memory.volume, "/srv/processing/i1").filter((n) => n.endsWith(".data"))).toHaveLength(0)
      }), { wrapExtra })
  })

  it.effect("recreates its own processing folder if it was taken away", () => {
    const memory = MemoryFileSystem.make({ "/srv/data/a.json": "{}" })
    return withStore(memory, (store) => store.claim("a.json", claimed)).pipe(
      Effect.map((result) => {
        expect(result._tag).toBe("Some")
        expect(memory.volume.readFileSync(claimed, "utf8")).toBe("{}")
      })
    )
  })

  it.effect("claims atomically, and reports a file claimed elsewhere as gone", () => {
    const memory = MemoryFileSystem.make({ "/srv/data/a.json": "{}", "/srv/processing/i1/.heartbeat": "" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        expect((yield* store.claim("a.json", claimed))._tag).toBe("Some")
        expect((yield* store.claim("a.json", claimed + "2"))._tag).toBe("None")
      })).pipe(Effect.map(() => expect(memory.volume.readFileSync(claimed, "utf8")).toBe("{}")))
  })

  it.effect("puts back a claimed entry it does not take, unless its name was taken meanwhile", () => {
    const memory = MemoryFileSystem.make({ "/srv/processing/i1/.heartbeat": "" })
    memory.volume.mkdirSync("/srv/data", { recursive: true })
    memory.volume.symlinkSync("/etc/passwd", claimed)
    memory.volume.symlinkSync("/etc/passwd", "/srv/processing/i1/1-2_b.json")
    memory.volume.writeFileSync("/srv/data/b.json", "new file under that name")
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        expect(yield* store.putBack(claimed, "a.json")).toBe(true)
        expect(yield* store.putBack("/srv/processing/i1/1-2_b.json", "b.json")).toBe(false)
        expect(memory.volume.lstatSync("/srv/data/a.json").isSymbolicLink()).toBe(true)
        expect(memory.volume.existsSync(claimed)).toBe(false)
        expect(memory.volume.readFileSync("/srv/data/b.json", "utf8")).toBe("new file under that name")
      }))
  })

  it.effect("STORE_MODE=link: links the producer's file itself into place; recovery still sees it stored", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "theirs" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        const stored = yield* store.storeValid(claimed, "a.json", NOW, bytes("theirs"))
        expect(memory.volume.statSync(`/srv/validated/${stored}`).ino).toBe(memory.volume.statSync(claimed).ino)
        expect(yield* storedAlready(store, memory, claimed)).toBe(true)
        yield* store.releaseClaim(claimed, "validated")
        expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
      }), { settings: { STORE_MODE: "link" } })
  })

  it.effect("STORE_MODE=link: a file the kernel will not link (protected_hardlinks: EPERM) is copied after all", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "theirs" })
    const wrapExtra = (extra: FileOpsService): FileOpsService => ({
      ...extra,
      link: (from, to) => (from === claimed ? Effect.fail(systemFailure("link", from, "EPERM")) : extra.link(from, to))
    })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        const stored = yield* store.storeValid(claimed, "a.json", NOW, bytes("theirs"))
        expect(memory.volume.readFileSync(`/srv/validated/${stored}`, "utf8")).toBe("theirs")
        expect(memory.volume.statSync(`/srv/validated/${stored}`).ino).not.toBe(memory.volume.statSync(claimed).ino)
        expect(yield* storedAlready(store, memory, claimed)).toBe(true)
      }), { settings: { STORE_MODE: "link" }, wrapExtra })
  })

  describe("a file too large to read (returned as it is, never read)", () => {
    const big = "x".repeat(20_000)
    const original = (memory: MemoryFileSystem.MemoryFileSystem, blocks?: number) => {
      const meta = metaOf(memory.volume.lstatSync(claimed, { bigint: true }))
      return { _tag: "Original", meta: blocks === undefined ? meta : { ...meta, blocks } } as const
    }
    const counting = (reads: Array<string>, more: (extra: FileOpsService) => Partial<FileOpsService> = () => ({})) => (extra: FileOpsService): FileOpsService => {
      const base = { ...extra, ...more(extra) }
      return {
        ...base,
        // (the store's own journals and notes are read too: only the claimed file counts)
        readRegular: (path, max) => Effect.zipRight(Effect.sync(() => path === claimed && reads.push(path)), base.readRegular(path, max)),
        copyNew: (from, size, to, mode, sync) => Effect.zipRight(Effect.sync(() => reads.push(from)), base.copyNew(from, size, to, mode, sync))
      }
    }
    const eperm = (extra: FileOpsService): Partial<FileOpsService> => ({
      // A service user and another user's file: protected_hardlinks refuses the link.
      link: (from, to) => (from === claimed ? Effect.fail(systemFailure("link", from, "EPERM")) : extra.link(from, to))
    })

    it.effect("is linked into place where the kernel allows: the very file, nothing read", () => {
      const memory = MemoryFileSystem.make({ [claimed]: big })
      const reads: Array<string> = []
      const inode = memory.volume.statSync(claimed).ino
      return withStore(memory, (store) => storeReturnedAndRelease(store, claimed, "a.json", (s) => `{"stored_as":"${s}"}`, original(memory)), { wrapExtra: counting(reads) }).pipe(
        Effect.map((stored) => {
          expect(stored).toBe("a.json")
          expect(reads).toEqual([])
          expect(memory.volume.statSync("/srv/returns/a.json").ino).toBe(inode)
          expect(listing(memory.volume, "/srv/returns")).toEqual(["a.json", "a.json.error.json"])
          expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
        })
      )
    })

    it.effect("where the kernel will not link it (another user's file), is renamed over a name reserved first: nothing read, nothing replaced", () => {
      const memory = MemoryFileSystem.make({ [claimed]: big, "/srv/returns/a.json": "someone else's returned file" })
      const reads: Array<string> = []
      const inode = memory.volume.statSync(claimed).ino
      return withStore(memory, (store) => storeReturnedAndRelease(store, claimed, "a.json", (s) => `{"stored_as":"${s}"}`, original(memory)), { wrapExtra: counting(reads, eperm) }).pipe(
        Effect.map((stored) => {
          expect(stored).toBe(`a-${STAMP}.json`)
          expect(reads).toEqual([])
          expect(memory.volume.statSync(`/srv/returns/${stored}`).ino).toBe(inode)
          expect(memory.volume.readFileSync("/srv/returns/a.json", "utf8")).toBe("someone else's returned file")
          expect(listing(memory.volume, "/srv/returns")).toEqual([`a-${STAMP}.json`, `a-${STAMP}.json.error.json`, "a.json"])
          expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
        })
      )
    })

    it.effect("a name taken between its check and its reservation is never replaced: the next name is", () => {
      const memory = MemoryFileSystem.make({ [claimed]: big })
      const inode = memory.volume.statSync(claimed).ino
      const wrapExtra = (extra: FileOpsService): FileOpsService => ({
        ...eperm(extra),
        ...extra,
        link: eperm(extra).link!,
        // Another worker stores a file at that very name just before the reservation.
        writeNew: (path, bytes, mode, sync) =>
          Effect.suspend(() => {
            if (path === "/srv/returns/a.json" && !memory.volume.existsSync(path)) memory.volume.writeFileSync(path, "stored by another worker")
            return extra.writeNew(path, bytes, mode, sync)
          })
      })
      return withStore(memory, (store) => storeReturnedAndRelease(store, claimed, "a.json", (s) => `{"stored_as":"${s}"}`, original(memory)), { wrapExtra }).pipe(
        Effect.map((stored) => {
          expect(stored).toBe(`a-${STAMP}.json`)
          expect(memory.volume.readFileSync("/srv/returns/a.json", "utf8")).toBe("stored by another worker")
          expect(memory.volume.statSync(`/srv/returns/${stored}`).ino).toBe(inode)
          // The report placed for the name that was lost was withdrawn.
          expect(listing(memory.volume, "/srv/returns")).toEqual([`a-${STAMP}.json`, `a-${STAMP}.json.error.json`, "a.json"])
        })
      )
    })

    it.effect("after a crash between the reservation and the rename, recovery withdraws the empty reservation (only that)", () => {
      const memory = MemoryFileSystem.make({ [claimed]: big })
      let crash = true
      const wrapExtra = (extra: FileOpsService): FileOpsService => ({
        ...extra,
        link: eperm(extra).link!,
        rename: (from, to) => (crash && from === claimed ? Effect.die("crash") : extra.rename(from, to))
      })
      return withStore(memory, (store) =>
        Effect.gen(function*() {
          yield* Effect.exit(store.storeReturned(claimed, "a.json", NOW, original(memory), (s) => `{"stored_as":"${s}"}`))
          expect(memory.volume.readFileSync("/srv/returns/a.json", "utf8")).toBe("")
          crash = false
          expect(yield* storedAlready(store, memory, claimed, true)).toBe(false)
          yield* store.clearAttempt(claimed)
          expect(listing(memory.volume, "/srv/returns")).toEqual([])
          const stored = yield* storeReturnedAndRelease(store, claimed, "a.json", (s) => `{"stored_as":"${s}"}`, original(memory))
          expect(stored).toBe("a.json")
          expect(memory.volume.readFileSync("/srv/returns/a.json", "utf8")).toBe(big)
          expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
        }), { wrapExtra })
    })

    it.effect("recovery finds a file linked as itself before a crash stored already", () => {
      const memory = MemoryFileSystem.make({ [claimed]: big })
      return withStore(memory, (store) =>
        Effect.gen(function*() {
          expect(yield* storedAlready(store, memory, claimed, true)).toBe(false)
          yield* store.storeReturned(claimed, "a.json", NOW, original(memory), (s) => s)
          expect(yield* storedAlready(store, memory, claimed, true)).toBe(true)
        }))
    })

    it.effect("across filesystems, a sparse one is not copied (its holes would be read): a failure that says so, nothing placed", () => {
      const memory = MemoryFileSystem.make({ [claimed]: big })
      const reads: Array<string> = []
      return withStore(memory, (store) => Effect.flip(store.storeReturned(claimed, "a.json", NOW, original(memory, 1), (s) => s)), {
        wrapExtra: counting(reads, exdevFor("/srv/processing/"))
      }).pipe(
        Effect.map((error) => {
          expect(error._tag).toBe("SparseAcrossFilesystems")
          expect(error.message).toContain("without reading its holes")
          expect(reads).toEqual([])
          expect(listing(memory.volume, "/srv/returns")).toEqual([])
          expect(memory.volume.readFileSync(claimed, "utf8")).toBe(big)
        })
      )
    })

    it.effect("across filesystems, a dense one is copied (what it occupies is what is read)", () => {
      const memory = MemoryFileSystem.make({ [claimed]: big })
      const reads: Array<string> = []
      return withStore(memory, (store) => storeReturnedAndRelease(store, claimed, "a.json", (s) => s, original(memory, 40)), {
        wrapExtra: counting(reads, exdevFor("/srv/processing/"))
      }).pipe(
        Effect.map((stored) => {
          expect(reads).toEqual([claimed])
          expect(memory.volume.readFileSync(`/srv/returns/${stored}`, "utf8")).toBe(big)
          expect(listing(memory.volume, "/srv/returns")).toEqual(["a.json", "a.json.error.json"])
        })
      )
    })
  })

  describe("STORE_MODE=auto (the default): a copy only across the owner boundary", () => {
    const ownerOf = (memory: MemoryFileSystem.MemoryFileSystem, uid: number): Content => {
      memory.volume.chownSync(claimed, uid, 0)
      return { _tag: "Bytes", bytes: Buffer.from("judged"), meta: metaOf(memory.volume.lstatSync(claimed, { bigint: true })) }
    }
    const euid = process.geteuid?.() ?? 0

    it.effect("a file of the daemon's own user is linked into place as itself", () => {
      const memory = MemoryFileSystem.make({ [claimed]: "judged" })
      const inode = memory.volume.statSync(claimed).ino
      return withStore(memory, (store) => storeValidAndRelease(store, claimed, "a.json", ownerOf(memory, euid))).pipe(
        Effect.map(() => {
          expect(memory.volume.statSync("/srv/validated/a.json").ino).toBe(inode)
          expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
        })
      )
    })

    it.effect("a file of another user is stored as a copy the daemon owns, of the bytes judged", () => {
      const memory = MemoryFileSystem.make({ [claimed]: "judged" })
      const inode = memory.volume.statSync(claimed).ino
      return withStore(memory, (store) => storeValidAndRelease(store, claimed, "a.json", ownerOf(memory, euid + 1))).pipe(
        Effect.map(() => {
          expect(memory.volume.statSync("/srv/validated/a.json").ino).not.toBe(inode)
          expect(memory.volume.readFileSync("/srv/validated/a.json", "utf8")).toBe("judged")
          expect(all(memory.volume, "/srv/processing/i1")).toEqual([])
        })
      )
    })

    it.effect("STORE_MODE=copy copies the daemon's own user's file too", () => {
      const memory = MemoryFileSystem.make({ [claimed]: "judged" })
      const inode = memory.volume.statSync(claimed).ino
      return withStore(memory, (store) => storeValidAndRelease(store, claimed, "a.json", ownerOf(memory, euid)), { settings: { STORE_MODE: "copy" } }).pipe(
        Effect.map(() => expect(memory.volume.statSync("/srv/validated/a.json").ino).not.toBe(inode))
      )
    })
  })
})
