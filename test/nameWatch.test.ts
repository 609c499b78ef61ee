/**
 * The Node filesystem's watch with the NameWatch backend: names as they come,
 * no `stat` per name, and a link that loops in the folder stops nothing; the
 * names of one turn of the event loop come as one chunk, each name once.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Stream } from "effect"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import * as NameWatch from "../src/files/NameWatch.js"
import { makeNameInbox, MAX_NAMES } from "../src/files/NameWatch.js"

const fsWithNames = NodeFileSystem.layer.pipe(Layer.provide(NameWatch.layer))

describe("NameWatch", () => {
  it.scopedLive("hands on every name, through links that loop, without ending the stream", () =>
    Effect.gen(function*() {
      const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-namewatch-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => NFS.rmSync(dir, { recursive: true, force: true })))
      const fs = yield* FileSystem.FileSystem
      const seen = yield* fs.watch(dir).pipe(
        Stream.map((event) => Path.basename(event.path)),
        Stream.filter((name) => name.startsWith("f")),
        Stream.takeUntil((name) => name === "f2.json"),
        Stream.runCollect,
        Effect.fork
      )
      yield* Effect.sleep("100 millis")
      // A link to itself: stat() of it fails with ELOOP, which ended the platform's own watch stream.
      NFS.symlinkSync(Path.join(dir, "loop"), Path.join(dir, "loop"))
      NFS.symlinkSync(Path.join(dir, "loop"), Path.join(dir, "f-link"))
      NFS.writeFileSync(Path.join(dir, "f1.json"), "{}")
      NFS.writeFileSync(Path.join(dir, "f2.json"), "{}")
      const names = Chunk.toReadonlyArray(yield* Fiber.join(seen).pipe(Effect.timeout("10 seconds")))
      expect([...new Set(names)]).toEqual(["f-link", "f1.json", "f2.json"])
      // Every event is an Update: a hint that a name changed, its kind not looked up.
      const kinds = yield* fs.watch(dir).pipe(
        Stream.take(1),
        Stream.runCollect,
        Effect.fork
      )
      yield* Effect.sleep("100 millis")
      NFS.unlinkSync(Path.join(dir, "f1.json"))
      const [event] = Chunk.toReadonlyArray(yield* Fiber.join(kinds).pipe(Effect.timeout("10 seconds")))
      expect(event?._tag).toBe("Update")
    }).pipe(Effect.provide(fsWithNames)))

  it.scopedLive("hands on a burst of events as few chunks, each name once (one fiber per chunk, not per event)", () =>
    Effect.gen(function*() {
      const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-namewatch-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => NFS.rmSync(dir, { recursive: true, force: true })))
      const fs = yield* FileSystem.FileSystem
      const chunks: Array<ReadonlyArray<string>> = []
      const names = new Set<string>()
      const seen = yield* fs.watch(dir).pipe(
        Stream.mapChunks((chunk) => {
          const batch = Chunk.toReadonlyArray(Chunk.map(chunk, (event) => Path.basename(event.path)))
          chunks.push(batch)
          for (const name of batch) names.add(name)
          return Chunk.of(names.size)
        }),
        Stream.takeUntil((count) => count >= 1000),
        Stream.runDrain,
        Effect.fork
      )
      yield* Effect.sleep("100 millis")
      // 500 names, each written, renamed and touched in one synchronous burst: 1,500+ events.
      for (let i = 0; i < 500; i++) {
        NFS.writeFileSync(Path.join(dir, `.f${i}.part`), "{}")
        NFS.renameSync(Path.join(dir, `.f${i}.part`), Path.join(dir, `f${i}.json`))
        NFS.utimesSync(Path.join(dir, `f${i}.json`), new Date(), new Date())
      }
      yield* Fiber.join(seen).pipe(Effect.timeout("10 seconds"))
      expect(names.size).toBe(1000)
      // Far fewer chunks than events, and no name twice within one.
      expect(chunks.length).toBeLessThan(100)
      for (const batch of chunks) expect(new Set(batch).size).toBe(batch.length)
    }).pipe(Effect.provide(fsWithNames)))

  it("the inbox holds each name once, up to its bound; past it, it says it overflowed and holds nothing", () => {
    const inbox = makeNameInbox(3)
    expect(inbox.isEmpty()).toBe(true)
    for (const name of ["a", "b", "a", "c"]) inbox.add(name)
    expect(inbox.take()).toEqual(["a", "b", "c"])
    expect(inbox.take()).toEqual([])
    for (const name of ["a", "b", "c", "d", "e"]) inbox.add(name)
    expect(inbox.isEmpty()).toBe(false)
    expect(inbox.take()).toBe("overflow")
    inbox.add("f")
    expect(inbox.take()).toEqual(["f"])
  })

  it.scopedLive("a flood of names while the reader is busy is handed on as the folder itself (a listing), never queued up or lost silently", () =>
    Effect.gen(function*() {
      const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-namewatch-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => NFS.rmSync(dir, { recursive: true, force: true })))
      const fs = yield* FileSystem.FileSystem
      const events: Array<string> = []
      // A reader that is slow at its first chunk (the daemon busy with a backlog, say).
      let first = true
      const reader = yield* fs.watch(dir).pipe(
        Stream.mapChunksEffect((chunk) =>
          Effect.as(
            first ? Effect.sleep("1500 millis").pipe(Effect.tap(() => void (first = false))) : Effect.void,
            Chunk.map(chunk, (event) => event.path)
          )
        ),
        Stream.tap((path) => Effect.sync(() => events.push(path))),
        Stream.takeUntil((path) => path.endsWith("honest.json")),
        Stream.runDrain,
        Effect.fork
      )
      yield* Effect.sleep("100 millis")
      NFS.writeFileSync(Path.join(dir, "first.json"), "{}")
      yield* Effect.sleep("100 millis")
      // While the reader is busy: a flood of created and removed names, more than the inbox holds.
      for (let i = 0; i < 3 * MAX_NAMES; i++) {
        NFS.writeFileSync(Path.join(dir, `x${i}`), "")
        NFS.unlinkSync(Path.join(dir, `x${i}`))
      }
      yield* Effect.sleep("1600 millis")
      NFS.writeFileSync(Path.join(dir, "honest.json"), "{}")
      yield* Fiber.join(reader).pipe(Effect.timeout("10 seconds"))
      // The flood came as one event naming the folder (a listing finds what it held), then the honest name.
      expect(events).toContain(dir)
      expect(events.filter((p) => Path.basename(p).startsWith("x")).length).toBeLessThanOrEqual(MAX_NAMES)
      expect(events.at(-1)).toBe(Path.join(dir, "honest.json"))
    }).pipe(Effect.provide(fsWithNames)))
})
