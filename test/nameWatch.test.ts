/**
 * The Node filesystem's watch with the NameWatch backend: names as they come,
 * no `stat` per name, and a link that loops in the folder stops nothing.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Stream } from "effect"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { NameWatchLive } from "../src/files/NameWatch.js"

const fsWithNames = NodeFileSystem.layer.pipe(Layer.provide(NameWatchLive))

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
})
