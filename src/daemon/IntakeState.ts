/**
 * The intake's state and its transitions, as pure functions: what the intake
 * holds (names queued, in flight or waiting for their writer), what it
 * remembers (failing files and their retry times, names warned about, parked
 * and deferred names, files reported stuck), and where its pass over the
 * input folder is. Intake.ts keeps one `Ref` of it and applies these with
 * `Ref.modify`; the effects (listing, queue, timers, logs, notifications)
 * are its own, decided by what each transition returns.
 *
 * Every collection is bounded (see `IntakeLimits`), and each transition costs
 * a few lookups in persistent maps (a piece of a listing: a few per name).
 *
 * @module
 */
import * as Chunk from "effect/Chunk"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import type { Outcome, PendingState } from "../events/Outcome.js"
import { classifyName, parseProcessingName } from "../files/Naming.js"
import type { Share } from "../instances/Instance.js"
import { inShare, nameHash } from "./NameMarks.js"
import { HARD_LINKED_KIND } from "./Pipeline.js"

/** How soon a file waiting for its writer is read again after an event names it (the first time). */
export const EVENT_RECHECK_MS = 50
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

/** The delay before a failed file is tried again: doubling from one second, at most five minutes. */
export const retryDelayMs = (attempts: number): number => Math.min(300_000, 1000 * 2 ** Math.min(attempts - 1, 20))

/**
 * A name for a worker; `large`: for the large-file lane (see Pipeline's
 * `InputJob.lane`). An input job carries what the intake knew of its file
 * when it queued it (first seen at `receivedAt`, waiting for its writer as
 * `pending`), so that running it reads no state.
 */
export type Job =
  | {
    readonly _tag: "Input"
    readonly name: string
    readonly large?: true
    readonly receivedAt?: number | undefined
    readonly pending?: PendingState | undefined
  }
  | { readonly _tag: "Claimed"; readonly name: string; readonly large?: true }

/** The name a job's file was received with: a claimed one's, read back from its claimed name. */
export const fileNameOf = (job: Job): string => (job._tag === "Claimed" ? (parseProcessingName(job.name)?.original ?? job.name) : job.name)

/**
 * Files, not attempts: `failed` counts the files that could not be processed
 * and have not been routed since (failing now, or gone meanwhile); a file
 * routed after failing counts as validated or returned only.
 */
