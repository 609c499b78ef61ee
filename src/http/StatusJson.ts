/**
 * `GET /status.json`: what the status page shows, built by a pure function
 * from what the daemon knows (Status, Activity, the heartbeats seen, the
 * notification queue). Every name and free text goes through `mask`, the
 * Masker's policy for log lines; no file content is ever included. The fields
 * are documented in the README (Health and metrics).
 */
import { OUTCOME_KINDS } from "../status/Activity.js"
import type { ActivitySnapshot, CountsByKind, MinuteCount, OutcomeKind } from "../status/Activity.js"
import type { PeerView } from "../instances/Peers.js"
import type { Phase } from "../status/Status.js"
import { storedNameShown } from "../masking/Masking.js"
import { STORAGE_ROLES } from "../Folders.js"
import { splitName } from "../files/PartnerNames.js"

/** Bump when a field changes meaning or goes away (adding fields does not). */
export const STATUS_FORMAT = 1
/** Free texts (a critical event's detail, a delivery error) are cut to this many characters. */
export const TEXT_MAX = 500

export interface StatusInput {
  readonly nowMs: number
  readonly version: string
  readonly instance: { readonly id: string; readonly host: string; readonly pid: number }
  readonly phase: Phase
  readonly healthProblem: string | undefined
  readonly inFlight: number
  /** files that could not be processed and are tried again later */
  readonly failingFiles: number
  /** files waiting without an outcome for too long */
  readonly stuckFiles: number
  readonly waiting: { readonly count: number; readonly oldestReceivedAtMs: number | undefined }
  readonly activity: ActivitySnapshot
  /**
   * Every destination's role, in order (Destinations' `roles`: the storage
   * folders, then those of one's own): each is listed from the start, at 0
   */
  readonly destinationRoles: ReadonlyArray<string>
  readonly peers: ReadonlyArray<PeerView>
  /** rejected files waiting to be named in a notification */
  readonly notificationsQueued: number
}

/** Files by outcome: a count per kind of Activity's `OUTCOME_KINDS` (`validated`, `returned`, `failed`). */
export type OutcomeCounts = CountsByKind

export interface StatusJson {
  readonly format: number
  readonly now: string
  readonly version: string
  readonly instance: string
  readonly host: string
  readonly pid: number
  readonly phase: Phase
  readonly health: "ok" | "degraded" | "failing" | "starting" | "stopping"
  readonly problem: string | null
  readonly started_at: string
  readonly uptime_s: number
  readonly counts: { readonly since_start: OutcomeCounts; readonly last_hour: OutcomeCounts }
  /** each partner's files since start by outcome (PARTNERS_FILE), by id; empty without partners */
  readonly partners: ReadonlyArray<OutcomeCounts & { readonly id: string }>
  /** files by destination since start, every destination from the start: `validated`, `returns`, then each of one's own (see Destination) */
  readonly destinations: ReadonlyArray<{
    readonly role: string
    readonly files: number
    /** a storage folder of the daemon's own (`validated`, `returns`), not an added destination */
    readonly built_in: boolean
  }>
  readonly last_outcome_at: string | null
  /** files per minute, one array per kind of `OUTCOME_KINDS` (`validated`, `returned`, `failed`), oldest minute first */
  readonly throughput: {
    readonly minute_s: 60
    readonly from: string
  } & { readonly [K in OutcomeKind]: ReadonlyArray<number> }
  readonly queue: {
    readonly in_flight: number
    readonly waiting: number
    readonly oldest_waiting_age_s: number | null
    readonly failing_files: number
    readonly stuck_files: number
  }
  readonly instances: ReadonlyArray<{
    readonly id: string
    readonly this: boolean
    readonly host: string | null
    readonly pid: number | null
    readonly beat: number | null
    readonly state: PeerView["state"]
    readonly unchanged_s: number
    readonly problem: string | null
  }>
  readonly outcomes: ReadonlyArray<{
    readonly at: string
    readonly file: string
    /** the partner that delivered it (PARTNERS_FILE), null without partners */
    readonly partner: string | null
    readonly outcome: "validated" | "returned" | "failed"
    readonly error_count: number
    readonly records: number | null
    readonly stored_as: string | null
    /** the roles of the destinations of one's own that had it */
    readonly delivered_to: ReadonlyArray<string>
    readonly reason: string | null
    /** failed attempts (a failed file has one row, updated at each) */
    readonly attempts: number
    /** when a failed file first failed */
    readonly failing_since: string | null
  }>
  readonly critical_events: ReadonlyArray<{
    readonly first_at: string
    readonly last_at: string
    readonly summary: string
    readonly detail: string
    readonly count: number
    readonly notified: number
    /** when the condition cleared, or null while it lasts */
    readonly cleared_at: string | null
    readonly cleared_detail: string | null
  }>
  readonly notifications: {
    readonly queued_files: number
    readonly recent: ReadonlyArray<{
      readonly id: number
      readonly kind: "rejected" | "critical" | "cleared"
      readonly subject: string
      readonly files: number
      readonly more: number
      readonly state: string
      readonly failed_attempts: number
      readonly first_at: string
      readonly updated_at: string
      readonly target: string | null
      readonly error: string | null
      readonly outbox_path: string | null
    }>
  }
}

