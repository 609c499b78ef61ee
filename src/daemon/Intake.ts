/**
 * The intake: which names of the input folder (and of this instance's
 * processing folder) go to the workers, and when.
 *
 * Memory does not grow with the backlog. The input folder is read in pieces
 * (`listPieces`, opendir) by *passes*: a pass reads the folder from start to
 * end, but only as fast as the workers take names, so at most `window` names
 * are held at once (queued, being processed, or waiting for their writer);
 * as workers finish, the window is refilled from the pass in progress. A new
 * pass starts when one is asked for (the backlog at start, a periodic or
 * poll listing, an event that came while a pass was running) and the last one
 * has ended. So every file seen in one pass is taken before any file first
 * seen in a later pass: no file waits more than one pass behind newer ones.
 *
 * A name is tracked from the moment it is queued until its outcome, so the
 * same file seen twice (event + listing) is processed once. Names it must
 * leave alone are warned about once each (up to a cap, then counted in one
 * line), parked names are skipped by light listings, and files that failed
 * wait for their retry time, their cause reported once; all of these are
 * bounded too (see `IntakeLimits`).
 *
 * What the intake knows is one `Ref` of `IntakeState`, changed only by the
 * named, pure transitions of IntakeState.ts; this module does what they
 * decide: the listing, the queues, the timers, the logs and notifications.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import { forEachPiece, isNotFound } from "../files/FileOps.js"
import type { Listing } from "../files/FileOps.js"
import { FileStore } from "../files/FileStore.js"
import { describeIoError } from "../files/IoRetry.js"
import { classifyName, parseProcessingName } from "../files/Naming.js"
import { Instance } from "../instances/Instance.js"
import { Notifier, notifyCleared } from "../notify/Notifier.js"
import { Activity } from "../status/Activity.js"
import * as Metrics from "../status/Metrics.js"
import type { Outcome } from "./Pipeline.js"
import { Pipeline } from "./Pipeline.js"
import type { Hint } from "./Watcher.js"
import { yieldToEventLoop } from "../runtime/SliceScheduler.js"
import { sayOncePerCause } from "../logging/SayOnce.js"
import * as IntakeState from "./IntakeState.js"
import { makeFairJobQueue } from "../partners/FairJobQueue.js"
import type { JobQueue } from "../partners/FairJobQueue.js"
import { partnerOfClaim, partnerOfName } from "../files/PartnerNames.js"
import { PartnerRoutes } from "../files/PartnerRoutes.js"

/** A job's partner, for the fair queue ("": none). */
const partnerOfJob = (job: Job): string => (job._tag === "Claimed" ? partnerOfClaim(job.name) : partnerOfName(job.name)) ?? ""
import type { Failing, IntakeLimits, Job, Summary } from "./IntakeState.js"

export { defaultLimits, EVENT_RECHECK_MAX_MS, eventRecheckDelay, LINK_SETTLE_MS, retryDelayMs } from "./IntakeState.js"
export type { IntakeLimits, Job, Summary } from "./IntakeState.js"

/** How long the input folder must have been unchanged for a light pass to be skipped (see IntakeState's `folderAtLastPass`). */
export const FOLDER_QUIET_MS = 2000

/** The critical summary of a file that could not be processed (its all-clear goes by it too). */
export const failedSummary = (file: string) => `file ${file} could not be processed`
/** The critical summary of a file waiting without an outcome. */
export const stuckSummary = (file: string) => `file ${file} has been waiting without an outcome`

/** The intake as the status shows it. */
export interface IntakeView {
  /** the files waiting (queued or waiting for their writer) and the oldest one's receive time */
  readonly waiting: { readonly count: number; readonly oldestReceivedAtMs: number | undefined }
  /** files that could not be processed and are tried again later */
  readonly failing: number
  /** files reported as waiting without an outcome for too long (as the last full listing found them) */
  readonly stuck: number
  /** the most names of the input folder held at once (bounded by the window) */
  readonly peak: number
}

