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
import { Activity } from "../status/Activity.js" // status page
import { AppConfig, describeSettings } from "../Config.js"
import { SyscallMode } from "../files/SyscallMode.js"
import { FileStore } from "../files/FileStore.js"
import { mayRead } from "../files/FileOps.js"
import type { Entry } from "../files/FileOps.js"
import * as Metrics from "../status/Metrics.js"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import { Instance } from "../instances/Instance.js"
import { classifyName, parseProcessingName } from "../files/Naming.js"
import type { Outcome, PendingState } from "./Pipeline.js"
import { Notifier } from "../notify/Notifier.js"
import { onEvery } from "./AlignedTimers.js"
import { Status } from "../status/Status.js"
import { Pipeline } from "./Pipeline.js"
import { VERSION } from "../Version.js"
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
  /** modification time, when the backlog's listing looked already */
  readonly mtimeMs: number | undefined
  pending: PendingState | undefined
  /** queued or being processed (otherwise it waits for its quiet-period recheck) */
  active: boolean
}

export interface Summary {
  validated: number
  returned: number
  failed: number
  /** files that could not be routed and are still where they were (`--once` exits non-zero) */
  leftBehind: number
}

/** A name whose processing failed: tried again after a growing delay, reported once per cause. */
interface Failing {
  readonly cause: string
  readonly attempts: number
  readonly firstAt: number
  readonly retryAt: number
}