export interface Summary {
  readonly validated: number
  readonly returned: number
  readonly failed: number
  /** files that could not be routed and are still where they were (`--once` exits non-zero) */
  readonly leftBehind: number
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

/** Most names read from the folder at a time. */
export const PIECE = 256

/** What the intake is given once: its limits and the settings its transitions use. */
export interface IntakeParams {
  readonly limits: IntakeLimits
  /** QUIET_PERIOD_MS */
  readonly quietPeriodMs: number
  /** a file waiting for its writer longer than this is reported as stuck (once) */
  readonly stuckAfterMs: number
}

/** A name of the input folder held by the intake, from its queueing to its outcome. */
export interface Held {
  readonly receivedAt: number
  readonly pending: PendingState | undefined
  /** when it was first seen with more than one link (see LINK_SETTLE_MS) */
  readonly linkedSince: number | undefined
  /** queued or being processed (otherwise it waits for its next look) */
  readonly active: boolean
  /** reads an event brought on while it waited for its writer (see `eventRecheckDelay`) */
  readonly eventReads: number
  /** when its next look is due, while one is scheduled */
  readonly recheckAt: number | undefined
}

/** A name whose processing failed: tried again after a growing delay, reported once per cause. */
export interface Failing {
  readonly cause: string
  readonly attempts: number
  readonly firstAt: number
  readonly retryAt: number
  /** the last pass that listed it (a name no full listing sees any more is forgotten) */
  readonly seenPass: number
  /** which failed attempt of this intake's it was (a listing begun before it cannot tell it gone; the oldest is forgotten first) */
  readonly seq: number
}

/** The intake's whole state. */
export interface IntakeState {
  readonly params: IntakeParams
  /** the names of the input folder held now: at most `window` */
  readonly held: HashMap.HashMap<string, Held>
  /** claimed names queued or in flight */
  readonly claimed: HashSet.HashSet<string>
  /** names the pipeline found not regular: skipped by light listings until an event or a full listing (at most `window`) */
  readonly parked: HashSet.HashSet<string>
  /**
   * Files waiting for their writer get at most half the window (`waitingShare`),
   * so that the rest stays for new names: a producer holding thousands of
   * half-written files (touched again and again) cannot keep everyone else's
   * out. Those held are in `waitingHeld`; the ones past the share are let go
   * (`deferred`: skipped by light listings and events) and looked at again by
   * the next full listing.
   */
  readonly waitingHeld: HashSet.HashSet<string>
  readonly deferred: HashSet.HashSet<string>
  /** names already warned about (a hash of each, and the pass that last saw it), so each is logged once */
  readonly warned: HashMap.HashMap<number, number>
  /** names that failed (claimed names too): skipped until their retry time */
  readonly failing: HashMap.HashMap<string, Failing>
  /** the order `failing` was written in, the oldest first (see `Oldest`) */
  readonly failingOrder: Oldest
  /** failed attempts so far (see Failing's `seq`) */
  readonly failedAttempts: number
  /** the cause last reported for a file (by its received name), with the order it was reported in */
  readonly reportedCause: HashMap.HashMap<string, { readonly cause: string; readonly seq: number }>
  /** the order `reportedCause` was written in, the oldest first */
  readonly reportedOrder: Oldest
  readonly causesReported: number
  /** held names reported as waiting without an outcome */
  readonly reportedStuck: HashSet.HashSet<string>
  /** files found waiting too long by the last full listing */
  readonly stuck: number
  readonly summary: Summary
  /** the most names held at once */
  readonly peak: number
  /** one filler at a time */
  readonly filling: boolean
  /** the pass in progress, or the last one (a record of its own: the per-file transitions copy the rest) */
  readonly pass: PassState
}

/** The pass in progress (a sweep open) or the last one. */
export interface PassState {
  /** a sweep of the input folder is open (from its start until `passEnded`) */
  readonly sweeping: boolean
  /** the pass's number (names warned about and failing names remember the last pass that saw them) */
  readonly number: number
  readonly full: boolean
  readonly startedAt: number
  /** names it queued so far */
  readonly added: number
  readonly passesEnded: number
  readonly lastPassAdded: number
  /** candidates seen by the pass in progress, and by the last complete one (the waiting estimate) */
  readonly candidatesThisPass: number
  readonly candidatesLastPass: number
  /** names left without a warning of their own in this pass (warned-about names past the cap) */
  readonly unwarnedThisPass: number
  readonly unwarnedSaid: number
  /** the next pass asked for: none, light, or full (a full listing also re-examines parked names) */
  readonly requested: "none" | "light" | "full"
  // Several instances on one folder tree: a pass first takes this instance's share of the
  // names (by name hash, see NameMarks's `inShare`), then, once that is done, what is left
  // of the others' (`stealing`): instances do not race for the same names in the same order.
  readonly share: Share
  readonly othersSkipped: number
  readonly stealDue: boolean
  readonly stealing: boolean
  /**
   * The input folder as it was when the last pass began (identity,
   * modification time, size, links), if it had not changed for
   * FOLDER_QUIET_MS by then: a light pass while it is still the same, the
   * last pass added nothing and no file is failing is counted as done
   * without a listing.
   */
  readonly folderAtLastPass: string | undefined
}

/** A transition's answer and the state after it (what `Ref.modify` takes). */
export type Step<A> = readonly [A, IntakeState]

/** The state of an intake that holds nothing and has listed nothing. */
export const initial = (params: IntakeParams): IntakeState => ({
  params,
  held: HashMap.empty(),
  claimed: HashSet.empty(),
  parked: HashSet.empty(),
  waitingHeld: HashSet.empty(),
  deferred: HashSet.empty(),
  warned: HashMap.empty(),
  failing: HashMap.empty(),
  failingOrder: Chunk.empty(),
  failedAttempts: 0,
  reportedCause: HashMap.empty(),
  reportedOrder: Chunk.empty(),
  causesReported: 0,
  reportedStuck: HashSet.empty(),
  stuck: 0,
  summary: { validated: 0, returned: 0, failed: 0, leftBehind: 0 },
  peak: 0,
  filling: false,
  pass: {
    sweeping: false,
    number: 0,
    full: false,
    startedAt: 0,
    added: 0,
    passesEnded: 0,
  lastPassAdded: 0,
  candidatesThisPass: 0,
  candidatesLastPass: 0,
  unwarnedThisPass: 0,
  unwarnedSaid: 0,
  requested: "none",
  share: { rank: 0, count: 1 },
  othersSkipped: 0,
  stealDue: false,
  stealing: false,
  folderAtLastPass: undefined
  }
})

/** Files waiting for their writer held at most: half the window. */
export const waitingShare = (s: IntakeState): number => Math.max(1, Math.floor(s.params.limits.window / 2))

/** The window is refilled when this many names are held or fewer (pieces, not single names). */
export const refillAt = (s: IntakeState): number => {
  const window = s.params.limits.window
  return window - Math.min(PIECE, Math.ceil(window / 4))
}

/** Room left in the window. */
export const room = (s: IntakeState): number => s.params.limits.window - HashMap.size(s.held)

/**
 * The order a capped map's entries were written in: `[seq, key]`, the oldest
 * first. Only writes add to it; an entry removed or written again since leaves
 * its old pair behind (its `seq` no longer the entry's), skipped when met and
 * dropped when the order is rebuilt: forgetting the oldest entry costs the
 * same whatever the map holds.
 */
export type Oldest = Chunk.Chunk<readonly [number, string]>

/** `key` written into a capped map with `seq` (see `trimOldest`). */
const written = (order: Oldest, seq: number, key: string): Oldest => Chunk.append(order, [seq, key] as const)

/**
 * Forgets the oldest entries (smallest `seq`) until `map` holds at most `cap`,
 * taking them from `order`; the order is rebuilt from the map when stale pairs
 * make up most of it (once in as many writes as the map holds: constant
 * amortised time per write).
 */
const trimOldest = <V extends { readonly seq: number }>(
  map: HashMap.HashMap<string, V>,
  order: Oldest,
  cap: number
): readonly [HashMap.HashMap<string, V>, Oldest] => {
  let out = map
  let rest = order
  while (HashMap.size(out) > cap && Chunk.isNonEmpty(rest)) {
    const [seq, key] = Chunk.headNonEmpty(rest)
    rest = Chunk.drop(rest, 1)
    const entry = HashMap.get(out, key)
    if (entry._tag === "Some" && entry.value.seq === seq) out = HashMap.remove(out, key)
  }
  if (Chunk.size(rest) > 2 * HashMap.size(out) + 64) {
    const live = [...out].sort(([, a], [, b]) => a.seq - b.seq)
    rest = Chunk.fromIterable(live.map(([key, v]) => [v.seq, key] as const))
  }
  return [out, rest]
}

/** What marking a name as warned about found. */
export type MarkResult = "new" | "known" | "full"

/** Marks a name warned about by the pass in progress: `new` to warn now, `known` (said already), `full` (counted instead). */
export const warnedAbout = (s: IntakeState, name: string): Step<MarkResult> => {
  const h = nameHash(name)
  if (HashMap.has(s.warned, h)) return ["known", { ...s, warned: HashMap.set(s.warned, h, s.pass.number) }]
  if (HashMap.size(s.warned) >= s.params.limits.warned) return ["full", { ...s, pass: { ...s.pass, unwarnedThisPass: s.pass.unwarnedThisPass + 1 } }]
  return ["new", { ...s, warned: HashMap.set(s.warned, h, s.pass.number) }]
}

/** A name held from `now`, active (its job is queued). */
const newlyHeld = (now: number): Held => ({ receivedAt: now, pending: undefined, linkedSince: undefined, active: true, eventReads: 0, recheckAt: undefined })

/** A new name held, active (its job is queued by the caller). */
const hold = (s: IntakeState, name: string, now: number): IntakeState => {
  const held = HashMap.set(s.held, name, newlyHeld(now))
  const size = HashMap.size(held)
  return { ...s, held, peak: size > s.peak ? size : s.peak }
}

/** A warning for a name a listing left alone: the name, the message, the kind. */
export type Warning = readonly [name: string, message: string, kind: string]

/** A piece of a listing: the names queued, and the warnings to give. */
export interface Listed {
  readonly queued: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<Warning>
}

/**
 * A piece of a listing read: each candidate not held, not parked, not
 * deferred and not waiting for its retry time is held and `queued`; names
 * left alone are warned about once each (up to the cap); in the first sweep
 * of a pass, names in the other instances' shares are skipped (and counted).
 */
export const queued = (s0: IntakeState, entries: ReadonlyArray<{ readonly name: string; readonly type: string }>, now: number): Step<Listed> => {
  // (one new state per piece, not per name: the counts are summed here)
  let s = s0
  // (the piece's names are added to one transient copy of the held names: the state given is not changed)
  const held = HashMap.beginMutation(s.held)
  let failing = s.failing
  let candidates = 0
  let skipped = 0
  const names: Array<string> = []
  const warnings: Array<Warning> = []
  const { stealing, share, number: pass } = s.pass
  const parked = HashSet.size(s.parked) > 0
  const deferred = HashSet.size(s.deferred) > 0
  for (const { name, type } of entries) {
    const kind = classifyName(name)
    if (kind === "silent") continue
    const regular = type === "File" || type === "Unknown"
    // The second sweep of a pass: only candidates left over from the others' shares.
    if (stealing && (kind !== "candidate" || !regular)) continue
    if (kind === "other" || !regular) {
      const [mark, next] = warnedAbout(s, name)
      s = next
      if (mark === "new") {
        warnings.push(kind === "other" ? [name, "not a .json file; left where it is", "other"] : [name, "not a regular file; left where it is", type])
      }
      continue
    }
    if (!stealing) {
      candidates++
      if (share.count > 1 && !inShare(name, share.rank, share.count)) {
        skipped++
        continue
      }
    }
    if (HashMap.size(failing) > 0) {
      const failed = HashMap.get(failing, name)
      if (failed._tag === "Some") {
        failing = HashMap.set(failing, name, { ...failed.value, seenPass: pass })
        if (now < failed.value.retryAt) continue
      }
    }
    if (HashMap.has(held, name) || (parked && HashSet.has(s.parked, name)) || (deferred && HashSet.has(s.deferred, name))) continue
    HashMap.set(held, name, newlyHeld(now))
    names.push(name)
  }
  const size = HashMap.size(held)
  return [{ queued: names, warnings }, {
    ...s,
    held: HashMap.endMutation(held),
    failing,
    peak: size > s.peak ? size : s.peak,
    pass: {
      ...s.pass,
      candidatesThisPass: s.pass.candidatesThisPass + candidates,
      othersSkipped: s.pass.othersSkipped + skipped,
      added: s.pass.added + names.length
    }
  }]
}

/** What to do about a name an event named (a candidate's: other names are warned about by the caller). */
export type Hinted =
  /** nothing: deferred, held and active, due for its retry later, or left for the pass (one is asked for) */
  | { readonly _tag: "Nothing" }
  /** a file waiting for its writer changed: look at it again after `delay` */
  | { readonly _tag: "Recheck"; readonly delay: number }
  /** held now: queue its job */
  | { readonly _tag: "Queue" }

const NOTHING: Hinted = { _tag: "Nothing" }

/** A candidate name an event named. */
export const hinted = (s: IntakeState, name: string, now: number): Step<Hinted> => {
  // Waiting for its writer past the share: the next full listing looks again, not every event.
  if (HashSet.has(s.deferred, name)) return [NOTHING, s]
  const known = HashMap.get(s.held, name)
  if (known._tag === "Some") {
    // A change to a file waiting for its writer: look again soon, not only when the quiet
    // period ends; a burst of events costs one read (a look due as soon stands), and a file
    // changed again and again is looked at less and less often (eventRecheckDelay).
    const entry = known.value
    if (entry.active) return [NOTHING, s]
    const delay = eventRecheckDelay(entry.eventReads)
    if (entry.recheckAt !== undefined && entry.recheckAt <= now + delay) return [NOTHING, s]
    return [{ _tag: "Recheck", delay }, { ...s, held: HashMap.set(s.held, name, { ...entry, eventReads: entry.eventReads + 1, recheckAt: now + delay }) }]
  }
  // While a pass runs, a new name waits for it or for the pass after it (it may not be
  // taken before names that pass has yet to reach); likewise when the window is full.
  if (s.pass.sweeping || s.pass.stealDue || room(s) <= 0) return [NOTHING, passRequested(s, false)]
  const failed = HashMap.get(s.failing, name)
  if (failed._tag === "Some" && now < failed.value.retryAt) return [NOTHING, s]
  return [{ _tag: "Queue" }, hold({ ...s, parked: HashSet.remove(s.parked, name) }, name, now)]
}

/** A pass asked for: a full one stays full until it starts. */
export const passRequested = (s: IntakeState, full: boolean): IntakeState => {
  const requested = full ? "full" : s.pass.requested === "none" ? "light" : s.pass.requested
  return requested === s.pass.requested ? s : { ...s, pass: { ...s.pass, requested } }
}

/** A look at a held name scheduled for `at` (replacing an earlier one). */
export const recheckScheduled = (s: IntakeState, name: string, at: number): IntakeState => {
  const entry = HashMap.get(s.held, name)
  return entry._tag === "Some" ? { ...s, held: HashMap.set(s.held, name, { ...entry.value, recheckAt: at }) } : s
}

/** A scheduled look is due: the name is active again; its job, to be queued by the caller (without what is known of it when it is no longer held). */
export const recheckDue = (s: IntakeState, name: string): Step<Job> => {
  const entry = HashMap.get(s.held, name)
  if (entry._tag === "None") return [{ _tag: "Input", name }, s]
  const { receivedAt, pending } = entry.value
  return [{ _tag: "Input", name, receivedAt, pending }, { ...s, held: HashMap.set(s.held, name, { ...entry.value, active: true, recheckAt: undefined }) }]
}

/** Claimed names found in this instance's folder: the ones not queued already and not waiting for their retry time, now queued. */
export const claimedAdopted = (s: IntakeState, names: ReadonlyArray<string>, now: number): Step<ReadonlyArray<string>> => {
  let claimed = s.claimed
  const adopted: Array<string> = []
  for (const name of names) {
    // (a claimed file that failed waits for its retry time like any other)
    if (HashSet.has(claimed, name)) continue
    const failed = HashMap.get(s.failing, name)
    if (failed._tag === "Some" && failed.value.retryAt > now) continue
    claimed = HashSet.add(claimed, name)
    adopted.push(name)
  }
  return [adopted, adopted.length === 0 ? s : { ...s, claimed }]
}

/** The filler starts, unless one runs already (false: it goes on until the window is full). */
export const fillStarted = (s: IntakeState): Step<boolean> => (s.filling ? [false, s] : [true, { ...s, filling: true }])

/** The filler has stopped. */
export const fillEnded = (s: IntakeState): IntakeState => ({ ...s, filling: false })

/** The share of this instance, looked up afresh at each refill. */
export const shareFound = (s: IntakeState, share: Share): IntakeState => ({ ...s, pass: { ...s.pass, share } })

/**
 * The pass asked for begins (`stamp`: the input folder's, when quiet), or a
 * light one is found to have nothing to read: the folder is as it was when
 * the last pass began, that pass added nothing and no file is failing.
 */
export const passStarted = (s: IntakeState, stamp: string | undefined, now: number): Step<"opened" | "skipped"> => {
  const p = s.pass
  if (p.requested === "light" && stamp !== undefined && stamp === p.folderAtLastPass && p.lastPassAdded === 0 && HashMap.size(s.failing) === 0) {
    return ["skipped", { ...s, pass: { ...p, requested: "none", passesEnded: p.passesEnded + 1 } }]
  }
  const full = p.requested === "full"
  return ["opened", {
    ...s,
    pass: {
      ...p,
      folderAtLastPass: stamp,
      full,
      requested: "none",
      number: p.number + 1,
      startedAt: now,
      added: 0,
      candidatesThisPass: 0,
      unwarnedThisPass: 0,
      othersSkipped: 0,
      stealDue: false,
      stealing: false,
      // (its listing is being opened: a name an event brings waits for the pass)
      sweeping: true
    },
    // A full listing re-examines parked and deferred names.
    ...(full ? { parked: HashSet.empty(), deferred: HashSet.empty() } : {})
  }]
}

/** The second sweep of a pass begins, over what is left of the others' shares. */
export const stealStarted = (s: IntakeState): IntakeState => ({ ...s, pass: { ...s.pass, stealDue: false, stealing: true, sweeping: true } })

/** What ending a sweep leads to. */
export type SweepEnd =
  /** a sweep over the others' shares is due, once this instance's is taken */
  | { readonly _tag: "StealDue" }
  /** the pass has ended; after a full one, what it no longer saw is forgotten */
  | {
    readonly _tag: "PassEnded"
    readonly full: boolean
    /** a full pass that deferred nothing (the next deferral is said again) */
    readonly noneDeferred: boolean
    /** failing names of the input folder no full listing saw any more: no longer failing */
    readonly goneWhileFailing: ReadonlyArray<readonly [string, Failing]>
    /** names left without a warning of their own, when that number is to be said */
    readonly unwarned: number | undefined
    readonly warnedSize: number
  }

/**
 * A sweep has read the whole folder. After this instance's share, a sweep
 * for the names left of the others' is due (once this share is done);
 * otherwise the pass ends: what it did not see again is forgotten (after a
 * full pass).
 */
export const passEnded = (s: IntakeState): Step<SweepEnd> => {
  const p = s.pass
  if (!p.stealing && p.othersSkipped > 0) return [{ _tag: "StealDue" }, { ...s, pass: { ...p, sweeping: false, stealDue: true } }]
  const endedPass: PassState = {
    ...p,
    sweeping: false,
    stealing: false,
    candidatesLastPass: p.candidatesThisPass,
    lastPassAdded: p.added,
    passesEnded: p.passesEnded + 1
  }
  if (!p.full) return [{ _tag: "PassEnded", full: false, noneDeferred: false, goneWhileFailing: [], unwarned: undefined, warnedSize: 0 }, { ...s, pass: endedPass }]
  const pass = p.number
  const warned = HashMap.filter(s.warned, (seen) => seen >= pass)
  const gone: Array<readonly [string, Failing]> = []
  for (const [name, f] of s.failing) if (f.seenPass < pass && parseProcessingName(name) === undefined) gone.push([name, f])
  let failing = s.failing
  for (const [name] of gone) failing = HashMap.remove(failing, name)
  const said = p.unwarnedThisPass > 0 && p.unwarnedThisPass !== p.unwarnedSaid
  return [
    {
      _tag: "PassEnded",
      full: true,
      noneDeferred: HashSet.size(s.deferred) === 0,
      goneWhileFailing: gone,
      unwarned: said ? p.unwarnedThisPass : undefined,
      warnedSize: HashMap.size(warned)
    },
    { ...s, warned, failing, pass: { ...endedPass, unwarnedSaid: p.unwarnedThisPass } }
  ]
}

/** The first pass's candidates, counted by a listing beside it (only while the first pass runs: once it has ended, its own count is newer). */
export const backlogCounted = (s: IntakeState, count: number): IntakeState =>
  s.pass.passesEnded === 0 ? { ...s, pass: { ...s.pass, candidatesLastPass: count } } : s

/**
 * A file that had failed is failing no more: true when its failure was
 * reported (its all-clear is said), and its reported cause is forgotten.
 */
export const failureCleared = (s: IntakeState, file: string): Step<boolean> =>
  HashMap.has(s.reportedCause, file) ? [true, { ...s, reportedCause: HashMap.remove(s.reportedCause, file) }] : [false, s]

/** What becomes of a job's name after its outcome, beyond the counts. */
export type Then =
  /** a large file: to the large-file lane, still held */
  | { readonly _tag: "Large" }
  /** done with (routed, gone, failed, warned about or let go): see the other fields */
  | { readonly _tag: "Done" }
  /** held, waiting for its writer: looked at again after `delay` */
  | { readonly _tag: "WaitForWriter"; readonly delay: number }
  /** held, with more than one link a moment: looked at again after `delay` */
  | { readonly _tag: "LinkSettling"; readonly delay: number }
  /** a Pending claimed file, or a name not held: nothing more */
  | { readonly _tag: "Nothing" }

/** A job's outcome, as the intake takes it: what follows, for the caller to do. */
export interface Finished {
  readonly then: Then
  /** its failure record before this outcome ended it, if it had failed */
  readonly failedBefore: Failing | undefined
  /** its failure record after this outcome (a new attempt when it failed again, else `failedBefore`) */
  readonly failure: Failing | undefined
  /** a file that failed for the first time (counted now) */
  readonly newlyFailed: boolean
  /** it failed with a cause not reported for it yet: said (ERROR, notified); otherwise only at DEBUG */
  readonly newCause: boolean
  /** its failure had been reported: its all-clear is said */
  readonly failureCleared: boolean
  /** warned about now (not a regular file) */
  readonly warn: boolean
  /** waiting for its writer past the waiting share: let go until the next full listing (said once while it lasts) */
  readonly deferred: boolean
  /** it had been reported stuck (since `receivedAt`): its all-clear is said */
  readonly stuckEnded: number | undefined
  /** the window is to be refilled from the pass */
  readonly refill: boolean
}

const LARGE: Finished = {
  then: { _tag: "Large" },
  failedBefore: undefined,
  failure: undefined,
  newlyFailed: false,
  newCause: false,
  failureCleared: false,
  warn: false,
  deferred: false,
  stuckEnded: undefined,
  refill: false
}

/**
 * A failed attempt, counted: a file is one failing entry (under its claimed
 * name once claimed, its attempts counted on from its input name) and one
 * failed file however often it is tried; its next try is due after a
 * growing delay.
 */
const failedAgain = (s: IntakeState, job: Job, outcome: Extract<Outcome, { readonly _tag: "Failed" }>, now: number): Step<{ readonly record: Failing; readonly first: boolean }> => {
  // A file that stays claimed fails under its claimed name (it is retried as such) until it is
  // stored or its claimed name is gone, whatever the failure was.
  const key = outcome.claimed ?? job.name
  let failing = s.failing
  let before = HashMap.get(failing, key)
  // Failed before its claim, and now after it: the same file, under its new name.
  if (before._tag === "None" && key !== job.name) {
    before = HashMap.get(failing, job.name)
    if (before._tag === "Some") failing = HashMap.remove(failing, job.name)
  }
  const prior = before._tag === "Some" ? before.value : undefined
  const attempts = (prior?.attempts ?? 0) + 1
  const seq = s.failedAttempts + 1
  const record: Failing = { cause: outcome.cause, attempts, firstAt: prior?.firstAt ?? now, retryAt: now + retryDelayMs(attempts), seenPass: s.pass.number, seq }
  // (the newest seq: the oldest failures are forgotten first)
  const [trimmed, failingOrder] = trimOldest(HashMap.set(failing, key, record), written(s.failingOrder, seq, key), s.params.limits.failing)
  const summary = prior === undefined ? { ...s.summary, failed: s.summary.failed + 1 } : s.summary
  return [{ record, first: prior === undefined }, { ...s, failing: trimmed, failingOrder, failedAttempts: seq, summary }]
}

/** Whether a failure's cause is new for its file (then remembered, the oldest forgotten past the cap). */
const causeNoted = (s: IntakeState, file: string, cause: string): Step<boolean> => {
  const last = HashMap.get(s.reportedCause, file)
  if (last._tag === "Some" && last.value.cause === cause) return [false, s]
  const seq = s.causesReported + 1
  const [reportedCause, reportedOrder] = trimOldest(HashMap.set(s.reportedCause, file, { cause, seq }), written(s.reportedOrder, seq, file), s.params.limits.failing)
  return [true, { ...s, causesReported: seq, reportedCause, reportedOrder }]
}

/**
 * A job's outcome: the counts, its failure (begun, continued or ended), and
 * what becomes of its name: released, held for its writer or for its links
 * to settle, let go past the waiting share, parked and warned about.
 */
export const finished = (s0: IntakeState, job: Job, outcome: Outcome, now: number): Step<Finished> => {
  // A large file goes to its own lane, still held: no outcome yet.
  if (outcome._tag === "Large") return [LARGE, s0]
  let s = s0
  if (job._tag === "Claimed") s = { ...s, claimed: HashSet.remove(s.claimed, job.name) }
  // A file that had failed: its failure ends here, whatever the outcome (routed, or gone: it ended failed).
  let failedBefore: Failing | undefined
  if (outcome._tag !== "Failed" && HashMap.size(s.failing) > 0) {
    const before = HashMap.get(s.failing, job.name)
    if (before._tag === "Some") {
      failedBefore = before.value
      s = { ...s, failing: HashMap.remove(s.failing, job.name) }
    }
  }
  const routed = outcome._tag === "Validated" || outcome._tag === "Returned" || outcome._tag === "AlreadyStored"
  // Routed after failing: a routed file, no longer a failed one.
  if (routed && failedBefore !== undefined) s = { ...s, summary: { ...s.summary, failed: s.summary.failed - 1 } }
  let cleared = false
  if (failedBefore !== undefined) {
    const [was, next] = failureCleared(s, fileNameOf(job))
    cleared = was
    s = next
  } else if (routed && HashMap.size(s.reportedCause) > 0) {
    s = { ...s, reportedCause: HashMap.remove(s.reportedCause, fileNameOf(job)) }
  }
  const ending: Ending = { failedBefore, failure: failedBefore, newlyFailed: false, newCause: false, failureCleared: cleared, warn: false, deferred: false }
  /** the count a routed file adds to (applied with the rest, in one new state) */
  let counted: "validated" | "returned" | undefined
  switch (outcome._tag) {
    case "Validated":
      counted = "validated"
      break
    case "Returned":
      counted = "returned"
      break
    case "AlreadyStored":
      // Stored by an attempt of this instance that failed after it: counted now. (Stored by an
      // instance that died: that one counted it.)
      if (failedBefore !== undefined) counted = outcome.as
      break
    case "Failed": {
      const [{ first, record }, next] = failedAgain(s, job, outcome, now)
      const [isNew, next2] = causeNoted(next, fileNameOf(job), outcome.cause)
      ending.failure = record
      ending.newlyFailed = first
      ending.newCause = isNew
      s = next2
      break
    }
    case "Ignored": {
      // More than one link: perhaps a file requeue is moving. Looked at again before it is warned about.
      if (job._tag === "Input" && outcome.kind === HARD_LINKED_KIND) {
        const entry = HashMap.get(s.held, job.name)
        if (entry._tag === "Some") {
          const since = entry.value.linkedSince ?? now
          const left = since + LINK_SETTLE_MS - now
          if (left > 0 && (HashSet.has(s.waitingHeld, job.name) || HashSet.size(s.waitingHeld) < waitingShare(s))) {
            const delay = Math.min(left, Math.max(EVENT_RECHECK_MS, now - since)) + 1
            return [held({ _tag: "LinkSettling", delay }, ending), {
              ...s,
              held: HashMap.set(s.held, job.name, { ...entry.value, linkedSince: since, active: false, recheckAt: now + delay }),
              waitingHeld: HashSet.add(s.waitingHeld, job.name)
            }]
          }
        }
      }
      // A claimed entry that is not taken went back into data/ under its original name.
      const file = fileNameOf(job)
      if (HashSet.size(s.parked) < s.params.limits.window) s = { ...s, parked: HashSet.add(s.parked, file) }
      const [mark, next] = warnedAbout(s, file)
      ending.warn = mark === "new"
      s = next
      break
    }
    case "Pending": {
      const entry = job._tag === "Input" ? HashMap.get(s.held, job.name) : undefined
      if (entry === undefined || entry._tag === "None") return [held({ _tag: "Nothing" }, ending), s]
      if (HashSet.has(s.waitingHeld, job.name) || HashSet.size(s.waitingHeld) < waitingShare(s)) {
        const delay = Math.max(0, outcome.state.since + s.params.quietPeriodMs - now) + 1
        return [held({ _tag: "WaitForWriter", delay }, ending), {
          ...s,
          held: HashMap.set(s.held, job.name, { ...entry.value, pending: outcome.state, active: false, recheckAt: now + delay }),
          waitingHeld: HashSet.add(s.waitingHeld, job.name)
        }]
      }
      ending.deferred = true
      if (HashSet.size(s.deferred) < s.params.limits.deferred) s = { ...s, deferred: HashSet.add(s.deferred, job.name) }
      break
    }
    case "Gone":
      break
  }
  // The name is released, and the count added, in one new state (this is the per-file path).
  let stuckEnded: number | undefined
  let { held: holding, reportedStuck, waitingHeld } = s
  if (job._tag === "Input") {
    if (HashSet.size(reportedStuck) > 0 && HashSet.has(reportedStuck, job.name)) {
      reportedStuck = HashSet.remove(reportedStuck, job.name)
      const entry = HashMap.get(holding, job.name)
      if (entry._tag === "Some") stuckEnded = entry.value.receivedAt
    }
    holding = HashMap.remove(holding, job.name)
    if (HashSet.size(waitingHeld) > 0) waitingHeld = HashSet.remove(waitingHeld, job.name)
  }
  const summary = counted === "validated"
    ? { ...s.summary, validated: s.summary.validated + 1 }
    : counted === "returned"
    ? { ...s.summary, returned: s.summary.returned + 1 }
    : s.summary
  const next: IntakeState = { ...s, held: holding, reportedStuck, waitingHeld, summary }
  const refill = HashMap.size(holding) <= refillAt(next) && (next.pass.sweeping || next.pass.requested !== "none" || next.pass.stealDue)
  return [{ then: DONE, ...ending, stuckEnded, refill }, next]
}

/** What `finished` found of a file's failure and name, before its name is released or held. */
interface Ending {
  readonly failedBefore: Failing | undefined
  failure: Failing | undefined
  newlyFailed: boolean
  newCause: boolean
  readonly failureCleared: boolean
  warn: boolean
  deferred: boolean
}

const DONE: Then = { _tag: "Done" }

/** A name `finished` keeps holding (or has no name to release): no refill. */
const held = (then: Then, ending: Ending): Finished => ({ then, ...ending, stuckEnded: undefined, refill: false })

/** Files held waiting for their writer (or re-modified again and again) longer than `stuckAfterMs`: the ones not reported yet, with how long they waited. */
export const stuckCounted = (s: IntakeState, now: number): Step<ReadonlyArray<readonly [name: string, waitedMs: number]>> => {
  // (Files that failed were reported with their cause already, and have a gauge of their own.)
  let stuck = 0
  let reportedStuck = s.reportedStuck
  const newly: Array<readonly [string, number]> = []
  for (const [name, entry] of s.held) {
    if (entry.pending === undefined || now - entry.receivedAt < s.params.stuckAfterMs) continue
    stuck++
    if (HashSet.has(reportedStuck, name)) continue
    reportedStuck = HashSet.add(reportedStuck, name)
    newly.push([name, now - entry.receivedAt])
  }
  return [newly, { ...s, stuck, reportedStuck }]
}

/**
 * Claimed files that failed and are no longer in this instance's folder
 * (an operator removed one): no longer failing. `present` is a listing
 * begun after failed attempt `upTo`: a file that failed later may have been
 * claimed after the listing read the folder, and one queued or in flight is
 * left to its outcome.
 */
export const goneClaimedForgotten = (s: IntakeState, present: ReadonlyArray<string>, upTo: number): Step<ReadonlyArray<readonly [string, Failing]>> => {
  let there: Set<string> | undefined
  const gone: Array<readonly [string, Failing]> = []
  for (const [name, f] of s.failing) {
    if (f.seq > upTo || parseProcessingName(name) === undefined || HashSet.has(s.claimed, name)) continue
    there ??= new Set(present)
    if (!there.has(name)) gone.push([name, f])
  }
  if (gone.length === 0) return [gone, s]
  let failing = s.failing
  for (const [name] of gone) failing = HashMap.remove(failing, name)
  return [gone, { ...s, failing }]
}

/** Nothing held, queued as claimed, or in flight (`--once` ends when a listing then finds nothing new). */
export const isEmpty = (s: IntakeState): boolean => HashMap.size(s.held) === 0 && HashSet.size(s.claimed) === 0

/** The files waiting (held, not yet listed by the pass in progress, deferred) and the oldest one's receive time. */
export const waitingOf = (s: IntakeState): { readonly count: number; readonly oldestReceivedAtMs: number | undefined } => {
  let oldest: number | undefined
  for (const t of HashMap.values(s.held)) if (oldest === undefined || t.receivedAt < oldest) oldest = t.receivedAt
  // Names the pass in progress has not reached yet are not held: estimated from the last pass.
  const p = s.pass
  const unread = !p.sweeping || p.stealing ? 0 : Math.max(0, p.candidatesLastPass - p.candidatesThisPass)
  if (unread > 0 && (oldest === undefined || p.startedAt < oldest)) oldest = p.startedAt
  return { count: HashMap.size(s.held) + unread + HashSet.size(s.deferred), oldestReceivedAtMs: oldest }
}
