/**
 * The intake's queue with partners: jobs taken from each partner's lane in
 * turn, first in first out within a lane, so one partner's file queued behind
 * another's dump is taken at once.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import { FairLanes, makeFairJobQueue } from "../../src/partners/FairJobQueue.js"

const partnerOf = (name: string) => name.split("/")[0]!

describe("FairLanes", () => {
  it("takes the lanes in turn, each in arrival order", () => {
    const lanes = new FairLanes(partnerOf)
    for (let i = 0; i < 5; i++) lanes.push(`acme/${i}`)
    lanes.push("globex/only")
    lanes.push("initech/a")
    lanes.push("initech/b")
    const out: Array<string> = []
    for (let x = lanes.pop(); x !== undefined; x = lanes.pop()) out.push(x)
    expect(out).toEqual(["acme/0", "globex/only", "initech/a", "acme/1", "initech/b", "acme/2", "acme/3", "acme/4"])
    expect(lanes.size).toBe(0)
  })

  it("a partner's single file queued behind another's 10,000 waits one turn of the lanes, not the dump", () => {
    const lanes = new FairLanes(partnerOf)
    for (let i = 0; i < 10_000; i++) lanes.push(`dump/${i}`)
    expect(lanes.pop()).toBe("dump/0")
    lanes.push("late/one")
    // the lane whose turn it is goes first, then the new one's
    expect([lanes.pop(), lanes.pop(), lanes.pop()]).toEqual(["dump/1", "late/one", "dump/2"])
  })

  it("keeps the order of one lane over many pushes and pops (its storage compacted as it goes)", () => {
    const lanes = new FairLanes(partnerOf)
    const out: Array<string> = []
    for (let i = 0; i < 5000; i++) {
      lanes.push(`a/${i}`)
      if (i % 3 === 0) out.push(lanes.pop()!)
    }
    for (let x = lanes.pop(); x !== undefined; x = lanes.pop()) out.push(x)
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => `a/${i}`))
  })
})

describe("makeFairJobQueue", () => {
  it.effect("takes in turn, waits for a job, counts waiting takers as negative, and ends waiting takers on shutdown", () =>
    Effect.gen(function*() {
      const queue = yield* makeFairJobQueue(partnerOf)
      yield* queue.offer("acme/1")
      queue.unsafeOffer("acme/2")
      yield* queue.offer("globex/1")
      expect(yield* queue.size).toBe(3)
      expect([yield* queue.take, yield* queue.take, yield* queue.take]).toEqual(["acme/1", "globex/1", "acme/2"])
      const taker = yield* Effect.fork(queue.take)
      yield* Effect.yieldNow()
      expect(Option.getOrElse(queue.unsafeSize(), () => 0)).toBe(-1)
      yield* queue.offer("initech/1")
      expect(yield* Fiber.join(taker)).toBe("initech/1")
      const waiting = yield* Effect.fork(queue.take)
      yield* Effect.yieldNow()
      yield* queue.shutdown
      const exit = yield* Fiber.await(waiting)
      expect(exit._tag).toBe("Failure")
    }))
})
