/** The status view: read-only for its readers, answered by what the running daemon publishes. */
import { Effect, Ref } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { Status } from "../src/index.js"

describe("the status view", () => {
  it.effect("shows `starting` until a daemon publishes, then reads the published parts at every snapshot", () =>
    Effect.gen(function*() {
      const view = yield* Status.Status
      const board = yield* Status.StatusBoard
      expect(yield* view.snapshot).toEqual(Status.starting)
      // A writer keeps its own state; the view only reads it.
      const inFlight = yield* Ref.make(0)
      yield* board.publish(Effect.map(Ref.get(inFlight), (n) => ({ ...Status.starting, phase: "watching" as const, inFlight: n })))
      expect(yield* view.snapshot).toMatchObject({ phase: "watching", inFlight: 0 })
      yield* Ref.set(inFlight, 3)
      expect((yield* view.snapshot).inFlight).toBe(3)
      // (the view has nothing to write with: `snapshot` is its only member)
      expect(Object.keys(view)).toEqual(["snapshot"])
    }).pipe(Effect.provide(Status.layer)))
})
