/**
 * The daemon's SliceScheduler: fibers busy without ever waiting for I/O (a
 * backlog on synchronous file calls, a flood of watch events) still let the
 * event loop have its turns, where Effect's default scheduler runs them on in
 * microtasks and the loop waits.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, FiberRef } from "effect"
import * as Scheduler from "effect/Scheduler"
import { makeSliceScheduler, withSlices, YIELD_EVERY_MS } from "../src/runtime/SliceScheduler.js"

/** Four fibers, each taking `steps` steps of pure work; how many times the event loop got a turn meanwhile. */
const loopTurnsDuringBusyFibers = (steps: number) =>
  Effect.gen(function*() {
    let turns = 0
    let ticking = true
    const tick = () => {
      if (!ticking) return
      turns++
      setImmediate(tick)
    }
    setImmediate(tick)
    const busy = (n: number): Effect.Effect<void> => (n === 0 ? Effect.void : Effect.suspend(() => busy(n - 1)))
    yield* Effect.all([busy(steps), busy(steps), busy(steps), busy(steps)], { concurrency: "unbounded", discard: true })
    ticking = false
    return turns
  })

describe("SliceScheduler", () => {
  it.live("gives the event loop its turns while fibers are busy", () =>
    Effect.gen(function*() {
      // The same work on both schedulers: several hundred yields to the scheduler per fiber.
      const steps = 1_000_000
      const withDefault = yield* loopTurnsDuringBusyFibers(steps).pipe(Effect.withScheduler(Scheduler.defaultScheduler))
      const started = performance.now()
      const withSlices = yield* loopTurnsDuringBusyFibers(steps).pipe(Effect.withScheduler(makeSliceScheduler(YIELD_EVERY_MS)))
      const busyMs = performance.now() - started
      // Effect's default: microtasks only, the loop waits until the fibers are done.
      expect(withDefault).toBeLessThanOrEqual(1)
      // Slices: a turn at least every slice of work, whatever the machine's speed (a generous bound).
      expect(withSlices).toBeGreaterThanOrEqual(Math.floor(busyMs / YIELD_EVERY_MS / 4))
      expect(withSlices).toBeGreaterThan(2)
    }))

  it.live("runs effects as the default scheduler does: results, failures, interruption", () =>
    Effect.gen(function*() {
      const result = yield* Effect.all([Effect.succeed(1), Effect.sleep("5 millis").pipe(Effect.as(2))], { concurrency: 2 })
      expect(result).toEqual([1, 2])
      const failed = yield* Effect.flip(Effect.fail("no"))
      expect(failed).toBe("no")
      const interrupted = yield* Effect.never.pipe(Effect.timeoutOption("10 millis"))
      expect(interrupted._tag).toBe("None")
    }).pipe(Effect.withScheduler(makeSliceScheduler(YIELD_EVERY_MS))))

  it.live("an interrupt never overtakes the start of a fiber scheduled before it (a forEach interrupted as it starts ends)", () =>
    Effect.gen(function*() {
      // The PeerWatch's scan at a `--once` run's end: a fiber starting `Effect.forEach` with a
      // concurrency is interrupted just as the slice is spent. Each interrupt must end; with a
      // queue per fiber most of them waited for ever on a forEach whose items never started.
      let ended = 0
      for (let round = 0; round < 10; round++) {
        const fiber = yield* Effect.forkDaemon(Effect.forever(Effect.forEach([1, 2], () => Effect.never, { concurrency: 4 })))
        const spinUntil = performance.now() + YIELD_EVERY_MS + 1
        while (performance.now() < spinUntil) { /* the slice is spent */ }
        yield* Fiber.interruptFork(fiber)
        const exit = yield* Fiber.await(fiber).pipe(Effect.timeoutOption("1 second"))
        if (exit._tag === "Some") ended++
      }
      expect(ended).toBe(10)
    }).pipe(Effect.withScheduler(makeSliceScheduler(YIELD_EVERY_MS))))

  it.effect("withSlices keeps the slice scheduler it runs on (one for the whole process), or brings one", () =>
    Effect.gen(function*() {
      const current = FiberRef.get(FiberRef.currentScheduler)
      const outer = makeSliceScheduler(YIELD_EVERY_MS)
      expect(yield* withSlices(current).pipe(Effect.withScheduler(outer))).toBe(outer)
      const brought = yield* withSlices(current)
      expect(brought).not.toBe(Scheduler.defaultScheduler)
      expect(brought).not.toBe(yield* current)
      // nested: the inner keeps the outer's
      const [a, b] = yield* withSlices(Effect.zip(current, withSlices(current)))
      expect(a).toBe(b)
    }))
})
