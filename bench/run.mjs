// The benchmark: `npm run bench` (builds first). All scenarios run in one
// invocation on the same machine, so their ratios hold on a noisy machine.
//
//   1. backlog  10,000 files in data/, `node dist/main.js --once`, whole process
//   2. floor    the same corpus through bench/floor.mjs (list, rename, read,
//               JSON.parse, rename; 16 at a time): floor time / pipeline time.
//               Backlog and floor alternate, three pairs; medians are reported
//   3. latency  the daemon running; files dropped by atomic rename at 100/s
//               for 30 s; time from the rename into data/ to the file in
//               validated/ or returns/
//   4. big      one 50 MB file (100,000 records), --once
//   5. idle     CPU seconds the daemon uses over 60 s with nothing to do
//
// `--smoke` runs everything small (200 files, 3 s of latency, 2 s idle) and is
// part of the test suite, which asserts only that it runs and prints its table.
// Results: a table on stdout and JSON in bench/results/latest.json (or --out FILE).
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { makeCorpus } from "./corpus.mjs"

const here = Path.dirname(fileURLToPath(import.meta.url))
const MAIN = Path.join(here, "..", "dist", "main.js")
const FLOOR = Path.join(here, "floor.mjs")
const args = process.argv.slice(2)
const smoke = args.includes("--smoke")
const outIndex = args.indexOf("--out")
const outFile = outIndex >= 0 ? args[outIndex + 1] : Path.join(here, "results", smoke ? "smoke.json" : "latest.json")

const SIZES = smoke
  ? { backlog: 200, pairs: 1, latencyRate: 100, latencySeconds: 3, bigRecords: 2_000, idleSeconds: 2 }
  : { backlog: 10_000, pairs: 3, latencyRate: 100, latencySeconds: 30, bigRecords: 100_000, idleSeconds: 60 }

