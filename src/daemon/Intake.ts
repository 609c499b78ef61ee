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
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
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
import type { Share } from "../instances/Instance.js"
import { inShare, makeNameMarks, trimOldest } from "./NameMarks.js"
import type { Outcome, PendingState } from "./Pipeline.js"
import { HARD_LINKED_KIND, Pipeline } from "./Pipeline.js"
import type { Hint } from "./Watcher.js"
import { yieldToEventLoop } from "../runtime/SliceScheduler.js"
import { sayOncePerCause } from "../logging/SayOnce.js"

/** How soon a file waiting for its writer is read again after an event names it (the first time). */
const EVENT_RECHECK_MS = 50
/** The longest an event-driven look at a file waiting for its writer waits (see `eventRecheckDelay`). */
export const EVENT_RECHECK_MAX_MS = 1000

/**
 * Pure: how long after an event a file waiting for its writer is read again,
 * when `reads` event-driven reads since it was first held found it still
 * unfinished: 50 ms, doubling, at most EVENT_RECHECK_MAX_MS. A writer's last
 * change is noticed within a second, and a file whose mtime a producer touches
 * again and again costs at most a read a second, not one per touch.
 */
export const eventRecheckDelay = (reads: number): number => Math.min(EVENT_RECHECK_MAX_MS, EVENT_RECHECK_MS * 2 ** Math.min(reads, 16))
/**
 * How long a file in the input folder with more than one link is looked at
 * again before it is warned about and left where it is: `requeue` links a
 * file into data/, writes its log line, then removes its returns/ name, and
 * that file is a regular one with a moment of two links.
 */
export const LINK_SETTLE_MS = 2000
/** Most names read from the folder at a time. */
const PIECE = 256
/** How long the input folder must have been unchanged for a light pass to be skipped (see `folderAtLastPass`). */
export const FOLDER_QUIET_MS = 2000

/** A name for a worker; `large`: for the large-file lane (see Pipeline's `InputJob.lane`). */
export type Job =
  | { readonly _tag: "Input"; readonly name: string; readonly large?: true }
  | { readonly _tag: "Claimed"; readonly name: string; readonly large?: true }

/** The name a job's file was received with: a claimed one's, read back from its claimed name. */
const fileNameOf = (job: Job): string => (job._tag === "Claimed" ? (parseProcessingName(job.name)?.original ?? job.name) : job.name)

/**
 * Files, not attempts: `failed` counts the files that could not be processed
 * and have not been routed since (failing now, or gone meanwhile); a file
 * routed after failing counts as validated or returned only.
 */
export interface Summary {
  validated: number
  returned: number
  failed: number
  /** files that could not be routed and are still where they were (`--once` exits non-zero) */
  leftBehind: number
}

/** How much the intake keeps at most. */
export interface IntakeLimits {
  /** names of the input folder held at once (queued, in flight, or waiting for their writer) */
  readonly window: number
  /** names remembered as warned about (the rest are counted in one line per full listing) */
  readonly warned: number
  /** files remembered as failing with their retry time and reported cause (the oldest forgotten first) */
  readonly failing: number
  /**
   * files waiting for their writer past their share of the window, remembered so that light listings
   * and events skip them (past this, one is looked at again by each light listing)
   */
  readonly deferred: number
}

/** The default limits: a few thousand names, more with a larger CONCURRENCY. */
export const defaultLimits = (concurrency: number, window?: number): IntakeLimits => {
  const w = Math.max(1, window ?? Math.max(2048, 64 * concurrency))
  return { window: w, warned: Math.max(1024, 4 * w), failing: Math.max(1024, w), deferred: Math.max(16_384, 16 * w) }
}

interface Tracked {
  readonly receivedAt: number
  pending: PendingState | undefined
  /** when it was first seen with more than one link (see LINK_SETTLE_MS) */
  linkedSince?: number
  /** queued or being processed (otherwise it waits for its quiet-period recheck) */
  active: boolean
  /** reads an event brought on while it waited for its writer (see `eventRecheckDelay`) */
  eventReads?: number
  /** when its next look is due, while one is scheduled */
  recheckAt?: number | undefined
}

