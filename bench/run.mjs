// The benchmark: `npm run bench` (builds first). All scenarios run in one
// invocation on the same machine, so their ratios hold on a noisy machine.
//
//   backlog   10,000 files in data/, `node dist/main.js --once`, whole process;
//             with the floor: the same corpus through bench/floor.mjs (list,
//             rename, read, JSON.parse, rename; 16 at a time): floor time /
//             pipeline time. Backlog and floor alternate, three pairs; medians
//             are reported. Each pair also runs the backlog with
//             TRUSTED_PRODUCERS=true, with INSTANCES=auto, and with the systemd
//             unit's UV_THREADPOOL_SIZE
//   latency   the daemon running; files dropped by atomic rename at 100/s
//             for 30 s; time from the rename into data/ to the file in
//             validated/ or returns/
//   big       one 50 MB file (100,000 records), --once
//   idle      CPU seconds the daemon uses over 60 s with nothing to do
//   scaling   backlogs of 10,000 and 100,000 files, --once, default settings:
//             wall time, files/s, the daemon's peak RSS (its VmHWM read at
//             exit, bench/peak-rss.cjs), the floor on each; a chart of RSS and
//             files/s against the backlog (bench/chart.mjs)
//   scaleout  10,000 files drained by 1 instance vs 2 started together with
//             --once on the same folders; three alternating trials each,
//             medians, speed-up = median(1) / median(N); after every trial
//             every file must be in validated/ or returns/ exactly once and
//             nothing left in data/ or processing/ (bench/routing.mjs)
//
// Options (bench/options.mjs):
//   --only a,b       run only these scenarios (names above; default: all)
//   --scale N,N,...  the scaling scenario at these backlog sizes (e.g. 1000000;
//                    not part of a full run); alone, it runs only that scenario
//   --instances N,.. the scale-out scenario with these instance counts (1 is
//                    always measured: the baseline); alone, only that scenario
//   --netfs gluster  the scale-out scenario on a GlusterFS volume mounted twice
//                    by scripts/netfs.sh (instances split over the two mounts,
//                    3,000 files, the floor on the same mount); always torn down
//   --chart FILE     also write the scaling chart to FILE (e.g. docs/scaling.svg)
//   --out FILE       the JSON results (default bench/results/latest.json for a
//                    run of every scenario, bench/results/<scenarios>.json for
//                    a subset, bench/results/smoke.json for --smoke)
//
// `--smoke` runs everything small (200 files, 3 s of latency, 2 s idle,
// scaling at 200 and 400 files, scale-out 1 vs 2 on 200 files, one trial) and
// is part of the test suite, which asserts only that it runs and prints its
// table. Results: a table on stdout, JSON in the --out file, and the chart
// (bench/results/scaling.svg; smoke-scaling.svg beside a smoke run's JSON).
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { scalingSvg } from "./chart.mjs"
import { corpusFiles, makeCorpus } from "./corpus.mjs"
import { parseOptions, SCENARIOS } from "./options.mjs"
import { listTree, routingProblems } from "./routing.mjs"

const here = Path.dirname(fileURLToPath(import.meta.url))
const MAIN = Path.join(here, "..", "dist", "main.js")
const FLOOR = Path.join(here, "floor.mjs")
/** The thread pool the systemd unit gives the daemon, read from the unit so the two cannot drift apart. */
const UNIT_THREADPOOL_SIZE = Number(
  /^Environment=UV_THREADPOOL_SIZE=(\d+)$/m.exec(NFS.readFileSync(Path.join(here, "..", "deploy", "customer-json-processor.service"), "utf8"))?.[1] ?? 4
)
const PEAK_RSS = Path.join(here, "peak-rss.cjs")
const NETFS = Path.join(here, "..", "scripts", "netfs.sh")

const options = (() => {
  try {
    return parseOptions(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`${e.message}\n`)
    process.exit(2)
  }
})()
const smoke = options.smoke
const everything = options.only.length === SCENARIOS.length
const outFile =
  options.out ?? Path.join(here, "results", smoke ? "smoke.json" : everything ? "latest.json" : `${options.only.join("+")}.json`)

const SIZES = smoke
  ? {
      backlog: 200, pairs: 1, latencyRate: 100, latencySeconds: 3, bigRecords: 2_000, idleSeconds: 2,
      scaling: [200, 400], scaleOutFiles: 200, scaleOutTrials: 1, netfsFiles: 200
    }
  : {
      backlog: 10_000, pairs: 3, latencyRate: 100, latencySeconds: 30, bigRecords: 100_000, idleSeconds: 60,
      scaling: [10_000, 100_000], scaleOutFiles: 10_000, scaleOutTrials: 3, netfsFiles: 3_000
    }
// The baseline of every speed-up is one instance.
const INSTANCES = [...new Set([1, ...(options.instances ?? [1, 2])])].sort((a, b) => a - b)

