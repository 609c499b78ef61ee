// The benchmark: `npm run bench` (builds first). All scenarios run in one
// invocation on the same machine, so their ratios hold on a noisy machine.
//
//   backlog   10,000 files in data/ (the corpus of bench/corpus.mjs: 1 to 5
//             records a file, about 10 % invalid), each row on its own copy,
//             every copy written and synced before the first timed run. Rows,
//             taking turns at going first from round to round:
//               bare floor          bench/floor.mjs: list, rename, read, JSON.parse,
//                                   rename; 16 at a time
//               durable-copy floor  bench/copyfloor.mjs: list, rename, read,
//                                   JSON.parse, create O_EXCL, write, fdatasync,
//                                   unlink; 16 at a time
//               naive               bench/naive.mjs: one file at a time, copy into
//                                   processing/, the daemon's contract, move (and a
//                                   report for a returned file)
//               daemon              `node dist/main.js --once`, defaults, console
//                                   off, files owned by the daemon's user (root)
//               other user          the same, every file chowned to uid 65534
//                                   first (a producer of another user: the store
//                                   copies across that trust boundary)
//             and on the local disk only: the daemon with STORE_MODE=link,
//             with INSTANCES=auto, and with the systemd unit's
//             UV_THREADPOOL_SIZE. Three rounds on the local disk (the temporary
//             folder) and five on a tmpfs mounted for the run. Per row: median
//             time, files/s, CPU seconds (user + system, the child's resource
//             usage from GNU time); and issue 25's ratios, as speeds: daemon ÷
//             bare floor (≥ 0.6), other user ÷ durable-copy floor (≥ 0.75),
//             daemon ÷ naive (≥ 3 on the disk)
//   latency   the daemon running; files dropped by atomic rename at 100/s
//             for 30 s; time from the rename into data/ to the file in
//             validated/ or returns/
//   big       one 50 MB file (100,000 records), --once
//   idle      CPU seconds the daemon uses over 60 s with nothing to do
//   scaling   backlogs of 10,000 and 100,000 files (and 1,000,000 with
//             --million), --once, default settings: wall time, files/s and
//             that rate over the 10,000-file rate, the daemon's peak RSS (its
//             VmHWM read at exit, bench/peak-rss.cjs), the floor on each; a
//             chart of RSS and files/s against the backlog (bench/chart.mjs)
//   scaleout  10,000 files drained by 1 instance vs 2 started together with
//             --once on the same folders; three alternating trials each,
//             medians, speed-up = median(1) / median(N); after every trial
//             every file must be in validated/ or returns/ exactly once and
//             nothing left in data/ or processing/ (bench/routing.mjs)
//   quota     the same with every instance held to its own CPU quota (0.45
//             core, its own cgroup: bench/quota.mjs), 1, 2 and 4 instances:
//             N instances' rate ÷ (N × one instance's rate), the same
//             exactly-once check (2: ≥ 0.8, 4: ≥ 0.7)
//   partners  PARTNERS_FILE with 200 partners (each its inbox and returns
//             folder, 0700) holding 50 files each, against one DATA_DIR
//             holding the same 10,000 files; --once, console off, three
//             alternating trials, medians: the 200 partners' rate over the one
//             inbox's (≥ 0.9), peak RSS of each; then the daemon idle for
//             `idle`'s time watching 200 empty inboxes, and one DATA_DIR:
//             CPU-s a minute of each, and their ratio (no polling per inbox:
//             ≈ 1). Only builds that know PARTNERS_FILE.
//
// Options (bench/options.mjs):
//   --only a,b       run only these scenarios (names above; default: all)
//   --against REF    build REF (any git ref) in a temporary git worktree and
//                    run every selected scenario side by side with the working
//                    tree, alternating (REF, working tree, REF, ...; at least
//                    three runs each): medians and working tree ÷ REF ratios of
//                    time, files/s and CPU seconds (bench/worktree.mjs)
//   --files N        the backlog, scale-out and quota scenarios on N files
//   --rounds N       rounds of the backlog (on disk and on tmpfs), trials of
//                    the scale-out and quota scenarios, runs of each build
//                    with --against
//   --scale N,N,...  the scaling scenario at these backlog sizes (e.g. 1000000;
//                    not part of a full run); alone, it runs only that scenario
//   --million        the scaling scenario also at 1,000,000 files (and 10,000,
//                    the rate it is compared with); does not restrict the run
//   --instances N,.. the scale-out and quota scenarios with these instance
//                    counts (1 is always measured: the baseline); alone, only scale-out
//   --quota CORES    each instance's CPU quota in the quota scenario (0.45);
//                    alone, only that scenario
//   --netfs gluster  the scale-out scenario on a GlusterFS volume mounted twice
//                    by scripts/netfs.sh (instances split over the two mounts,
//                    3,000 files, the floor on the same mount); always torn down
//   --chart FILE     also write the scaling chart to FILE (e.g. docs/scaling.svg)
//   --out FILE       the JSON results (default bench/results/latest.json for a
//                    run of every scenario, bench/results/<scenarios>.json for
//                    a subset, bench/results/against-<commit>[-<scenarios>].json
//                    with --against, and smoke-… for --smoke)
//
// The tmpfs rows, the other-user row and the quota scenario need root (they
// mount, chown and make cgroups); without it they are skipped and said to be.
// Every tmpfs, cgroup, worktree and process the run makes is removed at its
// end, after a failure, and on SIGINT/SIGTERM.
//
// `--smoke` runs everything small (200 files, one round, 3 s of latency, 2 s
// idle, scaling at 200 and 400 files, scale-out 1 vs 2 and quota 1, 2, 4 on
// 200 files, one trial) and is part of the test suite, which asserts only that
// it runs and prints its table. Results: a table on stdout, JSON in the --out
// file, and the chart (bench/results/scaling.svg; smoke-scaling.svg beside a
// smoke run's JSON).
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { scalingSvg } from "./chart.mjs"
import { corpusFiles, makeCorpus } from "./corpus.mjs"
import { parseOptions, SCENARIOS } from "./options.mjs"
import { detectCgroups, makeQuotaGroups } from "./quota.mjs"
import { listTree, routingProblems } from "./routing.mjs"
import { backlogRatios, compareBuilds, median, medianFields, parseRusage, scaleOutEfficiency } from "./stats.mjs"
import { mountTmpfs } from "./tmpfs.mjs"
import { buildRef } from "./worktree.mjs"

const here = Path.dirname(fileURLToPath(import.meta.url))
const REPO = Path.join(here, "..")
const FLOOR = Path.join(here, "floor.mjs")
const COPY_FLOOR = Path.join(here, "copyfloor.mjs")
const NAIVE = Path.join(here, "naive.mjs")
/** The thread pool the systemd unit gives the daemon, read from the unit so the two cannot drift apart. */
const UNIT_THREADPOOL_SIZE = Number(
  /^Environment=UV_THREADPOOL_SIZE=(\d+)$/m.exec(NFS.readFileSync(Path.join(REPO, "deploy", "customer-json-processor.service"), "utf8"))?.[1] ?? 4
)
const PEAK_RSS = Path.join(here, "peak-rss.cjs")
const NETFS = Path.join(REPO, "scripts", "netfs.sh")
// GNU time reports a child's resource usage as wait4 gives it (the child and
// the children it waited for): its CPU seconds and peak RSS.
const TIME = "/usr/bin/time"
const HAVE_TIME = NFS.existsSync(TIME)
const IS_ROOT = process.getuid?.() === 0
/** The other user of the other-user row (nobody), as the hostile-producer tests use. */
const OTHER_UID = 65534
const DEFAULT_QUOTA = 0.45

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

