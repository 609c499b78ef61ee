/**
 * What the daemon has done lately, for the status page (`GET /`, `GET
 * /status.json`): the last 50 file outcomes, recent critical events and
 * notifications with their delivery state, totals since start and per-minute
 * counts for the last hour. Memory is bounded: fixed rings and 60 minute slots.
 *
 * Written by one-line hooks (the Daemon records each outcome, BatchingNotifier
 * each critical event, all-clear and delivery step), synchronously: recording
 * a routed file must stay a few assignments. Names are kept as received and
 * masked when shown (see StatusJson), like the log lines.
 *
 * Counts are files, not attempts: a file that fails again and again is one
 * failed file (one row, its attempts counted on it), counted in the minute of
 * its first failure; one routed after all moves from failed to its outcome.
 *
 * A service of its own (`layer`), shared by the Daemon, the Notifier
 * and the status page: the application's composition (App.ts) provides one.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ClearedEvent, CriticalEvent, Outgoing } from "../events/Notifications.js"
import { parseProcessingName } from "../files/Naming.js"
import type { Outcome } from "../events/Outcome.js"
import { FOLDERS } from "../Folders.js"
import { partnerOfName } from "../files/PartnerNames.js"

/** The file outcomes kept for the status page (the newest). */
export const OUTCOMES_KEPT = 50
/** The distinct critical events kept (the most recent). */
export const CRITICAL_EVENTS_KEPT = 20
/** The notifications kept, with their delivery state (the newest). */
export const NOTIFICATIONS_KEPT = 20
/** The minutes of per-minute counts kept: the last hour. */
export const MINUTES_KEPT = 60
const MINUTE = 60_000

/**
 * What became of a file, as the status page counts it: the verdicts (each
 * stored by its storage folder), and `failed`. The one list the totals, the
 * per-minute counts, status.json's counts and throughput and the status
 * page's cards and chart follow.
 */
export const OUTCOME_KINDS = ["validated", "returned", "failed"] as const

/** What became of a file, as the status page counts it (one of `OUTCOME_KINDS`). */
export type OutcomeKind = typeof OUTCOME_KINDS[number]

/** A count per outcome kind. */
export type CountsByKind = { readonly [K in OutcomeKind]: number }

/** One file's outcome as the status page lists it. */
export interface OutcomeEntry {
  readonly atMs: number
  /** the name it was received with (unmasked: masked when shown) */
  readonly file: string
  readonly outcome: OutcomeKind
  readonly errorCount: number
  readonly records: number | undefined
  /** its name in validated/ or returns/ */
  readonly storedAs: string | undefined
  /** the roles of the destinations of one's own that had it (see Destination), if any */
  readonly deliveredTo?: ReadonlyArray<string> | undefined
  /** why it failed (an I/O error outlived its retries) */
  readonly reason: string | undefined
  /** attempts that failed (a failed file's row is updated at each: one row per file) */
  readonly attempts: number
  /** when it first failed, for a failed file */
  readonly failingSinceMs: number | undefined
}

/** What the intake knows of a file's failures: attempts so far (this one included, for a failed one) and the first one's time. */
export interface FailureRecord {
  readonly attempts: number
  readonly firstAtMs: number
}

/**
 * A critical event and its repeats (the same summary: a health check failing
 * at every listing is one entry, not a screenful).
 */
export interface CriticalEntry {
  readonly firstAtMs: number
  lastAtMs: number
  readonly summary: string
  /** the latest occurrence's detail */
  detail: string
  /** occurrences so far */
  count: number
  /** occurrences for which a notification was queued; the others were notified already that hour (counted in the next one) */
  notified: number
  /** when it cleared (undefined while it lasts, and again if it comes back) */
  clearedAtMs: number | undefined
  /** how it cleared */
  clearedDetail: string | undefined
}

/**
 * A notification's delivery: `sending` (first attempt under way), `retrying`
 * (a transient failure; tried again with backoff), `failed` (a permanent
 * failure, on its way to the outbox), `sent`, `outbox` (kept in the outbox
 * folder), `lost` (not even the outbox could keep it; its text is in the log).
 */
export type DeliveryState = "sending" | "retrying" | "failed" | "sent" | "outbox" | "lost"

/** One notification and where its delivery stands. */
export interface NotificationEntry {
  readonly id: number
  readonly kind: Outgoing["kind"]
  readonly subject: string
  /** files named in it, and failures only counted */
  readonly files: number
  readonly more: number
  readonly firstAtMs: number
  updatedAtMs: number
  state: DeliveryState
  /** attempts that failed so far */
  failedAttempts: number
  target: string | undefined
  error: string | undefined
  outboxPath: string | undefined
}

/** The files of one minute, by outcome (a count per kind of `OUTCOME_KINDS`). */
export type MinuteCount = CountsByKind & {
  /** start of the minute, Unix ms */
  readonly startMs: number
}

