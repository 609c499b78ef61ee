/** Keeps the benchmark alive: a smoke run must work and print its table. Timings are never asserted. */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { expect, it, onTestFinished } from "vitest"
import { xmlProblems } from "../support/xmlCheck.js"

const bench = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "run.mjs")

/**
 * Runs the benchmark without blocking this worker: a spawnSync longer than
 * vitest's fixed 60 s RPC timeout ends the run with "Timeout calling
 * onTaskUpdate" although every test passed (vitest-dev/vitest#8164).
 */
const runBench = (
  args: ReadonlyArray<string>,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env
): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(process.execPath, [bench, ...args], { stdio: ["ignore", "pipe", "pipe"], env })
    // Stopped with the test, on failure or timeout too (the benchmark runs for minutes).
    onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")))
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs)
    child.on("error", reject)
    child.on("close", (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })

const rowNames = (stdout: string) => [...stdout.matchAll(/^\| ([a-z][a-z -]*?)\s+\|/gm)].map((m) => m[1])
const isRoot = typeof process.getuid === "function" && process.getuid() === 0
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
/** The table's row of that name. */
const row = (name: string) => new RegExp(`^\\| ${escape(name)}\\s+\\|`, "m")

it("npm run bench --smoke runs every scenario and prints its table", async () => {
  const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-smoke-"))
  try {
    const out = Path.join(dir, "smoke.json")
    const run = await runBench(["--smoke", "--out", out], 300_000)
    expect(run.status, run.stderr).toBe(0)
    for (const scenario of ["backlog", "latency", "big file", "idle", "scaling", "scale-out", "partners", "partners idle"]) expect(run.stdout).toMatch(row(scenario))
    expect(run.stdout).toMatch(/^\| partners\s+\| 200 files: 20 partners × 10 [\d.]+ s \([\d.]+\), peak RSS \d+ MB; one inbox [\d.]+ s \([\d.]+\), peak RSS \d+ MB: rate ratio [\d.]+\s+\| ≥ 0\.9 \|$/m)
    // the backlog's rows on the disk, and (as root: a tmpfs, chown, cgroups) on a tmpfs, with the other user's files, and the quota rows
    const diskRows = ["bare floor", "durable-copy floor", "naive", "daemon", "trusted", "all cores", "unit", "daemon ÷ bare floor", "daemon ÷ naive"]
    const rootRows = ["disk: other user", "disk: other user ÷ durable-copy floor", ...["bare floor", "durable-copy floor", "naive", "daemon", "other user", "daemon ÷ bare floor", "other user ÷ durable-copy floor", "daemon ÷ naive"].map((r) => `tmpfs: ${r}`), "quota"]
    for (const name of [...diskRows.map((r) => `disk: ${r}`), ...(isRoot ? rootRows : [])]) expect(run.stdout).toMatch(row(name))
    expect(run.stdout).toMatch(/^\| disk: daemon ÷ bare floor\s+\| [\d.]+ \(rounds [\d.]+\).*\| ≥ 0\.6 \|$/m)
    expect(run.stdout).toMatch(/^\| disk: daemon ÷ naive\s+\| [\d.]+ \(rounds [\d.]+\).*\| ≥ 3 \|$/m)
    expect(run.stdout).toMatch(/^\| disk: naive\s+\| [\d.]+ s \([\d.]+\), \d+ files\/s, [\d.]+ CPU-s \(\d+ µs a file\)/m)
    // one scaling row per size and one for the growth; one scale-out row for 2 instances
    expect(rowNames(run.stdout).filter((n) => n === "scaling")).toHaveLength(3)
    expect(rowNames(run.stdout).filter((n) => n === "scale-out")).toHaveLength(1)
    expect(run.stdout).toMatch(/^\| scaling\s+\| 200 files in [\d.]+ s: \d+ files\/s, peak RSS \d+ MB; floor/m)
    expect(run.stdout).toMatch(/^\| scaling\s+\| 400 files in [\d.]+ s: \d+ files\/s, [\d.]+ × the 200-file rate, peak RSS/m)
    expect(run.stdout).toMatch(/^\| scale-out\s+\| local disk, 200 files: 2 instances [\d.]+ s .* speed-up [\d.]+×\s+\| — \(two cores shared: see quota\) \|$/m)
    const results = JSON.parse(NFS.readFileSync(out, "utf8"))
    expect(results).toMatchObject({ smoke: true, backlog: { files: 200 }, latency: { files: 300 }, big_file: { records: 2000 } })
    // 20 partners of 10 files against one inbox of the 200, each file stored once (checked by the scenario), and idling with 20 inboxes
    expect(results.partners).toMatchObject({ partners: 20, files_each: 10, files: 200, trials: 1 })
    expect(results.partners.by_build).toEqual([expect.objectContaining({
      rate_ratio: expect.any(Number),
      idle_cpu_seconds_per_minute: expect.objectContaining({ single: expect.any(Number), partners: expect.any(Number) })
    })])
    // (the smoke's 2 s idle window may measure no CPU at all for one inbox: then no ratio is given)
    const idle = results.partners.by_build[0].idle_cpu_seconds_per_minute
    expect(idle.ratio).toBe(idle.single > 0 ? idle.partners / idle.single : null)
    // every backlog row once a round, with its CPU seconds (GNU time), and the ratios
    const rowsWanted = ["bare floor", "durable-copy floor", "naive", "daemon", "trusted", "all cores", "unit", ...(isRoot ? ["other user"] : [])]
    const diskRowNames = results.backlog.rows.filter((r: { place: string }) => r.place === "disk").map((r: { row: string }) => r.row)
    expect(new Set(diskRowNames)).toEqual(new Set(rowsWanted))
    for (const r of results.backlog.rows) expect(r).toMatchObject({ runs_seconds: [expect.any(Number)], seconds: expect.any(Number), files_per_s: expect.any(Number), cpu_seconds: expect.any(Number) })
    expect(results.backlog.ratios.map((r: { place: string; name: string }) => `${r.place}: ${r.name}`)).toEqual(
      isRoot
        ? ["disk: daemon ÷ bare floor", "disk: other user ÷ durable-copy floor", "disk: daemon ÷ naive", "tmpfs: daemon ÷ bare floor", "tmpfs: other user ÷ durable-copy floor", "tmpfs: daemon ÷ naive"]
        : ["disk: daemon ÷ bare floor", "disk: daemon ÷ naive"]
    )
    if (isRoot) {
      // each instance held to 0.45 core in its own cgroup; every trial checked exactly once
      expect(results.quota).toMatchObject({ quota_cores: 0.45, files: 200, instances: [1, 2, 4], exactly_once: true })
      expect(results.quota.efficiency.map((e: { instances: number; target: number }) => [e.instances, e.target])).toEqual([[2, 0.8], [4, 0.7]])
      for (const r of results.quota.runs) for (const cores of r.cores_used) expect(cores).toBeLessThan(0.45 * 1.15)
      for (const b of results.quota.by_instances) expect(b.cores_used).toBeLessThan(0.45 * 1.15)
      expect(run.stdout).toMatch(/^\| quota\s+\| 4 instances [\d.]+ s \([\d.]+\), \d+ files\/s, [\d.]+ core each used = [\d.]+ × 4 × one/m)
    }
    // INSTANCES=auto beside the one instance, in every pair: its time, speed-up and floor ratio
    expect(results.all_cores).toMatchObject({ instances: expect.any(Number), seconds: expect.any(Number), speedup: expect.any(Number), ratio: expect.any(Number) })
    expect(results.all_cores.ratios_by_pair).toHaveLength(results.backlog.runs.length)
    // and as the systemd unit runs it: the unit's thread pool, read from the unit file
    expect(results.systemd_unit).toMatchObject({ uv_threadpool_size: 16, seconds: expect.any(Number), speedup: expect.any(Number), ratio: expect.any(Number) })
    const point = { files: expect.any(Number), seconds: expect.any(Number), files_per_s: expect.any(Number), peak_rss_mb: expect.any(Number), daemon_max_rss_mb: expect.any(Number), floor_seconds: expect.any(Number) }
    expect(results.scaling).toMatchObject({ points: [{ ...point, files: 200 }, { ...point, files: 400 }], rss_kb_per_file: expect.any(Number) })
    // a peak RSS is a real figure (the daemon is a Node process: tens of MB at least)
    for (const p of results.scaling.points) expect(p.peak_rss_mb).toBeGreaterThan(20)
    const byInstances = { runs_seconds: [expect.any(Number)], median_seconds: expect.any(Number), files_per_s: expect.any(Number), speedup: expect.any(Number), peak_rss_mb: expect.any(Number) }
    expect(results.scale_out).toMatchObject({
      filesystem: "local",
      files: 200,
      trials: 1,
      instances: [1, 2],
      by_instances: [{ ...byInstances, instances: 1, speedup: 1 }, { ...byInstances, instances: 2 }],
      floor: null
    })
    // the chart beside the JSON
    const svg = NFS.readFileSync(Path.join(dir, "smoke-scaling.svg"), "utf8")
    expect(xmlProblems(svg)).toEqual([])
    for (const p of results.scaling.points) expect(svg).toContain(`${p.peak_rss_mb} MB`)
  } finally {
    NFS.rmSync(dir, { recursive: true, force: true })
  }
}, 320_000)

