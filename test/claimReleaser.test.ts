import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Layer, Scope } from "effect"
import { AppConfigFrom } from "../src/Config.js"
import { FileStoreLive } from "../src/files/FileStore.js"
import { Instance, InstanceLive } from "../src/instances/Instance.js"
import { LogSync } from "../src/logging/Logging.js"
import * as MemoryFileSystem from "../src/testing/MemoryFileSystem.js"
import { ClaimReleaser, ClaimReleaserLive } from "../src/files/ClaimReleaser.js"
import { FOLDERS } from "./support/app.js"

/** A validated file; storedClaim links it under a claimed name, as a stored file is. */
const setUp = () => MemoryFileSystem.make({ "/srv/validated/a.json": "{}" })

/** The ClaimReleaser over the in-memory filesystem, with `written` standing for the log write. */
const releaserLayer = (memory: MemoryFileSystem.MemoryFileSystem, written: Effect.Effect<void>) =>
  ClaimReleaserLive.pipe(
    Layer.provideMerge(InstanceLive),
    Layer.provideMerge(FileStoreLive),
    Layer.provide(Layer.merge(memory.layer, AppConfigFrom(FOLDERS))),
    Layer.provide(Layer.succeed(LogSync, { written }))
  )

/** Claims a.json for the instance, linking it into validated/ as a stored file is. */
const storedClaim = (memory: MemoryFileSystem.MemoryFileSystem) =>
  Effect.map(Instance, (instance) => {
    const claimed = instance.claimPath("a.json", 1)
    memory.volume.linkSync("/srv/validated/a.json", claimed)
    return claimed
  })

const settle = Effect.repeatN(Effect.yieldNow(), 50)

describe("ClaimReleaser", () => {
  it.scoped("removes a stored file's claimed name only once the log write holding its line is done", () =>
    Effect.gen(function*() {
      const memory = setUp()
      const gate = yield* Deferred.make<void>()
      let writes = 0
      const written = Effect.zipRight(Effect.sync(() => writes++), Deferred.await(gate))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(releaserLayer(memory, written), scope)
      const releaser = Context.get(context, ClaimReleaser)
      const claimed = yield* Effect.provide(storedClaim(memory), context)
      yield* releaser.release(claimed, false)
      yield* settle
      expect(writes).toBe(1)
      expect(memory.volume.existsSync(claimed)).toBe(true)
      yield* Deferred.succeed(gate, undefined)
      yield* settle
      expect(memory.volume.existsSync(claimed)).toBe(false)
      expect(memory.volume.readFileSync("/srv/validated/a.json", "utf8")).toBe("{}")
      yield* Scope.close(scope, Exit.void)
    }))

  it.scoped("releases whatever is still pending when it stops, after one last log write", () =>
    Effect.gen(function*() {
      const memory = setUp()
      let writes = 0
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(releaserLayer(memory, Effect.sync(() => void writes++)), scope)
      const releaser = Context.get(context, ClaimReleaser)
      const claimed = yield* Effect.provide(storedClaim(memory), context)
      // Handed over and the scope closed at once, before the background fiber ran.
      yield* releaser.release(claimed, false)
      yield* Scope.close(scope, Exit.void)
      expect(memory.volume.existsSync(claimed)).toBe(false)
      expect(writes).toBeGreaterThanOrEqual(1)
    }))
})