/** Files by outcome since the daemon started (a count per kind of `OUTCOME_KINDS`). */
export type Totals = CountsByKind

/** The files one destination had since the daemon started. */
export interface DestinationCount {
  /** `validated`, `returns` (the built-in folders), or a destination of one's own */
  readonly role: string
  readonly files: number
}

/** A partner's files by outcome since the daemon started (PARTNERS_FILE). */
export type PartnerCount = CountsByKind & { readonly partner: string }

/** The most partners counted one by one (the partners configured: far fewer); files of others go uncounted by partner. */
export const PARTNERS_COUNTED = 1000

/** Everything the status page shows of the recent past, at one moment. */
export interface ActivitySnapshot {
  readonly startedAtMs: number
  readonly totals: Totals
  /** each partner's files since start (PARTNERS_FILE), by id; none without partners */
  readonly partners?: ReadonlyArray<PartnerCount> | undefined
  /**
   * Files by destination since start: the storage folders of the folder list
   * first (the files of their verdicts), then each destination of one's own
   * from its first file.
   */
  readonly destinations: ReadonlyArray<DestinationCount>
  /** newest first */
  readonly outcomes: ReadonlyArray<OutcomeEntry>
  /** the most recent occurrence first */
  readonly criticals: ReadonlyArray<Readonly<CriticalEntry>>
  readonly notifications: ReadonlyArray<Readonly<NotificationEntry>>
  /** the last 60 minutes, oldest first, the current minute last */
  readonly minutes: ReadonlyArray<MinuteCount>
}

/** A fixed-capacity ring: the newest `capacity` items, the oldest overwritten. */
export class Ring<A> {
  private readonly items: Array<A> = []
  private next = 0
  constructor(readonly capacity: number) {}

  push(item: A): void {
    if (this.items.length < this.capacity) this.items.push(item)
    else this.items[this.next] = item
    this.next = (this.next + 1) % this.capacity
  }

  get size(): number {
    return this.items.length
  }

  /** the items, newest first */
  newestFirst(): Array<A> {
    const out: Array<A> = []
    for (let i = 1; i <= this.items.length; i++) out.push(this.items[(this.next - i + this.capacity) % this.capacity]!)
    return out
  }

  /** Removes the items `remove` picks, keeping the others in order (a pass over the ring: for rare updates only). */
  removeWhere(remove: (item: A) => boolean): void {
    const kept = this.newestFirst().filter((item) => !remove(item)).reverse()
    if (kept.length === this.items.length) return
    this.items.length = 0
    this.items.push(...kept)
    this.next = kept.length % this.capacity
  }
}

const KINDS = OUTCOME_KINDS.length
/** Each kind's place in a minute's slots (its place in the list). */
const KIND_INDEX: CountsByKind = Object.fromEntries(OUTCOME_KINDS.map((kind, i) => [kind, i])) as { [K in OutcomeKind]: number }
/** A count of 0 for every kind. */
const zeroCounts = (): { -readonly [K in OutcomeKind]: number } => Object.fromEntries(OUTCOME_KINDS.map((kind) => [kind, 0])) as { [K in OutcomeKind]: number }

/**
 * Counts per minute for the last `MINUTES_KEPT` minutes in fixed slots: slot
 * `minute % 60` is reused once its minute is more than an hour old.
 */
export class MinuteCounter {
  private readonly minuteOf = new Float64Array(MINUTES_KEPT).fill(-1)
  private readonly counts = new Uint32Array(MINUTES_KEPT * KINDS)

  add(atMs: number, kind: OutcomeKind): void {
    const minute = Math.floor(atMs / MINUTE)
    const slot = minute % MINUTES_KEPT
    if (this.minuteOf[slot] !== minute) {
      this.minuteOf[slot] = minute
      this.counts.fill(0, slot * KINDS, slot * KINDS + KINDS)
    }
    this.counts[slot * KINDS + KIND_INDEX[kind]]! += 1
  }

  /** Takes back one file counted at `atMs` (a failed file routed after all); nothing once its minute is over an hour old. */
  remove(atMs: number, kind: OutcomeKind): void {
    const minute = Math.floor(atMs / MINUTE)
    const slot = minute % MINUTES_KEPT
    const i = slot * KINDS + KIND_INDEX[kind]
    if (this.minuteOf[slot] === minute && this.counts[i]! > 0) this.counts[i]! -= 1
  }

