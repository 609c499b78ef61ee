/**
 * The daemon's metrics, as effect `Metric`s, and their Prometheus text
 * exposition (format 0.0.4), rendered from `Metric.unsafeSnapshot()`.
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import { STORAGE_ROLES, VERDICTS } from "../Folders.js"
import type { Verdict } from "../Folders.js"

/**
 * A label set made once. An update of an untagged metric with the same array
 * finds its series in effect's cache (a lookup by identity): no allocation
 * per file, where a `Metric.tagged` metric builds and hashes its key at
 * every update.
 */
type Labels = ReadonlyArray<MetricLabel.MetricLabel>
const labelsOf = (key: string, value: string): Labels => [MetricLabel.make(key, value)]

/**
 * Files routed, each once, when it is stored. A file that cannot be processed
 * is not "processed": it is counted once in `filesFailed` when it first fails
 * (not at each of its attempts), and `filesFailing` says how many fail now; a
 * counter cannot go down, so one routed after all is counted in both.
 */
export const filesProcessed = Metric.counter("cjp_files_processed_total", {
  description: "Files routed, by outcome (validated, returned): each file once, when it is stored",
  incremental: true
})
/** Each verdict's label set for `filesProcessed`, made once (one per verdict of the folder list). */
const outcomeLabels = new Map<Verdict, Labels>(VERDICTS.map((verdict) => [verdict, labelsOf("outcome", verdict)]))
/** `filesProcessed` for one verdict (for reading it: the daemon updates it through `recordRouted`). */
export const filesByOutcome = (outcome: Verdict): Metric.Metric.Counter<number> => Metric.tagged(filesProcessed, "outcome", outcome)
/**
 * Files handed to each destination, by its role: the storage folders
 * (`validated`, `returns`: each file once, when it is stored, as in
 * `filesProcessed`) and those of one's own (App.Swaps' `destinations`: a file
 * delivered again after a crash counts again).
 */
export const destinationFiles = Metric.counter("cjp_destination_files_total", {
  description: "Files handed to each destination, by role: the validated and returns folders (each file once) and those of one's own (a file delivered again after a crash counts again)",
  incremental: true
})
/** `destinationFiles` for one role (for reading it: the daemon counts through `destinationCounter`). */
export const filesDelivered = (role: string): Metric.Metric.Counter<number> => Metric.tagged(destinationFiles, "role", role)

/** The count of one destination's files, its label set made once (at start): counting a file is one lookup. */
export interface DestinationCounter {
  /** One more file (synchronously). */
  readonly add: () => void
}

/** The counter of one destination, by role, in /metrics from now on (at 0 until its first file). */
export const destinationCounter = (role: string): DestinationCounter => {
  const labels = labelsOf("role", role)
  destinationFiles.unsafeUpdate(0, labels)
  return { add: () => destinationFiles.unsafeUpdate(1, labels) }
}
export const filesFailed = Metric.counter("cjp_files_failed_total", {
  description:
    "Files that could not be processed (I/O errors, unreadable): each file once, at its first failed attempt, however often it is tried again; cjp_files_failing says how many fail now",
  incremental: true
})
export const recordsProcessed = Metric.counter("cjp_records_processed_total", { description: "Records in processed files", incremental: true })
export const fileSeconds = Metric.histogram(
  "cjp_file_processing_seconds",
  MetricBoundaries.exponential({ start: 0.0005, factor: 2, count: 16 }),
  "Time from reading a file to its outcome"
)
export const filesInFlight = Metric.gauge("cjp_files_in_flight", { description: "Files being processed now" })
export const filesWaiting = Metric.gauge("cjp_files_waiting", { description: "Files waiting in the input folder (queued or being written)" })
export const oldestWaitingSeconds = Metric.gauge("cjp_oldest_waiting_file_age_seconds", {
  description: "Age of the oldest waiting file, 0 when none waits"
})
export const filesFailing = Metric.gauge("cjp_files_failing", {
  description: "Files failing now: they could not be processed and are tried again later (unreadable, I/O errors)"
})
export const filesStuck = Metric.gauge("cjp_files_stuck", {
  description: "Files that have waited without an outcome for more than three rescans"
})
/** Sets the stuck-files gauge (synchronously, from the Daemon's full listing). */
export const setStuck = (n: number): void => filesStuck.unsafeUpdate(n, [])
export const lastSuccessSeconds = Metric.gauge("cjp_last_success_timestamp_seconds", {
  description: "Unix time of the last file validated or returned"
})
/**
 * Records one routed file in all its metrics at once, synchronously: the four
 * updates as separate effects were a measurable part of a file's cost.
 */
export const recordRouted = (outcome: Verdict, records: number, seconds: number, atMs: number): void => {
  filesProcessed.unsafeUpdate(1, outcomeLabels.get(outcome)!)
  recordsProcessed.unsafeUpdate(records, [])
  fileSeconds.unsafeUpdate(seconds, [])
  lastSuccessSeconds.unsafeUpdate(atMs / 1000, [])
}
/**
 * The label sets of `filesProcessed` for partners' files (PARTNERS_FILE):
 * `outcome` and `partner`, each made once per partner and verdict, by the
 * caller's own memo (the partners it routes files of: those configured).
 */
