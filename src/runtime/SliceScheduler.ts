/**
 * The daemon's scheduler: fibers' turns run as microtasks within a slice of
 * time, and once the slice is spent the event loop has its turn
 * (`setImmediate`) before the next.
 *
 * Why: Effect's default scheduler runs each fiber's next turn as a microtask
 * and falls back to a timer only after 2,048 turns of one fiber in a row, so a
 * burst of fiber work (a producer's flood of watch events, thousands of hints)
 * could keep the event loop, and with it the health endpoint, signals, timers
 * and log writes, from its turn for seconds on a busy machine. Here no run of
 * fiber work keeps it longer than a slice plus one fiber's turn (at most the
 * runtime's 2,048 steps).
 *
 * A slice begins at the first turn after the event loop had its own; a
 * `setImmediate` queued then marks its end, so the scheduler knows when the
 * loop got its turn without a timer running while the daemon is idle.
 *
 * main.ts runs the whole program on one, so the layers' own fibers (the
 * ClaimReleaser's batches, the log writer, the notifier) share its slices;
 * `runDaemon` makes one for itself only when embedded without it.
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Scheduler from "effect/Scheduler"

/** The longest run of fiber work that keeps the event loop from its turn. */
export const YIELD_EVERY_MS = 10

/**
 * Suspends until the event loop has had a turn (I/O callbacks, signals, timers):
 * `setImmediate` runs after the poll phase.
 */
export const yieldToEventLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** Marks the schedulers made here, so that one run does not stack a second on the first. */
const SLICES: unique symbol = Symbol.for("customer-json/SliceScheduler")

const isSliceScheduler = (scheduler: Scheduler.Scheduler): boolean => SLICES in scheduler

/**
 * Runs `self` on a slice scheduler: the one it already runs on, if any (every
 * fiber of the process then shares one slice), or a new one.
 */
export const withSlices = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(FiberRef.get(FiberRef.currentScheduler), (current) =>
    isSliceScheduler(current) ? self : Effect.withScheduler(self, makeSliceScheduler(YIELD_EVERY_MS)))

export const makeSliceScheduler = (sliceMs: number): Scheduler.Scheduler => {
  let inSlice = false
  let sliceStart = 0
  const loopHadItsTurn = () => void (inSlice = false)
  // One queue for every fiber, run in the order its tasks came: Effect's runtime relies on that
  // order. A queue per fiber (Effect's own `SchedulerRunner.cached`) let a task queued in a new
  // slice run before one queued at the end of the last, put off to `setImmediate`: a fiber
  // interrupted while starting `Effect.forEach({ concurrency })` could then be told so before
  // the fiber that runs the items had started, and waited for it for ever (the layers' release
  // hung with it: `--once` with METRICS_PORT set sometimes never exited).
  const runner = new Scheduler.SchedulerRunner((depth, drain) => {
    const now = performance.now()
    if (!inSlice) {
      inSlice = true
      sliceStart = now
      setImmediate(loopHadItsTurn)
    }
    if (now - sliceStart > sliceMs) setImmediate(() => drain(0))
    else queueMicrotask(() => drain(depth + 1))
  })
  return Object.assign(
    Scheduler.make((task, priority) => runner.scheduleTask(task, priority), Scheduler.defaultShouldYield),
    { [SLICES]: true }
  )
}
