// The benchmark's arithmetic, as pure functions (tested in test/benchTools.test.ts):
// medians, speed ratios, the ratios the targets are written in, and the
// side-by-side comparison of two builds (`--against`).

/** The median (the mean of the two middle values for an even count); NaN for none. */
export const median = (values) => {
  const sorted = values.filter((v) => typeof v === "number" && !Number.isNaN(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * The median of each field over `runs` (objects of the same shape): numbers
 * by their median (a field missing or null in any run is null), anything
 * else as the first run has it.
 */
export const medianFields = (runs) => {
  if (runs.length === 0) return {}
  const out = {}
  for (const key of Object.keys(runs[0])) {
    const values = runs.map((r) => r[key])
    if (values.every((v) => typeof v === "number")) out[key] = median(values)
    else if (typeof values[0] === "number" || values[0] === null || values[0] === undefined) out[key] = null
    else out[key] = values[0]
  }
  return out
}

/**
 * How fast `measured` is as a fraction of `reference`'s speed, on the same
 * work, from their times: 0.5 = half the reference's files per second.
 */
export const speedRatio = (measuredSeconds, referenceSeconds) => referenceSeconds / measuredSeconds

/**
 * The backlog's ratios of issue 25, for one place (disk or tmpfs) and one
 * build, from the median seconds of each row (`floor`, `copyFloor`, `naive`,
 * `daemon`, `otherUser`; a row not measured is undefined and its ratio left
 * out). Each: `{ name, value, target, met }`, value a speed ratio.
 */
export const backlogRatios = ({ floor, copyFloor, naive, daemon, otherUser }, place) => {
  const ratios = []
  const add = (name, measured, reference, target) => {
    if (measured === undefined || reference === undefined) return
    const value = speedRatio(measured, reference)
    ratios.push({ name, value, target, met: target === null ? null : value >= target })
  }
  add("daemon ÷ bare floor", daemon, floor, 0.6)
  add("other user ÷ durable-copy floor", otherUser, copyFloor, 0.75)
  // ≥ 3 × the naive processor is a target on the local disk only
  add("daemon ÷ naive", daemon, naive, place === "disk" ? 3 : null)
  return ratios
}

/**
 * Scale-out under CPU quotas: `byInstances` `[{ instances, files_per_s }]`
 * (1 among them) → each count's rate over N × one instance's rate, with
 * issue 25's targets (2: ≥ 0.8, 4: ≥ 0.7).
 */
export const scaleOutEfficiency = (byInstances) => {
  const one = byInstances.find((b) => b.instances === 1)
  if (one === undefined) throw new Error("scaleOutEfficiency: no one-instance measurement to compare with")
  const TARGETS = { 2: 0.8, 4: 0.7 }
  return byInstances
    .filter((b) => b.instances !== 1)
    .map((b) => {
      const value = b.files_per_s / (b.instances * one.files_per_s)
      const target = TARGETS[b.instances] ?? null
      return { instances: b.instances, value, target, met: target === null ? null : value >= target }
    })
}

/**
 * Side by side: `measurements` `[{ scenario, row, build, metrics }]` of both
 * builds (and rows of neither, which are skipped) → per scenario and row measured
 * under both, the medians of each metric for each build and, for every metric
 * both have, the ratio working tree ÷ REF (`seconds` 1.2 = 20 % slower;
 * `files_per_s` 0.83 = the same thing as a speed). In the order first measured.
 */
export const compareBuilds = (measurements, refLabel, workLabel) => {
  const rows = new Map()
  for (const m of measurements) {
    if (m.build !== refLabel && m.build !== workLabel) continue
    const key = `${m.scenario}\u0000${m.row}`
    if (!rows.has(key)) rows.set(key, { scenario: m.scenario, row: m.row, ref: [], work: [] })
    rows.get(key)[m.build === refLabel ? "ref" : "work"].push(m.metrics)
  }
  const comparisons = []
  for (const { scenario, row, ref, work } of rows.values()) {
    if (ref.length === 0 || work.length === 0) continue
    const refMedians = medianFields(ref)
    const workMedians = medianFields(work)
    const ratio = {}
    for (const [key, value] of Object.entries(workMedians)) {
      const base = refMedians[key]
      if (typeof value === "number" && typeof base === "number" && base !== 0) ratio[key] = value / base
    }
    comparisons.push({ scenario, row, runs: { ref: ref.length, work: work.length }, ref: refMedians, work: workMedians, ratio })
  }
  return comparisons
}

/**
 * GNU time's `-f "%U %S %M"` output (the last line; a "Command exited with
 * non-zero status" line may come before it) → `{ cpu_seconds, max_rss_mb }`,
 * or null when it holds no such line.
 */
export const parseRusage = (text) => {
  const line = text.trim().split("\n").at(-1) ?? ""
  const match = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$/.exec(line.trim())
  if (match === null) return null
  return { cpu_seconds: Number(match[1]) + Number(match[2]), max_rss_mb: Math.round(Number(match[3]) / 1024) }
}
