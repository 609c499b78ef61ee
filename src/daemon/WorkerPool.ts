/**
 * The worker pool: CONCURRENCY workers, each taking one job at a time from the
 * intake and running it, with the count of jobs in flight, draining at
 * shutdown and supervision (a defect in one job is logged at ERROR and
 * survived).
 *
 * This module is the daemon's per-file hot path, and the one place its speed
 * tricks live; each is explained once here:
 *  1. The worker loop is a hand-made `zipRight`/`suspend` chain rather than
 *     `Effect.forever`, which hands the fiber to the scheduler after every
 *     file. Fairness comes from the runtime's yield every 2048 steps.
 *  2. With synchronous file calls (FS_CALLS) a worker may never wait for I/O,
 *     and Effect's own yields are microtasks, which never let the event loop
 *     in while fibers have work: the daemon runs on its SliceScheduler, which
 *     gives the loop its turn at least every YIELD_EVERY_MS of fiber work, so
 *     signals, timers, the health endpoint and log writes are served during a
 *     long backlog or a flood of watch events.
 *  3. A job is counted out, and its defects caught, with one
 *     `matchCauseEffect` instead of `ensuring`'s and `catchAllCause`'s several
 *     steps: an interrupted job is only interrupted at shutdown, after the pool
 *     has stopped waiting for it.
 *  4. The busy-since times sit in a plain array indexed by worker, and the
 *     in-flight count in a local: the pool's own state, written without an
 *     Effect per file and read by the status view (`view`) when asked.
 *
 * The rest of a file's path keeps seven more, each marked at its site with
 * "hot path N, see WorkerPool":
 *  5. FileOps' `DirectPrims`: on Node's synchronous calls (local filesystems)
 *     a file's read and a new file's write are straight-line code in one
 *     `Effect.suspend`, with the same steps and answers as the composed
 *     effects the thread pool and memfs use (a dozen fiber steps less each).
 *  6. The per-file log line carries its fields in its message (Logging's
 *     `logFields`) instead of `Effect.annotateLogs`, which copies the fiber's
 *     annotation map and restores it; loggers of one's own read the fields with
 *     Logging's `fieldsOf`.
 *  7. The Pipeline reads the clock it was built with directly
 *     (`clock.unsafeCurrentTimeMillis`): `Clock.currentTimeMillis` is a service
 *     lookup and several steps, three times per file. Tests still control it
 *     (a TestClock is the clock the layer was built with).
 *  8. The FileStore remembers which claims it staged (the flush and the release
 *     touch only stages that exist: a failing call builds an error object) and
 *     a claim's stage paths (a sha-256 and five paths), both bounded.
 *  9. `retryIo` builds its schedule only after a first failure, and the
 *     ClaimReleaser counts a released name out without `ensuring`: a call that
 *     succeeds, as nearly all do, costs one error handler.
 * 10. A name expected to be absent (a returned file's name, checked free) is
 *     looked up with FileOps' `lookup`, whose "not there" builds no error: a
 *     platform `SystemError` is a validated class, and an expected absence
 *     built one for every returned file.
 * 11. The direct path: on synchronous file calls, a fresh small file's look
 *     (read whole), judgement, claim, check of the claimed entry and, valid
 *     and placed as itself, its store are plain function calls in one
 *     `Effect.suspend` (Pipeline's `processInputDirect` over FileStore's
 *     `direct` and FileOps' `direct`, each answering as its Effect twin with
 *     a failure as a value). Everything else (a failure, anything but a
 *     regular file with one link, a copy, a report) goes on in the composed
 *     steps from where it is, so their rules, retries and messages hold; the
 *     composed steps cost some forty fiber steps more a file.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Schedule from "effect/Schedule"

export interface WorkerPoolOptions<J, O> {
  readonly concurrency: number
  /** the next job (waits for one; interrupted or failing at shutdown) */
  readonly take: Effect.Effect<J>
  readonly run: (job: J) => Effect.Effect<O>
  /** what a job's outcome does (counts, names); runs on the worker, before it takes the next job */
  readonly record: (job: J, outcome: O) => Effect.Effect<void>
  /** the outcome that stands for a defect in a job (the file stays where it is) */
  readonly defect: (job: J, cause: Cause.Cause<never>) => O
  /** the name a job's log lines carry */
  readonly nameOf: (job: J) => string
  /** called when the last job in flight ends (and the pool is not stopping) */
  readonly onIdle: Effect.Effect<void>
}

/** A pool's workers as the status shows them. */
export interface WorkersView {
  readonly inFlight: number
  /** when the longest-running job in flight started (undefined when none runs) */
  readonly busySince: number | undefined
  /** workers running; fewer than `wanted` means one has died */
  readonly alive: number
  readonly wanted: number
}