const iso = (ms: number) => new Date(ms).toISOString()
const seconds = (ms: number) => Math.round(ms / 100) / 10
const cut = (text: string) => (text.length <= TEXT_MAX ? text : `${text.slice(0, TEXT_MAX - 1)}…`)

/** One value per kind of `OUTCOME_KINDS`. */
const byKind = <A>(f: (kind: OutcomeKind) => A): { readonly [K in OutcomeKind]: A } =>
  Object.fromEntries(OUTCOME_KINDS.map((kind) => [kind, f(kind)])) as { [K in OutcomeKind]: A }

const sum = (minutes: ReadonlyArray<MinuteCount>): OutcomeCounts => byKind((kind) => minutes.reduce((n, m) => n + m[kind], 0))

/** The storage folders' roles (the folder list's): the built-in destinations. */
const BUILT_IN: ReadonlySet<string> = new Set(STORAGE_ROLES)

/** Every declared destination in its order (0 until its first file), then any other the record counted. */
const destinationsOf = (roles: ReadonlyArray<string>, counted: ActivitySnapshot["destinations"]): StatusJson["destinations"] => {
  const files = new Map(counted.map((d) => [d.role, d.files]))
  const declared = new Set(roles)
  const entry = (role: string, n: number) => ({ role, files: n, built_in: BUILT_IN.has(role) })
  return [...roles.map((role) => entry(role, files.get(role) ?? 0)), ...counted.filter((d) => !declared.has(d.role)).map((d) => entry(d.role, d.files))]
}

/**
 * A file's name and partner as shown: the name is masked whole (`<partner>/<name>`
 * for a partner's file, see files/PartnerNames), then its partner is set apart when
 * the masking left the prefix as it was: a secret is never split in two and
 * shown in halves the masking would each let through.
 */
const shownFile = (file: string, mask: (text: string) => string): { readonly file: string; readonly partner: string | null } => {
  const whole = mask(file)
  const { partner } = splitName(file)
  return partner !== undefined && whole.startsWith(`${partner}/`)
    ? { file: whole.slice(partner.length + 1), partner }
    : { file: whole, partner: null }
}

/** As /healthz: files failing or stuck degrade a daemon that is otherwise fine. */
const healthOf = (input: StatusInput): StatusJson["health"] =>
  input.healthProblem !== undefined
    ? "failing"
    : input.phase !== "watching"
    ? input.phase
    : input.failingFiles > 0 || input.stuckFiles > 0
    ? "degraded"
    : "ok"

/** This instance first, then the others by id. */
const instanceOrder = (a: PeerView, b: PeerView) =>
  a.state === "this" ? -1 : b.state === "this" ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0

