import * as FileSystem from "@effect/platform/FileSystem"
import { SystemError } from "@effect/platform/Error"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { AppConfig } from "../src/Config.js"
import { FileStore, FileStoreLive } from "../src/FileStore.js"
import { FsExtra } from "../src/FsExtra.js"
import type { FsExtraService } from "../src/FsExtra.js"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import { FOLDERS, listing } from "./support/app.js"

const NOW = new Date("2026-11-28T09:30:00.120Z")
const STAMP = "20261128T093000120Z"

const withStore = <A, E>(
  memory: MemoryFileSystem.MemoryFileSystem,
  f: (store: FileStore["Type"]) => Effect.Effect<A, E>,
  options: {
    wrapFs?: (fs: FileSystem.FileSystem) => FileSystem.FileSystem
    wrapExtra?: (extra: FsExtraService) => FsExtraService
    settings?: Record<string, string>
  } = {}
) => {
  const fsLayer = Layer.merge(
    Layer.effect(FileSystem.FileSystem, Effect.map(FileSystem.FileSystem, options.wrapFs ?? ((fs) => fs))),
    Layer.effect(FsExtra, Effect.map(FsExtra, options.wrapExtra ?? ((e) => e)))
  ).pipe(Layer.provide(memory.layer))
  return Effect.flatMap(FileStore, (store) => Effect.zipRight(store.prepareFolders, f(store))).pipe(
    Effect.provide(FileStoreLive.pipe(Layer.provide(Layer.merge(fsLayer, AppConfig.layerFrom({ ...FOLDERS, ...options.settings })))))
  )
}

const claimed = "/srv/processing/i1/1-1_a.json"

/** Stores, then releases the claimed name, as the pipeline and the Releaser do. */
const storeValidAndRelease = (store: FileStore["Type"], path: string, name: string) =>
  Effect.tap(store.storeValid(path, name, NOW), () => store.releaseClaim(path, false))
const storeReturnedAndRelease = (store: FileStore["Type"], path: string, name: string, report: (s: string) => string) =>
  Effect.tap(store.storeReturned(path, name, NOW, report), () => store.releaseClaim(path, true))