it("--only runs a subset; --scale, --instances and --chart set the sizes, the instance counts and a second chart", async () => {
  const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-smoke-"))
  try {
    const out = Path.join(dir, "subset.json")
    const chart = Path.join(dir, "docs", "scaling.svg")
    // The daemons run on defaults whatever the shell exports: with these they would fail or look elsewhere.
    const shell = { ...process.env, INSTANCES: "not-a-number", DATA_DIR: Path.join(dir, "elsewhere") }
    const args = ["--smoke", "--only", "scaling,scale-out", "--scale", "150,250", "--instances", "3", "--chart", chart, "--out", out]
    const run = await runBench(args, 120_000, shell)
    expect(run.status, run.stderr).toBe(0)
    expect(new Set(rowNames(run.stdout))).toEqual(new Set(["scenario", "scaling", "scale-out"]))
    const results = JSON.parse(NFS.readFileSync(out, "utf8"))
    expect(results.scenarios).toEqual(["scaling", "scaleout"])
    expect(results).not.toHaveProperty("backlog")
    expect(results).not.toHaveProperty("latency")
    expect(results.scaling.points.map((p: { files: number }) => p.files)).toEqual([150, 250])
    // 1 is always measured: the baseline of the speed-up
    expect(results.scale_out.by_instances.map((b: { instances: number }) => b.instances)).toEqual([1, 3])
    expect(run.stdout).toMatch(/^\| scale-out\s+\| local disk, 200 files: 3 instances/m)
    const svg = NFS.readFileSync(chart, "utf8")
    expect(svg).toBe(NFS.readFileSync(Path.join(dir, "smoke-scaling.svg"), "utf8"))
    expect(svg).toContain(">150<")
    expect(svg).toContain(">250<")
  } finally {
    NFS.rmSync(dir, { recursive: true, force: true })
  }
}, 140_000)