/** Several pools' views as one (the oldest job of any, the workers of all). */
export const combineWorkers = (views: ReadonlyArray<WorkersView>): WorkersView => {
  let inFlight = 0, alive = 0, wanted = 0
  let busySince: number | undefined
  for (const v of views) {
    inFlight += v.inFlight
    alive += v.alive
    wanted += v.wanted
    if (v.busySince !== undefined && (busySince === undefined || v.busySince < busySince)) busySince = v.busySince
  }
  return { inFlight, busySince, alive, wanted }
}

export interface WorkerPool {
  readonly inFlight: () => number
  /** The pool's workers now (read by the status view). */
  readonly view: () => WorkersView
  /**
   * Stops counting idleness, then waits up to `timeoutMs` for the jobs in flight
   * to finish; true when they all did.
   */
  readonly drain: (timeoutMs: number) => Effect.Effect<boolean>
}

export const makeWorkerPool = <J, O>(options: WorkerPoolOptions<J, O>): Effect.Effect<WorkerPool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const clock = yield* Effect.clock
    const workers = yield* FiberSet.make()
    let inFlight = 0
    let alive = 0
    let stopping = false

    /**
     * A defect in one file's job (a bug, a throw in a library) is caught where
     * the job ends (`runOne`): logged at ERROR with its cause, the file left
     * where it is for a later attempt, and the worker goes on (a FiberSet would
     * drop it silently). What an outcome does (counts, a notification) is
     * survived the same way: a defect there must not end the worker, nor leave
     * the job counted in flight (a `--once` run would never end).
     */
    const jobDefect = (job: J, cause: Cause.Cause<unknown>): Effect.Effect<O> =>
      Effect.as(
        Effect.logError("unexpected failure processing a file; it is left where it is and tried again later", cause).pipe(
          Effect.annotateLogs({ file: options.nameOf(job) })
        ),
        options.defect(job, cause as Cause.Cause<never>)
      )
    const recordDefect = (job: J, cause: Cause.Cause<unknown>): Effect.Effect<void> =>
      Effect.logError("unexpected failure recording a file's outcome; the daemon goes on", cause).pipe(
        Effect.annotateLogs({ file: options.nameOf(job) })
      )

    const jobDone = Effect.suspend(() => {
      inFlight--
      return inFlight > 0 || stopping ? Effect.void : options.onIdle
    })

    /** when each worker's current job started (0: none), for the health check's hung-worker test */
    const busy = new Array<number>(options.concurrency).fill(0)
    const busySince = () => {
      let oldest: number | undefined
      for (const t of busy) if (t > 0 && (oldest === undefined || t < oldest)) oldest = t
      return oldest
    }

    const runOne = (slot: number) =>
      Effect.flatMap(options.take, (job) => {
        inFlight++
        busy[slot] = clock.unsafeCurrentTimeMillis()
        const record = (outcome: O) =>
          Effect.matchCauseEffect(options.record(job, outcome), {
            onSuccess: () => jobDone,
            onFailure: (cause) =>
              Cause.isInterruptedOnly(cause) ? Effect.zipRight(jobDone, Effect.failCause(cause)) : Effect.zipRight(recordDefect(job, cause), jobDone)
          })
        // One match for the job's end, whatever it is (hot path 3).
        return Effect.matchCauseEffect(options.run(job), {
          onSuccess: (outcome) => ((busy[slot] = 0), record(outcome)),
          onFailure: (cause) => {
            busy[slot] = 0
            return Cause.isInterruptedOnly(cause) ? Effect.zipRight(jobDone, Effect.failCause(cause)) : Effect.flatMap(jobDefect(job, cause), record)
          }
        })
      })

    const worker = (slot: number) =>
      Effect.suspend(() => {
        const loop: Effect.Effect<never> = Effect.zipRight(runOne(slot), Effect.suspend(() => loop))
        return loop
      }).pipe(
        // A worker ends only at shutdown; one that dies otherwise is said loudly and fails /healthz.
        Effect.onExit((exit) =>
          Effect.zipRight(
            Effect.sync(() => void alive--),
            Exit.isInterrupted(exit) ? Effect.void : Effect.logError("a worker stopped unexpectedly", Exit.isFailure(exit) ? exit.cause : Cause.empty)
          )
        )
      )

    for (let i = 0; i < options.concurrency; i++) {
      alive++
      yield* FiberSet.run(workers, worker(i))
    }

    const drain = (timeoutMs: number) =>
      Effect.suspend(() => {
        stopping = true
        return Effect.sync(() => inFlight).pipe(
          Effect.repeat({ schedule: Schedule.spaced("10 millis"), until: (n) => n === 0 }),
          // (a stop runs as a finalizer, where nothing is interruptible: the wait must be, to time out)
          Effect.interruptible,
          Effect.timeoutOption(timeoutMs),
          Effect.map(Option.isSome)
        )
      })

    return {
      inFlight: () => inFlight,
      view: () => ({ inFlight, busySince: busySince(), alive, wanted: options.concurrency }),
      drain
    }
  })
