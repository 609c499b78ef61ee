import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Stream } from "effect"
import { FileOps } from "../src/files/FileOps.js"
import * as MemoryFileSystem from "../src/files/adapters/MemoryFileSystem.js"

const withMemory = <A, E>(
  files: Record<string, string>,
  f: (fs: FileSystem.FileSystem, memory: MemoryFileSystem.MemoryFileSystem) => Effect.Effect<A, E, FileOps>
) => {
  const memory = MemoryFileSystem.make(files)
  return Effect.flatMap(FileSystem.FileSystem, (fs) => f(fs, memory)).pipe(Effect.provide(memory.layer))
}

describe("MemoryFileSystem", () => {
  it.effect("reads, writes and lists like a real filesystem", () =>
    withMemory({ "/a/x.json": "{}" }, (fs) =>
      Effect.gen(function*() {
        expect(yield* fs.readFileString("/a/x.json")).toBe("{}")
        yield* fs.writeFileString("/a/y.json", "[1]")
        expect((yield* fs.readDirectory("/a")).sort()).toEqual(["x.json", "y.json"])
        expect(yield* fs.exists("/a/z.json")).toBe(false)
        const info = yield* fs.stat("/a/y.json")
        expect(info.type).toBe("File")
        expect(Number(info.size)).toBe(3)
      })))

  it.effect("looks a name up as Node does: None when nothing has it, a link to nothing described", () =>
    withMemory({ "/a/x.json": "{}" }, (_, memory) =>
      Effect.gen(function*() {
        const ops = yield* FileOps
        memory.volume.symlinkSync("/a/nowhere", "/a/dangling")
        expect(yield* ops.lookup("/a/missing.json")).toEqual(Option.none())
        expect(Option.map(yield* ops.lookup("/a/x.json"), (m) => m.type)).toEqual(Option.some("File"))
        expect(Option.map(yield* ops.lookup("/a/dangling"), (m) => m.type)).toEqual(Option.some("SymbolicLink"))
      })))

  it.effect("fails with the same reasons as Node", () =>
    withMemory({ "/a/x.json": "{}", "/a/y.json": "[]" }, (fs) =>
      Effect.gen(function*() {
        const missing = yield* Effect.flip(fs.readFile("/a/missing.json"))
        expect(missing).toMatchObject({ _tag: "SystemError", reason: "NotFound" })
        const exists = yield* Effect.flip(fs.link("/a/x.json", "/a/y.json"))
        expect(exists).toMatchObject({ _tag: "SystemError", reason: "AlreadyExists" })
        const wx = yield* Effect.flip(fs.writeFileString("/a/x.json", "!", { flag: "wx" }))
        expect(wx).toMatchObject({ reason: "AlreadyExists" })
        const notEmpty = yield* Effect.flip(fs.makeDirectory("/a"))
        expect(notEmpty).toMatchObject({ reason: "AlreadyExists" })
      })))

  it.effect("rename replaces, link does not; lstat sees links", () =>
    withMemory({ "/a/x.json": "x", "/a/y.json": "y" }, (fs) =>
      Effect.gen(function*() {
        const extra = yield* FileOps
        yield* fs.link("/a/x.json", "/a/z.json")
        expect(Option.getOrThrow((yield* extra.lstat("/a/x.json")).nlink)).toBe(2)
        yield* fs.rename("/a/x.json", "/a/y.json")
        expect(yield* fs.readFileString("/a/y.json")).toBe("x")
        yield* fs.symlink("/a/y.json", "/a/l.json")
        expect((yield* extra.lstat("/a/l.json")).type).toBe("SymbolicLink")
        expect((yield* fs.stat("/a/l.json")).type).toBe("File")
      })))

  it.effect("opens files for reading and writing", () =>
    withMemory({}, (fs) =>
      Effect.scoped(Effect.gen(function*() {
        yield* fs.makeDirectory("/d", { recursive: true })
        const file = yield* fs.open("/d/f", { flag: "w+" })
        yield* file.writeAll(new TextEncoder().encode("hello"))
        yield* file.sync
        yield* file.seek(0, "start")
        const chunk = yield* file.readAlloc(10)
        expect(new TextDecoder().decode(Option.getOrThrow(chunk))).toBe("hello")
        expect(Number((yield* file.stat).size)).toBe(5)
      }))))

  it.live("watch emits events for changes in a folder", () =>
    withMemory({ "/w/.keep": "" }, (fs, memory) =>
      Effect.gen(function*() {
        const fiber = yield* fs.watch("/w").pipe(Stream.takeUntil((e) => e._tag === "Remove"), Stream.runCollect, Effect.fork)
        yield* Effect.sleep("20 millis")
        memory.volume.writeFileSync("/w/new.json", "{}")
        yield* Effect.sleep("20 millis")
        memory.volume.unlinkSync("/w/new.json")
        const events = Chunk.toArray(yield* Fiber.join(fiber))
        // Like Node: a new file is a "rename" (Create), its content a "change" (Update).
        expect(events.map((e) => e._tag)).toEqual(["Create", "Update", "Remove"])
        expect(events[0]!.path).toBe("/w/new.json")
      })))

  it.effect("reports settable free space", () =>
    Effect.gen(function*() {
      const memory = MemoryFileSystem.make({ "/x/f": "" })
      memory.setFreeBytes(1234)
      const free = yield* Effect.flatMap(FileOps, (e) => e.freeBytes("/x")).pipe(Effect.provide(memory.layer))
      expect(free).toBe(1234)
    }))

  it.effect("reads a folder in pieces (listPieces), every entry once", () =>
    Effect.gen(function*() {
      const files: Record<string, string> = {}
      for (let i = 0; i < 250; i++) files[`/d/n${i}.json`] = "{}"
      const memory = MemoryFileSystem.make(files)
      memory.volume.mkdirSync("/d/sub")
      const ops = yield* Effect.provide(FileOps, memory.layer)
      const listing = yield* ops.listPieces("/d")
      const pieces: Array<ReadonlyArray<{ readonly name: string; readonly type: string }>> = []
      while (true) {
        const piece = yield* listing.next(64)
        if (piece.length === 0) break
        pieces.push(piece)
      }
      yield* listing.close
      expect(pieces.map((p) => p.length)).toEqual([64, 64, 64, 59])
      const whole = yield* ops.list("/d")
      const byName = (a: { readonly name: string }, b: { readonly name: string }) => (a.name < b.name ? -1 : 1)
      expect([...pieces.flat()].sort(byName)).toEqual([...whole].sort(byName))
      expect(whole.find((e) => e.name === "sub")?.type).toBe("Directory")
    }))
})
