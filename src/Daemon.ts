/**
 * The Daemon: start-up checks, crash recovery, the backlog, then live hints;
 * a bounded set of workers (CONCURRENCY) processes one file each. A name is
 * tracked from the moment it is queued until its outcome, so the same file
 * seen twice (event + rescan) is processed once. Shutdown stops taking new
 * files, lets those in flight finish within SHUTDOWN_TIMEOUT_MS, then
 * interrupts the rest (they stay claimed and are recovered at the next start).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Activity } from "./Activity.js" // status page
import { AppConfig, describeSettings } from "./Config.js"
import { FileCalls } from "./FileCalls.js"
import { FileStore } from "./FileStore.js"
import { Instance } from "./Instance.js"
import { classifyName } from "./Naming.js"
import type { Outcome, PendingState } from "./Pipeline.js"
import { Notifier } from "./Notifier.js"
import { onEvery } from "./Rhythm.js"
import { Status } from "./Status.js"
import { Pipeline } from "./Pipeline.js"
import { VERSION } from "./Version.js"
import { Watcher } from "./Watcher.js"

/** The longest a worker keeps the event loop from its turn (see `worker`). */
const YIELD_EVERY_MS = 10

/**
 * Suspends until the event loop has had a turn (I/O callbacks, signals, timers):
 * `setImmediate` runs after the poll phase. Effect's own yields run as
 * microtasks, which never let the loop in while fibers have work.
 */
const yieldToEventLoop = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** How soon a file waiting for its writer is read again after an event names it. */
const EVENT_RECHECK_MS = 50

type Job =
  | { readonly _tag: "Input"; readonly name: string }
  | { readonly _tag: "Claimed"; readonly name: string }

interface Tracked {
  readonly receivedAt: number
  pending: PendingState | undefined
  /** queued or being processed (otherwise it waits for its quiet-period recheck) */
  active: boolean
}

export interface Summary {
  validated: number
  returned: number
  failed: number
}

export interface RunOptions {
  /** finish what is there, then return instead of watching */
  readonly once: boolean
}