it("--against builds a ref in a temporary worktree, runs it side by side with the working tree and removes the worktree", async () => {
  const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-smoke-"))
  const repo = Path.resolve(Path.dirname(bench), "..")
  const worktrees = () => ChildProcess.execFileSync("git", ["worktree", "list", "--porcelain"], { cwd: repo, encoding: "utf8" })
  const before = worktrees()
  try {
    const out = Path.join(dir, "against.json")
    const run = await runBench(["--smoke", "--against", "HEAD", "--only", "big", "--rounds", "2", "--out", out], 240_000)
    expect(run.status, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/against: building [0-9a-f]{7}/)
    expect(run.stdout).toMatch(/^HEAD \([0-9a-f]{7}\) → working tree: medians, and working tree ÷ HEAD in brackets$/m)
    expect(run.stdout).toMatch(/^\| big file \| big file \| 2\+2 \| [\d.]+ → [\d.]+ s \([\d.]+×\) \|/m)
    const results = JSON.parse(NFS.readFileSync(out, "utf8"))
    const head = ChildProcess.execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo, encoding: "utf8" }).trim()
    expect(results.against).toMatchObject({ ref: "HEAD", commit: head, runs_each: 2 })
    const [big] = results.against.comparisons
    expect(big).toMatchObject({ scenario: "big file", runs: { ref: 2, work: 2 }, ratio: { seconds: expect.any(Number), peak_rss_mb: expect.any(Number) } })
    expect(big.ratio.seconds).toBeCloseTo(big.work.seconds / big.ref.seconds, 10)
  } finally {
    NFS.rmSync(dir, { recursive: true, force: true })
  }
  // the worktree is gone, from the disk and from git's list
  expect(worktrees()).toBe(before)
}, 260_000)

it("refuses an unknown option before running anything", async () => {
  const run = await runBench(["--smoke", "--only", "everything"], 30_000)
  expect(run.status).toBe(2)
  expect(run.stderr).toMatch(/--only: unknown scenario everything; the scenarios are backlog, latency, big, idle, scaling, scaleout/)
  expect(run.stdout).toBe("")
})