/** A name whose processing failed: tried again after a growing delay, reported once per cause. */
interface Failing {
  readonly cause: string
  readonly attempts: number
  readonly firstAt: number
  readonly retryAt: number
  /** the last pass that listed it (a name no full listing sees any more is forgotten) */
  seenPass: number
  /** which failed attempt of this intake's it was (a listing begun before it cannot tell it gone) */
  readonly seq: number
}

/** The critical summary of a file that could not be processed (its all-clear goes by it too). */
export const failedSummary = (file: string) => `file ${file} could not be processed`
/** The critical summary of a file waiting without an outcome. */
export const stuckSummary = (file: string) => `file ${file} has been waiting without an outcome`

/** The delay before a failed file is tried again: doubling from one second, at most five minutes. */
export const retryDelayMs = (attempts: number): number => Math.min(300_000, 1000 * 2 ** Math.min(attempts - 1, 20))

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
  readonly summary: Summary
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
    const window = limits.window
    /** the input folder's own name, as a watch event names the folder itself */
    const folderName = Path.basename(Path.resolve(config.dataDir))
    /** refilled when this many names are held or fewer (pieces, not single names) */
    const refillAt = window - Math.min(PIECE, Math.ceil(window / 4))

    const queue = yield* Queue.unbounded<Job>()
    /** large files handed over by the workers (held names, so at most `window`) */
    const largeQueue = yield* Queue.unbounded<Job>()
    const drained = yield* Queue.sliding<void>(1)
    /** the names of the input folder held now: at most `window` */
    const tracked = new Map<string, Tracked>()
    const claimedTracked = new Set<string>()
    /** names the pipeline found not regular: skipped by light listings until an event or a full listing (at most `window`) */
    const parked = new Set<string>()
    /**
     * Files waiting for their writer get at most `waitingShare` of the window,
     * so that the rest stays for new names: a producer holding thousands of
     * half-written files (touched again and again) cannot keep everyone else's
     * out. Those held are in `waitingHeld`; the ones past the share are let go
     * (`deferred`: skipped by light listings and events) and looked at again by
     * the next full listing (RESCAN_INTERVAL_MS).
     */
    const waitingShare = Math.max(1, Math.floor(window / 2))
    const waitingHeld = new Set<string>()
    const deferred = new Set<string>()
    const deferredSaid = sayOncePerCause()
    /** names already warned about, so each is logged once */
    const warned = makeNameMarks(limits.warned)
    const summary: Summary = { validated: 0, returned: 0, failed: 0, leftBehind: 0 }
    /** failed attempts so far (see Failing's `seq`) */
    let failedAttempts = 0
    /** names that failed (claimed names too): skipped until their retry time */
    const failing = new Map<string, Failing>()
    /** the cause last reported for a file (by its received name) */
    const reportedCause = new Map<string, string>()
    /** held names reported as waiting without an outcome */
    const reportedStuck = new Set<string>()
    /** a file waiting for its writer longer than this is reported as stuck (once) */
    const STUCK_AFTER_MS = 3 * Math.max(config.rescanIntervalMs, config.quietPeriodMs)

    // The pass in progress (`listing` open) or the last one.
    let listing: Listing | undefined
    let pass = 0
    let passFull = false
    let passStartedAt = 0
    let passAdded = 0
    let passesEnded = 0
    let lastPassAdded = 0
    /** candidates seen by the pass in progress, and by the last complete one (the waiting estimate) */
    let candidatesThisPass = 0
    let candidatesLastPass = 0
    /** names left without a warning of their own in this pass (warned-about names past the cap) */
    let unwarnedThisPass = 0
    let unwarnedSaid = 0
    /** the next pass asked for: none, light, or full (a full listing also re-examines parked names) */
    let requested: "none" | "light" | "full" = "none"
    let filling = false
    // Several instances on one folder tree: a pass first takes this instance's share of the
    // names (by name hash, see NameMarks's `inShare`), then, once that is done, what is left
    // of the others' (`stealing`): instances do not race for the same names in the same order.
    let share: Share = { rank: 0, count: 1 }
    let othersSkipped = 0
    let stealDue = false
    let stealing = false
    /**
     * The input folder as it was when the last pass began (identity,
     * modification time, size, links), if it had not changed for
     * FOLDER_QUIET_MS by then. A light pass (a poll, or a name hinted during a
     * pass) while the folder is still the same, the last pass added nothing and
     * no file is failing would read every name again to find nothing: it is
     * counted as done without a listing (with 100,000 ignored names in data/,
     * polls once a second cost a fifth of a core). The quiet margin is what
     * makes "the same" sure: any change after that pass began falls at least
     * FOLDER_QUIET_MS after the recorded time, beyond any timestamp granularity.
     * Full listings (RESCAN_INTERVAL_MS) are never skipped.
     */
    let folderAtLastPass: string | undefined
    /** Failures of the periodic take-over and of the periodic retry of claimed files, said once until they work again. */
    const adoptionFailure = sayOncePerCause()
    const claimedRetryFailure = sayOncePerCause()

    /** the most names held at once, and the files found stuck by the last full listing (the status shows them) */
    let peak = 0
    let stuckNow = 0
    const waitingNow = () => {
      let oldest: number | undefined
      for (const t of tracked.values()) if (oldest === undefined || t.receivedAt < oldest) oldest = t.receivedAt
      // Names the pass in progress has not reached yet are not held: estimated from the last pass.
      const unread = listing === undefined || stealing ? 0 : Math.max(0, candidatesLastPass - candidatesThisPass)
      if (unread > 0 && (oldest === undefined || passStartedAt < oldest)) oldest = passStartedAt
      return { count: tracked.size + unread + deferred.size, oldestReceivedAtMs: oldest }
    }

    const rechecks = yield* FiberMap.make<string>()

    const warning = (name: string, message: string, kind: string) =>
      Effect.logWarning(message).pipe(Effect.annotateLogs({ file: name, kind }))

    /** Warns about a name once (while there is room to remember it); false when it was said already or is counted instead. */
    const markWarned = (name: string): boolean => {
      const result = warned.mark(name, pass)
      if (result === "full") unwarnedThisPass++
      return result === "new"
    }

    const warnOnce = (name: string, message: string, kind: string) =>
      Effect.suspend(() => (markWarned(name) ? warning(name, message, kind) : Effect.void))

    const enqueue = (job: Job) => Queue.offer(queue, job)

    /** (Re)schedules the next look at a file waiting for its writer; replaces an earlier timer. */
    const recheckLater = (name: string, entry: Tracked, delay: number) =>
      FiberMap.run(
        rechecks,
        name,
        Effect.sync(() => {
          entry.recheckAt = clock.unsafeCurrentTimeMillis() + delay
        }).pipe(
          Effect.zipRight(Effect.sleep(delay)),
          Effect.zipRight(Effect.sync(() => {
            entry.active = true
            entry.recheckAt = undefined
          })),
          Effect.zipRight(enqueue({ _tag: "Input", name }))
        )
      )

    /** Starts holding a name; its job for the queue. */
    const track = (name: string, now: number): Job => {
      tracked.set(name, { receivedAt: now, pending: undefined, active: true })
      if (tracked.size > peak) peak = tracked.size
      return { _tag: "Input", name }
    }

    type Warning = readonly [name: string, message: string, kind: string]

    /**
     * A name read by a listing: queued when it is a candidate not held, not
     * parked and not waiting for its retry time. Synchronous (a piece of names
     * costs no Effect per name); warnings are collected into `warnings`.
     */
    const admitListed = (name: string, type: string, now: number, warnings: Array<Warning>): boolean => {
      const kind = classifyName(name)
      if (kind === "silent") return false
      // The second sweep of a pass: only candidates left over from the others' shares.
      if (stealing && (kind !== "candidate" || (type !== "File" && type !== "Unknown"))) return false
      if (kind === "other") {
        if (markWarned(name)) warnings.push([name, "not a .json file; left where it is", "other"])
        return false
      }
      if (type !== "File" && type !== "Unknown") {
        if (markWarned(name)) warnings.push([name, "not a regular file; left where it is", type])
        return false
      }
      if (!stealing) candidatesThisPass++
      if (!stealing && share.count > 1 && !inShare(name, share.rank, share.count)) {
        othersSkipped++
        return false
      }
      const failed = failing.get(name)
      if (failed !== undefined) {
        failed.seenPass = pass
        if (now < failed.retryAt) return false
      }
      if (tracked.has(name) || parked.has(name) || deferred.has(name)) return false
      queue.unsafeOffer(track(name, now))
      passAdded++
      return true
    }

    const adoptClaimed = (names: ReadonlyArray<string>) =>
      Effect.forEach(names, (name) =>
        // (a claimed file that failed waits for its retry time like any other)
        claimedTracked.has(name) || (failing.get(name)?.retryAt ?? 0) > clock.unsafeCurrentTimeMillis()
          ? Effect.void
          : Effect.zipRight(Effect.sync(() => claimedTracked.add(name)), enqueue({ _tag: "Claimed", name })), { discard: true })

    const requestPass = (full: boolean) => {
      requested = full ? "full" : requested === "none" ? "light" : requested
    }

    const listingFailed = (e: { readonly message: string }) =>
      Effect.logWarning("listing the input folder failed").pipe(Effect.annotateLogs({ error: e.message }))

    /** The input folder's stamp, when it has been quiet for FOLDER_QUIET_MS (else, or unreadable, `undefined`). */
    const quietFolderStamp = Effect.map(Effect.option(store.inspectInputFolder), (meta) =>
      Option.isSome(meta) && clock.unsafeCurrentTimeMillis() - meta.value.mtimeMs >= FOLDER_QUIET_MS
        ? `${meta.value.id} ${meta.value.mtimeMs} ${meta.value.size} ${meta.value.nlink}`
        : undefined)

    /** Starts the pass asked for (a full one re-examines parked names), or finds that a light one has nothing to read. */
    const openPass = Effect.gen(function*() {
      const stamp = yield* quietFolderStamp
      if (requested === "light" && stamp !== undefined && stamp === folderAtLastPass && lastPassAdded === 0 && failing.size === 0) {
        requested = "none"
        passesEnded++
        return
      }
      folderAtLastPass = stamp
      passFull = requested === "full"
      requested = "none"
      pass++
      passStartedAt = clock.unsafeCurrentTimeMillis()
      passAdded = 0
      candidatesThisPass = 0
      unwarnedThisPass = 0
      othersSkipped = 0
      stealDue = false
      stealing = false
      if (passFull) {
        parked.clear()
        deferred.clear()
      }
      listing = yield* store.listInputPieces.pipe(
        Effect.tapError(listingFailed),
        Effect.orElseSucceed(() => undefined)
      )
      if (listing === undefined) yield* endSweep
    })

    /** The second sweep of a pass, over what is left of the others' shares. */
    const openStealSweep = Effect.gen(function*() {
      stealDue = false
      stealing = true
      listing = yield* store.listInputPieces.pipe(
        Effect.tapError(listingFailed),
        Effect.orElseSucceed(() => undefined)
      )
      if (listing === undefined) yield* endSweep
    })

    /**
     * A sweep has read the whole folder. After this instance's share, a sweep
     * for the names left of the others' is due (once this share is done);
     * otherwise the pass ends: what it did not see again is forgotten (after a
     * full pass).
     */
    const endSweep = Effect.gen(function*() {
      if (listing !== undefined) yield* listing.close
      listing = undefined
      if (!stealing && othersSkipped > 0) {
        stealDue = true
        return
      }
      stealing = false
      candidatesLastPass = candidatesThisPass
      lastPassAdded = passAdded
      passesEnded++
      if (!passFull) return
      // A full pass that let no waiting file go: the next time it happens is said again.
      if (deferred.size === 0) yield* deferredSaid.cleared
      warned.forgetBefore(pass)
      const goneWhileFailing: Array<readonly [string, Failing]> = []
      for (const [name, f] of failing) {
        if (f.seenPass < pass && parseProcessingName(name) === undefined) {
          failing.delete(name)
          goneWhileFailing.push([name, f])
        }
      }
      for (const [name, f] of goneWhileFailing) {
        yield* failureEnded(name, f, `it is no longer in ${config.dataDir} (removed, or taken by another instance); it is not tried any more`)
      }
      if (unwarnedThisPass > 0 && unwarnedThisPass !== unwarnedSaid) {
        yield* Effect.logWarning("more names are left where they are (not .json files, or not regular files) than are warned about one by one").pipe(
          Effect.annotateLogs({ not_warned_about: unwarnedThisPass, warned_about: warned.size() })
        )
      }
      unwarnedSaid = unwarnedThisPass
    })

    /**
     * Fills the window from the pass in progress (starting the pass asked for
     * when none is): reads pieces until `window` names are held or the folder
     * is read. A folder of many names (ignored ones too) is gone through with
     * the event loop's turns kept (the daemon's SliceScheduler sees to that).
     */
    const fillLoop = Effect.gen(function*() {
      const warnings: Array<Warning> = []
      // Instances come and go: this one's share is looked up again at every refill (one small listing).
      let shareFresh = false
      while (tracked.size < window) {
        if (listing === undefined) {
          if (stealDue) {
            // Only once this instance's share is taken (nothing queued): the others are still at theirs meanwhile.
            if (Option.getOrElse(queue.unsafeSize(), () => 0) > 0) return
            yield* openStealSweep
            continue
          }
          if (requested === "none") return
          yield* openPass
          continue
        }
        if (!stealing && !shareFresh) {
          share = yield* instance.share
          shareFresh = true
        }
        const piece = yield* listing.next(Math.min(PIECE, window - tracked.size)).pipe(
          Effect.tapError(listingFailed),
          Effect.orElseSucceed(() => [])
        )
        if (piece.length === 0) {
          yield* endSweep
          continue
        }
        const now = clock.unsafeCurrentTimeMillis()
        for (const entry of piece) admitListed(entry.name, entry.type, now, warnings)
        if (warnings.length > 0) {
          yield* Effect.forEach(warnings, ([name, message, kind]) => warning(name, message, kind), { discard: true })
          warnings.length = 0
        }
      }
    })

    /** One filler at a time; a call while one runs returns at once (the running one goes on until the window is full). */
    const fill = Effect.suspend(() => {
      if (filling) return Effect.void
      filling = true
      return Effect.ensuring(fillLoop, Effect.sync(() => void (filling = false)))
    })

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
        // Waiting for its writer past the share: the next full listing looks again, not every event.
        if (deferred.has(name)) return
        const known = tracked.get(name)
        if (known !== undefined) {
          // A change to a file waiting for its writer: look again soon, not only when the quiet
          // period ends; a burst of events costs one read (a look due as soon stands), and a file
          // changed again and again is looked at less and less often (eventRecheckDelay).
          if (!known.active) {
            const reads = known.eventReads ?? 0
            const delay = eventRecheckDelay(reads)
            if (known.recheckAt !== undefined && known.recheckAt <= clock.unsafeCurrentTimeMillis() + delay) return
            known.eventReads = reads + 1
            yield* recheckLater(name, known, delay)
          }
          return
        }
        // While a pass runs, a new name waits for it or for the pass after it (it may not be
        // taken before names that pass has yet to reach); likewise when the window is full.
        if (listing !== undefined || stealDue || tracked.size >= window) return requestPass(false)
        const now = clock.unsafeCurrentTimeMillis()
        const failed = failing.get(name)
        if (failed !== undefined && now < failed.retryAt) return
        parked.delete(name)
        yield* enqueue(track(name, now))
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

    /**
     * A file seen with more than one link, looked at again (sooner at first)
     * until it has had them for LINK_SETTLE_MS; held within the waiting share
     * like a file being written. `undefined` once it is time to warn (or no
     * room is left to hold it).
     */
    const linkSettling = (name: string, entry: Tracked): Effect.Effect<void> | undefined => {
      const now = clock.unsafeCurrentTimeMillis()
      const since = entry.linkedSince ?? now
      const left = since + LINK_SETTLE_MS - now
      if (left <= 0 || !(waitingHeld.has(name) || waitingHeld.size < waitingShare)) return undefined
      entry.linkedSince = since
      entry.active = false
      waitingHeld.add(name)
      return recheckLater(name, entry, Math.min(left, Math.max(EVENT_RECHECK_MS, now - since)) + 1)
    }

    /** A file waiting for its writer past the waiting share: let go until the next full listing (said once while it lasts). */
    const deferWaiting = (name: string) =>
      Effect.suspend(() => {
        if (deferred.size < limits.deferred) deferred.add(name)
        return deferredSaid.say(
          "deferred",
          Effect.logWarning(
            "more files are waiting for their writers than the intake keeps room for; the others are looked at again at each full listing (RESCAN_INTERVAL_MS), and new files are taken meanwhile"
          ).pipe(Effect.annotateLogs({ waiting_held: waitingHeld.size, file: name }))
        )
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
        stuckNow = stuck
        Metrics.setStuck(stuck)
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
     * A failed attempt, counted: a file is one failing entry (under its claimed
     * name once claimed, its attempts counted on from its input name) and one
     * failed file however often it is tried; its next try is due after a
     * growing delay. Synchronous; what it returns is the file's record so far.
     */
    const noteFailure = (job: Job, outcome: Extract<Outcome, { readonly _tag: "Failed" }>, now: number): Failing => {
      // A file that stays claimed fails under its claimed name (it is retried as such) until it is
      // stored or its claimed name is gone, whatever the failure was.
      const key = outcome.claimed ?? job.name
      let before = failing.get(key)
      // Failed before its claim, and now after it: the same file, under its new name.
      if (before === undefined && key !== job.name) {
        before = failing.get(job.name)
        if (before !== undefined) failing.delete(job.name)
      }
      if (before === undefined) {
        summary.failed++
        Metrics.filesFailed.unsafeUpdate(1, [])
      }
      const attempts = (before?.attempts ?? 0) + 1
      failing.delete(key) // re-inserted last: the oldest failures are forgotten first
      const record: Failing = {
        cause: outcome.cause,
        attempts,
        firstAt: before?.firstAt ?? now,
        retryAt: now + retryDelayMs(attempts),
        seenPass: pass,
        seq: ++failedAttempts
      }
      failing.set(key, record)
      trimOldest(failing, limits.failing)
      return record
    }

    /**
     * A file that could not be processed: logged at ERROR and notified once per
     * file and cause, then tried again after a growing delay.
     */
    const fileFailed = (job: Job, outcome: Extract<Outcome, { readonly _tag: "Failed" }>, record: Failing) =>
      Effect.gen(function*() {
        const attempts = record.attempts
        // Said once per file and cause, whether the file was tried from data/ or, claimed, from processing/.
        const file = fileNameOf(job)
        if (reportedCause.get(file) === outcome.cause) {
          yield* Effect.logDebug("file still cannot be processed").pipe(Effect.annotateLogs({ file, attempts, error: outcome.reason }))
          return
        }
        reportedCause.delete(file)
        reportedCause.set(file, outcome.cause)
        trimOldest(reportedCause, limits.failing)
        yield* Effect.logError("file could not be processed; it stays where it is").pipe(
          Effect.annotateLogs({ file, error: outcome.reason, retry_in_s: Math.round(retryDelayMs(attempts) / 1000) })
        )
        yield* notifier.critical({
          summary: failedSummary(file),
          detail: outcome.reason,
          at: new Date(clock.unsafeCurrentTimeMillis()),
          instance: instance.id
        })
      })

    /**
     * A file that had failed is failing no more (`how`): if its failure was
     * reported, an all-clear line and notification say so.
     */
    const failureEnded = (file: string, record: Failing, how: string) =>
      Effect.suspend(() => {
        if (!reportedCause.has(file)) return Effect.void
        reportedCause.delete(file)
        const now = clock.unsafeCurrentTimeMillis()
        return Effect.zipRight(
          Effect.logInfo("all clear: a file that could not be processed is no longer failing").pipe(
            Effect.annotateLogs({ file, attempts: record.attempts, failing_s: Math.round((now - record.firstAt) / 1000), how })
          ),
          notifyCleared(notifier, { summary: failedSummary(file), detail: how, at: new Date(now), since: new Date(record.firstAt), instance: instance.id })
        )
      })

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

    /** What a job's outcome does to the counts and to its name; synchronous for a routed file unless the window is refilled. */
    const recordOutcome = (job: Job, outcome: Outcome): Effect.Effect<void> => {
      // A large file goes to its own lane, still held: no outcome yet.
      if (outcome._tag === "Large") return Queue.offer(largeQueue, { ...job, large: true })
      if (job._tag === "Claimed") claimedTracked.delete(job.name)
      // A file that had failed: its failure ends here, whatever the outcome (routed, or gone: it ended failed).
      let failedBefore: Failing | undefined
      if (outcome._tag !== "Failed" && failing.size > 0) {
        failedBefore = failing.get(job.name)
        if (failedBefore !== undefined) failing.delete(job.name)
      }
      const routed = outcome._tag === "Validated" || outcome._tag === "Returned" || outcome._tag === "AlreadyStored"
      // Routed after failing: a routed file, no longer a failed one.
      if (routed && failedBefore !== undefined) summary.failed--
      const failure = outcome._tag === "Failed" ? noteFailure(job, outcome, clock.unsafeCurrentTimeMillis()) : failedBefore
      activity.outcome(job, outcome, failure === undefined ? undefined : { attempts: failure.attempts, firstAtMs: failure.firstAt }) // status page
      let then: Effect.Effect<void> = Effect.void
      if (failedBefore !== undefined) then = failureEnded(fileNameOf(job), failedBefore, howItEnded(outcome, failedBefore.attempts))
      else if (routed && reportedCause.size > 0) reportedCause.delete(fileNameOf(job))
      switch (outcome._tag) {
        case "Validated":
          summary.validated++
          break
        case "Returned":
          summary.returned++
          break
        case "AlreadyStored":
          // Stored by an attempt of this instance that failed after it: counted now. (Stored by an
          // instance that died: that one counted it.)
          if (failedBefore !== undefined) summary[outcome.as]++
          break
        case "Failed":
          if (failure !== undefined) then = fileFailed(job, outcome, failure)
          break
        case "Ignored": {
          // More than one link: perhaps a file requeue is moving. Looked at again before it is warned about.
          if (job._tag === "Input" && outcome.kind === HARD_LINKED_KIND) {
            const entry = tracked.get(job.name)
            const again = entry === undefined ? undefined : linkSettling(job.name, entry)
            if (again !== undefined) return Effect.zipRight(then, again)
          }
          // A claimed entry that is not taken went back into data/ under its original name.
          const name = fileNameOf(job)
          if (parked.size < window) parked.add(name)
          then = Effect.zipRight(then, warnOnce(name, "not a regular file; left where it is", outcome.kind))
          break
        }
        case "Pending": {
          const entry = job._tag === "Input" ? tracked.get(job.name) : undefined
          if (entry === undefined) return then
          if (waitingHeld.has(job.name) || waitingHeld.size < waitingShare) {
            waitingHeld.add(job.name)
            return Effect.zipRight(then, waitForWriter(job.name, entry, outcome.state))
          }
          then = Effect.zipRight(then, deferWaiting(job.name))
          break
        }
        case "Gone":
          break
      }
      if (job._tag === "Input") {
        const entry = tracked.get(job.name)
        tracked.delete(job.name)
        if (waitingHeld.size > 0) waitingHeld.delete(job.name)
        if (reportedStuck.size > 0 && reportedStuck.delete(job.name) && entry !== undefined) {
          then = Effect.zipRight(then, stuckEnded(job.name, entry.receivedAt, howItEnded(outcome, 0)))
        }
      }
      return tracked.size <= refillAt && (listing !== undefined || requested !== "none" || stealDue) ? Effect.zipRight(then, fill) : then
    }

    const runJob = (job: Job): Effect.Effect<Outcome> => {
      const lane = job.large === true ? "large" : undefined
      if (job._tag === "Claimed") return pipeline.processClaimed(job.name, lane)
      const entry = tracked.get(job.name)
      return entry !== undefined
        ? pipeline.processInput({ name: job.name, receivedAt: entry.receivedAt, pending: entry.pending, lane })
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
      return forEachPiece(store.listInputPieces, PIECE, (piece) =>
        Effect.sync(() => {
          for (const e of piece) if ((e.type === "File" || e.type === "Unknown") && classifyName(e.name) === "candidate") count++
        })).pipe(
          // Only while the first pass runs: once it has ended, its own count is newer.
          Effect.tap(() =>
            Effect.sync(() => {
              if (passesEnded === 0) candidatesLastPass = count
            })
          ),
          Effect.ignore
        )
    })

    const scope = yield* Effect.scope
    // The pass in progress is closed at the end, whatever state it is in.
    yield* Effect.addFinalizer(() => Effect.suspend(() => (listing === undefined ? Effect.void : listing.close)))

    const backlog = Effect.gen(function*() {
      requestPass(true)
      yield* fill
      if (listing !== undefined) yield* Effect.forkIn(countBacklog, scope)
    })

    const untilDone = (inFlight: () => number) =>
      Effect.gen(function*() {
        // Done when nothing is held and one more listing finds nothing new.
        while (true) {
          if (tracked.size === 0 && claimedTracked.size === 0 && inFlight() === 0 && (yield* Queue.size(queue)) <= 0) {
            const ended = passesEnded
            if (listing === undefined && !stealDue) requestPass(false)
            yield* fill
            if (listing === undefined && !stealDue && passesEnded > ended && lastPassAdded === 0 && tracked.size === 0) return
            // Nothing came of it yet (a sweep of the others' shares found nothing): look again.
            if (tracked.size === 0 && claimedTracked.size === 0 && inFlight() === 0 && (yield* Queue.size(queue)) <= 0) {
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
      return [...new Set([...failing.keys(), ...stillClaimed].map((n) => parseProcessingName(n)?.original ?? n))]
    })

    /**
     * Claimed files that failed and are no longer in this instance's folder
     * (an operator removed one): no longer failing, and said so. `present`
     * is a listing begun after failed attempt `upTo`: a file that failed
     * later may have been claimed after the listing read the folder, and one
     * queued or in flight is left to its outcome.
     */
    const forgetGoneClaimed = (present: ReadonlyArray<string>, upTo: number) =>
      Effect.suspend(() => {
        let there: Set<string> | undefined
        const gone: Array<readonly [string, Failing]> = []
        for (const [name, f] of failing) {
          if (f.seq > upTo || parseProcessingName(name) === undefined || claimedTracked.has(name)) continue
          there ??= new Set(present)
          if (!there.has(name)) gone.push([name, f])
        }
        for (const [name] of gone) failing.delete(name)
        return Effect.forEach(gone, ([name, f]) =>
          failureEnded(parseProcessingName(name)?.original ?? name, f, `it is gone from ${instance.dir} after ${f.attempts} failed attempt${f.attempts === 1 ? "" : "s"} (removed); it is not tried any more`), { discard: true })
      })

    /**
     * A full listing's other duties, at once rather than when its pass starts
     * (a pass in progress over a large backlog may last minutes): files waiting
     * too long are reported, and claimed files this instance failed to route
     * earlier are tried again.
     */
    const periodicDuties = Effect.gen(function*() {
      yield* reportStuck(clock.unsafeCurrentTimeMillis())
      const upTo = failedAttempts
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
        ? Effect.zipRight(h.full ? periodicDuties : Effect.void, Effect.zipRight(Effect.sync(() => requestPass(h.full)), fill))
        : hintName(h.name)

    return {
      take: Queue.take(queue),
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
      shutdown: Effect.zipRight(Queue.shutdown(queue), Queue.shutdown(largeQueue)),
      summary,
      view: Effect.sync(() => ({ waiting: waitingNow(), failing: failing.size, stuck: stuckNow, peak }))
    } satisfies IntakeService
  })
