import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import * as Config from "../src/Config.js"
import * as FileStore from "../src/files/FileStore.js"
import * as InstanceModule from "../src/instances/Instance.js"
import { Instance } from "../src/instances/Instance.js"
import { LogSync } from "../src/logging/Logging.js"
import * as MemoryFileSystem from "../src/files/adapters/MemoryFileSystem.js"
import * as ClaimReleaserModule from "../src/instances/ClaimReleaser.js"
import { ClaimReleaser, MAX_PENDING } from "../src/instances/ClaimReleaser.js"
import { FOLDERS } from "./support/app.js"

/** A validated file; storedClaim links it under a claimed name, as a stored file is. */
const setUp = () => MemoryFileSystem.make({ "/srv/validated/a.json": "{}" })

/** The ClaimReleaser over the in-memory filesystem, with `written` standing for the log write. */
const releaserLayer = (memory: MemoryFileSystem.MemoryFileSystem, written: Effect.Effect<void>) =>
  ClaimReleaserModule.layer.pipe(
    Layer.provideMerge(InstanceModule.layer),
    Layer.provideMerge(FileStore.layer),
    Layer.provide(Layer.merge(memory.layer, Config.layerFixed(FOLDERS))),
    Layer.provide(Layer.succeed(LogSync, { written }))
  )

/** Claims a.json for the instance, linking it into validated/ as a stored file is. */
const storedClaim = (memory: MemoryFileSystem.MemoryFileSystem) =>
  Effect.map(Instance, (instance) => {
    const claimed = instance.claimPath("a.json", 1)
    memory.volume.linkSync("/srv/validated/a.json", claimed)
    return claimed
  })

/** Claims `count` names for the instance, each a link of validated/a.json, as stored files are. */
const storedClaims = (memory: MemoryFileSystem.MemoryFileSystem, count: number) =>
  Effect.map(Instance, (instance) =>
    Array.from({ length: count }, (_, i) => {
      const claimed = instance.claimPath(`f${i}.json`, i + 1)
      memory.volume.linkSync("/srv/validated/a.json", claimed)
      return claimed
    }))

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
      yield* releaser.release(claimed, "validated")
      yield* settle
      expect(writes).toBe(1)
      expect(memory.volume.existsSync(claimed)).toBe(true)
      yield* Deferred.succeed(gate, undefined)
      yield* settle
      expect(memory.volume.existsSync(claimed)).toBe(false)
      expect(memory.volume.readFileSync("/srv/validated/a.json", "utf8")).toBe("{}")
      yield* Scope.close(scope, Exit.void)
    }))

  it.scoped("survives a defect in a batch: its names stay (stored already, released later), and the next batches go on", () =>
    Effect.gen(function*() {
      const memory = setUp()
      let writes = 0
      // The first log write dies (a bug in a plugged-in logger, say); the later ones work.
      const written = Effect.suspend(() => (++writes === 1 ? Effect.dieMessage("logger bug") : Effect.void))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(releaserLayer(memory, written), scope)
      const releaser = Context.get(context, ClaimReleaser)
      const [first, second] = yield* Effect.provide(storedClaims(memory, 2), context)
      yield* releaser.release(first!, "validated")
      yield* settle
      expect(writes).toBe(1)
      expect(memory.volume.existsSync(first!)).toBe(true)
      // Without the loop, a worker would wait for ever once MAX_PENDING names waited.
      yield* releaser.release(second!, "validated")
      yield* settle
      expect(memory.volume.existsSync(second!)).toBe(false)
      expect(memory.volume.existsSync(first!)).toBe(true)
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
      yield* releaser.release(claimed, "validated")
      yield* Scope.close(scope, Exit.void)
      expect(memory.volume.existsSync(claimed)).toBe(false)
      expect(writes).toBeGreaterThanOrEqual(1)
    }))

  it.scoped("makes a worker wait once MAX_PENDING names wait for the next batch, so a backlog's claimed names never pile up", () =>
    Effect.gen(function*() {
      const memory = setUp()
      const gate = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(releaserLayer(memory, Deferred.await(gate)), scope)
      const releaser = Context.get(context, ClaimReleaser)
      // The first batch (one name) waits for its log write; MAX_PENDING more gather behind it.
      const claims = yield* Effect.provide(storedClaims(memory, MAX_PENDING + 1), context)
      yield* releaser.release(claims[0]!, "validated")
      yield* settle
      for (const claimed of claims.slice(1, MAX_PENDING)) yield* releaser.release(claimed, "validated")
      const last = yield* Effect.fork(releaser.release(claims[MAX_PENDING]!, "validated"))
      yield* settle
      // The MAX_PENDING-th waiting name: its worker waits, nothing is released yet.
      expect(yield* Fiber.poll(last)).toEqual(Option.none())
      expect(claims.every((c) => memory.volume.existsSync(c))).toBe(true)
      // The log write done: the first batch is released and the next one taken, which lets the worker go on.
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(last)
      const left = () => claims.filter((c) => memory.volume.existsSync(c))
      for (let round = 0; round < 200 && left().length > 0; round++) yield* settle
      expect(claims.filter((c) => memory.volume.existsSync(c))).toEqual([])
      yield* Scope.close(scope, Exit.void)
    }))
})