export const runDaemon = (options: RunOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const config = yield* AppConfig
    const store = yield* FileStore
    const instance = yield* Instance
    const pipeline = yield* Pipeline
    const watcher = yield* Watcher
    const notifier = yield* Notifier
    const status = yield* Status
    const fileCalls = yield* FileCalls
    const activity = yield* Activity // status page
    const startedAt = yield* Clock.currentTimeMillis

    const queue = yield* Queue.unbounded<Job>()
    const drained = yield* Queue.sliding<void>(1)
    const tracked = new Map<string, Tracked>()
    const claimedTracked = new Set<string>()
    /** ignored or failed names: skipped by light listings until an event or a full listing */
    const parked = new Set<string>()
    /** names already warned about, so each is logged once */
    const warned = new Set<string>()
    const summary: Summary = { validated: 0, returned: 0, failed: 0 }
    let inFlight = 0
    let stopping = false
    let processedSinceListing = false
    let fullListings = 0
    const HEALTH_EVERY = Math.max(1, Math.round(config.healthCheckIntervalMs / config.rescanIntervalMs))

    status.phase = "starting"
    status.waiting = () => {
      let oldest: number | undefined
      for (const t of tracked.values()) if (oldest === undefined || t.receivedAt < oldest) oldest = t.receivedAt
      return { count: tracked.size, oldestReceivedAtMs: oldest }
    }

    const workers = yield* FiberSet.make()
    const rechecks = yield* FiberMap.make<string>()

    const warnOnce = (name: string, message: string, kind: string) =>
      warned.has(name)
        ? Effect.void
        : Effect.sync(() => warned.add(name)).pipe(
          Effect.zipRight(Effect.logWarning(message).pipe(Effect.annotateLogs({ file: name, kind })))
        )

    const enqueue = (job: Job) => Queue.offer(queue, job)

    /** (Re)schedules the next look at a file waiting for its writer; replaces an earlier timer. */
    const recheckLater = (name: string, entry: Tracked, delay: number) =>
      FiberMap.run(
        rechecks,
        name,
        Effect.sleep(delay).pipe(
          Effect.zipRight(Effect.sync(() => {
            entry.active = true
          })),
          Effect.zipRight(enqueue({ _tag: "Input", name }))
        )
      )

    /** Starts tracking a name seen for the first time; its job for the queue. */
    const track = (name: string, now: number): Job => {
      tracked.set(name, { receivedAt: now, pending: undefined, active: true })
      return { _tag: "Input", name }
    }

    /** A name seen in a listing or an event. */
    const consider = (name: string, fromEvent: boolean, now: number) =>
      Effect.gen(function*() {
        const kind = classifyName(name)
        if (kind === "silent") return false
        if (kind === "other") {
          yield* warnOnce(name, "not a .json file; left where it is", "other")
          return false
        }
        const known = tracked.get(name)
        if (known !== undefined) {
          // A change to a file waiting for its writer: look again soon (a burst of
          // events from one writer costs one read), not only when the quiet period ends.
          if (fromEvent && !known.active) yield* recheckLater(name, known, EVENT_RECHECK_MS)
          return false
        }
        if (!fromEvent && parked.has(name)) return false
        parked.delete(name)
        yield* enqueue(track(name, now))
        return true
      })

    const listInput = store.listInput.pipe(
      Effect.tapError((e) =>
        Effect.logWarning("listing the input folder failed").pipe(Effect.annotateLogs({ error: e.message }))
      ),
      Effect.orElseSucceed((): ReadonlyArray<string> => [])
    )

    const adoptClaimed = (names: ReadonlyArray<string>) =>
      Effect.forEach(names, (name) =>
        claimedTracked.has(name)
          ? Effect.void
          : Effect.zipRight(Effect.sync(() => claimedTracked.add(name)), enqueue({ _tag: "Claimed", name })), { discard: true })

    /** Lists the input folder and queues every new name; returns how many were queued. */
    const rescan = (full: boolean) =>
      Effect.gen(function*() {
        processedSinceListing = false
        const names = yield* listInput
        const now = yield* Clock.currentTimeMillis
        if (full) {
          // Folder probes and statfs every HEALTH_CHECK_INTERVAL_MS, not at every listing.
          if (fullListings++ % HEALTH_EVERY === 0) yield* healthCheck
          parked.clear()
          const present = new Set(names)
          for (const name of warned) if (!present.has(name)) warned.delete(name)
          // Files this instance failed to route earlier are tried again.
          yield* instance.claimedFiles.pipe(Effect.flatMap(adoptClaimed), Effect.ignore)
        }
        let added = 0
        for (const name of names) if (yield* consider(name, false, now)) added++
        return added
      })

    // A folder that became unwritable or a disk nearly full is critical: the Notifier
    // tells the administrators (at most once an hour per problem); the daemon keeps going.
    const healthCheck = Effect.all([store.prepareFolders, store.checkDiskSpace], { discard: true }).pipe(
      Effect.tap(() => Effect.sync(() => void (status.healthProblem = undefined))),
      Effect.catchAll((problem) =>
        Effect.gen(function*() {
          status.healthProblem = problem.message
          yield* Effect.logError("health check failed").pipe(Effect.annotateLogs({ problem: problem.message }))
          yield* notifier.critical({
            summary: problem._tag === "DiskSpaceLow" ? `disk nearly full: ${problem.path}` : `folder not usable: ${problem.path}`,
            detail: problem.message,
            at: new Date(yield* Clock.currentTimeMillis)
          })
        })
      )
    )

    /** A file waiting for its writer: looked at again when its quiet period has passed. */
    const waitForWriter = (name: string, entry: Tracked, state: PendingState) =>
      Effect.gen(function*() {
        entry.pending = state
        entry.active = false
        const now = yield* Clock.currentTimeMillis
        const delay = Math.max(0, state.since + config.quietPeriodMs - now) + 1
        yield* Effect.logDebug("file not complete yet; waiting for its writer").pipe(
          Effect.annotateLogs({ file: name, recheck_in_ms: delay })
        )
        yield* recheckLater(name, entry, delay)
      })

    /** What a job's outcome does to the counts and to its name; synchronous for a routed file. */
    const recordOutcome = (job: Job, outcome: Outcome): Effect.Effect<void> => {
      if (job._tag === "Claimed") claimedTracked.delete(job.name)
      activity.outcome(job, outcome) // status page
      let then: Effect.Effect<void> = Effect.void
      switch (outcome._tag) {
        case "Validated":
          summary.validated++
          break
        case "Returned":
          summary.returned++
          break
        case "Failed":
          summary.failed++
          if (job._tag === "Input") parked.add(job.name)
          break
        case "Ignored":
          parked.add(job.name)
          then = warnOnce(job.name, "not a regular file; left where it is", outcome.kind)
          break
        case "Pending": {
          const entry = job._tag === "Input" ? tracked.get(job.name) : undefined
          return entry === undefined ? Effect.void : waitForWriter(job.name, entry, outcome.state)
        }
        case "Gone":
        case "AlreadyStored":
          break
      }
      if (job._tag === "Input") tracked.delete(job.name)
      processedSinceListing = true
      return then
    }

    const runJob = (job: Job): Effect.Effect<Outcome> => {
      if (job._tag === "Claimed") return pipeline.processClaimed(job.name)
      const entry = tracked.get(job.name)
      return entry !== undefined
        ? pipeline.processInput({ name: job.name, receivedAt: entry.receivedAt, pending: entry.pending })
        : Effect.flatMap(Clock.currentTimeMillis, (now) => pipeline.processInput({ name: job.name, receivedAt: now, pending: undefined }))
    }

    const jobDone = Effect.suspend(() => {
      inFlight--
      status.inFlight = inFlight
      if (inFlight > 0 || stopping) return Effect.void
      // The size counts waiting takers as negative. (With synchronous file calls a worker finishes
      // each file before the next starts, so this is asked once per file: without an Effect.)
      return Option.getOrElse(queue.unsafeSize(), () => 0) <= 0 ? Queue.offer(drained, undefined) : Effect.void
    })
    const runOne = Effect.flatMap(Queue.take(queue), (job) => {
      inFlight++
      status.inFlight = inFlight
      // Counted out after the job however it ends (a defect included; an interrupted job is
      // only interrupted at shutdown, past waiting for it): one step instead of `ensuring`'s several.
      return Effect.matchCauseEffect(runJob(job), {
        onSuccess: (outcome) => Effect.zipRight(recordOutcome(job, outcome), jobDone),
        onFailure: (cause) => Effect.zipRight(jobDone, Effect.failCause(cause))
      })
    })
    // With synchronous file calls (FS_CALLS) a worker may never wait for I/O: each hands the
    // event loop back at least every YIELD_EVERY_MS (the loop runs once all have), so signals,
    // timers, the health endpoint and the log writes are served during a long backlog too.
    const worker = Effect.suspend(() => {
      let lastYield = performance.now()
      const handBack = Effect.suspend(() => {
        if (performance.now() - lastYield <= YIELD_EVERY_MS) return Effect.void
        return Effect.map(yieldToEventLoop, () => void (lastYield = performance.now()))
      })
      // Not `Effect.forever`, which hands the fiber to the scheduler after every file: fairness
      // comes from the runtime's yield every 2048 steps, and the event loop gets its turn above.
      const loop: Effect.Effect<never> = Effect.zipRight(Effect.zipRight(handBack, runOne), Effect.suspend(() => loop))
      return loop
    })

    // ------------------------------------------------------------ start-up
    yield* Effect.logInfo("customer-json-processor started").pipe(
      Effect.annotateLogs({
        version: VERSION,
        instance: instance.id,
        mode: options.once ? "once" : "daemon",
        watch_mode: config.watchMode,
        // synchronous on local filesystems, through the thread pool otherwise (FS_CALLS)
        file_calls: fileCalls.mode === "sync" ? "synchronous" : "thread-pool",
        file_calls_reason: fileCalls.reason,
        folders: {
          data: config.dataDir,
          processing: config.processingDir,
          validated: config.validatedDir,
          returns: config.returnsDir,
          logs: config.logDir
        },
        settings: describeSettings(config)
      })
    )

    // Graceful stop runs before the worker set is interrupted (finalizers run in reverse).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        stopping = true
        status.phase = "stopping"
        yield* Queue.shutdown(queue)
        const waitIdle = Effect.sync(() => inFlight).pipe(
          Effect.repeat({ schedule: Schedule.spaced("10 millis"), until: (n) => n === 0 })
        )
        const finished = yield* waitIdle.pipe(Effect.timeoutOption(config.shutdownTimeoutMs))
        if (Option.isNone(finished)) {
          yield* Effect.logWarning("shutdown timeout reached; interrupting files in flight (they stay claimed and are recovered at the next start)").pipe(
            Effect.annotateLogs({ in_flight: inFlight })
          )
        }
        yield* Effect.logInfo("customer-json-processor stopped").pipe(
          Effect.annotateLogs({
            validated: summary.validated,
            returned: summary.returned,
            failed: summary.failed,
            uptime_s: Math.round(((yield* Clock.currentTimeMillis) - startedAt) / 1000),
            // peak resident memory of the process so far (Linux reports kilobytes)
            max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024)
          })
        )
      })
    )

    for (let i = 0; i < config.concurrency; i++) yield* FiberSet.run(workers, worker)

    // 1. Files left claimed by instances that are gone (and by an earlier run of this one).
    yield* instance.adoptOrphans.pipe(
      Effect.flatMap(adoptClaimed),
      Effect.catchAll((e) => Effect.logWarning("crash recovery could not read the processing folder").pipe(
        Effect.annotateLogs({ error: e.message })
      ))
    )

    // 2. The backlog, oldest first; from the same listing, other names get their once-only warning.
    const now = yield* Clock.currentTimeMillis
    const names = yield* listInput
    const backlog = yield* Effect.forEach(
      names.filter((name) => classifyName(name) === "candidate"),
      (name) =>
        store.inspectInput(name).pipe(
          Effect.map((info) => ({ name, mtime: Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() }) })),
          Effect.orElseSucceed(() => ({ name, mtime: 0 }))
        ),
      // Through the thread pool (a network filesystem), 16 at a time overlap their round trips;
      // synchronous calls gain nothing from it and pay for the fibers.
      { concurrency: fileCalls.mode === "sync" ? 1 : 16 }
    )
    backlog.sort((a, b) => a.mtime - b.mtime)
    // What `consider` does for a name seen for the first time, for the whole backlog in one offer.
    const fresh = backlog.filter(({ name }) => !tracked.has(name) && !parked.has(name))
    yield* Queue.offerAll(queue, fresh.map(({ name }) => track(name, now)))
    for (const name of names) if (classifyName(name) === "other") yield* consider(name, false, now)

    if (options.once) {
      // Done when nothing is tracked and one more listing finds nothing new.
      while (true) {
        if (tracked.size === 0 && claimedTracked.size === 0 && inFlight === 0 && (yield* Queue.size(queue)) <= 0) {
          if ((yield* rescan(false)) === 0) break
        }
        yield* Queue.take(drained)
      }
      return summary
    }

    // 3. Live hints: events, polls, periodic and drain-time listings, orphan adoption.
    status.phase = "watching"
    const reaper = onEvery(config.heartbeatMs, instance.adoptOrphans.pipe(Effect.flatMap(adoptClaimed), Effect.ignore))
    yield* FiberSet.run(workers, reaper)
    yield* FiberSet.run(
      workers,
      Stream.runForEach(Stream.fromQueue(drained), () => (processedSinceListing ? rescan(false) : Effect.void))
    )
    yield* Stream.runForEach(watcher.hints, (hint) =>
      hint._tag === "Rescan"
        ? Effect.asVoid(rescan(hint.full))
        : Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.asVoid(consider(hint.name, true, t)))).pipe(
        Effect.catchAllCause((cause) => Effect.logError("watcher stopped", cause))
      )
    return yield* Effect.never
  }))