export const buildStatus = (input: StatusInput, mask: (text: string) => string): StatusJson => {
  const { activity, nowMs } = input
  const maskOrNull = (text: string | undefined) => (text === undefined ? null : cut(mask(text)))
  const peers = input.peers.some((p) => p.id === input.instance.id)
    ? input.peers
    : [
      // Not seen in a scan yet (the first runs at start-up): this instance is there all the same.
      { id: input.instance.id, host: input.instance.host, pid: input.instance.pid, beat: undefined, state: "this" as const, unchangedMs: 0, problem: undefined },
      ...input.peers
    ]
  const minutes = activity.minutes
  const lastOutcome = activity.outcomes[0]
  return {
    format: STATUS_FORMAT,
    now: iso(nowMs),
    version: input.version,
    instance: input.instance.id,
    host: input.instance.host,
    pid: input.instance.pid,
    phase: input.phase,
    health: healthOf(input),
    problem: maskOrNull(input.healthProblem),
    started_at: iso(activity.startedAtMs),
    uptime_s: Math.max(0, Math.floor((nowMs - activity.startedAtMs) / 1000)),
    counts: { since_start: { ...activity.totals }, last_hour: sum(minutes) },
    partners: (activity.partners ?? []).map(({ partner, ...counts }) => ({ id: mask(partner), ...counts })),
    destinations: destinationsOf(input.destinationRoles, activity.destinations),
    last_outcome_at: lastOutcome === undefined ? null : iso(lastOutcome.atMs),
    throughput: {
      minute_s: 60,
      from: iso(minutes[0]?.startMs ?? Math.floor(nowMs / 60_000) * 60_000),
      ...byKind((kind) => minutes.map((m) => m[kind]))
    },
    queue: {
      in_flight: input.inFlight,
      waiting: input.waiting.count,
      oldest_waiting_age_s: input.waiting.oldestReceivedAtMs === undefined ? null : seconds(Math.max(0, nowMs - input.waiting.oldestReceivedAtMs)),
      failing_files: input.failingFiles,
      stuck_files: input.stuckFiles
    },
    instances: [...peers].sort(instanceOrder).map((p) => ({
      id: p.id,
      this: p.state === "this",
      host: p.host ?? null,
      pid: p.pid ?? null,
      beat: p.beat ?? null,
      state: p.state,
      unchanged_s: seconds(p.unchangedMs),
      problem: maskOrNull(p.problem)
    })),
    outcomes: activity.outcomes.map((o) => ({
      at: iso(o.atMs),
      ...shownFile(o.file, mask),
      outcome: o.outcome,
      error_count: o.errorCount,
      records: o.records ?? null,
      // the stored name as it is (contract §5): it is how the file is found
      stored_as: o.storedAs === undefined ? null : storedNameShown(o.storedAs, mask),
      delivered_to: o.deliveredTo ?? [],
      reason: maskOrNull(o.reason),
      attempts: o.attempts,
      failing_since: o.failingSinceMs === undefined ? null : iso(o.failingSinceMs)
    })),
    critical_events: activity.criticals.map((c) => ({
      first_at: iso(c.firstAtMs),
      last_at: iso(c.lastAtMs),
      summary: cut(mask(c.summary)),
      detail: cut(mask(c.detail)),
      count: c.count,
      notified: c.notified,
      cleared_at: c.clearedAtMs === undefined ? null : iso(c.clearedAtMs),
      cleared_detail: maskOrNull(c.clearedDetail)
    })),
    notifications: {
      queued_files: input.notificationsQueued,
      recent: activity.notifications.map((n) => ({
        id: n.id,
        kind: n.kind,
        subject: cut(mask(n.subject)),
        files: n.files,
        more: n.more,
        state: n.state,
        failed_attempts: n.failedAttempts,
        first_at: iso(n.firstAtMs),
        updated_at: iso(n.updatedAtMs),
        target: n.target ?? null,
        error: maskOrNull(n.error),
        outbox_path: maskOrNull(n.outboxPath)
      }))
    }
  }
}
