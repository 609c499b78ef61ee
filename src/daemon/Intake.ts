/**
 * The intake: which names of the input folder (and of this instance's
 * processing folder) go to the workers, and when. It tracks a name from the
 * moment it is queued until its outcome, so the same file seen twice (event +
 * listing) is processed once; it takes hints (events, polls, periodic
 * listings), parks names it must leave alone, and holds back files that failed
 * until their retry time, reporting each cause once.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import { AppConfig } from "../Config.js"
import type { Entry } from "../files/FileOps.js"
import { mayRead } from "../files/FileOps.js"
import { FileStore } from "../files/FileStore.js"
import { classifyName, parseProcessingName } from "../files/Naming.js"
import { Instance } from "../instances/Instance.js"
import { Notifier } from "../notify/Notifier.js"
import { Activity } from "../status/Activity.js"
import * as Metrics from "../status/Metrics.js"
import { Status } from "../status/Status.js"
import { SyscallMode } from "../files/SyscallMode.js"
import type { Outcome, PendingState } from "./Pipeline.js"
import { Pipeline } from "./Pipeline.js"
import type { Hint } from "./Watcher.js"
import { yieldToEventLoop, YIELD_EVERY_MS } from "./WorkerPool.js"

/** How soon a file waiting for its writer is read again after an event names it. */
const EVENT_RECHECK_MS = 50

export type Job =
  | { readonly _tag: "Input"; readonly name: string }
  | { readonly _tag: "Claimed"; readonly name: string }

export interface Summary {
  validated: number
  returned: number
  failed: number
  /** files that could not be routed and are still where they were (`--once` exits non-zero) */
  leftBehind: number
}