const BASE_SIZES = smoke
  ? {
      backlog: 200, diskRounds: 1, tmpfsRounds: 1, latencyRate: 100, latencySeconds: 3, bigRecords: 2_000, idleSeconds: 2,
      scaling: [200, 400], scaleOutFiles: 200, scaleOutTrials: 1, netfsFiles: 200, quotaFiles: 200, quotaTrials: 1, againstRuns: 1,
      partners: 20, partnerFiles: 10, partnerTrials: 1
    }
  : {
      backlog: 10_000, diskRounds: 3, tmpfsRounds: 5, latencyRate: 100, latencySeconds: 30, bigRecords: 100_000, idleSeconds: 60,
      scaling: [10_000, 100_000], scaleOutFiles: 10_000, scaleOutTrials: 3, netfsFiles: 3_000, quotaFiles: 10_000, quotaTrials: 3, againstRuns: 3,
      partners: 200, partnerFiles: 50, partnerTrials: 3
    }
const SIZES = {
  ...BASE_SIZES,
  ...(options.files !== undefined && { backlog: options.files, scaleOutFiles: options.files, netfsFiles: options.files, quotaFiles: options.files }),
  ...(options.rounds !== undefined && {
    diskRounds: options.rounds, tmpfsRounds: options.rounds, scaleOutTrials: options.rounds, quotaTrials: options.rounds, againstRuns: options.rounds
  })
}
// The baseline of every speed-up is one instance.
const withOne = (counts) => [...new Set([1, ...counts])].sort((a, b) => a - b)
const INSTANCES = withOne(options.instances ?? [1, 2])
const QUOTA_INSTANCES = withOne(options.instances ?? [1, 2, 4])
const QUOTA = options.quota ?? DEFAULT_QUOTA
const SCALING_SIZES = [...new Set([...(options.scale ?? SIZES.scaling), ...(options.million ? [10_000, 1_000_000] : [])])].sort((a, b) => a - b)