export const partnerOutcomeLabels = (): ((partner: string, outcome: Verdict) => Labels) => {
  const made = new Map<string, ReadonlyMap<Verdict, Labels>>()
  return (partner, outcome) => {
    let byVerdict = made.get(partner)
    if (byVerdict === undefined) {
      byVerdict = new Map(VERDICTS.map((verdict) => [verdict, [MetricLabel.make("outcome", verdict), MetricLabel.make("partner", partner)]]))
      made.set(partner, byVerdict)
    }
    return byVerdict.get(outcome)!
  }
}

/** `recordRouted` for a partner's file: `filesProcessed` under `labels` (see `partnerOutcomeLabels`). */
export const recordRoutedAs = (labels: Labels, records: number, seconds: number, atMs: number): void => {
  filesProcessed.unsafeUpdate(1, labels)
  recordsProcessed.unsafeUpdate(records, [])
  fileSeconds.unsafeUpdate(seconds, [])
  lastSuccessSeconds.unsafeUpdate(atMs / 1000, [])
}

/**
 * Returned files moved back into the input folder by `Requeue`. Per process: the
 * `requeue` command is a process of its own, so its moves show in its log
 * (`file requeued`), not in a daemon's /metrics; a process that embeds Requeue
 * and serves /metrics shows them here.
 */
export const filesRequeued = Metric.counter("cjp_files_requeued_total", {
  description: "Returned files moved back into the input folder (requeue)",
  incremental: true
})
export const notificationsSent = Metric.counter("cjp_notifications_sent_total", { description: "Notifications delivered", incremental: true })
export const notificationsFailed = Metric.counter("cjp_notifications_failed_total", {
  description: "Notifications that could not be delivered (kept in the outbox)",
  incremental: true
})
export const notificationsQueued = Metric.gauge("cjp_notifications_queued", { description: "Failures waiting to be notified" })
export const instanceInfo = (instance: string, version: string): Metric.Metric.Gauge<number> =>
  Metric.gauge("cjp_instance_info", { description: "This instance (value 1)" }).pipe(
    Metric.tagged("instance", instance),
    Metric.tagged("version", version)
  )

/**
 * Every series, so that each appears in /metrics from the start (at 0):
 * effect registers a metric only when it is first used, and a dashboard or
 * an alert on `increase(cjp_notifications_failed_total[1h])` should see 0,
 * not "no data", until the first failure.
 */
const everySeries: ReadonlyArray<{ readonly unsafeValue: (tags: ReadonlyArray<never>) => unknown }> = [
  ...VERDICTS.map(filesByOutcome),
  // The storage folders' series; those of one's own are there once the Pipeline counts them (destinationCounter).
  ...STORAGE_ROLES.map(filesDelivered),
  filesFailed,
  recordsProcessed,
  fileSeconds,
  filesInFlight,
  filesWaiting,
  oldestWaitingSeconds,
  filesFailing,
  filesStuck,
  lastSuccessSeconds,
  notificationsSent,
  notificationsFailed,
  notificationsQueued
]
export const registerAll = (): void => {
  for (const metric of everySeries) metric.unsafeValue([])
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const labels = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`
const num = (n: number | bigint) => (typeof n === "bigint" ? n.toString() : Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN")

/** Prometheus text exposition of the given metric pairs (only this daemon's `cjp_` metrics). */
export const renderPrometheus = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const byName = new Map<string, { help: string; type: string; lines: Array<string> }>()
  const sorted = [...pairs].filter((p) => p.metricKey.name.startsWith("cjp_")).sort((a, b) => a.metricKey.name.localeCompare(b.metricKey.name))
  for (const pair of sorted) {
    const key = pair.metricKey
    const state = pair.metricState
    const tags = key.tags.map((t) => [t.key, t.value] as const)
    const type = MetricState.isCounterState(state) ? "counter" : MetricState.isGaugeState(state) ? "gauge" : MetricState.isHistogramState(state) ? "histogram" : "untyped"
    const entry = byName.get(key.name) ?? { help: Option.getOrElse(key.description, () => key.name), type, lines: [] }
    byName.set(key.name, entry)
    if (MetricState.isCounterState(state)) {
      entry.lines.push(`${key.name}${labels(tags)} ${num(state.count)}`)
    } else if (MetricState.isGaugeState(state)) {
      entry.lines.push(`${key.name}${labels(tags)} ${num(state.value)}`)
    } else if (MetricState.isHistogramState(state)) {
      for (const [bound, count] of state.buckets) {
        if (!Number.isFinite(bound)) continue // the +Inf bucket is written below, once
        entry.lines.push(`${key.name}_bucket${labels([...tags, ["le", num(bound)]])} ${count}`)
      }
      entry.lines.push(`${key.name}_bucket${labels([...tags, ["le", "+Inf"]])} ${state.count}`)
      entry.lines.push(`${key.name}_sum${labels(tags)} ${num(state.sum)}`)
      entry.lines.push(`${key.name}_count${labels(tags)} ${state.count}`)
    }
  }
  let out = ""
  for (const [name, { help, type, lines }] of byName) out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${lines.join("\n")}\n`
  return out
}