export interface IntakeService {
  /** The next job for a worker (waits for one). */
  readonly take: Effect.Effect<Job>
  /** The next job for a worker of the large-file lane (waits for one). */
  readonly takeLarge: Effect.Effect<Job>
  /** Runs a job through the pipeline with what the intake knows of its file. */
  readonly run: (job: Job) => Effect.Effect<Outcome>
  /** What a job's outcome does to the counts and to its name; refills the window. */
  readonly record: (job: Job, outcome: Outcome) => Effect.Effect<void>
  /** A job's outcome after a defect. */
  readonly defect: (reason: string) => Outcome
  /** Called by the pool when its last job in flight ends. */
  readonly onIdle: Effect.Effect<void>
  /** Files left claimed by instances that are gone (and by an earlier run of this one). */
  readonly recover: Effect.Effect<void>
  /** The backlog: a first full pass over the input folder. */
  readonly backlog: Effect.Effect<void>
  /** A hint from the Watcher. */
  readonly hint: (hint: Hint) => Effect.Effect<void>
  /** Adopts the files of instances that died meanwhile. */
  readonly adoptOrphans: Effect.Effect<void>
  /** `--once`: waits until nothing is held, queued or in flight, and one more listing finds nothing new. */
  readonly untilDone: (inFlight: () => number) => Effect.Effect<void>
  /** Names that could not be routed and stay where they are (their input names). */
  readonly leftBehind: Effect.Effect<ReadonlyArray<string>>
  /** Stops handing out jobs (waiting workers are interrupted). */
  readonly shutdown: Effect.Effect<void>
  /** The counts so far. */
  readonly summary: Effect.Effect<Summary>
  /** What the status shows of the intake now. */
  readonly view: Effect.Effect<IntakeView>
}