/** The delay before a failed file is tried again: doubling from one second, at most five minutes. */
export const retryDelayMs = (attempts: number): number => Math.min(300_000, 1000 * 2 ** Math.min(attempts - 1, 20))


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
    const fileCalls = yield* SyscallMode
    const activity = yield* Activity // status page
    const startedAt = yield* Clock.currentTimeMillis
    const clock = yield* Effect.clock
    const uid = typeof process.getuid === "function" ? process.getuid() : -1
    const gids = typeof process.getgroups === "function" ? process.getgroups() : []

    const queue = yield* Queue.unbounded<Job>()
    const drained = yield* Queue.sliding<void>(1)
    const tracked = new Map<string, Tracked>()
    const claimedTracked = new Set<string>()
    /** ignored or failed names: skipped by light listings until an event or a full listing */
    const parked = new Set<string>()
    /** names already warned about, so each is logged once */
    const warned = new Set<string>()
    const summary: Summary = { validated: 0, returned: 0, failed: 0, leftBehind: 0 }
    /** names that failed (claimed names too): skipped until their retry time, reported once per cause */
    const failing = new Map<string, Failing>()
    /** the cause last reported for a file (by its received name) */
    const reportedCause = new Map<string, string>()
    /** names reported as waiting without an outcome */
    const reportedStuck = new Set<string>()
    /** a file waiting for its writer longer than this is reported as stuck (once) */
    const STUCK_AFTER_MS = 3 * Math.max(config.rescanIntervalMs, config.quietPeriodMs)
    let inFlight = 0
    let stopping = false
    let processedSinceListing = false
    let fullListings = 0
    const HEALTH_EVERY = Math.max(1, Math.round(config.healthCheckIntervalMs / config.rescanIntervalMs))

    status.phase = "starting"
    status.failing = () => failing.size
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
    const track = (name: string, now: number, mtimeMs?: number): Job => {
      tracked.set(name, { receivedAt: now, mtimeMs, pending: undefined, active: true })
      return { _tag: "Input", name }
    }

    /** A name seen in a listing (with the type the folder gives) or an event. */
    const consider = (name: string, fromEvent: boolean, now: number, type: string = "Unknown") =>
      Effect.gen(function*() {
        const kind = classifyName(name)
        if (kind === "silent") return false
        if (kind === "other") {
          yield* warnOnce(name, "not a .json file; left where it is", "other")
          return false
        }
        if (type !== "File" && type !== "Unknown") {
          yield* warnOnce(name, "not a regular file; left where it is", type)
          return false
        }
        const failed = failing.get(name)
        if (failed !== undefined && now < failed.retryAt) return false
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
      Effect.orElseSucceed((): ReadonlyArray<Entry> => [])
    )

    const adoptClaimed = (names: ReadonlyArray<string>) =>
      Effect.forEach(names, (name) =>
        // (a claimed file that failed waits for its retry time like any other)
        claimedTracked.has(name) || (failing.get(name)?.retryAt ?? 0) > clock.unsafeCurrentTimeMillis()
          ? Effect.void
          : Effect.zipRight(Effect.sync(() => claimedTracked.add(name)), enqueue({ _tag: "Claimed", name })), { discard: true })

    /** Lists the input folder and queues every new name; returns how many were queued. */
    const rescan = (full: boolean) =>
      Effect.gen(function*() {
        processedSinceListing = false
        const entries = yield* listInput
        const now = yield* Clock.currentTimeMillis
        if (full) {
          // Folder probes and statfs every HEALTH_CHECK_INTERVAL_MS, not at every listing.
          if (fullListings++ % HEALTH_EVERY === 0) yield* healthCheck
          parked.clear()
          const present = new Set(entries.map((e) => e.name))
          for (const name of warned) if (!present.has(name)) warned.delete(name)
          for (const name of failing.keys()) if (!present.has(name) && parseProcessingName(name) === undefined) failing.delete(name)
          for (const name of reportedStuck) if (!present.has(name)) reportedStuck.delete(name)
          yield* reportStuck(now)
          // Files this instance failed to route earlier are tried again.
          yield* instance.claimedFiles.pipe(Effect.flatMap(adoptClaimed), Effect.ignore)
        }
        let added = 0
        // A folder of many names (ignored ones too) is gone through with the event loop's turns
        // kept, as the workers keep them: the health endpoint and signals are served meanwhile.
        let lastYield = performance.now()
        for (let i = 0; i < entries.length; i++) {
          const entry = entries[i]!
          if (yield* consider(entry.name, false, now, entry.type)) added++
          if ((i & 255) === 255 && performance.now() - lastYield > YIELD_EVERY_MS) {
            yield* yieldToEventLoop
            lastYield = performance.now()
          }
        }
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

    /** Files waiting for their writer (or re-modified again and again) longer than STUCK_AFTER_MS: reported once each. */
    const reportStuck = (now: number) =>
      Effect.gen(function*() {
        // (Files that failed were reported with their cause already, and have a gauge of their own.)
        let stuck = 0
        for (const [name, entry] of tracked) {
          if (entry.pending === undefined || now - entry.receivedAt < STUCK_AFTER_MS) continue
          stuck++
          if (reportedStuck.has(name)) continue
          reportedStuck.add(name)
          yield* stuckFile(name, now - entry.receivedAt, "still being written, or not valid JSON and modified again and again")
        }
        status.stuck = stuck
        Metrics.setStuck(stuck)
      })

    const stuckFile = (name: string, waitedMs: number, cause: string) =>
      Effect.gen(function*() {
        yield* Effect.logError("file has been waiting without an outcome").pipe(
          Effect.annotateLogs({ file: name, waited_s: Math.round(waitedMs / 1000), cause })
        )
        yield* notifier.critical({
          summary: `file ${name} has been waiting without an outcome`,
          detail: `it has waited ${Math.round(waitedMs / 1000)} s (${cause}); it is tried again until it can be routed`,
          at: new Date(yield* Clock.currentTimeMillis)
        })
      })

    /**
     * A file that could not be processed: logged at ERROR and notified once per
     * file and cause, then tried again after a growing delay.
     */
    const fileFailed = (job: Job, outcome: Extract<Outcome, { readonly _tag: "Failed" }>) =>
      Effect.gen(function*() {
        summary.failed++
        yield* Metric.increment(Metrics.filesByOutcome("failed"))
        const now = yield* Clock.currentTimeMillis
        const before = failing.get(job.name)
        const attempts = (before?.attempts ?? 0) + 1
        failing.set(job.name, {
          cause: outcome.cause,
          attempts,
          firstAt: before?.firstAt ?? now,
          retryAt: now + retryDelayMs(attempts)
        })
        // Said once per file and cause, whether the file was tried from data/ or, claimed, from processing/.
        const file = job._tag === "Claimed" ? (parseProcessingName(job.name)?.original ?? job.name) : job.name
        if (reportedCause.get(file) === outcome.cause) {
          yield* Effect.logDebug("file still cannot be processed").pipe(Effect.annotateLogs({ file, attempts, error: outcome.reason }))
          return
        }
        reportedCause.set(file, outcome.cause)
        yield* Effect.logError("file could not be processed; it stays where it is").pipe(
          Effect.annotateLogs({ file, error: outcome.reason, retry_in_s: Math.round(retryDelayMs(attempts) / 1000) })
        )
        yield* notifier.critical({
          summary: `file ${file} could not be processed`,
          detail: outcome.reason,
          at: new Date(now)
        })
      })

    /** What a job's outcome does to the counts and to its name; synchronous for a routed file. */
    const recordOutcome = (job: Job, outcome: Outcome): Effect.Effect<void> => {
      if (job._tag === "Claimed") claimedTracked.delete(job.name)
      activity.outcome(job, outcome) // status page
      let then: Effect.Effect<void> = Effect.void
      if (outcome._tag !== "Failed" && failing.size > 0) failing.delete(job.name)
      if ((outcome._tag === "Validated" || outcome._tag === "Returned") && reportedCause.size > 0) {
        reportedCause.delete(job._tag === "Claimed" ? (parseProcessingName(job.name)?.original ?? job.name) : job.name)
      }
      switch (outcome._tag) {
        case "Validated":
          summary.validated++
          break
        case "Returned":
          summary.returned++
          break
        case "Failed":
          then = fileFailed(job, outcome)
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
        ? pipeline.processInput({ name: job.name, receivedAt: entry.receivedAt, mtimeMs: entry.mtimeMs, pending: entry.pending })
        : Effect.flatMap(Clock.currentTimeMillis, (now) => pipeline.processInput({ name: job.name, receivedAt: now, pending: undefined }))
    }

    /**
     * A defect in one file's job (a bug, a throw in a library) is caught here:
     * logged at ERROR with its cause, the file left where it is for a later
     * attempt, and the worker goes on (a FiberSet would drop it silently).
     */
    const supervised = (job: Job): Effect.Effect<Outcome> =>
      Effect.catchAllCause(runJob(job), (cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause)
          : Effect.as(
            Effect.logError("unexpected failure processing a file; it is left where it is and tried again later", cause).pipe(
              Effect.annotateLogs({ file: job.name })
            ),
            { _tag: "Failed", reason: `unexpected failure: ${Cause.pretty(cause).split("\n")[0] ?? "defect"}`, cause: "defect" } satisfies Outcome as Outcome
          ))

    const jobDone = Effect.suspend(() => {
      inFlight--
      status.inFlight = inFlight
      if (inFlight > 0 || stopping) return Effect.void
      // The size counts waiting takers as negative. (With synchronous file calls a worker finishes
      // each file before the next starts, so this is asked once per file: without an Effect.)
      return Option.getOrElse(queue.unsafeSize(), () => 0) <= 0 ? Queue.offer(drained, undefined) : Effect.void
    })
    /** when each worker's current job started (0: none), for the health check's hung-worker test */
    const busy = new Array<number>(config.concurrency).fill(0)
    status.busySince = () => {
      let oldest: number | undefined
      for (const t of busy) if (t > 0 && (oldest === undefined || t < oldest)) oldest = t
      return oldest
    }
    status.workersWanted = config.concurrency
    const runOne = (slot: number) => Effect.flatMap(Queue.take(queue), (job) => {
      inFlight++
      status.inFlight = inFlight
      busy[slot] = clock.unsafeCurrentTimeMillis()
      // Counted out after the job however it ends (a defect included; an interrupted job is
      // only interrupted at shutdown, past waiting for it): one step instead of `ensuring`'s several.
      return Effect.matchCauseEffect(supervised(job), {
        onSuccess: (outcome) => ((busy[slot] = 0), Effect.zipRight(recordOutcome(job, outcome), jobDone)),
        onFailure: (cause) => ((busy[slot] = 0), Effect.zipRight(jobDone, Effect.failCause(cause)))
      })
    })
    // With synchronous file calls (FS_CALLS) a worker may never wait for I/O: each hands the
    // event loop back at least every YIELD_EVERY_MS (the loop runs once all have), so signals,
    // timers, the health endpoint and the log writes are served during a long backlog too.
    const worker = (slot: number) => Effect.suspend(() => {
      let lastYield = performance.now()
      const handBack = Effect.suspend(() => {
        if (performance.now() - lastYield <= YIELD_EVERY_MS) return Effect.void
        return Effect.map(yieldToEventLoop, () => void (lastYield = performance.now()))
      })
      // Not `Effect.forever`, which hands the fiber to the scheduler after every file: fairness
      // comes from the runtime's yield every 2048 steps, and the event loop gets its turn above.
      const loop: Effect.Effect<never> = Effect.zipRight(Effect.zipRight(handBack, runOne(slot)), Effect.suspend(() => loop))
      return loop
    }).pipe(
      // A worker ends only at shutdown; one that dies otherwise is said loudly and fails /healthz.
      Effect.onExit((exit) =>
        Effect.zipRight(
          Effect.sync(() => void status.workersAlive--),
          Exit.isInterrupted(exit) ? Effect.void : Effect.logError("a worker stopped unexpectedly", Exit.isFailure(exit) ? exit.cause : Cause.empty)
        )),
    )

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

    for (let i = 0; i < config.concurrency; i++) {
      status.workersAlive++
      yield* FiberSet.run(workers, worker(i))
    }

    // 1. Files left claimed by instances that are gone (and by an earlier run of this one).
    yield* instance.adoptOrphans.pipe(
      // Stages left by a crash after their claimed file was released go first.
      Effect.tap(() => store.sweepStages(instance.dir)),
      Effect.flatMap(adoptClaimed),
      Effect.catchAll((e) => Effect.logWarning("crash recovery could not read the processing folder").pipe(
        Effect.annotateLogs({ error: e.message })
      ))
    )

    // 2. The backlog, oldest first; from the same listing, other names get their once-only warning.
    const now = yield* Clock.currentTimeMillis
    const entries = yield* listInput
    const backlog = yield* Effect.forEach(
      entries.filter((e) => (e.type === "File" || e.type === "Unknown") && classifyName(e.name) === "candidate"),
      ({ name }) =>
        store.inspectInput(name).pipe(
          // A file it may not read is looked at again by the pipeline, which says why.
          Effect.map((info) => ({ name, mtime: info.mtimeMs, file: info.type === "File", readable: mayRead(info, uid, gids) })),
          Effect.orElseSucceed(() => ({ name, mtime: 0, file: true, readable: true }))
        ),
      // Through the thread pool (a network filesystem), 16 at a time overlap their round trips;
      // synchronous calls gain nothing from it and pay for the fibers.
      { concurrency: fileCalls.mode === "sync" ? 1 : 16 }
    )
    backlog.sort((a, b) => a.mtime - b.mtime)
    // What `consider` does for a name seen for the first time, for the whole backlog in one offer.
    const fresh = backlog.filter(({ file, name }) => file && !tracked.has(name) && !parked.has(name))
    yield* Queue.offerAll(queue, fresh.map(({ mtime, name, readable }) => track(name, now, readable ? mtime : undefined)))
    for (const entry of entries) {
      if (classifyName(entry.name) === "other" || (entry.type !== "File" && entry.type !== "Unknown")) {
        yield* consider(entry.name, false, now, entry.type)
      }
    }
    for (const { file, name } of backlog) if (!file) yield* consider(name, false, now, "SymbolicLink")

    if (options.once) {
      // Done when nothing is tracked and one more listing finds nothing new.
      while (true) {
        if (tracked.size === 0 && claimedTracked.size === 0 && inFlight === 0 && (yield* Queue.size(queue)) <= 0) {
          if ((yield* rescan(false)) === 0) break
        }
        yield* Queue.take(drained)
      }
      // Every eligible file routed, or how many stay where they were (the exit code says so).
      const stillClaimed = yield* instance.claimedFiles.pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
      const left = new Set([...failing.keys(), ...stillClaimed].map((n) => parseProcessingName(n)?.original ?? n))
      summary.leftBehind = left.size
      if (summary.leftBehind > 0) {
        yield* Effect.logError("finished with files that could not be routed; they stay where they are (exit code 75)").pipe(
          Effect.annotateLogs({ left_behind: summary.leftBehind, files: [...left].slice(0, 20) })
        )
      }
      return summary
    }

    // 3. Live hints: events, polls, periodic and drain-time listings, orphan adoption.
    status.phase = "watching"
    const reaper = onEvery(
      config.heartbeatMs,
      instance.adoptOrphans.pipe(
        Effect.tap((adopted) => (adopted.length > 0 ? store.sweepStages(instance.dir) : Effect.void)),
        Effect.flatMap(adoptClaimed),
        Effect.ignore
      )
    )
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