interface Tracked {
  readonly receivedAt: number
  /** modification time, when the backlog's listing looked already */
  readonly mtimeMs: number | undefined
  pending: PendingState | undefined
  /** queued or being processed (otherwise it waits for its quiet-period recheck) */
  active: boolean
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

export interface IntakeService {
  /** The next job for a worker (waits for one). */
  readonly take: Effect.Effect<Job>
  /** Runs a job through the pipeline with what the intake knows of its file. */
  readonly run: (job: Job) => Effect.Effect<Outcome>
  /** What a job's outcome does to the counts and to its name. */
  readonly record: (job: Job, outcome: Outcome) => Effect.Effect<void>
  /** A job's outcome after a defect. */
  readonly defect: (reason: string) => Outcome
  /** Called by the pool when its last job in flight ends. */
  readonly onIdle: Effect.Effect<void>
  /** Files left claimed by instances that are gone (and by an earlier run of this one). */
  readonly recover: Effect.Effect<void>
  /** The backlog: every name in the input folder now. */
  readonly backlog: Effect.Effect<void>
  /** A hint from the Watcher. */
  readonly hint: (hint: Hint) => Effect.Effect<void>
  /** Adopts the files of instances that died meanwhile. */
  readonly adoptOrphans: Effect.Effect<void>
  /** Lists the input folder again each time the workers ran dry after processing something; never ends. */
  readonly relistWhenDrained: Effect.Effect<never>
  /** `--once`: waits until nothing is tracked, queued or in flight, and one more listing finds nothing new. */
  readonly untilDone: (inFlight: () => number) => Effect.Effect<void>
  /** Names that could not be routed and stay where they are (their input names). */
  readonly leftBehind: Effect.Effect<ReadonlyArray<string>>
  /** Stops handing out jobs (waiting workers are interrupted). */
  readonly shutdown: Effect.Effect<void>
  readonly summary: Summary
}

export const makeIntake: Effect.Effect<
  IntakeService,
  never,
  AppConfig | FileStore | Instance | Pipeline | Notifier | Status | Scope.Scope
> = Effect.gen(function*() {
  const config = yield* AppConfig
  const store = yield* FileStore
  const instance = yield* Instance
  const pipeline = yield* Pipeline
  const notifier = yield* Notifier
  const status = yield* Status
  const fileCalls = yield* SyscallMode
  const activity = yield* Activity // status page
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
  let processedSinceListing = false

  status.failing = () => failing.size
  status.waiting = () => {
    let oldest: number | undefined
    for (const t of tracked.values()) if (oldest === undefined || t.receivedAt < oldest) oldest = t.receivedAt
    return { count: tracked.size, oldestReceivedAtMs: oldest }
  }

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

  const defect = (reason: string): Outcome => ({ _tag: "Failed", reason: `unexpected failure: ${reason}`, cause: "defect" })

  const onIdle = Effect.suspend(() =>
    // The size counts waiting takers as negative. (With synchronous file calls a worker finishes
    // each file before the next starts, so this is asked once per file: without an Effect.)
    Option.getOrElse(queue.unsafeSize(), () => 0) <= 0 ? Queue.offer(drained, undefined) : Effect.void
  )

  const recover = instance.adoptOrphans.pipe(
    // Stages left by a crash after their claimed file was released go first.
    Effect.tap(() => store.sweepStages(instance.dir)),
    Effect.flatMap(adoptClaimed),
    Effect.catchAll((e) =>
      Effect.logWarning("crash recovery could not read the processing folder").pipe(
        Effect.annotateLogs({ error: e.message })
      )
    )
  )

  // The backlog, oldest first; from the same listing, other names get their once-only warning.
  const backlog = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const entries = yield* listInput
    const candidates = yield* Effect.forEach(
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
    candidates.sort((a, b) => a.mtime - b.mtime)
    // What `consider` does for a name seen for the first time, for the whole backlog in one offer.
    const fresh = candidates.filter(({ file, name }) => file && !tracked.has(name) && !parked.has(name))
    yield* Queue.offerAll(queue, fresh.map(({ mtime, name, readable }) => track(name, now, readable ? mtime : undefined)))
    for (const entry of entries) {
      if (classifyName(entry.name) === "other" || (entry.type !== "File" && entry.type !== "Unknown")) {
        yield* consider(entry.name, false, now, entry.type)
      }
    }
    for (const { file, name } of candidates) if (!file) yield* consider(name, false, now, "SymbolicLink")
  })

  const untilDone = (inFlight: () => number) =>
    Effect.gen(function*() {
      // Done when nothing is tracked and one more listing finds nothing new.
      while (true) {
        if (tracked.size === 0 && claimedTracked.size === 0 && inFlight() === 0 && (yield* Queue.size(queue)) <= 0) {
          if ((yield* rescan(false)) === 0) return
        }
        yield* Queue.take(drained)
      }
    })

  const leftBehind = Effect.gen(function*() {
    const stillClaimed = yield* instance.claimedFiles.pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
    return [...new Set([...failing.keys(), ...stillClaimed].map((n) => parseProcessingName(n)?.original ?? n))]
  })

  const hint = (h: Hint): Effect.Effect<void> =>
    h._tag === "Rescan"
      ? Effect.asVoid(rescan(h.full))
      : Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.asVoid(consider(h.name, true, t)))

  return {
    take: Queue.take(queue),
    run: runJob,
    record: recordOutcome,
    defect,
    onIdle,
    recover,
    backlog,
    hint,
    adoptOrphans: instance.adoptOrphans.pipe(
      Effect.tap((adopted) => (adopted.length > 0 ? store.sweepStages(instance.dir) : Effect.void)),
      Effect.flatMap(adoptClaimed),
      Effect.ignore
    ),
    relistWhenDrained: Effect.forever(Effect.zipRight(Queue.take(drained), Effect.suspend(() => (processedSinceListing ? Effect.asVoid(rescan(false)) : Effect.void)))),
    untilDone,
    leftBehind,
    shutdown: Queue.shutdown(queue),
    summary
  } satisfies IntakeService
})