export const makeIntake = (
  limits: IntakeLimits
): Effect.Effect<IntakeService, never, AppConfig | FileStore | Instance | Pipeline | Notifier | Activity | Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const store = yield* FileStore
    const instance = yield* Instance
    const pipeline = yield* Pipeline
    const notifier = yield* Notifier
    const activity = yield* Activity // status page
    const clock = yield* Effect.clock
    /** the input folder's own name, as a watch event names the folder itself */
    const folderName = Path.basename(Path.resolve(config.dataDir))

    const state = yield* Ref.make(IntakeState.initial({
      limits,
      quietPeriodMs: config.quietPeriodMs,
      stuckAfterMs: 3 * Math.max(config.rescanIntervalMs, config.quietPeriodMs)
    }))
    // With partners (PARTNERS_FILE), their jobs are taken in turn (partners/FairJobQueue).
    const queue: JobQueue<Job> = (yield* PartnerRoutes).inboxes() === undefined ? yield* Queue.unbounded<Job>() : yield* makeFairJobQueue(partnerOfJob)
    /** large files handed over by the workers (held names, so at most `window`) */
    const largeQueue = yield* Queue.unbounded<Job>()
    const drained = yield* Queue.sliding<void>(1)
    /** the pass's listing, while a sweep has it open (the state's `sweeping` starts before it opens and ends after it closes) */
    let listing: Listing | undefined
    const deferredSaid = sayOncePerCause()
    /** Failures of the periodic take-over and of the periodic retry of claimed files, said once until they work again. */
    const adoptionFailure = sayOncePerCause()
    const claimedRetryFailure = sayOncePerCause()
    const rechecks = yield* FiberMap.make<string>()

    const warning = (name: string, message: string, kind: string) =>
      Effect.logWarning(message).pipe(Effect.annotateLogs({ file: name, kind }))

    const warnOnce = (name: string, message: string, kind: string) =>
      Effect.flatMap(Ref.modify(state, (s) => IntakeState.warnedAbout(s, name)), (mark) => (mark === "new" ? warning(name, message, kind) : Effect.void))

    const enqueue = (job: Job) => queue.offer(job)

    /** The next look at a held name after `delay` (replaces an earlier timer; the state has its time already). */
    const recheckLater = (name: string, delay: number) =>
      FiberMap.run(
        rechecks,
        name,
        Effect.sleep(delay).pipe(
          Effect.zipRight(Ref.modify(state, (s) => IntakeState.recheckDue(s, name))),
          Effect.flatMap(enqueue)
        )
      )

    const adoptClaimed = (names: ReadonlyArray<string>) =>
      Effect.flatMap(
        Ref.modify(state, (s) => IntakeState.claimedAdopted(s, names, clock.unsafeCurrentTimeMillis())),
        (adopted) => Effect.forEach(adopted, (name) => enqueue({ _tag: "Claimed", name }), { discard: true })
      )

    const listingFailed = (e: { readonly message: string }) =>
      Effect.logWarning("listing the input folder failed").pipe(Effect.annotateLogs({ error: e.message }))

    /** The input folder's stamp, when it has been quiet for FOLDER_QUIET_MS (else, or unreadable, `undefined`). */
    const quietFolderStamp = Effect.map(Effect.option(store.inspectInputFolder), (meta) =>
      Option.isSome(meta) && clock.unsafeCurrentTimeMillis() - meta.value.mtimeMs >= FOLDER_QUIET_MS
        ? `${meta.value.id} ${meta.value.mtimeMs} ${meta.value.size} ${meta.value.nlink}`
        : undefined)

    /** Opens a sweep's listing; one that cannot be opened ends the sweep at once. */
    const openSweep = Effect.gen(function*() {
      listing = yield* store.listInputPieces.pipe(
        Effect.tapError(listingFailed),
        Effect.orElseSucceed(() => undefined)
      )
      if (listing === undefined) yield* endSweep
    })

    /** Starts the pass asked for (a full one re-examines parked names), or finds that a light one has nothing to read. */
    const openPass = Effect.gen(function*() {
      const stamp = yield* quietFolderStamp
      const started = yield* Ref.modify(state, (s) => IntakeState.passStarted(s, stamp, clock.unsafeCurrentTimeMillis()))
      if (started === "opened") yield* openSweep
    })

    /** The second sweep of a pass, over what is left of the others' shares. */
    const openStealSweep = Effect.zipRight(Ref.update(state, IntakeState.stealStarted), openSweep)

    /** A sweep has read the whole folder (or could not be read): see IntakeState's `passEnded`. */
    const endSweep: Effect.Effect<void> = Effect.gen(function*() {
      if (listing !== undefined) yield* listing.close
      listing = undefined
      const ended = yield* Ref.modify(state, IntakeState.passEnded)
      if (ended._tag === "StealDue" || !ended.full) return
      // A full pass that let no waiting file go: the next time it happens is said again.
      if (ended.noneDeferred) yield* deferredSaid.cleared
      for (const [name, f] of ended.goneWhileFailing) {
        yield* failureEnded(name, f, `it is no longer in ${config.dataDir} (removed, or taken by another instance); it is not tried any more`)
      }
      if (ended.unwarned !== undefined) {
        yield* Effect.logWarning("more names are left where they are (not .json files, or not regular files) than are warned about one by one").pipe(
          Effect.annotateLogs({ not_warned_about: ended.unwarned, warned_about: ended.warnedSize })
        )
      }
    })

    /**
     * Fills the window from the pass in progress (starting the pass asked for
     * when none is): reads pieces until `window` names are held or the folder
     * is read. A folder of many names (ignored ones too) is gone through with
     * the event loop's turns kept (the daemon's SliceScheduler sees to that).
     */
    const fillLoop = Effect.gen(function*() {
      // Instances come and go: this one's share is looked up again at every refill (one small listing).
      let shareFresh = false
      while (true) {
        const s = yield* Ref.get(state)
        const room = IntakeState.room(s)
        if (room <= 0) return
        if (listing === undefined) {
          if (s.pass.stealDue) {
            // Only once this instance's share is taken (nothing queued): the others are still at theirs meanwhile.
            if (Option.getOrElse(queue.unsafeSize(), () => 0) > 0) return
            yield* openStealSweep
            continue
          }
          if (s.pass.requested === "none") return
          yield* openPass
          continue
        }
        if (!s.pass.stealing && !shareFresh) {
          const share = yield* instance.share
          yield* Ref.update(state, (s) => IntakeState.shareFound(s, share))
          shareFresh = true
        }
        const piece = yield* listing.next(Math.min(IntakeState.PIECE, room)).pipe(
          Effect.tapError(listingFailed),
          Effect.orElseSucceed(() => [])
        )
        if (piece.length === 0) {
          yield* endSweep
          continue
        }
        const now = clock.unsafeCurrentTimeMillis()
        const listed = yield* Ref.modify(state, (s) => IntakeState.queued(s, piece, now))
        for (const name of listed.queued) queue.unsafeOffer({ _tag: "Input", name, receivedAt: now })
        if (listed.warnings.length > 0) {
          yield* Effect.forEach(listed.warnings, ([name, message, kind]) => warning(name, message, kind), { discard: true })
        }
      }
    })

    /** One filler at a time; a call while one runs returns at once (the running one goes on until the window is full). */
    const fill = Effect.flatMap(Ref.modify(state, IntakeState.fillStarted), (started) =>
      started ? Effect.ensuring(fillLoop, Ref.update(state, IntakeState.fillEnded)) : Effect.void)

    /** A name an event named. */
    const hintName = (name: string) =>
      Effect.gen(function*() {
        const kind = classifyName(name)
        if (kind === "silent") return
        if (kind === "other") {
          // The watch names the input folder itself when the folder is removed or renamed: that is
          // no entry in it (the failing listing says what happened), unless an entry has that name.
          if (name === folderName && !(yield* store.inspectInput(name).pipe(Effect.as(true), Effect.orElseSucceed(() => false)))) return
          return yield* warnOnce(name, "not a .json file; left where it is", "other")
        }
        const now = clock.unsafeCurrentTimeMillis()
        const hinted = yield* Ref.modify(state, (s) => IntakeState.hinted(s, name, now))
        if (hinted._tag === "Recheck") yield* recheckLater(name, hinted.delay)
        else if (hinted._tag === "Queue") yield* enqueue({ _tag: "Input", name, receivedAt: now })
      })

    /** Files waiting for their writer (or re-modified again and again) too long: reported once each. */
    const reportStuck = (now: number) =>
      Effect.gen(function*() {
        const newly = yield* Ref.modify(state, (s) => IntakeState.stuckCounted(s, now))
        for (const [name, waitedMs] of newly) yield* stuckFile(name, waitedMs, "still being written, or not valid JSON and modified again and again")
        Metrics.setStuck((yield* Ref.get(state)).stuck)
      })

    const stuckFile = (name: string, waitedMs: number, cause: string) =>
      Effect.gen(function*() {
        yield* Effect.logError("file has been waiting without an outcome").pipe(
          Effect.annotateLogs({ file: name, waited_s: Math.round(waitedMs / 1000), cause })
        )
        yield* notifier.critical({
          summary: stuckSummary(name),
          detail: `it has waited ${Math.round(waitedMs / 1000)} s (${cause}); it is tried again until it can be routed`,
          at: new Date(yield* Clock.currentTimeMillis),
          instance: instance.id
        })
      })

    /**
     * A file that could not be processed: logged at ERROR and notified once per
     * file and cause (`newCause`), then tried again after a growing delay.
     */
    const fileFailed = (job: Job, outcome: Extract<Outcome, { readonly _tag: "Failed" }>, record: Failing, newCause: boolean) => {
      const attempts = record.attempts
      // Said once per file and cause, whether the file was tried from data/ or, claimed, from processing/.
      const file = IntakeState.fileNameOf(job)
      if (!newCause) return Effect.logDebug("file still cannot be processed").pipe(Effect.annotateLogs({ file, attempts, error: outcome.reason }))
      return Effect.zipRight(
        Effect.logError("file could not be processed; it stays where it is").pipe(
          Effect.annotateLogs({ file, error: outcome.reason, retry_in_s: Math.round(IntakeState.retryDelayMs(attempts) / 1000) })
        ),
        Effect.suspend(() =>
          notifier.critical({
            summary: failedSummary(file),
            detail: outcome.reason,
            at: new Date(clock.unsafeCurrentTimeMillis()),
            instance: instance.id
          })
        )
      )
    }

    /** The all-clear of a file whose failure was reported: a line and a notification. */
    const failureAllClear = (file: string, record: Failing, how: string) =>
      Effect.suspend(() => {
        const now = clock.unsafeCurrentTimeMillis()
        return Effect.zipRight(
          Effect.logInfo("all clear: a file that could not be processed is no longer failing").pipe(
            Effect.annotateLogs({ file, attempts: record.attempts, failing_s: Math.round((now - record.firstAt) / 1000), how })
          ),
          notifyCleared(notifier, { summary: failedSummary(file), detail: how, at: new Date(now), since: new Date(record.firstAt), instance: instance.id })
        )
      })

    /**
     * A file that had failed is failing no more (`how`): if its failure was
     * reported, an all-clear line and notification say so.
     */
    const failureEnded = (file: string, record: Failing, how: string) =>
      Effect.flatMap(Ref.modify(state, (s) => IntakeState.failureCleared(s, file)), (reported) => (reported ? failureAllClear(file, record, how) : Effect.void))

    /** A file reported as waiting without an outcome has one now: an all-clear line and notification. */
    const stuckEnded = (file: string, receivedAt: number, how: string) =>
      Effect.suspend(() => {
        const now = clock.unsafeCurrentTimeMillis()
        return Effect.zipRight(
          Effect.logInfo("all clear: a file that waited without an outcome has one").pipe(
            Effect.annotateLogs({ file, waited_s: Math.round((now - receivedAt) / 1000), how })
          ),
          notifyCleared(notifier, { summary: stuckSummary(file), detail: how, at: new Date(now), since: new Date(receivedAt), instance: instance.id })
        )
      })

    /** How a failing or waiting file's trouble ended, in words (for its all-clear). */
    const howItEnded = (outcome: Outcome, attempts: number): string => {
      const tries = attempts > 0 ? ` after ${attempts} failed attempt${attempts === 1 ? "" : "s"}` : ""
      switch (outcome._tag) {
        case "Validated":
          return `it was validated${tries} (stored as ${outcome.storedAs})`
        case "Returned":
          return `it was returned${tries} (stored as ${outcome.storedAs})`
        case "AlreadyStored":
          return `it was ${outcome.as}${tries}`
        case "Gone":
          return `it is gone${tries} (removed, or taken by another instance); it is not tried any more`
        case "Ignored":
          return `it was replaced by a ${outcome.kind}, which is left where it is`
        default:
          return "it is being written again; it is taken once it is complete"
      }
    }

    /** What a job's outcome does to the counts and to its name (IntakeState's `finished`), then what that asks for. */
    const recordOutcome = (job: Job, outcome: Outcome): Effect.Effect<void> => {
      // A large file goes to its own lane, still held: no outcome yet.
      if (outcome._tag === "Large") return Queue.offer(largeQueue, { ...job, large: true })
      return Effect.flatMap(Ref.modify(state, (s) => IntakeState.finished(s, job, outcome, clock.unsafeCurrentTimeMillis())), (done) => {
        const { failedBefore, failure } = done
        if (done.newlyFailed) Metrics.filesFailed.unsafeUpdate(1, [])
        activity.outcome(job, outcome, failure === undefined ? undefined : { attempts: failure.attempts, firstAtMs: failure.firstAt }) // status page
        let then: Effect.Effect<void> = Effect.void
        if (failedBefore !== undefined && done.failureCleared) {
          then = failureAllClear(IntakeState.fileNameOf(job), failedBefore, howItEnded(outcome, failedBefore.attempts))
        }
        if (outcome._tag === "Failed" && failure !== undefined) then = fileFailed(job, outcome, failure, done.newCause)
        switch (done.then._tag) {
          case "WaitForWriter": {
            const delay = done.then.delay
            return Effect.zipRight(then, Effect.zipRight(
              Effect.logDebug("file not complete yet; waiting for its writer").pipe(Effect.annotateLogs({ file: job.name, recheck_in_ms: delay })),
              recheckLater(job.name, delay)
            ))
          }
          case "LinkSettling":
            return Effect.zipRight(then, recheckLater(job.name, done.then.delay))
          case "Nothing":
            return then
          default:
            break
        }
        if (done.warn) then = Effect.zipRight(then, warning(IntakeState.fileNameOf(job), "not a regular file; left where it is", outcome._tag === "Ignored" ? outcome.kind : ""))
        if (done.deferred) then = Effect.zipRight(then, deferWaiting(job.name))
        if (done.stuckEnded !== undefined) then = Effect.zipRight(then, stuckEnded(job.name, done.stuckEnded, howItEnded(outcome, 0)))
        return done.refill ? Effect.zipRight(then, fill) : then
      })
    }

    /** A file waiting for its writer past the waiting share, let go until the next full listing: said once while it lasts. */
    const deferWaiting = (name: string) =>
      Effect.flatMap(Ref.get(state), (s) =>
        deferredSaid.say(
          "deferred",
          Effect.logWarning(
            "more files are waiting for their writers than the intake keeps room for; the others are looked at again at each full listing (RESCAN_INTERVAL_MS), and new files are taken meanwhile"
          ).pipe(Effect.annotateLogs({ waiting_held: HashSet.size(s.waitingHeld), file: name }))
        ))

    const runJob = (job: Job): Effect.Effect<Outcome> => {
      const lane = job.large === true ? "large" : undefined
      if (job._tag === "Claimed") return pipeline.processClaimed(job.name, lane)
      // (what the intake knew of the file when it queued it travels with the job: no state read per file)
      return job.receivedAt !== undefined
        ? pipeline.processInput({ name: job.name, receivedAt: job.receivedAt, pending: job.pending, lane })
        : Effect.flatMap(Clock.currentTimeMillis, (now) => pipeline.processInput({ name: job.name, receivedAt: now, pending: undefined, lane }))
    }

    const defect = (reason: string): Outcome => ({ _tag: "Failed", reason: `unexpected failure: ${reason}`, cause: "defect" })

    const onIdle = Effect.suspend(() =>
      // The size counts waiting takers as negative. (With synchronous file calls a worker finishes
      // each file before the next starts, so this is asked once per file: without an Effect.)
      Option.getOrElse(queue.unsafeSize(), () => 0) <= 0 ? Queue.offer(drained, undefined) : Effect.void
    )

    const recover = instance.adoptOrphans.pipe(
      // Stages left by a crash after their claimed file was released go first.
      Effect.tap(() => store.sweepStages(instance.dir, instance.inUse)),
      Effect.flatMap(adoptClaimed),
      Effect.catchAll((e) =>
        Effect.logWarning("crash recovery could not read the processing folder").pipe(
          Effect.annotateLogs({ error: e.message })
        )
      )
    )

    /**
     * Counts the candidates of the input folder once, beside the first pass, so
     * that the waiting estimate is right from the start (the first pass of a
     * large backlog lasts as long as the backlog).
     */
    const countBacklog = Effect.suspend(() => {
      let count = 0
      return forEachPiece(store.listInputPieces, IntakeState.PIECE, (piece) =>
        Effect.sync(() => {
          for (const e of piece) if ((e.type === "File" || e.type === "Unknown") && classifyName(e.name) === "candidate") count++
        })).pipe(
          Effect.zipRight(Effect.suspend(() => Ref.update(state, (s) => IntakeState.backlogCounted(s, count)))),
          Effect.ignore
        )
    })

    const scope = yield* Effect.scope
    // The pass in progress is closed at the end, whatever state it is in.
    yield* Effect.addFinalizer(() => Effect.suspend(() => (listing === undefined ? Effect.void : listing.close)))

    const backlog = Effect.gen(function*() {
      yield* Ref.update(state, (s) => IntakeState.passRequested(s, true))
      yield* fill
      if (listing !== undefined) yield* Effect.forkIn(countBacklog, scope)
    })

    const untilDone = (inFlight: () => number) =>
      Effect.gen(function*() {
        const idle = Effect.gen(function*() {
          return IntakeState.isEmpty(yield* Ref.get(state)) && inFlight() === 0 && (yield* queue.size) <= 0
        })
        // Done when nothing is held and one more listing finds nothing new.
        while (true) {
          if (yield* idle) {
            const ended = (yield* Ref.get(state)).pass.passesEnded
            yield* Ref.update(state, (s) => (listing === undefined && !s.pass.stealDue ? IntakeState.passRequested(s, false) : s))
            yield* fill
            const s = yield* Ref.get(state)
            const p = s.pass
            if (listing === undefined && !p.stealDue && p.passesEnded > ended && p.lastPassAdded === 0 && HashMap.size(s.held) === 0) return
            // Nothing came of it yet (a sweep of the others' shares found nothing): look again.
            if (yield* idle) {
              yield* yieldToEventLoop // (a filler running elsewhere gets its turn)
              continue
            }
          }
          yield* Queue.take(drained)
        }
      })

    /** A claimed name that is there: a network filesystem's listing may still show one released a moment ago. */
    const stillThere = (name: string) =>
      store.inspectClaimed(Path.join(instance.dir, name)).pipe(
        Effect.as(true),
        Effect.catchIf(isNotFound, () => Effect.succeed(false)),
        // Anything else (even a defect): it may be there, so it is reported as left behind.
        Effect.catchAllCause(() => Effect.succeed(true))
      )

    const leftBehind = Effect.gen(function*() {
      const stillClaimed = yield* instance.claimedFiles.pipe(
        Effect.flatMap((names) => Effect.filter(names, stillThere)),
        // Unknown is not none: the folder itself is reported as left behind (exit 75, never 0).
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logError("could not list this instance's claimed files at the end; some may stay there").pipe(
              Effect.annotateLogs({ folder: instance.dir, error: describeIoError(e) })
            ),
            [instance.dir]
          )
        )
      )
      const failing = HashMap.keys((yield* Ref.get(state)).failing)
      return [...new Set([...failing, ...stillClaimed].map((n) => parseProcessingName(n)?.original ?? n))]
    })

    /** Claimed files that failed and are gone from this instance's folder: no longer failing, and said so (IntakeState's `goneClaimedForgotten`). */
    const forgetGoneClaimed = (present: ReadonlyArray<string>, upTo: number) =>
      Effect.flatMap(Ref.modify(state, (s) => IntakeState.goneClaimedForgotten(s, present, upTo)), (gone) =>
        Effect.forEach(gone, ([name, f]) =>
          failureEnded(parseProcessingName(name)?.original ?? name, f, `it is gone from ${instance.dir} after ${f.attempts} failed attempt${f.attempts === 1 ? "" : "s"} (removed); it is not tried any more`), { discard: true }))

    /**
     * A full listing's other duties, at once rather than when its pass starts
     * (a pass in progress over a large backlog may last minutes): files waiting
     * too long are reported, and claimed files this instance failed to route
     * earlier are tried again.
     */
    const periodicDuties = Effect.gen(function*() {
      yield* reportStuck(clock.unsafeCurrentTimeMillis())
      const upTo = (yield* Ref.get(state)).failedAttempts
      yield* instance.claimedFiles.pipe(
        Effect.tap((present) => forgetGoneClaimed(present, upTo)),
        Effect.flatMap(adoptClaimed),
        Effect.zipLeft(claimedRetryFailure.cleared),
        Effect.catchAll((e) =>
          claimedRetryFailure.say(
            describeIoError(e),
            Effect.logWarning("could not list this instance's claimed files to try them again; tried at every full listing").pipe(
              Effect.annotateLogs({ folder: instance.dir, error: describeIoError(e) })
            )
          )
        )
      )
    })

    const hint = (h: Hint): Effect.Effect<void> =>
      h._tag === "Rescan"
        ? Effect.zipRight(h.full ? periodicDuties : Effect.void, Effect.zipRight(Ref.update(state, (s) => IntakeState.passRequested(s, h.full)), fill))
        : hintName(h.name)

    return {
      take: queue.take,
      takeLarge: Queue.take(largeQueue),
      run: runJob,
      record: recordOutcome,
      defect,
      onIdle,
      recover,
      backlog,
      hint,
      adoptOrphans: instance.adoptOrphans.pipe(
        Effect.tap((adopted) => (adopted.length > 0 ? store.sweepStages(instance.dir, instance.inUse) : Effect.void)),
        Effect.flatMap(adoptClaimed),
        Effect.zipLeft(adoptionFailure.cleared),
        // Tried again every HEARTBEAT_MS: said when it starts failing (or fails differently), not at every beat.
        Effect.catchAll((e) =>
          adoptionFailure.say(
            describeIoError(e),
            Effect.logWarning(
              "taking over the files of stopped instances failed; their files stay in processing/ until it succeeds (tried every HEARTBEAT_MS)"
            ).pipe(Effect.annotateLogs({ error: describeIoError(e) }))
          )
        )
      ),
      untilDone,
      leftBehind,
      shutdown: Effect.zipRight(queue.shutdown, Queue.shutdown(largeQueue)),
      summary: Effect.map(Ref.get(state), (s) => s.summary),
      view: Effect.map(Ref.get(state), (s) => ({ waiting: IntakeState.waitingOf(s), failing: HashMap.size(s.failing), stuck: s.stuck, peak: s.peak }))
    } satisfies IntakeService
  })
