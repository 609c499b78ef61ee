/**
 * An instance of a pool (INSTANCES=N) runs its daemon until the pool's process
 * is gone: interrupted either way, its own shutdown is awaited before what it
 * runs on is released.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { untilParentGone } from "../src/daemon/InstancePool.js"

/** A daemon whose shutdown takes a while (files in flight), and says when it is done. */
const daemon = (events: Array<string>) =>
  Effect.scoped(
    Effect.zipRight(
      Effect.addFinalizer(() => Effect.zipRight(Effect.sleep("50 millis"), Effect.sync(() => events.push("daemon stopped")))),
      Effect.never
    )
  )

describe("an instance run until its pool is gone", () => {
  it.live("interrupted (SIGTERM): the daemon's shutdown ends before the layers around it are released", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      // process.ppid is there: the watch never fires.
      const run = untilParentGone(process.ppid)(daemon(events)).pipe(Effect.ensuring(Effect.sync(() => events.push("layers released"))))
      const fiber = yield* Effect.fork(run)
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(fiber)
      expect(events).toEqual(["daemon stopped", "layers released"])
    }))

  it.live("the pool gone: the daemon is stopped as by a signal, its shutdown awaited", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      // A pid that is not this process's parent: the pool is gone at the first look.
      const run = untilParentGone(process.ppid + 1)(daemon(events)).pipe(Effect.ensuring(Effect.sync(() => events.push("layers released"))))
      const exit = yield* Effect.exit(run)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(events).toEqual(["daemon stopped", "layers released"])
    }))

  it.live("the daemon's own result when it ends first", () =>
    Effect.gen(function*() {
      expect(yield* untilParentGone(process.ppid)(Effect.succeed(42))).toBe(42)
      expect(yield* Effect.flip(untilParentGone(process.ppid)(Effect.fail("no")))).toBe("no")
    }))
})
