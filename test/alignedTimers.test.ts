import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import { onEvery, untilNext } from "../src/runtime/AlignedTimers.js"

describe("AlignedTimers: periodic work at multiples of its period", () => {
  it.effect("runs now, then at every multiple of the period, whenever it started", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(12_300)
      const runs: Array<number> = []
      const fiber = yield* Effect.fork(onEvery(5000, Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => void runs.push(t)))))
      yield* TestClock.adjust(13_000)
      expect(runs).toEqual([12_300, 15_000, 20_000, 25_000])
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("periods that divide each other wake together (5 s and 10 s share every other wake-up)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_234)
      const beats: Array<number> = []
      const listings: Array<number> = []
      const stamp = (into: Array<number>) => Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => void into.push(t)))
      const a = yield* Effect.fork(Effect.forever(Effect.zipRight(untilNext(5000), stamp(beats))))
      const b = yield* Effect.fork(Effect.forever(Effect.zipRight(untilNext(10_000), stamp(listings))))
      yield* TestClock.adjust(30_000)
      expect(beats).toEqual([5000, 10_000, 15_000, 20_000, 25_000, 30_000])
      expect(listings).toEqual([10_000, 20_000, 30_000])
      expect(listings.every((t) => beats.includes(t))).toBe(true)
      yield* Fiber.interrupt(a)
      yield* Fiber.interrupt(b)
    }))
})