const log = (line) => process.stderr.write(`[bench] ${line}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const now = () => performance.timeOrigin + performance.now()

const makeRoot = (name) => NFS.mkdtempSync(Path.join(OS.tmpdir(), `cjp-bench-${name}-`))

// The big corpora (backlog, scaling, scale-out) are deleted only after the last
// scenario: on ext4, creating files right after a mass deletion is ten to
// twenty times slower for minutes (docs/PERFORMANCE.md), and the next
// scenario would measure the previous one's deletion.
const toRemove = []
const removeAtEnd = (...dirs) => toRemove.push(...dirs)
/** A tree a failure left: kept for inspection (the error names it). */
const keepForInspection = (dir) => {
  const at = toRemove.indexOf(dir)
  if (at >= 0) toRemove.splice(at, 1)
}

/**
 * Writes `files` (an array or a generator: a million-file corpus is never held)
 * into data/ under each of `roots`; `expected`, when given, gets each name and
 * whether the file is valid.
 */
const writeCorpus = (roots, files, expected) => {
  const rootList = Array.isArray(roots) ? roots : [roots]
  for (const root of rootList) NFS.mkdirSync(Path.join(root, "data"), { recursive: true })
  let bytes = 0
  let records = 0
  let count = 0
  for (const f of files) {
    for (const root of rootList) NFS.writeFileSync(Path.join(root, "data", f.name), f.content)
    bytes += Buffer.byteLength(f.content)
    records += (f.content.match(/"customer_id"/g) ?? []).length
    count++
    expected?.set(f.name, f.valid)
  }
  return { bytes, records, count }
}

// The daemon's environment: defaults, except for a console that goes to a file.
// Every variable the daemon reads (SETTINGS of src/Config.ts, from the build) is
// removed, so that what the shell exports (INSTANCES, FS_CALLS, ...) changes nothing.
const daemonEnv = (extra = {}) => {
  const env = { ...process.env }
  for (const key of SETTING_NAMES) delete env[key]
  return { ...env, ...extra }
}

// The processes `timed` is waiting for: an interrupted GlusterFS run stops them before unmounting.
const children = new Set()

/** Runs a command to its end with stdout+stderr to a file (console.log in cwd); returns wall seconds. */
const timed = (command, commandArgs, cwd, env, consoleFile = Path.join(cwd, "console.log")) =>
  new Promise((resolve, reject) => {
    const out = NFS.openSync(consoleFile, "w")
    const t0 = now()
    const child = ChildProcess.spawn(command, commandArgs, { cwd, env, stdio: ["ignore", out, out] })
    children.add(child)
    child.on("error", reject)
    child.on("exit", (code) => {
      children.delete(child)
      NFS.closeSync(out)
      const script = commandArgs.find((a) => /\.m?js$/.test(a)) ?? command
      if (code !== 0) reject(new Error(`${Path.basename(script)} exited ${code}; see ${consoleFile}`))
      else resolve((now() - t0) / 1000)
    })
  })

/**
 * `node dist/main.js --once` in `cwd`, with bench/peak-rss.cjs preloaded to
 * record its VmHWM at exit in `peakFile`: `{ seconds, peak_rss_mb }`.
 */
const daemonOnce = async (cwd, env, { peakFile = Path.join(cwd, "peak-rss.kb"), consoleFile } = {}) => {
  NFS.rmSync(peakFile, { force: true })
  const seconds = await timed(process.execPath, ["--require", PEAK_RSS, MAIN, "--once"], cwd, { ...env, CJP_BENCH_PEAK_FILE: peakFile }, consoleFile)
  return { seconds, peak_rss_mb: peakMegabytes(peakFile) }
}

const peakMegabytes = (peakFile) => {
  if (!NFS.existsSync(peakFile)) throw new Error(`the daemon exited without recording its peak RSS in ${peakFile} (bench/peak-rss.cjs)`)
  return Math.round(Number(NFS.readFileSync(peakFile, "utf8").trim()) / 1024)
}

const STOPPED = "customer-json-processor stopped"

/**
 * The daemon's "stopped" line (its counts and its own max_rss_mb), found from
 * the end of logs/app.log: a million-file log is never read whole.
 */
const summaryOf = (root, logDir = Path.join(root, "logs")) => {
  const file = Path.join(logDir, "app.log")
  const size = NFS.statSync(file).size
  const fd = NFS.openSync(file, "r")
  try {
    for (let window = 64 * 1024; ; window *= 4) {
      const length = Math.min(size, window)
      const buffer = Buffer.alloc(length)
      NFS.readSync(fd, buffer, 0, length, size - length)
      const lines = buffer.toString("utf8").split("\n").filter((l) => l.includes(STOPPED))
      for (const line of lines.reverse()) {
        try {
          const parsed = JSON.parse(line)
          if (parsed.msg === STOPPED) return parsed
        } catch {
          // the first line of the window may be cut: a wider window reads it whole
        }
      }
      if (length === size) throw new Error(`no "${STOPPED}" line in ${file}`)
    }
  } finally {
    NFS.closeSync(fd)
  }
}

const countFiles = (dir) => (NFS.existsSync(dir) ? NFS.readdirSync(dir).filter((n) => !n.startsWith(".") && !n.endsWith(".error.json")).length : 0)

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]

// CPU time of a process, all its threads. /proc/<pid>/task/*/schedstat counts
// nanoseconds on the CPU; utime + stime in /proc/<pid>/stat are clock ticks
// charged by sampling, which on a virtual machine can charge a whole tick to a
// wake-up of a few microseconds (a Node process with one 1 s timer shows
// 0.5 CPU-s/min in ticks): the fallback only.
const cpuSeconds = (pid) => {
  try {
    let ns = 0
    for (const task of NFS.readdirSync(`/proc/${pid}/task`)) {
      ns += Number(NFS.readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0])
    }
    return ns / 1e9
  } catch {
    const stat = NFS.readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / 100
  }
}

const startDaemon = async (root, env) => {
  const out = NFS.openSync(Path.join(root, "console.log"), "w")
  const child = ChildProcess.spawn(process.execPath, [MAIN], { cwd: root, env, stdio: ["ignore", out, out] })
  const exited = new Promise((resolve) => child.on("exit", (code) => (NFS.closeSync(out), resolve(code))))
  const deadline = Date.now() + 20_000
  while (!NFS.existsSync(Path.join(root, "console.log")) || !NFS.readFileSync(Path.join(root, "console.log"), "utf8").includes("customer-json-processor started")) {
    if (Date.now() > deadline) throw new Error("the daemon did not start")
    await sleep(20)
  }
  return { child, exited }
}

// ------------------------------------------------------------------ scenarios

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// Backlog and floor run in alternating pairs (three in a full run) on identical
// corpora, and the ratio is taken of the medians: one pair on a shared machine
// swings by 10 % either way. Every run is kept in the results.
const backlogAndFloor = async () => {
  const corpus = makeCorpus(SIZES.backlog, 2026)
  const runs = []
  let bytes = 0
  let records = 0
  // Every corpus is written (and synced) before the first timed run, and nothing is deleted until
  // the last: right after a mass deletion, ext4 skips the freed inodes when allocating new ones,
  // and creating a file (the daemon's reports; the floor creates none) took 350 µs instead of 15.
  // Each pair also runs the backlog with TRUSTED_PRODUCERS=true (the producer's file linked into
  // place rather than a copy the daemon owns): what the safe default costs, side by side.
  // And with INSTANCES=auto (one instance a core under one process: issue 17's "every core"),
  // so the floor ratio with all cores is measured side by side too. And as the systemd unit
  // runs it (UV_THREADPOOL_SIZE=16: flushes that wait together share a journal commit).
  const pairs = Array.from({ length: SIZES.pairs }, () => ({
    pipelineRoot: makeRoot("backlog"),
    floorRoot: makeRoot("floor"),
    trustedRoot: makeRoot("trusted"),
    allCoresRoot: makeRoot("allcores"),
    unitRoot: makeRoot("unit")
  }))
  for (const { pipelineRoot, floorRoot, trustedRoot, allCoresRoot, unitRoot } of pairs) {
    ;({ bytes, records } = writeCorpus([pipelineRoot, floorRoot, trustedRoot, allCoresRoot, unitRoot], corpus))
  }
  ChildProcess.execFileSync("sync")
  log(`backlog: ${corpus.length} files, ${records} records, ${(bytes / 1e6).toFixed(1)} MB, ${SIZES.pairs} pair(s) of runs`)
  for (const [index, { pipelineRoot, floorRoot, trustedRoot, allCoresRoot, unitRoot }] of pairs.entries()) {
    const floorSeconds = await timed(process.execPath, [FLOOR, floorRoot], floorRoot, process.env)
    const pipelineSeconds = await timed(process.execPath, [MAIN, "--once"], pipelineRoot, daemonEnv())
    // The variants take turns at going first: every run deletes 10,000 files, and on an ext4
    // without a journal the runs right after pay for that (see the comment above).
    const variants = [
      [trustedRoot, { TRUSTED_PRODUCERS: "true" }],
      [allCoresRoot, { INSTANCES: "auto" }],
      [unitRoot, { UV_THREADPOOL_SIZE: String(UNIT_THREADPOOL_SIZE) }]
    ]
    const seconds = new Map()
    for (let k = 0; k < variants.length; k++) {
      const [root, extra] = variants[(index + k) % variants.length]
      seconds.set(root, await timed(process.execPath, [MAIN, "--once"], root, daemonEnv(extra)))
    }
    const [trustedSeconds, allCoresSeconds, unitSeconds] = [trustedRoot, allCoresRoot, unitRoot].map((root) => seconds.get(root))
    const summary = summaryOf(pipelineRoot)
    for (const root of [pipelineRoot, allCoresRoot, unitRoot]) {
      const routed = countFiles(Path.join(root, "validated")) + countFiles(Path.join(root, "returns"))
      if (routed !== corpus.length) throw new Error(`backlog: ${routed} of ${corpus.length} files routed in ${root}`)
    }
    runs.push({
      pipeline_seconds: pipelineSeconds,
      floor_seconds: floorSeconds,
      trusted_seconds: trustedSeconds,
      all_cores_seconds: allCoresSeconds,
      unit_seconds: unitSeconds,
      peak_rss_mb: summary.max_rss_mb
    })
  }
  for (const { pipelineRoot, floorRoot, trustedRoot, allCoresRoot, unitRoot } of pairs) {
    removeAtEnd(pipelineRoot, floorRoot, trustedRoot, allCoresRoot, unitRoot)
  }
  const pipelineSeconds = median(runs.map((r) => r.pipeline_seconds))
  const floorSeconds = median(runs.map((r) => r.floor_seconds))
  return {
    backlog: {
      files: corpus.length,
      records,
      megabytes: bytes / 1e6,
      seconds: pipelineSeconds,
      files_per_s: corpus.length / pipelineSeconds,
      records_per_s: records / pipelineSeconds,
      mb_per_s: bytes / 1e6 / pipelineSeconds,
      // the highest of the runs
      peak_rss_mb: Math.max(...runs.map((r) => r.peak_rss_mb)),
      runs
    },
    floor: {
      seconds: floorSeconds,
      ratio: floorSeconds / pipelineSeconds,
      ratios_by_pair: runs.map((r) => r.floor_seconds / r.pipeline_seconds)
    },
    trusted: {
      seconds: median(runs.map((r) => r.trusted_seconds)),
      // the safe default's time over TRUSTED_PRODUCERS=true's: what storing a copy costs
      copy_cost_ratio: pipelineSeconds / median(runs.map((r) => r.trusted_seconds))
    },
    all_cores: {
      instances: OS.availableParallelism(),
      seconds: median(runs.map((r) => r.all_cores_seconds)),
      ratio: floorSeconds / median(runs.map((r) => r.all_cores_seconds)),
      ratios_by_pair: runs.map((r) => r.floor_seconds / r.all_cores_seconds),
      // one instance's time over INSTANCES=auto's
      speedup: pipelineSeconds / median(runs.map((r) => r.all_cores_seconds))
    },
    systemd_unit: {
      uv_threadpool_size: UNIT_THREADPOOL_SIZE,
      seconds: median(runs.map((r) => r.unit_seconds)),
      ratio: floorSeconds / median(runs.map((r) => r.unit_seconds)),
      ratios_by_pair: runs.map((r) => r.floor_seconds / r.unit_seconds),
      // one instance's time (default pool) over the unit's
      speedup: pipelineSeconds / median(runs.map((r) => r.unit_seconds))
    }
  }
}

const latency = async () => {
  const root = makeRoot("latency")
  NFS.mkdirSync(Path.join(root, "data"), { recursive: true })
  for (const dir of ["validated", "returns"]) NFS.mkdirSync(Path.join(root, dir), { recursive: true })
  const renamedAt = new Map()
  const seenAt = new Map()
  const watchers = ["validated", "returns"].map((dir) =>
    NFS.watch(Path.join(root, dir), (_event, name) => {
      if (name && !name.startsWith(".") && !name.endsWith(".error.json") && !seenAt.has(name)) seenAt.set(name, now())
    })
  )
  const daemon = await startDaemon(root, daemonEnv())
  const total = SIZES.latencyRate * SIZES.latencySeconds
  const corpus = makeCorpus(total, 7)
  const interval = 1000 / SIZES.latencyRate
  const t0 = now()
  for (let i = 0; i < total; i++) {
    const wait = t0 + i * interval - now()
    if (wait > 0) await sleep(wait)
    const f = corpus[i]
    const temp = Path.join(root, "data", `${f.name}.tmp`)
    NFS.writeFileSync(temp, f.content)
    NFS.renameSync(temp, Path.join(root, "data", f.name))
    renamedAt.set(f.name, now())
  }
  const deadline = Date.now() + 30_000
  while (seenAt.size < total && Date.now() < deadline) await sleep(20)
  for (const w of watchers) w.close()
  daemon.child.kill("SIGTERM")
  await daemon.exited
  if (seenAt.size < total) throw new Error(`latency: only ${seenAt.size} of ${total} files arrived`)
  const latencies = [...renamedAt].map(([name, t]) => seenAt.get(name) - t).sort((a, b) => a - b)
  NFS.rmSync(root, { recursive: true, force: true })
  return {
    files: total,
    rate_per_s: SIZES.latencyRate,
    p50_ms: percentile(latencies, 50),
    p95_ms: percentile(latencies, 95),
    p99_ms: percentile(latencies, 99),
    max_ms: latencies[latencies.length - 1]
  }
}

const bigFile = async () => {
  const root = makeRoot("big")
  const [file] = makeCorpus(1, 11, SIZES.bigRecords)
  const { bytes } = writeCorpus(root, [file])
  log(`big file: ${SIZES.bigRecords} records, ${(bytes / 1e6).toFixed(1)} MB`)
  const seconds = await timed(process.execPath, [MAIN, "--once"], root, daemonEnv())
  const summary = summaryOf(root)
  NFS.rmSync(root, { recursive: true, force: true })
  return { records: SIZES.bigRecords, megabytes: bytes / 1e6, seconds, peak_rss_mb: summary.max_rss_mb, outcome: summary.validated === 1 ? "validated" : "returned" }
}

const idle = async () => {
  const root = makeRoot("idle")
  const daemon = await startDaemon(root, daemonEnv())
  await sleep(1000) // start-up work is not idling
  const c0 = cpuSeconds(daemon.child.pid)
  await sleep(SIZES.idleSeconds * 1000)
  const c1 = cpuSeconds(daemon.child.pid)
  daemon.child.kill("SIGTERM")
  await daemon.exited
  NFS.rmSync(root, { recursive: true, force: true })
  return { seconds: SIZES.idleSeconds, cpu_seconds: c1 - c0, cpu_seconds_per_minute: ((c1 - c0) * 60) / SIZES.idleSeconds }
}

// The corpus of the scaling and scale-out scenarios (the backlog's seed: its
// first 10,000 files are the backlog's).
const CORPUS_SEED = 2026
const sync = () => ChildProcess.execFileSync("sync")
/** A path as the table shows it: relative to the working directory when under it. */
const shown = (path) => {
  const relative = Path.relative(process.cwd(), Path.resolve(path))
  return relative.startsWith("..") || Path.isAbsolute(relative) ? Path.resolve(path) : relative
}
const seconds = (t0) => (now() - t0) / 1000

// One run per size, smallest first, each after the floor on its own copy of
// the same corpus. Every corpus is written (and synced) before the first timed
// run and deleted after the last, as in backlogAndFloor (ext4's recently
// deleted inodes); the generator streams, so a million files are never held.
const scaling = async (sizes) => {
  const plan = [...new Set(sizes)].sort((a, b) => a - b).map((files) => ({ files, root: makeRoot(`scale-${files}`), floorRoot: makeRoot(`scale-floor-${files}`) }))
  for (const p of plan) removeAtEnd(p.root, p.floorRoot)
  for (const p of plan) {
    const t0 = now()
    Object.assign(p, writeCorpus([p.root, p.floorRoot], corpusFiles(p.files, CORPUS_SEED)))
    log(`scaling: ${p.files} files (${p.records} records, ${(p.bytes / 1e6).toFixed(1)} MB) written twice (daemon, floor) in ${seconds(t0).toFixed(1)} s`)
  }
  sync()
  const points = []
  for (const p of plan) {
    const floorSeconds = await timed(process.execPath, [FLOOR, p.floorRoot], p.floorRoot, process.env).catch((e) => {
      keepForInspection(p.floorRoot)
      throw e
    })
    const run = await daemonOnce(p.root, daemonEnv()).catch((e) => {
      keepForInspection(p.root)
      throw e
    })
    const routed = countFiles(Path.join(p.root, "validated")) + countFiles(Path.join(p.root, "returns"))
    if (routed !== p.files) {
      keepForInspection(p.root)
      throw new Error(`scaling: ${routed} of ${p.files} files routed (see ${p.root})`)
    }
    const summary = summaryOf(p.root)
    log(`scaling: ${p.files} files in ${run.seconds.toFixed(2)} s, peak RSS ${run.peak_rss_mb} MB; floor ${floorSeconds.toFixed(2)} s`)
    points.push({
      files: p.files,
      records: p.records,
      megabytes: p.bytes / 1e6,
      seconds: run.seconds,
      files_per_s: p.files / run.seconds,
      // VmHWM of the daemon at its exit (bench/peak-rss.cjs)
      peak_rss_mb: run.peak_rss_mb,
      // its own figure, in its "stopped" line (the same counter, before its last notifications)
      daemon_max_rss_mb: summary.max_rss_mb,
      floor_seconds: floorSeconds,
      floor_ratio: floorSeconds / run.seconds
    })
  }
  const first = points[0]
  const last = points[points.length - 1]
  return {
    seed: CORPUS_SEED,
    settings: "defaults, --once, console to a file",
    points,
    // what each further waiting file costs in peak RSS, between the smallest and the largest backlog
    rss_kb_per_file: points.length > 1 ? ((last.peak_rss_mb - first.peak_rss_mb) * 1024) / (last.files - first.files) : null
  }
}

// ------------------------------------------------------------ scale-out

/** Mounts a one-brick GlusterFS volume twice (scripts/netfs.sh): the two mount points. */
const glusterUp = (dir) => {
  log(`scale-out: setting up GlusterFS in ${dir} (scripts/netfs.sh gluster-up)`)
  const mounts = ChildProcess.execFileSync("bash", [NETFS, "gluster-up", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
    .trim()
    .split("\n")
  if (mounts.length !== 2) throw new Error(`scripts/netfs.sh gluster-up printed ${mounts.length} mount points, not 2`)
  return mounts
}

/** Tears the volume down; a failure is reported, never thrown (it must not hide the run's own error). */
const glusterDown = (dir) => {
  log(`scale-out: tearing GlusterFS down (scripts/netfs.sh gluster-down ${dir})`)
  const down = ChildProcess.spawnSync("bash", [NETFS, "gluster-down", dir], { stdio: ["ignore", "ignore", "inherit"] })
  if (down.status !== 0) log(`WARNING: scripts/netfs.sh gluster-down ${dir} exited ${down.status}: unmount and delete the volume by hand`)
}

/**
 * `cwds.length` instances of `node dist/main.js --once` started together, one
 * in each of `cwds` (the same tree, through one mount or another): wall
 * seconds from the first spawn to the last exit, and each one's peak RSS.
 */
const instancesOnce = async (cwds, logRoot, extraEnv) => {
  NFS.mkdirSync(logRoot, { recursive: true })
  const t0 = now()
  const settled = await Promise.allSettled(
    cwds.map((cwd, i) =>
      daemonOnce(cwd, daemonEnv({ ...extraEnv, LOG_DIR: Path.join(logRoot, `instance-${i + 1}`) }), {
        peakFile: Path.join(logRoot, `instance-${i + 1}.peak-rss.kb`),
        consoleFile: Path.join(logRoot, `instance-${i + 1}.console.log`)
      })
    )
  )
  const failed = settled.find((r) => r.status === "rejected")
  if (failed) throw failed.reason
  return { seconds: seconds(t0), peak_rss_mb: settled.map((r) => r.value.peak_rss_mb) }
}

/**
 * The routing check after a trial; on a network filesystem the listing through
 * one mount can show the other's last renames about a second late, so it is
 * asked again for up to 10 s before the problems count.
 */
const checkTree = async (tree, expected, patient) => {
  const deadline = Date.now() + (patient ? 10_000 : 0)
  for (;;) {
    const problems = routingProblems(expected, listTree(tree))
    if (problems.length === 0 || Date.now() >= deadline) return problems
    await sleep(500)
  }
}

// The same backlog drained by 1 instance and by N started together, trials
// alternating (1, 2, 1, 2, ...), every tree written before the first trial.
// After each trial every file must be stored exactly once and nothing left
// behind: a speed-up that loses or duplicates files is no speed-up.
const scaleOut = async () => {
  const gluster = options.netfs === "gluster"
  const files = gluster ? SIZES.netfsFiles : SIZES.scaleOutFiles
  const trials = SIZES.scaleOutTrials
  const local = makeRoot(gluster ? "scaleout-gluster" : "scaleout")
  // Short: scripts/netfs.sh reads `gluster volume status`, whose table wraps a long brick path
  // onto two lines (then the brick never looks online).
  const netfsDir = gluster ? NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-gl-")) : ""
  let mounts = [local]
  let keep = false
  // An interrupted run still unmounts and deletes the volume, and stops the daemons it started.
  const onSignal = async (signal) => {
    // the daemons first: a mount with files open only unmounts lazily
    const exited = [...children].map((child) => new Promise((resolve) => child.once("exit", resolve)))
    for (const child of children) child.kill("SIGKILL")
    await Promise.race([Promise.all(exited), sleep(5_000)])
    glusterDown(netfsDir)
    for (const dir of [netfsDir, local]) NFS.rmSync(dir, { recursive: true, force: true })
    process.exit(signal === "SIGINT" ? 130 : 143)
  }
  if (gluster) for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, onSignal)
  try {
    if (gluster) mounts = glusterUp(netfsDir)
    const plan = []
    for (let trial = 1; trial <= trials; trial++) {
      for (const instances of INSTANCES) plan.push({ trial, instances, tree: `trial-${trial}-n${instances}` })
    }
    // The floor on the same mount, once per trial (on a local disk the scaling and backlog scenarios have it).
    const floors = gluster ? Array.from({ length: trials }, (_, i) => `trial-${i + 1}-floor`) : []
    const expected = new Map()
    const t0 = now()
    writeCorpus([...plan.map((p) => Path.join(mounts[0], p.tree)), ...floors.map((f) => Path.join(mounts[0], f))], corpusFiles(files, CORPUS_SEED), expected)
    sync()
    log(`scale-out${gluster ? " on GlusterFS" : ""}: ${files} files × ${plan.length + floors.length} trees written in ${seconds(t0).toFixed(1)} s; instances ${INSTANCES.join(", ")}, ${trials} trial(s) each, alternating`)
    const runs = []
    const floorRuns = []
    for (let trial = 1; trial <= trials; trial++) {
      if (gluster) {
        const floorTree = Path.join(mounts[0], `trial-${trial}-floor`)
        floorRuns.push(await timed(process.execPath, [FLOOR, floorTree], local, process.env, Path.join(local, `trial-${trial}-floor.console.log`)))
        log(`scale-out: floor on GlusterFS ${floorRuns.at(-1).toFixed(2)} s`)
      }
      for (const p of plan.filter((q) => q.trial === trial)) {
        const logRoot = Path.join(local, `${p.tree}-logs`)
        // instance i works through mount i mod 2 (one mount on a local disk)
        const cwds = Array.from({ length: p.instances }, (_, i) => Path.join(mounts[i % mounts.length], p.tree))
        keep = true // until this trial has passed: its logs (and, locally, its tree) are what a failure needs
        const run = await instancesOnce(cwds, logRoot, gluster ? { WATCH_MODE: "poll" } : {})
        const problems = await checkTree(Path.join(mounts[0], p.tree), expected, gluster)
        if (problems.length > 0) {
          throw new Error(
            `scale-out: after trial ${trial} with ${p.instances} instance(s): ${problems.join("; ")}` +
              (gluster ? " (the volume is torn down; the logs stay in " + logRoot + ")" : ` (the tree is kept: ${Path.join(local, p.tree)})`)
          )
        }
        keep = false
        log(`scale-out: trial ${trial}, ${p.instances} instance(s): ${run.seconds.toFixed(2)} s, every file stored once`)
        runs.push({ trial, instances: p.instances, seconds: run.seconds, peak_rss_mb: run.peak_rss_mb })
      }
    }
    const medianOf = (n) => median(runs.filter((r) => r.instances === n).map((r) => r.seconds))
    const one = medianOf(1)
    return {
      filesystem: gluster ? "glusterfs: one brick, two FUSE mounts, instances alternating between them (scripts/netfs.sh)" : "local",
      files,
      trials,
      instances: INSTANCES,
      // in the order they ran
      runs,
      by_instances: INSTANCES.map((n) => ({
        instances: n,
        runs_seconds: runs.filter((r) => r.instances === n).map((r) => r.seconds),
        median_seconds: medianOf(n),
        files_per_s: files / medianOf(n),
        speedup: one / medianOf(n),
        peak_rss_mb: Math.max(...runs.filter((r) => r.instances === n).flatMap((r) => r.peak_rss_mb))
      })),
      floor: gluster ? { runs_seconds: floorRuns, median_seconds: median(floorRuns), floor_over_one_instance: median(floorRuns) / one } : null
    }
  } finally {
    if (gluster) {
      for (const signal of ["SIGINT", "SIGTERM"]) process.off(signal, onSignal)
      glusterDown(netfsDir)
      NFS.rmSync(netfsDir, { recursive: true, force: true })
    }
    if (!keep) removeAtEnd(local)
  }
}

// ----------------------------------------------------------------------- run

if (!NFS.existsSync(MAIN)) throw new Error("dist/main.js is missing: run `npm run build` first")
const SETTING_NAMES = Object.keys((await import(pathToFileURL(Path.join(here, "..", "dist", "Config.js")).href)).SETTINGS)
const machine = {
  cpu: OS.cpus()[0]?.model ?? "unknown",
  cores: OS.cpus().length,
  memory_gb: Math.round(OS.totalmem() / 1024 ** 3),
  node: process.version,
  platform: `${OS.platform()} ${OS.release()}`
}
const runs = (scenario) => options.only.includes(scenario)
log(`${smoke ? "smoke run" : "full run"} of ${options.only.join(", ")} on ${machine.cores} × ${machine.cpu}, ${machine.memory_gb} GB, Node ${machine.node}`)
const date = new Date().toISOString()
const results = { date, smoke, machine, scenarios: options.only }
// Results first, then the corpora go (deleting a few hundred thousand files takes minutes).
try {
  if (runs("backlog")) Object.assign(results, await backlogAndFloor())
  if (runs("latency")) results.latency = await latency()
  if (runs("big")) results.big_file = await bigFile()
  if (runs("idle")) results.idle = await idle()
  if (runs("scaling")) {
    results.scaling = await scaling(options.scale ?? SIZES.scaling)
    const svg = scalingSvg(results.scaling.points, {
      subtitle: `${machine.cores} × ${machine.cpu}, Node ${machine.node}, ${date.slice(0, 10)}: node dist/main.js --once, default settings, one run per size`,
      limits: [
        { mb: 200, label: "target: ≤ 200 MB at 10k files" },
        { mb: 256, label: "target: ≤ 256 MB at 1M files" }
      ]
    })
    const charts = [Path.join(Path.dirname(outFile), smoke ? "smoke-scaling.svg" : "scaling.svg"), ...(options.chart ? [options.chart] : [])]
    for (const chart of charts) {
      NFS.mkdirSync(Path.dirname(Path.resolve(chart)), { recursive: true })
      NFS.writeFileSync(chart, svg)
    }
    results.scaling.charts = charts.map(shown)
  }
  if (runs("scaleout")) results.scale_out = await scaleOut()
  NFS.mkdirSync(Path.dirname(outFile), { recursive: true })
  NFS.writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n")

  const f = (n, d = 1) => Number(n).toFixed(d)
  const count = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  const rows = []
  const { backlog, floor, trusted, all_cores: allCores, systemd_unit: unit, latency: lat, big_file: big, idle: quiet, scaling: scaled, scale_out: scaleOutResult } = results
  if (backlog) {
    rows.push(
      ["backlog", `${backlog.files} files in ${f(backlog.seconds, 2)} s (median of ${backlog.runs.length}): ${f(backlog.files_per_s, 0)} files/s, ${f(backlog.records_per_s, 0)} records/s, ${f(backlog.mb_per_s)} MB/s, peak RSS ${backlog.peak_rss_mb} MB`, "RSS ≤ 200 MB"],
      ["floor", `${f(floor.seconds, 2)} s; floor/pipeline = ${f(floor.ratio, 2)} (pairs: ${floor.ratios_by_pair.map((r) => f(r, 2)).join(", ")})`, "≥ 0.6"],
      ["trusted", `TRUSTED_PRODUCERS=true: ${f(trusted.seconds, 2)} s; the safe default takes ${f(trusted.copy_cost_ratio, 2)}× that (the copy it stores)`, "—"],
      [
        "all cores",
        `INSTANCES=auto (${allCores.instances} instances): ${f(allCores.seconds, 2)} s, ${f(allCores.speedup, 2)}× one; floor/pipeline = ${f(allCores.ratio, 2)} (pairs: ${allCores.ratios_by_pair.map((r) => f(r, 2)).join(", ")})`,
        "≥ 0.6"
      ],
      [
        "unit",
        `as the systemd unit runs it (UV_THREADPOOL_SIZE=${unit.uv_threadpool_size}): ${f(unit.seconds, 2)} s, ${f(unit.speedup, 2)}× the default; floor/pipeline = ${f(unit.ratio, 2)} (pairs: ${unit.ratios_by_pair.map((r) => f(r, 2)).join(", ")})`,
        "—"
      ]
    )
  }
  if (lat) rows.push(["latency", `p50 ${f(lat.p50_ms)} ms, p95 ${f(lat.p95_ms)} ms, p99 ${f(lat.p99_ms)} ms, max ${f(lat.max_ms)} ms (${lat.files} files at ${lat.rate_per_s}/s)`, "p50 ≤ 10, p99 ≤ 50 ms"])
  if (big) rows.push(["big file", `${f(big.megabytes)} MB, ${big.records} records in ${f(big.seconds, 2)} s, peak RSS ${big.peak_rss_mb} MB (${big.outcome})`, "≤ 5 s, ≤ 1 GB"])
  if (quiet) rows.push(["idle", `${f(quiet.cpu_seconds, 2)} CPU-s in ${quiet.seconds} s = ${f(quiet.cpu_seconds_per_minute, 2)} CPU-s/min`, "≤ 0.6 CPU-s/min"])
  if (scaled) {
    for (const p of scaled.points) {
      rows.push([
        "scaling",
        `${count(p.files)} files in ${f(p.seconds, 2)} s: ${f(p.files_per_s, 0)} files/s, peak RSS ${p.peak_rss_mb} MB; floor ${f(p.floor_seconds, 2)} s (floor/pipeline ${f(p.floor_ratio, 2)})`,
        p.files <= 10_000 ? "RSS ≤ 200 MB" : "RSS ≤ 256 MB (at 1M)"
      ])
    }
    if (scaled.rss_kb_per_file !== null) {
      rows.push(["scaling", `peak RSS grows ${f(scaled.rss_kb_per_file * 1000, 0)} kB per 1,000 waiting files (${count(scaled.points[0].files)} → ${count(scaled.points.at(-1).files)}); chart: ${scaled.charts.join(", ")}`, "flat"])
    }
  }
  if (scaleOutResult) {
    const where = scaleOutResult.floor ? "GlusterFS" : "local disk"
    const [one, ...more] = scaleOutResult.by_instances
    for (const n of more) {
      rows.push([
        "scale-out",
        `${where}, ${count(scaleOutResult.files)} files: ${n.instances} instances ${f(n.median_seconds, 2)} s (${n.runs_seconds.map((x) => f(x, 2)).join(", ")}) vs 1 instance ${f(one.median_seconds, 2)} s (${one.runs_seconds.map((x) => f(x, 2)).join(", ")}): speed-up ${f(n.speedup, 2)}×`,
        scaleOutResult.floor ? "≥ 1× (never slower)" : n.instances === 2 ? "≥ 1.5×" : "≥ the 2-instance speed-up"
      ])
    }
    if (scaleOutResult.floor) {
      const fl = scaleOutResult.floor
      rows.push(["scale-out", `floor on the same GlusterFS mount: ${f(fl.median_seconds, 2)} s (${fl.runs_seconds.map((x) => f(x, 2)).join(", ")}); floor / one instance = ${f(fl.floor_over_one_instance, 2)}`, "—"])
    }
  }
  const nameWidth = Math.max(8, ...rows.map((r) => r[0].length))
  const width = Math.max(6, ...rows.map((r) => r[1].length))
  process.stdout.write(`| ${"scenario".padEnd(nameWidth)} | result${" ".repeat(width - 6)} | target |\n|${"-".repeat(nameWidth + 2)}|${"-".repeat(width + 2)}|---|\n`)
  for (const [name, result, target] of rows) process.stdout.write(`| ${name.padEnd(nameWidth)} | ${result.padEnd(width)} | ${target} |\n`)
  process.stdout.write(`results: ${shown(outFile)}\n`)
} finally {
  if (toRemove.length > 0) log(`removing ${toRemove.length} folder(s) of corpora`)
  for (const dir of toRemove) NFS.rmSync(dir, { recursive: true, force: true })
}