  /** the 60 minutes up to and including `nowMs`'s, oldest first; minutes without a file count 0 */
  window(nowMs: number): Array<MinuteCount> {
    const current = Math.floor(nowMs / MINUTE)
    const out: Array<MinuteCount> = []
    for (let minute = current - MINUTES_KEPT + 1; minute <= current; minute++) {
      const slot = ((minute % MINUTES_KEPT) + MINUTES_KEPT) % MINUTES_KEPT
      const live = this.minuteOf[slot] === minute
      const counts = zeroCounts()
      if (live) for (let k = 0; k < KINDS; k++) counts[OUTCOME_KINDS[k]!] = this.counts[slot * KINDS + k]!
      out.push({ startMs: minute * MINUTE, ...counts })
    }
    return out
  }
}

/** A job as the Daemon queues it: a name in the input folder, or a claimed name being recovered. */
export interface JobLike {
  readonly _tag: "Input" | "Claimed"
  readonly name: string
}

/** The recorder: hooks the daemon and the notifier call, and a snapshot for the status page. */
export interface ActivityService {
  /**
   * Daemon hook: a job's outcome (validated, returned and failed are kept; the
   * rest is not an outcome). `failure`: the file's failures so far, when it
   * has failed (with this attempt, for a failed one): a failed file is counted
   * once, at its first failure, and one routed after all is counted as routed
   * instead.
   */
  readonly outcome: (job: JobLike, outcome: Outcome, failure?: FailureRecord) => void
  /** BatchingNotifier hook: a critical event, and whether its notification is suppressed (sent already this hour) */
  readonly critical: (event: CriticalEvent, suppressed: boolean) => void
  /** BatchingNotifier hook: a critical condition cleared */
  readonly cleared: (event: ClearedEvent) => void
  /** BatchingNotifier hook: a step in a message's delivery; `detail` is the target (sending), the error, or the outbox path */
  readonly notification: (message: Outgoing, state: DeliveryState, detail?: string) => void
  readonly snapshot: () => ActivitySnapshot
}

const emptyTotals: Totals = zeroCounts()

/** Records nothing: the default when no Activity layer is provided. */
export const noActivity: ActivityService = {
  outcome: () => {},
  critical: () => {},
  cleared: () => {},
  notification: () => {},
  snapshot: () => ({ startedAtMs: 0, totals: emptyTotals, destinations: [], outcomes: [], criticals: [], notifications: [], minutes: [] })
}

/** The storage folders of the folder list, by role and verdict: a file of a verdict is a file its folder stored. */
const STORAGE_FOLDERS = FOLDERS.flatMap((spec) => (spec.stores === undefined ? [] : [{ role: spec.role, verdict: spec.stores.verdict }]))