const log = (line) => process.stderr.write(`[bench] ${line}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const now = () => performance.timeOrigin + performance.now()
const seconds = (t0) => (now() - t0) / 1000

const makeRoot = (name, base = OS.tmpdir()) => NFS.mkdtempSync(Path.join(base, `cjp-bench-${name}-`))

// ------------------------------------------------------------ clean-up

// What the run has made that must go whatever happens (tmpfs mounts, cgroups, the
// worktree): undone last first, at the end, after a failure, and on SIGINT/SIGTERM.
const cleanups = []
const onCleanup = (undo) => {
  cleanups.push(undo)
  return undo
}
/** Undoes `undo` now (it is idempotent) and forgets it; if it fails, it stays for the end to try again. */
const cleanUpNow = (undo) => {
  undo()
  const at = cleanups.indexOf(undo)
  if (at >= 0) cleanups.splice(at, 1)
}
const runCleanups = () => {
  while (cleanups.length > 0) {
    const undo = cleanups.pop()
    try {
      undo()
    } catch (e) {
      log(`WARNING: clean-up failed: ${e.message}`)
    }
  }
}

// The big corpora (backlog, scaling, scale-out) are deleted only after the last
// scenario: on ext4, creating files right after a mass deletion is ten to
// twenty times slower for minutes (docs/PERFORMANCE.md), and the next
// scenario would measure the previous one's deletion.
const toRemove = []
// set by SIGINT/SIGTERM: the runs it ends fail, and their trees are not worth keeping
let stopping = false
const removeAtEnd = (...dirs) => toRemove.push(...dirs)
/** A tree a failure left: kept for inspection (the error names it), unless the failure is the run being stopped. */
const keepForInspection = (dir) => {
  if (stopping) return
  const at = toRemove.indexOf(dir)
  if (at >= 0) toRemove.splice(at, 1)
}
const removeCorpora = () => {
  if (toRemove.length > 0) log(`removing ${toRemove.length} folder(s) of corpora`)
  for (const dir of toRemove.splice(0)) NFS.rmSync(dir, { recursive: true, force: true })
}

// Every process the run starts, each the leader of its own process group (so a
// signal reaches the daemon behind GNU time and sh too).
const children = new Set()
const stopChildren = async () => {
  const exited = [...children].map((child) => new Promise((resolve) => child.once("exit", resolve)))
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
  await Promise.race([Promise.all(exited), sleep(5_000)])
}
const onSignal = async (signal) => {
  if (stopping) return
  stopping = true
  log(`${signal}: stopping the processes this run started and removing what it made`)
  // the processes first: a mount with files open only unmounts lazily, a cgroup with processes stays
  await stopChildren()
  // then the run, whose runs have failed, unwinds (and says what else it made) before the rest goes
  await Promise.race([finished, sleep(5_000)])
  runCleanups()
  removeCorpora()
  process.exit(signal === "SIGINT" ? 130 : 143)
}
// settles when the run has ended, one way or the other
let finished = Promise.resolve()
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, onSignal)

// -------------------------------------------------------------- builds

// The working tree's build (dist/, made by `npm run bench`), and with --against REF's too.
const WORK = { label: "working tree", dist: Path.join(REPO, "dist"), main: Path.join(REPO, "dist", "main.js") }
let REF = null
/** The builds every daemon run is made with, in the order they alternate: REF first. */
const builds = () => (REF === null ? [WORK] : [REF, WORK])
/** A build's name in the table, when there are two. */
const tag = (build) => (REF === null || build === null ? "" : ` [${build.label}]`)

// Every measurement, per scenario, row and build: what --against compares.
const measurements = []
const record = (scenario, row, build, round, metrics) => measurements.push({ scenario, row, build: build?.label ?? null, round, metrics })

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

/** Every file in `root`/data/ owned by `uid` (a producer of another user). */
const chownData = (root, uid) => {
  const data = Path.join(root, "data")
  for (const name of NFS.readdirSync(data)) NFS.lchownSync(Path.join(data, name), uid, uid)
}

// The daemon's environment: defaults, except for a console that goes to a file.
// Every variable a build reads (from the builds' own Config) is removed, so that
// what the shell exports (INSTANCES, FS_CALLS, ...) changes nothing.
let SETTING_NAMES = []
const daemonEnv = (extra = {}) => {
  const env = { ...process.env }
  for (const key of SETTING_NAMES) delete env[key]
  return { ...env, ...extra }
}
/** The names of the variables a build reads: SETTINGS of its dist/Config.js (DEFAULTS in older builds). */
const settingNamesOf = async (build) => {
  const config = await import(pathToFileURL(Path.join(build.dist, "Config.js")).href)
  return Object.keys(config.SETTINGS ?? config.DEFAULTS ?? {})
}

const usageOf = (file) => {
  const usage = HAVE_TIME && NFS.existsSync(file) ? parseRusage(NFS.readFileSync(file, "utf8")) : null
  return usage ?? { cpu_seconds: null, max_rss_mb: null }
}

/**
 * Runs a command to its end with stdout+stderr to a file (console.log in cwd),
 * through GNU time (when there) and, given a cgroup folder, in that group from
 * its first instruction: `{ seconds, cpu_seconds, max_rss_mb }`.
 */
const timed = (command, commandArgs, cwd, env, consoleFile = Path.join(cwd, "console.log"), cgroup) =>
  new Promise((resolve, reject) => {
    const usageFile = `${consoleFile}.rusage`
    let argv = [command, ...commandArgs]
    if (HAVE_TIME) argv = [TIME, "-f", "%U %S %M", "-o", usageFile, ...argv]
    // sh joins the group and becomes the command: nothing of it runs outside the quota
    if (cgroup) argv = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', Path.join(cgroup, "cgroup.procs"), ...argv]
    const out = NFS.openSync(consoleFile, "w")
    const t0 = now()
    const child = ChildProcess.spawn(argv[0], argv.slice(1), { cwd, env, stdio: ["ignore", out, out], detached: true })
    children.add(child)
    child.on("error", (e) => {
      children.delete(child)
      reject(e)
    })
    child.on("exit", (code, signal) => {
      const wall = seconds(t0)
      children.delete(child)
      NFS.closeSync(out)
      const script = commandArgs.find((a) => /\.m?js$/.test(a)) ?? command
      if (code !== 0) reject(new Error(`${Path.basename(script)} ${signal ? `was ended by ${signal}` : `exited ${code}`}; see ${consoleFile}`))
      else resolve({ seconds: wall, ...usageOf(usageFile) })
    })
  })

/**
 * `node dist/main.js --once` of `build` in `cwd`, with bench/peak-rss.cjs
 * preloaded to record its VmHWM at exit in `peakFile`:
 * `{ seconds, cpu_seconds, max_rss_mb, peak_rss_mb }`.
 */
const daemonOnce = async (build, cwd, env, { peakFile = Path.join(cwd, "peak-rss.kb"), consoleFile, cgroup } = {}) => {
  NFS.rmSync(peakFile, { force: true })
  const run = await timed(process.execPath, ["--require", PEAK_RSS, build.main, "--once"], cwd, { ...env, CJP_BENCH_PEAK_FILE: peakFile }, consoleFile, cgroup)
  return { ...run, peak_rss_mb: peakMegabytes(peakFile) }
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

const startDaemon = async (build, root, env) => {
  const out = NFS.openSync(Path.join(root, "console.log"), "w")
  const child = ChildProcess.spawn(process.execPath, [build.main], { cwd: root, env, stdio: ["ignore", out, out], detached: true })
  children.add(child)
  const exited = new Promise((resolve) =>
    child.on("exit", (code) => {
      children.delete(child)
      NFS.closeSync(out)
      resolve(code)
    })
  )
  const deadline = Date.now() + 20_000
  while (!NFS.existsSync(Path.join(root, "console.log")) || !NFS.readFileSync(Path.join(root, "console.log"), "utf8").includes("customer-json-processor started")) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`the daemon did not start; see ${Path.join(root, "console.log")}`)
    }
    await sleep(20)
  }
  return { child, exited }
}

/**
 * `runs` runs of `measure(build)` for each build, alternating (REF, working
 * tree, REF, ...), the figures named in `compared` recorded under `scenario`:
 * the working tree's medians of each figure.
 */
const alternating = async (scenario, runs, measure, compared) => {
  const mine = []
  for (let round = 0; round < runs; round++) {
    for (const build of builds()) {
      const result = await measure(build)
      record(scenario, scenario, build, round, Object.fromEntries(compared.map((key) => [key, result[key]])))
      if (build === WORK) mine.push(result)
      if (runs > 1 || REF !== null) log(`${scenario}: run ${round + 1} of ${runs}${tag(build)} done`)
    }
  }
  return { ...medianFields(mine), runs: mine.length }
}

// ------------------------------------------------------------------ backlog

// The corpus of the backlog, scaling and scale-out scenarios (the backlog is the
// first 10,000 files of the scaling corpus).
const CORPUS_SEED = 2026
const sync = () => ChildProcess.execFileSync("sync")

const REFERENCE_ROWS = { "bare floor": FLOOR, "durable-copy floor": COPY_FLOOR, naive: NAIVE }

/**
 * The rows of the backlog on `place`, in groups that run one after the other
 * (each daemon row's builds side by side: REF, working tree).
 */
const backlogGroups = (place) => {
  const reference = (row) => [{ row, script: REFERENCE_ROWS[row], build: null }]
  const daemon = (row, extra = {}, owner = null) => builds().map((build) => ({ row, build, extra, owner }))
  return [
    reference("bare floor"),
    reference("durable-copy floor"),
    reference("naive"),
    daemon("daemon"),
    ...(IS_ROOT ? [daemon("other user", {}, OTHER_UID)] : []),
    ...(place === "disk"
      ? [
          // every file linked into place: STORE_MODE=link, or TRUSTED_PRODUCERS=true in builds before it
          daemon("trusted", (build) => (build.settingNames?.includes("STORE_MODE") ? { STORE_MODE: "link" } : { TRUSTED_PRODUCERS: "true" })),
          daemon("all cores", { INSTANCES: "auto" }),
          daemon("unit", { UV_THREADPOOL_SIZE: String(UNIT_THREADPOOL_SIZE) })
        ]
      : [])
  ]
}

/** A failed run's console and logs, copied out of a tmpfs before it goes: the folder they are in. */
const preserve = (root) => {
  const kept = makeRoot("failed")
  for (const name of ["console.log", "logs"]) {
    if (NFS.existsSync(Path.join(root, name))) NFS.cpSync(Path.join(root, name), Path.join(kept, name), { recursive: true })
  }
  return kept
}

const backlog = async () => {
  const files = SIZES.backlog
  const corpus = makeCorpus(files, CORPUS_SEED)
  const expected = new Map(corpus.map((f) => [f.name, f.valid]))
  const places = [{ place: "disk", rounds: SIZES.diskRounds }]
  if (IS_ROOT) places.push({ place: "tmpfs", rounds: SIZES.tmpfsRounds })
  else log("backlog: not root: no tmpfs rows and no other-user row (they mount a tmpfs and chown the corpus)")
  const runs = []
  let bytes = 0
  let records = 0
  for (const { place, rounds } of places) {
    const tmpfs = place === "tmpfs" ? mountTmpfs(log) : null
    if (tmpfs) onCleanup(tmpfs.unmount)
    try {
      const base = tmpfs?.dir ?? OS.tmpdir()
      // Every copy is written (and synced) before the first timed run, and nothing is deleted until
      // the last: right after a mass deletion, ext4 skips the freed inodes when allocating new ones,
      // and creating a file (the daemon's reports and copies) took 350 µs instead of 15.
      const plan = []
      const groups = backlogGroups(place)
      for (let round = 0; round < rounds; round++) {
        // the groups take turns at going first: every run deletes its files, and on an ext4
        // without a journal the runs right after pay for that (see above)
        const turn = round % groups.length
        for (const group of [...groups.slice(turn), ...groups.slice(0, turn)]) {
          for (const entry of group) plan.push({ ...entry, round, root: makeRoot(`${place}-${entry.row.replaceAll(" ", "-")}`, base) })
        }
      }
      if (!tmpfs) removeAtEnd(...plan.map((p) => p.root))
      const t0 = now()
      ;({ bytes, records } = writeCorpus(plan.map((p) => p.root), corpus))
      for (const p of plan) if (p.owner !== null && p.owner !== undefined) chownData(p.root, p.owner)
      sync()
      log(`backlog on ${place}: ${files} files (${records} records, ${(bytes / 1e6).toFixed(1)} MB) × ${plan.length} copies written in ${seconds(t0).toFixed(1)} s; ${rounds} round(s)`)
      for (const p of plan) {
        const env = p.build ? daemonEnv({ LOG_CONSOLE: "off", ...(typeof p.extra === "function" ? p.extra(p.build) : p.extra) }) : process.env
        const args = p.build ? [p.build.main, "--once"] : [p.script, p.root]
        const fail = (message) => {
          if (!tmpfs) keepForInspection(p.root)
          const kept = stopping ? "" : tmpfs ? ` (its console and logs: ${preserve(p.root)})` : ` (the tree is kept: ${p.root})`
          return new Error(`backlog on ${place}, ${p.row}${tag(p.build)}: ${message}${kept}`)
        }
        const run = await timed(process.execPath, args, p.root, env).catch((e) => {
          throw fail(e.message)
        })
        // The floors store every file in validated/ unjudged; the others must route each file once, rightly.
        const problems = p.script === FLOOR || p.script === COPY_FLOOR
          ? (countFiles(Path.join(p.root, "validated")) === files ? [] : [`${countFiles(Path.join(p.root, "validated"))} of ${files} files in validated/`])
          : routingProblems(expected, listTree(p.root))
        if (problems.length > 0) throw fail(problems.join("; "))
        const peak = p.build ? run.max_rss_mb ?? summaryOf(p.root).max_rss_mb : run.max_rss_mb
        const result = { place, row: p.row, build: p.build?.label ?? null, round: p.round, seconds: run.seconds, cpu_seconds: run.cpu_seconds, max_rss_mb: peak }
        runs.push(result)
        record("backlog", `${place} ${p.row}`, p.build, p.round, { seconds: run.seconds, files_per_s: files / run.seconds, cpu_seconds: run.cpu_seconds, max_rss_mb: peak })
        log(`backlog on ${place}, round ${p.round + 1}: ${p.row}${tag(p.build)} ${run.seconds.toFixed(2)} s${run.cpu_seconds === null ? "" : `, ${run.cpu_seconds.toFixed(2)} CPU-s`}`)
      }
    } finally {
      if (tmpfs) cleanUpNow(tmpfs.unmount)
    }
  }
  return backlogResults(files, records, bytes, runs, places)
}

/** The backlog's figures from its runs: every row's medians, the issue's ratios, and the figures earlier runs reported. */
const backlogResults = (files, records, bytes, runs, places) => {
  const of = (place, row, build) => runs.filter((r) => r.place === place && r.row === row && r.build === (build?.label ?? null))
  const rows = []
  const ratios = []
  for (const { place, rounds } of places) {
    for (const group of backlogGroups(place)) {
      for (const entry of group) {
        const mine = of(place, entry.row, entry.build)
        const cpu = mine.some((r) => r.cpu_seconds === null) ? null : median(mine.map((r) => r.cpu_seconds))
        const secs = median(mine.map((r) => r.seconds))
        rows.push({
          place,
          row: entry.row,
          build: entry.build?.label ?? null,
          runs_seconds: mine.map((r) => r.seconds),
          seconds: secs,
          files_per_s: files / secs,
          cpu_seconds: cpu,
          cpu_us_per_file: cpu === null ? null : (cpu * 1e6) / files,
          max_rss_mb: mine.every((r) => r.max_rss_mb === null) ? null : Math.max(...mine.map((r) => r.max_rss_mb ?? 0))
        })
      }
    }
    for (const build of builds()) {
      const secondsOf = (row, b, round) => {
        const selected = of(place, row, b).filter((r) => round === undefined || r.round === round)
        return selected.length === 0 ? undefined : median(selected.map((r) => r.seconds))
      }
      const inputs = (round) => ({
        floor: secondsOf("bare floor", null, round),
        copyFloor: secondsOf("durable-copy floor", null, round),
        naive: secondsOf("naive", null, round),
        daemon: secondsOf("daemon", build, round),
        otherUser: secondsOf("other user", build, round)
      })
      const byRound = Array.from({ length: rounds }, (_, round) => backlogRatios(inputs(round), place))
      for (const ratio of backlogRatios(inputs(), place)) {
        ratios.push({ place, build: build.label, ...ratio, by_round: byRound.map((rs) => rs.find((r) => r.name === ratio.name)?.value ?? null) })
      }
    }
  }
  // The figures earlier runs reported (the working tree, on the disk), under their names.
  const disk = (row) => of("disk", row, row === "bare floor" ? null : WORK)
  const pipeline = disk("daemon")
  const pipelineSeconds = median(pipeline.map((r) => r.seconds))
  const floorSeconds = median(disk("bare floor").map((r) => r.seconds))
  const legacy = {}
  legacy.backlog = {
    files,
    records,
    megabytes: bytes / 1e6,
    settings: "defaults, --once, console off",
    seconds: pipelineSeconds,
    files_per_s: files / pipelineSeconds,
    records_per_s: records / pipelineSeconds,
    mb_per_s: bytes / 1e6 / pipelineSeconds,
    peak_rss_mb: Math.max(...pipeline.map((r) => r.max_rss_mb ?? 0)),
    runs: pipeline.map((r) => ({
      round: r.round,
      pipeline_seconds: r.seconds,
      floor_seconds: disk("bare floor").find((f) => f.round === r.round)?.seconds,
      trusted_seconds: disk("trusted").find((f) => f.round === r.round)?.seconds,
      all_cores_seconds: disk("all cores").find((f) => f.round === r.round)?.seconds,
      unit_seconds: disk("unit").find((f) => f.round === r.round)?.seconds,
      peak_rss_mb: r.max_rss_mb
    })),
    rows,
    ratios
  }
  const byRound = (row) => legacy.backlog.runs.map((r) => r[row])
  legacy.floor = { seconds: floorSeconds, ratio: floorSeconds / pipelineSeconds, ratios_by_pair: legacy.backlog.runs.map((r) => r.floor_seconds / r.pipeline_seconds) }
  const variant = (key) => {
    const s = median(byRound(key))
    return { seconds: s, ratio: floorSeconds / s, ratios_by_pair: legacy.backlog.runs.map((r) => r.floor_seconds / r[key]), speedup: pipelineSeconds / s }
  }
  // the default's time over STORE_MODE=link's: what storing copies costs
  legacy.trusted = { seconds: median(byRound("trusted_seconds")), copy_cost_ratio: pipelineSeconds / median(byRound("trusted_seconds")) }
  legacy.all_cores = { instances: OS.availableParallelism(), ...variant("all_cores_seconds") }
  legacy.systemd_unit = { uv_threadpool_size: UNIT_THREADPOOL_SIZE, ...variant("unit_seconds") }
  return legacy
}

// ------------------------------------------------------------------ latency, big, idle

const latency = async (build) => {
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
  const daemon = await startDaemon(build, root, daemonEnv())
  const total = SIZES.latencyRate * SIZES.latencySeconds
  const corpus = makeCorpus(total, 7)
  const interval = 1000 / SIZES.latencyRate
  const c0 = cpuSeconds(daemon.child.pid)
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
  const cpu = cpuSeconds(daemon.child.pid) - c0
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
    max_ms: latencies[latencies.length - 1],
    cpu_seconds: cpu
  }
}

const bigFile = async (build) => {
  const root = makeRoot("big")
  const [file] = makeCorpus(1, 11, SIZES.bigRecords)
  const { bytes } = writeCorpus(root, [file])
  log(`big file: ${SIZES.bigRecords} records, ${(bytes / 1e6).toFixed(1)} MB${tag(build)}`)
  const run = await timed(process.execPath, [build.main, "--once"], root, daemonEnv())
  const summary = summaryOf(root)
  NFS.rmSync(root, { recursive: true, force: true })
  return {
    records: SIZES.bigRecords,
    megabytes: bytes / 1e6,
    seconds: run.seconds,
    cpu_seconds: run.cpu_seconds,
    peak_rss_mb: summary.max_rss_mb,
    outcome: summary.validated === 1 ? "validated" : "returned"
  }
}

/** The daemon idling in `root` (with `env`) for SIZES.idleSeconds, after its start-up: its CPU. */
const idle = async (build, env = {}, root = makeRoot("idle")) => {
  const daemon = await startDaemon(build, root, daemonEnv(env))
  await sleep(1000) // start-up work is not idling
  const c0 = cpuSeconds(daemon.child.pid)
  await sleep(SIZES.idleSeconds * 1000)
  const c1 = cpuSeconds(daemon.child.pid)
  daemon.child.kill("SIGTERM")
  await daemon.exited
  NFS.rmSync(root, { recursive: true, force: true })
  return { seconds: SIZES.idleSeconds, cpu_seconds: c1 - c0, cpu_seconds_per_minute: ((c1 - c0) * 60) / SIZES.idleSeconds }
}

// ------------------------------------------------------------------ partners

/** A partner's id in the scenario: p000, p001, ... */
const partnerId = (p) => `p${String(p).padStart(3, "0")}`

/**
 * A tree with `count` partners (each its inbox and returns folder, 0700: sealed
 * as the start-up check wants) and `partners.yaml`, each inbox holding the next
 * `perPartner` files of `corpus`; `expected` gets each file's partner-qualified name.
 */
const partnerTree = (count, perPartner, corpus) => {
  const root = makeRoot("partners")
  const lines = ["partners:"]
  let next = 0
  for (let p = 0; p < count; p++) {
    const id = partnerId(p)
    for (const folder of ["in", "returns"]) {
      NFS.mkdirSync(Path.join(root, id, folder), { recursive: true })
      NFS.chmodSync(Path.join(root, id, folder), 0o700)
    }
    lines.push(`  - { id: ${id}, inbox: ${id}/in, returns: ${id}/returns }`)
    for (let k = 0; k < perPartner && next < corpus.length; k++) {
      const f = corpus[next++]
      NFS.writeFileSync(Path.join(root, id, "in", f.name), f.content)
    }
  }
  NFS.writeFileSync(Path.join(root, "partners.yaml"), `${lines.join("\n")}\n`)
  return root
}

/** Every file stored once: `files` in validated/ and the returns folders together, none left in an inbox or processing/. */
const partnerRoutingProblems = (root, count, files, corpus) => {
  let stored = countFiles(Path.join(root, "validated"))
  let returned = 0
  let left = 0
  for (let p = 0; p < count; p++) {
    returned += countFiles(Path.join(root, partnerId(p), "returns"))
    left += countFiles(Path.join(root, partnerId(p), "in"))
  }
  stored += returned
  const invalid = corpus.filter((f) => !f.valid).length
  const problems = []
  if (stored !== files) problems.push(`${stored} of ${files} files stored`)
  if (returned !== invalid) problems.push(`${returned} files returned, ${invalid} invalid ones written`)
  if (left > 0) problems.push(`${left} files left in the inboxes`)
  return problems
}

const partnersScenario = async () => {
  const count = SIZES.partners
  const files = SIZES.partners * SIZES.partnerFiles
  const corpus = makeCorpus(files, CORPUS_SEED)
  const knowing = builds().filter((build) => build.settingNames?.includes("PARTNERS_FILE"))
  if (knowing.length === 0) return { skipped: "no build knows PARTNERS_FILE" }
  // Every tree written (and synced) before the first timed run, as in the backlog.
  const plan = []
  for (let trial = 0; trial < SIZES.partnerTrials; trial++) {
    for (const build of knowing) {
      const single = makeRoot("partners-single")
      writeCorpus(single, corpus)
      plan.push({ trial, build, row: "one inbox", root: single, env: {} })
      plan.push({ trial, build, row: `${count} partners`, root: partnerTree(count, SIZES.partnerFiles, corpus), env: { PARTNERS_FILE: "partners.yaml" } })
    }
  }
  removeAtEnd(...plan.map((p) => p.root))
  sync()
  log(`partners: ${files} files as ${count} partners × ${SIZES.partnerFiles} and in one inbox, ${SIZES.partnerTrials} trial(s)`)
  const runsOf = new Map()
  for (const p of plan) {
    const run = await daemonOnce(p.build, p.root, daemonEnv({ LOG_CONSOLE: "off", ...p.env }))
    const problems = p.env.PARTNERS_FILE === undefined
      ? (countFiles(Path.join(p.root, "validated")) + countFiles(Path.join(p.root, "returns")) === files ? [] : ["not every file stored"])
      : partnerRoutingProblems(p.root, count, files, corpus)
    if (problems.length > 0) {
      keepForInspection(p.root)
      throw new Error(`partners, ${p.row}${tag(p.build)}: ${problems.join("; ")} (the tree is kept: ${p.root})`)
    }
    record("partners", p.row, p.build, p.trial, { seconds: run.seconds, files_per_s: files / run.seconds, cpu_seconds: run.cpu_seconds, peak_rss_mb: run.peak_rss_mb })
    const key = `${p.build.label}\u0000${p.row}`
    runsOf.set(key, [...(runsOf.get(key) ?? []), run])
    log(`partners, trial ${p.trial + 1}: ${p.row}${tag(p.build)} ${run.seconds.toFixed(2)} s, peak RSS ${run.peak_rss_mb} MB`)
  }
  const rowOf = (build, row) => {
    const runs = runsOf.get(`${build.label}\u0000${row}`) ?? []
    const seconds = median(runs.map((r) => r.seconds))
    return { runs_seconds: runs.map((r) => r.seconds), seconds, files_per_s: files / seconds, peak_rss_mb: Math.max(...runs.map((r) => r.peak_rss_mb ?? 0)) }
  }
  // Idle: the daemon watching `count` empty inboxes, and one DATA_DIR.
  const idleOf = async (build, env, root) => (await idle(build, env, root)).cpu_seconds_per_minute
  const byBuild = []
  for (const build of knowing) {
    const single = rowOf(build, "one inbox")
    const partnered = rowOf(build, `${count} partners`)
    const idleSingle = await idleOf(build, {}, makeRoot("partners-idle-single"))
    const idlePartners = await idleOf(build, { PARTNERS_FILE: "partners.yaml" }, partnerTree(count, 0, []))
    record("partners", "idle", build, 0, { cpu_seconds_per_minute: idlePartners })
    byBuild.push({
      build: build.label,
      single,
      partners: partnered,
      rate_ratio: partnered.files_per_s / single.files_per_s,
      // (a short idle window can measure no CPU at all: then there is no ratio to give)
      idle_cpu_seconds_per_minute: { single: idleSingle, partners: idlePartners, ratio: idleSingle > 0 ? idlePartners / idleSingle : null }
    })
  }
  return { partners: count, files_each: SIZES.partnerFiles, files, trials: SIZES.partnerTrials, idle_seconds: SIZES.idleSeconds, by_build: byBuild }
}

// ------------------------------------------------------------------ scaling

/** A path as the table shows it: relative to the working directory when under it. */
const shown = (path) => {
  const relative = Path.relative(process.cwd(), Path.resolve(path))
  return relative.startsWith("..") || Path.isAbsolute(relative) ? Path.resolve(path) : relative
}

// One run per size and build (with --against, that many alternating runs),
// smallest first, each after the floor on its own copy of the same corpus.
// Every corpus is written (and synced) before the first timed run and deleted
// after the last, as in the backlog (ext4's recently deleted inodes); the
// generator streams, so a million files are never held.
const scaling = async (sizes) => {
  const runsEach = REF === null ? 1 : SIZES.againstRuns
  const plan = []
  for (const files of sizes) {
    for (let round = 0; round < runsEach; round++) {
      plan.push({
        files,
        round,
        floorRoot: makeRoot(`scale-floor-${files}`),
        trees: builds().map((build) => ({ build, root: makeRoot(`scale-${files}`) }))
      })
    }
  }
  for (const p of plan) removeAtEnd(p.floorRoot, ...p.trees.map((t) => t.root))
  for (const p of plan) {
    const t0 = now()
    Object.assign(p, writeCorpus([p.floorRoot, ...p.trees.map((t) => t.root)], corpusFiles(p.files, CORPUS_SEED)))
    log(`scaling: ${p.files} files (${p.records} records, ${(p.bytes / 1e6).toFixed(1)} MB) written ${1 + p.trees.length} times (floor, daemon) in ${seconds(t0).toFixed(1)} s`)
  }
  sync()
  const runs = []
  for (const p of plan) {
    const floor = await timed(process.execPath, [FLOOR, p.floorRoot], p.floorRoot, process.env).catch((e) => {
      keepForInspection(p.floorRoot)
      throw e
    })
    for (const { build, root } of p.trees) {
      const run = await daemonOnce(build, root, daemonEnv()).catch((e) => {
        keepForInspection(root)
        throw e
      })
      const routed = countFiles(Path.join(root, "validated")) + countFiles(Path.join(root, "returns"))
      if (routed !== p.files) {
        keepForInspection(root)
        throw new Error(`scaling: ${routed} of ${p.files} files routed${tag(build)} (see ${root})`)
      }
      const summary = summaryOf(root)
      log(`scaling: ${p.files} files${tag(build)} in ${run.seconds.toFixed(2)} s, peak RSS ${run.peak_rss_mb} MB; floor ${floor.seconds.toFixed(2)} s`)
      const point = {
        files: p.files,
        records: p.records,
        megabytes: p.bytes / 1e6,
        seconds: run.seconds,
        files_per_s: p.files / run.seconds,
        cpu_seconds: run.cpu_seconds,
        // VmHWM of the daemon at its exit (bench/peak-rss.cjs)
        peak_rss_mb: run.peak_rss_mb,
        // its own figure, in its "stopped" line (the same counter, before its last notifications)
        daemon_max_rss_mb: summary.max_rss_mb,
        floor_seconds: floor.seconds,
        floor_ratio: floor.seconds / run.seconds
      }
      runs.push({ build, point })
      record("scaling", `${p.files} files`, build, p.round, point)
    }
  }
  const pointsOf = (build) =>
    sizes.map((files) => ({ files, ...medianFields(runs.filter((r) => r.build === build && r.point.files === files).map((r) => r.point)) }))
  // files/s against the rate at 10,000 files (the smallest backlog when 10,000 was not measured)
  const withRate = (points) => {
    const reference = points.find((p) => p.files === 10_000) ?? points[0]
    return points.map((p) => ({ ...p, rate_vs_reference: p.files_per_s / reference.files_per_s, reference_files: reference.files }))
  }
  const points = withRate(pointsOf(WORK))
  const first = points[0]
  const last = points[points.length - 1]
  return {
    seed: CORPUS_SEED,
    settings: "defaults, --once, console to a file",
    points,
    ...(REF !== null && { ref_points: withRate(pointsOf(REF)) }),
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
 * `cwds.length` instances of `node dist/main.js --once` of `build` started
 * together, one in each of `cwds` (the same tree, through one mount or
 * another), instance i in `cgroups[i]` when given: wall seconds from the first
 * spawn to the last exit, each one's peak RSS, and their CPU seconds together.
 */
const instancesOnce = async (build, cwds, logRoot, extraEnv, cgroups) => {
  NFS.mkdirSync(logRoot, { recursive: true })
  const t0 = now()
  const settled = await Promise.allSettled(
    cwds.map((cwd, i) =>
      daemonOnce(build, cwd, daemonEnv({ ...extraEnv, LOG_DIR: Path.join(logRoot, `instance-${i + 1}`) }), {
        peakFile: Path.join(logRoot, `instance-${i + 1}.peak-rss.kb`),
        consoleFile: Path.join(logRoot, `instance-${i + 1}.console.log`),
        cgroup: cgroups?.[i]
      })
    )
  )
  const failed = settled.find((r) => r.status === "rejected")
  if (failed) throw failed.reason
  const cpus = settled.map((r) => r.value.cpu_seconds)
  return {
    seconds: seconds(t0),
    peak_rss_mb: settled.map((r) => r.value.peak_rss_mb),
    instance_seconds: settled.map((r) => r.value.seconds),
    instance_cpu_seconds: cpus,
    cpu_seconds: cpus.some((c) => c === null) ? null : cpus.reduce((a, b) => a + b, 0)
  }
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

/**
 * The trials of a scale-out: the same backlog drained by each count of
 * instances started together, for each build, trials alternating (1, 2, 1,
 * 2, ...; with --against each count's builds side by side), every tree written
 * before the first trial. After each trial every file must be stored exactly
 * once and nothing left behind: a speed-up that loses or duplicates files is
 * no speed-up. `quota` (the cgroups of bench/quota.mjs) holds instance i to its group.
 */
const drainTrials = async ({ scenario, files, trials, counts, local, mounts, gluster, quota, floors }) => {
  const plan = []
  for (let trial = 1; trial <= trials; trial++) {
    for (const instances of counts) {
      for (const [b, build] of builds().entries()) plan.push({ trial, instances, build, tree: `trial-${trial}-n${instances}-b${b}` })
    }
  }
  const expected = new Map()
  const t0 = now()
  writeCorpus([...plan.map((p) => Path.join(mounts[0], p.tree)), ...floors.map((f) => Path.join(mounts[0], f))], corpusFiles(files, CORPUS_SEED), expected)
  sync()
  log(`${scenario}: ${files} files × ${plan.length + floors.length} trees written in ${seconds(t0).toFixed(1)} s; instances ${counts.join(", ")}, ${trials} trial(s) each, alternating`)
  const runs = []
  const floorRuns = []
  for (let trial = 1; trial <= trials; trial++) {
    if (floors.length > 0) {
      const floorTree = Path.join(mounts[0], `trial-${trial}-floor`)
      floorRuns.push((await timed(process.execPath, [FLOOR, floorTree], local, process.env, Path.join(local, `trial-${trial}-floor.console.log`))).seconds)
      log(`${scenario}: floor on GlusterFS ${floorRuns.at(-1).toFixed(2)} s`)
    }
    for (const p of plan.filter((q) => q.trial === trial)) {
      const logRoot = Path.join(local, `${p.tree}-logs`)
      // instance i works through mount i mod 2 (one mount on a local disk)
      const cwds = Array.from({ length: p.instances }, (_, i) => Path.join(mounts[i % mounts.length], p.tree))
      const before = quota?.dirs.slice(0, p.instances).map((_, i) => quota.stat(i))
      const run = await instancesOnce(p.build, cwds, logRoot, gluster ? { WATCH_MODE: "poll" } : {}, quota?.dirs)
      const throttled = before?.map((b, i) => quota.stat(i).throttled - b.throttled)
      const problems = await checkTree(Path.join(mounts[0], p.tree), expected, gluster)
      if (problems.length > 0) {
        const err = new Error(
          `${scenario}: after trial ${trial} with ${p.instances} instance(s)${tag(p.build)}: ${problems.join("; ")}` +
            (gluster ? " (the volume is torn down; the logs stay in " + logRoot + ")" : ` (the tree is kept: ${Path.join(local, p.tree)})`)
        )
        err.keep = true
        throw err
      }
      const cores = run.instance_cpu_seconds.map((c, i) => (c === null ? null : c / run.instance_seconds[i]))
      log(
        `${scenario}: trial ${trial}, ${p.instances} instance(s)${tag(p.build)}: ${run.seconds.toFixed(2)} s, every file stored once` +
          (quota ? `; cores used ${cores.map((c) => (c === null ? "?" : c.toFixed(2))).join(", ")}, throttled periods ${throttled.join(", ")}` : "")
      )
      const result = { trial, instances: p.instances, build: p.build.label, seconds: run.seconds, cpu_seconds: run.cpu_seconds, peak_rss_mb: run.peak_rss_mb }
      if (quota) Object.assign(result, { cores_used: cores, throttled_periods: throttled })
      runs.push(result)
      record(scenario, `${p.instances} instance${p.instances === 1 ? "" : "s"}`, p.build, trial - 1, { seconds: run.seconds, files_per_s: files / run.seconds, cpu_seconds: run.cpu_seconds })
    }
  }
  const byInstances = (build) => {
    const medianOf = (n) => median(runs.filter((r) => r.build === build.label && r.instances === n).map((r) => r.seconds))
    const one = medianOf(1)
    return counts.map((n) => {
      const mine = runs.filter((r) => r.build === build.label && r.instances === n)
      const cpus = mine.map((r) => r.cpu_seconds)
      // with quotas: the median over trials of the cores an instance used on average (CPU seconds / its wall time)
      const used = mine.map((r) => (r.cores_used?.every((c) => c !== null) ? r.cores_used.reduce((a, b) => a + b, 0) / r.cores_used.length : null))
      return {
        instances: n,
        ...(quota && { cores_used: used.some((c) => c === null) ? null : median(used) }),
        runs_seconds: mine.map((r) => r.seconds),
        median_seconds: medianOf(n),
        files_per_s: files / medianOf(n),
        speedup: one / medianOf(n),
        cpu_seconds: cpus.some((c) => c === null) ? null : median(cpus),
        peak_rss_mb: Math.max(...mine.flatMap((r) => r.peak_rss_mb))
      }
    })
  }
  return { runs, floorRuns, byInstances }
}

const scaleOut = async () => {
  const gluster = options.netfs === "gluster"
  const files = gluster ? SIZES.netfsFiles : SIZES.scaleOutFiles
  const trials = SIZES.scaleOutTrials
  const local = makeRoot(gluster ? "scaleout-gluster" : "scaleout")
  // Short: scripts/netfs.sh reads `gluster volume status`, whose table wraps a long brick path
  // onto two lines (then the brick never looks online).
  const netfsDir = gluster ? NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-gl-")) : ""
  // An interrupted run still unmounts and deletes the volume (the daemons are stopped first).
  const down = gluster
    ? onCleanup(() => {
        glusterDown(netfsDir)
        NFS.rmSync(netfsDir, { recursive: true, force: true })
      })
    : null
  let keep = false
  try {
    const mounts = gluster ? glusterUp(netfsDir) : [local]
    // The floor on the same mount, once per trial (on a local disk the scaling and backlog scenarios have it).
    const floors = gluster ? Array.from({ length: trials }, (_, i) => `trial-${i + 1}-floor`) : []
    const { runs, floorRuns, byInstances } = await drainTrials({ scenario: "scale-out", files, trials, counts: INSTANCES, local, mounts, gluster, floors }).catch((e) => {
      keep = e.keep === true && !gluster
      throw e
    })
    const one = byInstances(WORK)[0].median_seconds
    return {
      filesystem: gluster ? "glusterfs: one brick, two FUSE mounts, instances alternating between them (scripts/netfs.sh)" : "local",
      files,
      trials,
      instances: INSTANCES,
      // in the order they ran
      runs,
      by_instances: byInstances(WORK),
      ...(REF !== null && { ref_by_instances: byInstances(REF) }),
      floor: gluster ? { runs_seconds: floorRuns, median_seconds: median(floorRuns), floor_over_one_instance: median(floorRuns) / one } : null
    }
  } finally {
    if (down) cleanUpNow(down)
    if (keep) keepForInspection(local)
    else removeAtEnd(local)
  }
}

// The scale-out as hosts would see it: each instance held to its own CPU quota
// (its own cgroup), so two instances do not compete for the same cores as two
// unconstrained ones on this 2-core machine do.
const quotaScaleOut = async () => {
  if (!IS_ROOT) {
    log("quota: not root: skipped (it makes cgroups)")
    return { skipped: "needs root (it makes cgroups)" }
  }
  const layout = detectCgroups()
  if (layout === null) {
    log("quota: no cgroup CPU controller found under /sys/fs/cgroup: skipped")
    return { skipped: "no cgroup CPU controller under /sys/fs/cgroup" }
  }
  const files = SIZES.quotaFiles
  const trials = SIZES.quotaTrials
  const local = makeRoot("quota")
  const groups = makeQuotaGroups(layout, `cjp-bench-${process.pid}`, Math.max(...QUOTA_INSTANCES), QUOTA)
  onCleanup(groups.remove)
  log(`quota: cgroup v${layout.version} groups under ${groups.parent}, ${QUOTA} core each`)
  let keep = false
  try {
    const { runs, byInstances } = await drainTrials({
      scenario: "quota", files, trials, counts: QUOTA_INSTANCES, local, mounts: [local], gluster: false, quota: groups, floors: []
    }).catch((e) => {
      keep = e.keep === true
      throw e
    })
    const summarise = (build) => {
      const by = byInstances(build)
      return { by_instances: by, efficiency: scaleOutEfficiency(by) }
    }
    return {
      cgroup: `v${layout.version}`,
      quota_cores: QUOTA,
      files,
      trials,
      instances: QUOTA_INSTANCES,
      runs,
      exactly_once: true,
      ...summarise(WORK),
      ...(REF !== null && { ref: summarise(REF) })
    }
  } finally {
    if (keep) keepForInspection(local)
    else removeAtEnd(local)
    try {
      cleanUpNow(groups.remove)
    } catch (e) {
      // the run's own error, if any, is the one to see; the end tries the groups again
      log(`WARNING: ${e.message}`)
    }
  }
}

// ----------------------------------------------------------------------- run

if (!NFS.existsSync(WORK.main)) throw new Error("dist/main.js is missing: run `npm run build` first")
if (!HAVE_TIME) log(`WARNING: ${TIME} (GNU time) is missing: no CPU seconds (apt-get install time)`)
const machine = {
  cpu: OS.cpus()[0]?.model ?? "unknown",
  cores: OS.cpus().length,
  memory_gb: Math.round(OS.totalmem() / 1024 ** 3),
  node: process.version,
  platform: `${OS.platform()} ${OS.release()}`
}
const runs = (scenario) => options.only.includes(scenario)
const date = new Date().toISOString()
const results = { date, smoke, machine, scenarios: options.only }
// Results first, then the corpora go (deleting a few hundred thousand files takes minutes).
let outFile
const run = async () => {
  if (options.against !== undefined) {
    const built = await buildRef(REPO, options.against, {
      log,
      onWorktree: onCleanup,
      onChild: (child) => {
        children.add(child)
        child.once("exit", () => children.delete(child))
      }
    })
    REF = { label: options.against, ...built }
    results.against = { ref: options.against, commit: built.sha, node_modules: built.linkedModules ? "the working tree's (same package-lock.json)" : "its own npm ci", runs_each: SIZES.againstRuns }
  }
  for (const build of builds()) build.settingNames = await settingNamesOf(build)
  SETTING_NAMES = [...new Set(builds().flatMap((build) => build.settingNames))]
  const scenarioPart = everything ? "" : options.only.join("+")
  const name = REF !== null
    ? `${smoke ? "smoke-" : ""}against-${REF.sha.slice(0, 7)}${scenarioPart ? `-${scenarioPart}` : ""}`
    : smoke ? "smoke" : scenarioPart || "latest"
  outFile = options.out ?? Path.join(here, "results", `${name}.json`)
  log(`${smoke ? "smoke run" : "full run"} of ${options.only.join(", ")} on ${machine.cores} × ${machine.cpu}, ${machine.memory_gb} GB, Node ${machine.node}` + (REF ? `; ${REF.label} (${REF.sha.slice(0, 7)}) against the working tree` : ""))
  const againstRuns = REF === null ? 1 : SIZES.againstRuns
  if (runs("backlog")) Object.assign(results, await backlog())
  if (runs("latency")) results.latency = await alternating("latency", againstRuns, latency, ["p50_ms", "p95_ms", "p99_ms", "max_ms", "cpu_seconds"])
  if (runs("big")) results.big_file = await alternating("big file", againstRuns, bigFile, ["seconds", "cpu_seconds", "peak_rss_mb"])
  if (runs("idle")) results.idle = await alternating("idle", againstRuns, idle, ["cpu_seconds", "cpu_seconds_per_minute"])
  if (runs("scaling")) {
    results.scaling = await scaling(SCALING_SIZES)
    const svg = scalingSvg(results.scaling.points, {
      subtitle: `${machine.cores} × ${machine.cpu}, Node ${machine.node}, ${date.slice(0, 10)}: node dist/main.js --once, default settings, ${againstRuns === 1 ? "one run" : `median of ${againstRuns} runs`} per size`,
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
  if (runs("quota")) results.quota = await quotaScaleOut()
  if (runs("partners")) results.partners = await partnersScenario()
  if (REF !== null) results.against.comparisons = compareBuilds(measurements, REF.label, WORK.label)
  NFS.mkdirSync(Path.dirname(outFile), { recursive: true })
  NFS.writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n")
  printTables(results)
  process.stdout.write(`results: ${shown(outFile)}\n`)
}
const running = run()
finished = running.then(
  () => {},
  () => {}
)
try {
  await running
} finally {
  await stopChildren()
  runCleanups()
  removeCorpora()
}

function printTables(results) {
  const f = (n, d = 1) => (n === null || n === undefined ? "?" : Number(n).toFixed(d))
  const count = (n) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  const list = (xs, d = 2) => xs.map((x) => f(x, d)).join(", ")
  const target = (t) => (t === null || t === undefined ? "—" : `≥ ${t}`)
  const met = (m) => (m === null ? "" : m ? " (met)" : " (**not met**)")
  const rows = []
  const { backlog: bl, latency: lat, big_file: big, idle: quiet, scaling: scaled, scale_out: scaleOutResult, quota, partners } = results
  if (bl) {
    const rounds = [...new Set(bl.rows.map((r) => `${r.runs_seconds.length} on ${r.place}`))].join(", ")
    rows.push([
      "backlog",
      `${count(bl.files)} files, ${count(bl.records)} records, ${f(bl.megabytes)} MB; --once, console off; medians of ${rounds}; the daemon ${f(bl.seconds, 2)} s, ${f(bl.files_per_s, 0)} files/s, peak RSS ${bl.peak_rss_mb} MB`,
      "RSS ≤ 200 MB"
    ])
    for (const r of bl.rows) {
      const build = REF === null || r.build === null ? "" : ` [${r.build}]`
      const cpu = r.cpu_seconds === null ? "" : `, ${f(r.cpu_seconds, 2)} CPU-s (${f(r.cpu_us_per_file, 0)} µs a file)`
      const rss = r.build !== null && r.max_rss_mb !== null ? `, peak RSS ${r.max_rss_mb} MB` : ""
      rows.push([`${r.place}: ${r.row}${build}`, `${f(r.seconds, 2)} s (${list(r.runs_seconds)}), ${f(r.files_per_s, 0)} files/s${cpu}${rss}`, "—"])
    }
    for (const r of bl.ratios) {
      const build = REF === null ? "" : ` [${r.build}]`
      rows.push([`${r.place}: ${r.name}${build}`, `${f(r.value, 2)} (rounds ${list(r.by_round)})${met(r.met)}`, target(r.target)])
    }
  }
  if (lat) rows.push(["latency", `p50 ${f(lat.p50_ms)} ms, p95 ${f(lat.p95_ms)} ms, p99 ${f(lat.p99_ms)} ms, max ${f(lat.max_ms)} ms (${lat.files} files at ${lat.rate_per_s}/s)`, "p50 ≤ 10, p99 ≤ 50 ms"])
  if (big) rows.push(["big file", `${f(big.megabytes)} MB, ${big.records} records in ${f(big.seconds, 2)} s, peak RSS ${big.peak_rss_mb} MB (${big.outcome})`, "≤ 5 s, ≤ 1 GB"])
  if (quiet) rows.push(["idle", `${f(quiet.cpu_seconds, 2)} CPU-s in ${quiet.seconds} s = ${f(quiet.cpu_seconds_per_minute, 2)} CPU-s/min`, "≤ 0.6 CPU-s/min"])
  if (scaled) {
    for (const p of scaled.points) {
      const vs = p.files === p.reference_files ? "" : `, ${f(p.rate_vs_reference, 2)} × the ${count(p.reference_files)}-file rate`
      rows.push([
        "scaling",
        `${count(p.files)} files in ${f(p.seconds, 2)} s: ${f(p.files_per_s, 0)} files/s${vs}, peak RSS ${p.peak_rss_mb} MB; floor ${f(p.floor_seconds, 2)} s (floor/pipeline ${f(p.floor_ratio, 2)})`,
        p.files <= 10_000 ? "RSS ≤ 200 MB" : p.files >= 1_000_000 ? "RSS ≤ 256 MB, rate ≥ 0.9 × 10k" : "RSS ≤ 256 MB (at 1M)"
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
        `${where}, ${count(scaleOutResult.files)} files: ${n.instances} instances ${f(n.median_seconds, 2)} s (${list(n.runs_seconds)}) vs 1 instance ${f(one.median_seconds, 2)} s (${list(one.runs_seconds)}): speed-up ${f(n.speedup, 2)}×`,
        scaleOutResult.floor ? "≥ 1× (never slower)" : "— (two cores shared: see quota)"
      ])
    }
    if (scaleOutResult.floor) {
      const fl = scaleOutResult.floor
      rows.push(["scale-out", `floor on the same GlusterFS mount: ${f(fl.median_seconds, 2)} s (${list(fl.runs_seconds)}); floor / one instance = ${f(fl.floor_over_one_instance, 2)}`, "—"])
    }
  }
  if (quota?.skipped) rows.push(["quota", `skipped: ${quota.skipped}`, "—"])
  else if (quota) {
    const sides = [[WORK.label, quota], ...(quota.ref ? [[REF.label, quota.ref]] : [])]
    for (const [label, side] of sides) {
      const build = REF === null ? "" : ` [${label}]`
      const [one] = side.by_instances
      // an instance that used much less than its quota was starved (a busy machine) or waiting on I/O, not held by the quota
      const used = (b) => `, ${f(b.cores_used, 2)} core each used`
      rows.push([`quota${build}`, `${count(quota.files)} files, ${quota.quota_cores} core each (cgroup ${quota.cgroup}): 1 instance ${f(one.median_seconds, 2)} s (${list(one.runs_seconds)}), ${f(one.files_per_s, 0)} files/s${used(one)}`, "—"])
      for (const e of side.efficiency) {
        const n = side.by_instances.find((b) => b.instances === e.instances)
        rows.push([
          `quota${build}`,
          `${e.instances} instances ${f(n.median_seconds, 2)} s (${list(n.runs_seconds)}), ${f(n.files_per_s, 0)} files/s${used(n)} = ${f(e.value, 2)} × ${e.instances} × one${met(e.met)}; every file exactly once`,
          target(e.target)
        ])
      }
    }
  }
  if (partners?.skipped) rows.push(["partners", `skipped: ${partners.skipped}`, "—"])
  else if (partners) {
    for (const b of partners.by_build) {
      const build = REF === null ? "" : ` [${b.build}]`
      rows.push([
        `partners${build}`,
        `${count(partners.files)} files: ${partners.partners} partners × ${partners.files_each} ${f(b.partners.seconds, 2)} s (${list(b.partners.runs_seconds)}), peak RSS ${b.partners.peak_rss_mb} MB; one inbox ${f(b.single.seconds, 2)} s (${list(b.single.runs_seconds)}), peak RSS ${b.single.peak_rss_mb} MB: rate ratio ${f(b.rate_ratio, 2)}`,
        "≥ 0.9"
      ])
      const idling = b.idle_cpu_seconds_per_minute
      rows.push([`partners idle${build}`, `${partners.partners} empty inboxes ${f(idling.partners, 2)} CPU-s/min, one ${f(idling.single, 2)} CPU-s/min: ${f(idling.ratio, 2)}×`, "≈ 1×"])
    }
  }
  const nameWidth = Math.max(8, ...rows.map((r) => r[0].length))
  const width = Math.max(6, ...rows.map((r) => r[1].length))
  process.stdout.write(`| ${"scenario".padEnd(nameWidth)} | result${" ".repeat(width - 6)} | target |\n|${"-".repeat(nameWidth + 2)}|${"-".repeat(width + 2)}|---|\n`)
  for (const [name, result, t] of rows) process.stdout.write(`| ${name.padEnd(nameWidth)} | ${result.padEnd(width)} | ${t} |\n`)
  if (results.against) printAgainst(results.against)
}

function printAgainst(against) {
  const f = (n, d) => (n === null || n === undefined || Number.isNaN(n) ? "?" : Number(n).toFixed(d))
  const lines = []
  const cell = (ref, work, ratio, d, unit) => (ref === undefined || ref === null ? "—" : `${f(ref, d)} → ${f(work, d)}${unit} (${f(ratio, 2)}×)`)
  for (const c of against.comparisons) {
    const secs = cell(c.ref.seconds, c.work.seconds, c.ratio.seconds, 2, " s")
    const rate = cell(c.ref.files_per_s, c.work.files_per_s, c.ratio.files_per_s, 0, "")
    const cpu = cell(c.ref.cpu_seconds, c.work.cpu_seconds, c.ratio.cpu_seconds, 2, " s")
    const other = [
      ["p99_ms", "p99", 1, " ms"],
      ["p50_ms", "p50", 1, " ms"],
      ["cpu_seconds_per_minute", "CPU-s/min", 2, ""],
      ["peak_rss_mb", "peak RSS", 0, " MB"]
    ]
      .filter(([key]) => typeof c.ref[key] === "number")
      .map(([key, name, d, unit]) => `${name} ${cell(c.ref[key], c.work[key], c.ratio[key], d, unit)}`)
      .join("; ")
    lines.push([c.scenario, c.row, `${c.runs.ref}+${c.runs.work}`, secs, rate, cpu, other || "—"])
  }
  process.stdout.write(
    `\n${against.commit.startsWith(against.ref) ? against.ref : `${against.ref} (${against.commit.slice(0, 7)})`} → working tree: medians, and working tree ÷ ${against.ref} in brackets\n` +
      "| scenario | row | runs | time | files/s | CPU-s | other |\n|---|---|---|---|---|---|---|\n"
  )
  for (const l of lines) process.stdout.write(`| ${l.join(" | ")} |\n`)
}