const log = (line) => process.stderr.write(`[bench] ${line}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const now = () => performance.timeOrigin + performance.now()

const makeRoot = (name) => NFS.mkdtempSync(Path.join(OS.tmpdir(), `cjp-bench-${name}-`))

const writeCorpus = (root, files) => {
  NFS.mkdirSync(Path.join(root, "data"), { recursive: true })
  let bytes = 0
  let records = 0
  for (const f of files) {
    NFS.writeFileSync(Path.join(root, "data", f.name), f.content)
    bytes += Buffer.byteLength(f.content)
    records += (f.content.match(/"customer_id"/g) ?? []).length
  }
  return { bytes, records }
}

// The daemon's environment: defaults, except for a console that goes to a file.
const daemonEnv = (extra = {}) => {
  const env = { ...process.env }
  for (const key of Object.keys(env)) {
    if (/^(DATA_DIR|PROCESSING_DIR|VALIDATED_DIR|RETURNS_DIR|LOG_DIR|DEBUG|CONCURRENCY|MAX_|QUIET_|RESCAN_|WATCH_|POLL_|SHUTDOWN_|MIN_FREE|HEARTBEAT|EMAIL_|SMTP_|LOG_|NOTIFY_)/.test(key)) delete env[key]
  }
  return { ...env, ...extra }
}

/** Runs a command to its end with stdout+stderr to a file; returns wall seconds. */
const timed = (command, commandArgs, cwd, env) =>
  new Promise((resolve, reject) => {
    const out = NFS.openSync(Path.join(cwd, "console.log"), "w")
    const t0 = now()
    const child = ChildProcess.spawn(command, commandArgs, { cwd, env, stdio: ["ignore", out, out] })
    child.on("error", reject)
    child.on("exit", (code) => {
      NFS.closeSync(out)
      if (code !== 0) reject(new Error(`${Path.basename(commandArgs[0])} exited ${code}; see ${cwd}/console.log`))
      else resolve((now() - t0) / 1000)
    })
  })

const summaryOf = (root) => {
  const lines = NFS.readFileSync(Path.join(root, "logs", "app.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
  return lines.find((l) => l.msg === "customer-json-processor stopped")
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
  const pairs = Array.from({ length: SIZES.pairs }, () => ({ pipelineRoot: makeRoot("backlog"), floorRoot: makeRoot("floor"), trustedRoot: makeRoot("trusted") }))
  for (const { pipelineRoot, floorRoot, trustedRoot } of pairs) {
    ;({ bytes, records } = writeCorpus(pipelineRoot, corpus))
    writeCorpus(floorRoot, corpus)
    writeCorpus(trustedRoot, corpus)
  }
  ChildProcess.execFileSync("sync")
  log(`backlog: ${corpus.length} files, ${records} records, ${(bytes / 1e6).toFixed(1)} MB, ${SIZES.pairs} pair(s) of runs`)
  for (const { pipelineRoot, floorRoot, trustedRoot } of pairs) {
    const floorSeconds = await timed(process.execPath, [FLOOR, floorRoot], floorRoot, process.env)
    const pipelineSeconds = await timed(process.execPath, [MAIN, "--once"], pipelineRoot, daemonEnv())
    const trustedSeconds = await timed(process.execPath, [MAIN, "--once"], trustedRoot, daemonEnv({ TRUSTED_PRODUCERS: "true" }))
    const summary = summaryOf(pipelineRoot)
    const routed = countFiles(Path.join(pipelineRoot, "validated")) + countFiles(Path.join(pipelineRoot, "returns"))
    if (routed !== corpus.length) throw new Error(`backlog: ${routed} of ${corpus.length} files routed`)
    runs.push({ pipeline_seconds: pipelineSeconds, floor_seconds: floorSeconds, trusted_seconds: trustedSeconds, peak_rss_mb: summary.max_rss_mb })
  }
  for (const { pipelineRoot, floorRoot, trustedRoot } of pairs) {
    for (const root of [pipelineRoot, floorRoot, trustedRoot]) NFS.rmSync(root, { recursive: true, force: true })
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

// ----------------------------------------------------------------------- run

if (!NFS.existsSync(MAIN)) throw new Error("dist/main.js is missing: run `npm run build` first")
const machine = {
  cpu: OS.cpus()[0]?.model ?? "unknown",
  cores: OS.cpus().length,
  memory_gb: Math.round(OS.totalmem() / 1024 ** 3),
  node: process.version,
  platform: `${OS.platform()} ${OS.release()}`
}
log(`${smoke ? "smoke run" : "full run"} on ${machine.cores} × ${machine.cpu}, ${machine.memory_gb} GB, Node ${machine.node}`)
const { backlog, floor, trusted } = await backlogAndFloor()
const lat = await latency()
const big = await bigFile()
const quiet = await idle()
const results = { date: new Date().toISOString(), smoke, machine, backlog, floor, trusted, latency: lat, big_file: big, idle: quiet }
NFS.mkdirSync(Path.dirname(outFile), { recursive: true })
NFS.writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n")

const f = (n, d = 1) => Number(n).toFixed(d)
const rows = [
  ["backlog", `${backlog.files} files in ${f(backlog.seconds, 2)} s (median of ${backlog.runs.length}): ${f(backlog.files_per_s, 0)} files/s, ${f(backlog.records_per_s, 0)} records/s, ${f(backlog.mb_per_s)} MB/s, peak RSS ${backlog.peak_rss_mb} MB`, "RSS ≤ 200 MB"],
  ["floor", `${f(floor.seconds, 2)} s; floor/pipeline = ${f(floor.ratio, 2)} (pairs: ${floor.ratios_by_pair.map((r) => f(r, 2)).join(", ")})`, "≥ 0.5"],
  ["trusted", `TRUSTED_PRODUCERS=true: ${f(trusted.seconds, 2)} s; the safe default takes ${f(trusted.copy_cost_ratio, 2)}× that (the copy it stores)`, "—"],
  ["latency", `p50 ${f(lat.p50_ms)} ms, p95 ${f(lat.p95_ms)} ms, p99 ${f(lat.p99_ms)} ms, max ${f(lat.max_ms)} ms (${lat.files} files at ${lat.rate_per_s}/s)`, "p50 ≤ 10, p99 ≤ 50 ms"],
  ["big file", `${f(big.megabytes)} MB, ${big.records} records in ${f(big.seconds, 2)} s, peak RSS ${big.peak_rss_mb} MB (${big.outcome})`, "≤ 5 s, ≤ 1 GB"],
  ["idle", `${f(quiet.cpu_seconds, 2)} CPU-s in ${quiet.seconds} s = ${f(quiet.cpu_seconds_per_minute, 2)} CPU-s/min`, "≤ 0.6 CPU-s/min"]
]
const width = Math.max(...rows.map((r) => r[1].length))
process.stdout.write(`| scenario | result${" ".repeat(width - 6)} | target |\n|---|${"-".repeat(width + 1)}|---|\n`)
for (const [name, result, target] of rows) process.stdout.write(`| ${name.padEnd(8)} | ${result.padEnd(width)} | ${target} |\n`)
process.stdout.write(`results: ${Path.relative(process.cwd(), outFile)}\n`)