describe("FileStore", () => {
  it.effect("creates the five folders and checks they are writable", () => {
    const memory = MemoryFileSystem.make()
    return withStore(memory, () => Effect.void).pipe(
      Effect.map(() => {
        for (const dir of Object.values(FOLDERS)) expect(memory.volume.statSync(dir).isDirectory()).toBe(true)
        expect(listing(memory.volume, FOLDERS.DATA_DIR)).toEqual([])
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

  it.effect("refuses to start with too little free disk", () => {
    const memory = MemoryFileSystem.make()
    memory.setFreeBytes(50 * 1024 * 1024)
    return Effect.flip(withStore(memory, (store) => store.checkDiskSpace)).pipe(
      Effect.map((e) => expect(e.message).toMatch(/^only 50 MB free on \/srv\/processing \(PROCESSING_DIR\); MIN_FREE_DISK_MB requires 100 MB$/))
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
      })
    )
  })

  it.effect("puts the report in place before the data file, and never a partial one", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "bad data" })
    const links: Array<string> = []
    const wrapFs = (fs: FileSystem.FileSystem): FileSystem.FileSystem => ({
      ...fs,
      link: (from, to) => Effect.zipRight(Effect.sync(() => links.push(to)), fs.link(from, to))
    })
    return withStore(memory, (store) => storeReturnedAndRelease(store, claimed, "a.json", (s) => `{"stored_as":"${s}"}`), { wrapFs }).pipe(
      Effect.map((stored) => {
        expect(stored).toBe("a.json")
        expect(links).toEqual(["/srv/returns/a.json.error.json", "/srv/returns/a.json"])
        expect(listing(memory.volume, "/srv/returns")).toEqual(["a.json", "a.json.error.json"])
        // the temporary report name is hidden and gone
        expect((memory.volume.readdirSync("/srv/returns") as Array<string>).length).toBe(2)
        expect(memory.volume.readFileSync("/srv/returns/a.json.error.json", "utf8")).toBe('{"stored_as":"a.json"}')
      })
    )
  })

  it.effect("moves to the next name when either the data or the report name is taken", () => {
    const memory = MemoryFileSystem.make({
      [claimed]: "bad",
      "/srv/returns/a.json": "someone else's",
      [`/srv/returns/a-${STAMP}.json.error.json`]: "orphan report"
    })
    return withStore(memory, (store) => store.storeReturned(claimed, "a.json", NOW, (s) => s)).pipe(
      Effect.map((stored) => {
        expect(stored).toBe(`a-${STAMP}-2.json`)
        expect(memory.volume.readFileSync("/srv/returns/a.json", "utf8")).toBe("someone else's")
        expect(memory.volume.readFileSync(`/srv/returns/a-${STAMP}.json.error.json`, "utf8")).toBe("orphan report")
        expect(memory.volume.readFileSync(`/srv/returns/${stored}.error.json`, "utf8")).toBe(stored)
      })
    )
  })

  it.effect("after a crash between report and data, withdraws the orphan report and starts again", () => {
    const stage = "/srv/returns/.1-1_a.json.report.tmp"
    const memory = MemoryFileSystem.make({ [claimed]: "bad", [stage]: '{"stored_as":"a.json"}' })
    memory.volume.linkSync(stage, "/srv/returns/a.json.error.json")
    return withStore(memory, (store) => storeReturnedAndRelease(store, claimed, "a.json", (s) => `{"stored_as":"${s}","new":true}`)).pipe(
      Effect.map((stored) => {
        expect(stored).toBe("a.json")
        expect(memory.volume.readdirSync("/srv/returns")).toEqual(["a.json", "a.json.error.json"])
        expect(memory.volume.readFileSync("/srv/returns/a.json.error.json", "utf8")).toBe('{"stored_as":"a.json","new":true}')
      })
    )
  })

  it.effect("leaves alone a report that is not its own", () => {
    const stage = "/srv/returns/.1-1_a.json.report.tmp"
    // a stage that was never linked: someone else's a.json.error.json must stay
    const memory = MemoryFileSystem.make({ [claimed]: "bad", [stage]: '{"stored_as":"a.json"}', "/srv/returns/a.json.error.json": "theirs" })
    return withStore(memory, (store) => store.storeReturned(claimed, "a.json", NOW, (s) => s)).pipe(
      Effect.map((stored) => {
        expect(stored).toBe(`a-${STAMP}.json`)
        expect(memory.volume.readFileSync("/srv/returns/a.json.error.json", "utf8")).toBe("theirs")
        expect(listing(memory.volume, "/srv/returns")).toEqual([`a-${STAMP}.json`, `a-${STAMP}.json.error.json`, "a.json.error.json"])
      })
    )
  })

  it.effect("across filesystems (EXDEV) copies, then links into place and unlinks the source", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "payload" })
    let exdev = 0
    const wrapFs = (fs: FileSystem.FileSystem): FileSystem.FileSystem => ({
      ...fs,
      link: (from, to) =>
        from.startsWith("/srv/processing/")
          ? Effect.suspend(() => {
            exdev++
            return Effect.fail(new SystemError({ reason: "Unknown", module: "FileSystem", method: "link", syscall: "link", pathOrDescriptor: from, cause: Object.assign(new Error("EXDEV: cross-device link not permitted"), { code: "EXDEV" }) }))
          })
          : fs.link(from, to)
    })
    return withStore(memory, (store) => storeValidAndRelease(store, claimed, "a.json"), { wrapFs }).pipe(
      Effect.map((stored) => {
        expect(exdev).toBe(1)
        expect(stored).toBe("a.json")
        expect(memory.volume.readFileSync("/srv/validated/a.json", "utf8")).toBe("payload")
        expect(memory.volume.readdirSync("/srv/validated")).toEqual(["a.json"])
        expect(memory.volume.existsSync(claimed)).toBe(false)
      })
    )
  })

  it.effect("keeps the claimed name of a stored file until releaseClaim (a crash in between leaves it linked)", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "new" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        const stored = yield* store.storeValid(claimed, "a.json", NOW)
        expect(memory.volume.readFileSync(`/srv/validated/${stored}`, "utf8")).toBe("new")
        expect(memory.volume.statSync(claimed).nlink).toBe(2)
        yield* store.releaseClaim(claimed, false)
        expect(memory.volume.existsSync(claimed)).toBe(false)
        // Released already (or by another instance): nothing to do, no error.
        yield* store.releaseClaim(claimed, false)
      }))
  })

  it.effect("storing again a file placed by an earlier attempt finds it in place (validated): one name only", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "new" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        const first = yield* store.storeValid(claimed, "a.json", NOW)
        const second = yield* store.storeValid(claimed, "a.json", NOW)
        expect(second).toBe(first)
        expect(memory.volume.readdirSync("/srv/validated")).toEqual(["a.json"])
      }))
  })

  it.effect("storing again a returned file placed by an earlier attempt keeps its one report", () => {
    const memory = MemoryFileSystem.make({ [claimed]: "bad" })
    return withStore(memory, (store) =>
      Effect.gen(function*() {
        const first = yield* store.storeReturned(claimed, "a.json", NOW, (s) => `{"stored_as":"${s}"}`)
        const second = yield* store.storeReturned(claimed, "a.json", NOW, (s) => `{"stored_as":"${s}","again":true}`)
        expect(second).toBe(first)
        yield* store.releaseClaim(claimed, true)
        expect(memory.volume.readdirSync("/srv/returns")).toEqual(["a.json", "a.json.error.json"])
        expect(memory.volume.readFileSync("/srv/returns/a.json.error.json", "utf8")).toBe('{"stored_as":"a.json"}')
        expect(memory.volume.existsSync(claimed)).toBe(false)
      }))
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
})