/** A recorder reading the time from `now` (the layer's clock). */
export const makeActivity = (now: () => number): ActivityService => {
  const startedAtMs = now()
  const outcomes = new Ring<OutcomeEntry>(OUTCOMES_KEPT)
  const criticals = new Ring<CriticalEntry>(CRITICAL_EVENTS_KEPT)
  const notifications = new Ring<NotificationEntry>(NOTIFICATIONS_KEPT)
  // A message object is the same through its retries and its trip to the outbox; weakly held.
  const byMessage = new WeakMap<Outgoing, NotificationEntry>()
  const minutes = new MinuteCounter()
  const totals = zeroCounts()
  // Partners' files by outcome (names `<partner>/<name>`, see files/PartnerNames).
  const byPartner = new Map<string, { -readonly [K in OutcomeKind]: number }>()
  const partnerCounts = (file: string) => {
    const partner = partnerOfName(file)
    if (partner === undefined) return undefined
    let counts = byPartner.get(partner)
    if (counts === undefined && byPartner.size < PARTNERS_COUNTED) byPartner.set(partner, counts = zeroCounts())
    return counts
  }
  // Files by added destination's role, in the order first seen (the storage folders' are `totals`, by their verdict).
  const delivered = new Map<string, number>()
  let nextId = 1

  /** A recovered file's claimed name carries the name it was received with. */
  const fileOf = (job: JobLike) => (job._tag === "Claimed" ? parseProcessingName(job.name)?.original ?? job.name : job.name)
  const forgetFailedRow = (file: string) => outcomes.removeWhere((o) => o.outcome === "failed" && o.file === file)

  const add = (
    job: JobLike,
    kind: "validated" | "returned",
    fields: Pick<OutcomeEntry, "errorCount" | "records" | "storedAs" | "deliveredTo">,
    failure: FailureRecord | undefined
  ) => {
    const atMs = now()
    const file = fileOf(job)
    // Failed before: no longer a failed file, but a routed one.
    const ofPartner = partnerCounts(file)
    if (failure !== undefined) {
      if (totals.failed > 0) totals.failed--
      if (ofPartner !== undefined && ofPartner.failed > 0) ofPartner.failed--
      minutes.remove(failure.firstAtMs, "failed")
      forgetFailedRow(file)
    }
    totals[kind]++
    if (ofPartner !== undefined) ofPartner[kind]++
    if (fields.deliveredTo !== undefined) for (const role of fields.deliveredTo) delivered.set(role, (delivered.get(role) ?? 0) + 1)
    minutes.add(atMs, kind)
    outcomes.push({ atMs, file, outcome: kind, reason: undefined, attempts: 1, failingSinceMs: undefined, ...fields })
  }

  const addFailed = (job: JobLike, reason: string, failure: FailureRecord | undefined) => {
    const atMs = now()
    const file = fileOf(job)
    const again = failure !== undefined && failure.attempts > 1
    if (again) {
      // One row per file: its attempts counted on it.
      forgetFailedRow(file)
    } else {
      totals.failed++
      const ofPartner = partnerCounts(file)
      if (ofPartner !== undefined) ofPartner.failed++
      // (in the minute the intake counts it from: the one a route after all takes it back from)
      minutes.add(failure?.firstAtMs ?? atMs, "failed")
    }
    outcomes.push({
      atMs,
      file,
      outcome: "failed",
      errorCount: 0,
      records: undefined,
      storedAs: undefined,
      reason,
      attempts: failure?.attempts ?? 1,
      failingSinceMs: failure?.firstAtMs ?? atMs
    })
  }

  return {
    outcome: (job, outcome, failure) => {
      switch (outcome._tag) {
        case "Validated":
          return add(job, "validated", { errorCount: 0, records: outcome.records, storedAs: outcome.storedAs, deliveredTo: outcome.deliveredTo }, failure)
        case "Returned":
          return add(
            job,
            "returned",
            { errorCount: outcome.errorCount, records: outcome.records, storedAs: outcome.storedAs, deliveredTo: outcome.deliveredTo },
            failure
          )
        case "Failed":
          return addFailed(job, outcome.reason, failure)
        default:
          return
      }
    },
    critical: (event, suppressed) => {
      const t = now()
      const known = criticals.newestFirst().find((c) => c.summary === event.summary)
      if (known === undefined) {
        criticals.push({
          firstAtMs: t,
          lastAtMs: t,
          summary: event.summary,
          detail: event.detail,
          count: 1,
          notified: suppressed ? 0 : 1,
          clearedAtMs: undefined,
          clearedDetail: undefined
        })
        return
      }
      known.lastAtMs = t
      known.detail = event.detail
      known.count++
      known.clearedAtMs = undefined
      known.clearedDetail = undefined
      if (!suppressed) known.notified++
    },
    cleared: (event) => {
      const known = criticals.newestFirst().find((c) => c.summary === event.summary)
      if (known === undefined) return
      known.clearedAtMs = now()
      known.clearedDetail = event.detail
    },
    notification: (message, state, detail) => {
      const t = now()
      let entry = byMessage.get(message)
      if (entry === undefined) {
        entry = {
          id: nextId++,
          kind: message.kind,
          subject: message.subject,
          files: message.files.length,
          more: message.more,
          firstAtMs: t,
          updatedAtMs: t,
          state,
          failedAttempts: 0,
          target: undefined,
          error: undefined,
          outboxPath: undefined
        }
        byMessage.set(message, entry)
        notifications.push(entry)
      }
      entry.state = state
      entry.updatedAtMs = t
      if (state === "sending") entry.target = detail
      else if (state === "sent" && detail !== undefined) entry.outboxPath = detail
      else if (state === "retrying" || state === "failed") {
        entry.error = detail
        entry.failedAttempts++
      } else if (state === "lost") entry.error = detail ?? entry.error
      else if (state === "outbox") {
        entry.outboxPath = detail
      }
    },
    snapshot: () => ({
      startedAtMs,
      totals: { ...totals },
      partners: Array.from(byPartner, ([partner, counts]) => ({ partner, ...counts })).sort((a, b) => (a.partner < b.partner ? -1 : a.partner > b.partner ? 1 : 0)),
      destinations: [
        ...STORAGE_FOLDERS.map(({ role, verdict }) => ({ role, files: totals[verdict] })),
        ...Array.from(delivered, ([role, files]) => ({ role, files }))
      ],
      outcomes: outcomes.newestFirst(),
      criticals: criticals.newestFirst().map((c) => ({ ...c })).sort((a, b) => b.lastAtMs - a.lastAtMs),
      notifications: notifications.newestFirst().map((n) => ({ ...n })),
      minutes: minutes.window(now())
    })
  }
}

/** What the daemon has done lately, for the status page: one recorder shared by the Daemon, the Notifier and the HTTP server. */
export class Activity extends Context.Tag("customer-json/Activity")<Activity, ActivityService>() {}

/** One recorder for the daemon's life, on the clock of the layer's context. */
export const layer: Layer.Layer<Activity> = Layer.effect(
  Activity,
  Effect.map(Effect.clock, (clock): ActivityService => makeActivity(() => clock.unsafeCurrentTimeMillis()))
)
