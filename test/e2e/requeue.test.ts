/**
 * `requeue` end to end, with the built CLI: returned files go back into data/
 * under the names they were received with, their reports go after them, and
 * whatever a killed run left is finished by the next one; beside a running
 * daemon, and as the service user.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { sha256 } from "../support/corpus.js"
import { appLogLines, baseEnv, cleanUpAfterEach, drop, forOtherUsers, MAIN, makeRoot, spawnDaemon } from "./support.js"
import { list } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"

const SERVICE = 65534
const isRoot = typeof process.getuid === "function" && process.getuid() === 0
const { daemons, children, roots, mounts } = cleanUpAfterEach()

const newRoot = () => {
  const root = makeRoot()
  roots.push(root)
  return root
}

/** An invalid customer file whose bytes are its own (the contract needs more than an id). */
const invalid = (tag: string) => `[{"customer_id":"${tag}","first_name":"Ann"}]\n`

const dir = (root: string, name: string) => Path.join(root, name)
const read = (root: string, folder: string, name: string) => NFS.readFileSync(Path.join(root, folder, name), "utf8")
const reportOf = (root: string, name: string) => JSON.parse(read(root, "returns", `${name}.error.json`)) as Record<string, unknown>
/** Data files (reports left out) of a folder. */
const dataNames = (root: string, folder: string) => list(dir(root, folder)).filter((n) => !n.endsWith(".error.json"))
const reports = (root: string) => list(dir(root, "returns")).filter((n) => n.endsWith(".error.json"))

interface Ran {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * The CLI run to completion without blocking this worker (a synchronous spawn of a
 * few seconds starves vitest's own messages on a busy machine).
 */
const runAsync = (root: string, args: ReadonlyArray<string>, env: Record<string, string> = {}, uid?: number) =>
  new Promise<Ran>((resolve, reject) => {
    const [command, commandArgs] = uid === undefined
      ? [process.execPath, [MAIN, ...args]]
      : ["setpriv", ["--reuid", String(uid), "--regid", String(uid), "--clear-groups", process.execPath, forOtherUsers(MAIN), ...args]]
    const child = ChildProcess.spawn(command, commandArgs, { cwd: root, env: baseEnv(env), stdio: ["ignore", "pipe", "pipe"] })
    children.push(child)
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
    child.stderr!.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (status) => resolve({ status, stdout, stderr }))
  })

/** Drops the files and lets `--once` return them. */
const returnFiles = async (root: string, files: Record<string, string>, env: Record<string, string> = {}) => {
  NFS.mkdirSync(Path.join(root, "data"), { recursive: true })
  for (const [name, content] of Object.entries(files)) drop(root, name, content)
  const r = await runAsync(root, ["--once"], { QUIET_PERIOD_MS: "0", ...env })
  expect(r.status, r.stdout + r.stderr).toBe(0)
  expect(dataNames(root, "data")).toEqual([])
}

const requeue = (root: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) => runAsync(root, ["requeue", ...args], env)

const requeuedLines = (root: string) => appLogLines(root, "logs").filter((l) => l.msg === "file requeued")

/** The command as a child process whose output can be watched (a daemon may run meanwhile). */
const spawnRequeue = (root: string, args: ReadonlyArray<string>) => {
  const child = ChildProcess.spawn(process.execPath, [MAIN, "requeue", ...args], { cwd: root, env: baseEnv(), stdio: ["ignore", "pipe", "pipe"] })
  children.push(child)
  let stdout = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8")
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8")
  })
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")))
  return { child, stdout: () => stdout, exited }
}

describe("requeue", () => {
  it("one file: back in data/ under its name, its report gone, logged; the daemon returns it again", async () => {
    const root = newRoot()
    await returnFiles(root, { "a.json": invalid("a"), "b.json": invalid("b") })
    const r = await requeue(root, ["a.json"])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toBe("requeued a.json -> data/a.json\nrequeued 1, skipped 0, orphan reports removed 0\n")
    expect(read(root, "data", "a.json")).toBe(invalid("a"))
    expect(list(dir(root, "returns"))).toEqual(["b.json", "b.json.error.json"])
    expect(requeuedLines(root).map((l) => [l.file, l.stored_as, l.requeued_as])).toEqual([["a.json", "a.json", "a.json"]])
    // Fixed nothing: returned again, once, with one report.
    expect((await runAsync(root, ["--once"], { QUIET_PERIOD_MS: "0" })).status).toBe(0)
    expect(list(dir(root, "returns"))).toEqual(["a.json", "a.json.error.json", "b.json", "b.json.error.json"])
    expect(read(root, "returns", "a.json")).toBe(invalid("a"))
  })

  it("several files, given by name or by path in RETURNS_DIR", async () => {
    const root = newRoot()
    await returnFiles(root, { "a.json": invalid("a"), "b.json": invalid("b"), "c.json": invalid("c") })
    const r = await requeue(root, ["a.json", "returns/c.json"])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout.split("\n").slice(0, 2)).toEqual(["requeued a.json -> data/a.json", "requeued c.json -> data/c.json"])
    expect(list(dir(root, "data"))).toEqual(["a.json", "c.json"])
    expect(list(dir(root, "returns"))).toEqual(["b.json", "b.json.error.json"])
  })

  it("--all moves every returned file; --dry-run before it moves nothing", async () => {
    const root = newRoot()
    const files = Object.fromEntries(["a", "b", "c", "d"].map((n) => [`${n}.json`, invalid(n)]))
    await returnFiles(root, files)
    const before = list(dir(root, "returns"))
    const dry = await requeue(root, ["--all", "--dry-run"])
    expect(dry.status).toBe(0)
    expect(dry.stdout.trim().split("\n")).toEqual([
      ...Object.keys(files).map((n) => `would requeue ${n} -> data/${n}`),
      "would requeue 4, skipped 0, orphan reports to remove 0"
    ])
    expect(list(dir(root, "returns"))).toEqual(before)
    expect(list(dir(root, "data"))).toEqual([])
    expect(requeuedLines(root)).toEqual([])

    const r = await requeue(root, ["--all"])
    expect(r.status).toBe(0)
    expect(r.stdout.trim().split("\n").at(-1)).toBe("requeued 4, skipped 0, orphan reports removed 0")
    expect(list(dir(root, "returns"))).toEqual([])
    for (const [name, content] of Object.entries(files)) expect(read(root, "data", name)).toBe(content)
    expect(requeuedLines(root)).toHaveLength(4)
  })

  it("--dry-run prints what the real run then does, name for name: several files received under one name, a name taken in data/", async () => {
    const root = newRoot()
    // x.json returned twice (the second stored under a stamped name), b.json once, and a producer's new b.json in data/.
    await returnFiles(root, { "x.json": invalid("x1") })
    await returnFiles(root, { "x.json": invalid("x2") })
    await returnFiles(root, { "b.json": invalid("b") })
    NFS.writeFileSync(Path.join(root, "data", "b.json"), "a producer's new file")
    const dry = await requeue(root, ["--all", "--dry-run"])
    expect(dry.status, dry.stderr).toBe(0)
    // Later than any stamp the dry run could have used for the time it ran.
    await new Promise((r) => setTimeout(r, 50))
    const real = await requeue(root, ["--all"])
    expect(real.status, real.stderr).toBe(0)
    const predicted = dry.stdout.trim().split("\n").map((l) => l.replace(/^would requeue/, "requeued").replace("orphan reports to remove", "orphan reports removed"))
    expect(real.stdout.trim().split("\n")).toEqual(predicted)
    // Three moved, under three names: the two x files did not both go to data/x.json.
    expect(predicted).toHaveLength(4)
    expect(new Set(predicted.slice(0, 3).map((l) => l.split(" -> ")[1])).size).toBe(3)
    expect(read(root, "data", "b.json")).toBe("a producer's new file")
  })

  it("--older-than / --newer-than judge the report's processed_at, or the file's mtime without a report", async () => {
    const root = newRoot()
    await returnFiles(root, { "old.json": invalid("old"), "recent.json": invalid("recent"), "noreport.json": invalid("noreport") })
    const now = Date.now()
    const setProcessedAt = (name: string, at: number) => {
      const report = reportOf(root, name)
      NFS.writeFileSync(Path.join(root, "returns", `${name}.error.json`), JSON.stringify({ ...report, processed_at: new Date(at).toISOString() }))
    }
    setProcessedAt("old.json", now - 3 * 86_400_000)
    setProcessedAt("recent.json", now - 3_600_000)
    NFS.unlinkSync(Path.join(root, "returns", "noreport.json.error.json"))
    const tenDaysAgo = new Date(now - 10 * 86_400_000)
    NFS.utimesSync(Path.join(root, "returns", "noreport.json"), tenDaysAgo, tenDaysAgo)

    const newer = await requeue(root, ["--all", "--newer-than", "2h", "--dry-run"])
    expect(newer.status, `${newer.stdout}${newer.stderr}`).toBe(0)
    expect(newer.stdout.trim().split("\n")).toEqual(["would requeue recent.json -> data/recent.json", "would requeue 1, skipped 0, orphan reports to remove 0"])
    const window = await requeue(root, ["--all", "--older-than", "1d", "--newer-than", new Date(now - 5 * 86_400_000).toISOString(), "--dry-run"])
    expect(window.stdout.trim().split("\n")).toEqual(["would requeue old.json -> data/old.json", "would requeue 1, skipped 0, orphan reports to remove 0"])

    const older = await requeue(root, ["--all", "--older-than", "2d"])
    expect(older.status).toBe(0)
    expect(older.stdout.trim().split("\n").slice(0, -1).sort()).toEqual([
      "requeued noreport.json -> data/noreport.json",
      "requeued old.json -> data/old.json"
    ])
    expect(list(dir(root, "data"))).toEqual(["noreport.json", "old.json"])
    expect(list(dir(root, "returns"))).toEqual(["recent.json", "recent.json.error.json"])
  })

  it("a name taken in data/ gets the collision suffix; the taken file is untouched", async () => {
    const root = newRoot()
    await returnFiles(root, { "a.json": invalid("a") })
    NFS.writeFileSync(Path.join(root, "data", "a.json"), "a producer's new file")
    const r = await requeue(root, ["a.json"])
    expect(r.status).toBe(0)
    const target = /^requeued a\.json -> data\/(a-\d{8}T\d{9}Z\.json)$/m.exec(r.stdout)
    expect(target, r.stdout).not.toBeNull()
    expect(read(root, "data", "a.json")).toBe("a producer's new file")
    expect(read(root, "data", target![1]!)).toBe(invalid("a"))
    expect(list(dir(root, "returns"))).toEqual([])
  })

  it("the received name comes from the report, and without one (or masked) from the stored name: a stamped name goes back unstamped", async () => {
    const root = newRoot()
    // Returned twice under one name: the second is stored with the collision stamp.
    await returnFiles(root, { "x.json": invalid("x1") })
    await returnFiles(root, { "x.json": invalid("x2") })
    const card = "orders-4111111111111111.json"
    await returnFiles(root, { [card]: invalid("card") })
    const stamped = list(dir(root, "returns")).find((n) => /^x-\d{8}T\d{9}Z\.json$/.test(n))!
    expect(stamped).toBeDefined()
    expect(reportOf(root, "orders-XXXXXXXXXXXX1111.json")).toMatchObject({ file: "orders-************1111.json", stored_as: "orders-XXXXXXXXXXXX1111.json" })
    NFS.unlinkSync(Path.join(root, "returns", `${stamped}.error.json`))
    NFS.unlinkSync(Path.join(root, "returns", "x.json"))
    NFS.unlinkSync(Path.join(root, "returns", "x.json.error.json"))

    const r = await requeue(root, ["--all"])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    // The card's file was stored, and goes back, under its name masked with X (contract §5).
    const stored = "orders-XXXXXXXXXXXX1111.json"
    expect(list(dir(root, "data")).sort()).toEqual([stored, "x.json"].sort())
    expect(read(root, "data", "x.json")).toBe(invalid("x2"))
    expect(read(root, "data", stored)).toBe(invalid("card"))
    expect(r.stdout).toContain(`requeued ${stored} -> data/${stored}`)
    expect(r.stdout).not.toContain("4111111111111111")
    expect(NFS.readFileSync(Path.join(root, "logs", "app.log"), "utf8")).not.toContain("4111111111111111")
    expect(requeuedLines(root).map((l) => [l.file, l.stored_as]).sort()).toEqual([[stored, stored], ["x.json", stamped]])
  })

  it("a name in bytes that are not UTF-8 goes back under its original bytes", async () => {
    const root = newRoot()
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x6a, 0x73, 0x6f, 0x6e]) // café.json in Latin-1
    NFS.mkdirSync(Path.join(root, "data"))
    NFS.writeFileSync(Buffer.concat([Buffer.from(Path.join(root, "data") + "/"), latin1]), invalid("latin1"))
    expect((await runAsync(root, ["--once"], { QUIET_PERIOD_MS: "0" })).status).toBe(0)
    expect(list(dir(root, "returns"))).toEqual(["caf%E9.json", "caf%E9.json.error.json"])
    const r = await requeue(root, ["caf%E9.json"])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain("requeued caf%E9.json -> data/caf%E9.json")
    const names = NFS.readdirSync(Path.join(root, "data"), { encoding: "buffer" })
    expect(names).toEqual([latin1])
    expect(list(dir(root, "returns"))).toEqual([])
  })

  it("a name with terminal escapes goes back as it was, and the terminal sees it escaped (%XX), never the escapes", async () => {
    const root = newRoot()
    // Planted in returns/ by a producer who may write there: retitle the window, clear the screen.
    const hostile = "t\u001b]0;PWNED\u0007\u001b[2J.json"
    NFS.mkdirSync(Path.join(root, "returns"), { recursive: true })
    NFS.mkdirSync(Path.join(root, "data"), { recursive: true })
    NFS.writeFileSync(Path.join(root, "returns", hostile), "{}")
    const r = await requeue(root, ["--all"])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).not.toMatch(/[\u0007\u001b]/)
    expect(r.stdout.split("\n")[0]).toBe("requeued t%1B]0;PWNED%07%1B[2J.json -> data/t%1B]0;PWNED%07%1B[2J.json")
    expect(NFS.readdirSync(Path.join(root, "data"))).toEqual([hostile])
  })

  it("exit 1 naming each file that could not be moved, and why; the others move", async () => {
    const root = newRoot()
    await returnFiles(root, { "a.json": invalid("a"), "b.json": invalid("b") })
    NFS.symlinkSync("/etc/passwd", Path.join(root, "returns", "link.json"))
    // A second link elsewhere (a daemon still storing it looks like this): not moved.
    NFS.linkSync(Path.join(root, "returns", "b.json"), Path.join(root, "b-elsewhere"))
    const r = await requeue(root, ["a.json", "b.json", "link.json", "missing.json", "/tmp/a.json", "a.json.error.json"])
    expect(r.status).toBe(1)
    expect(r.stdout.trim().split("\n")).toEqual([
      "requeued a.json -> data/a.json",
      "skipped b.json: it has 2 links (a daemon may still be storing it); try again in a moment",
      "skipped link.json: not a regular file (SymbolicLink)",
      "skipped missing.json: not in the returns folder",
      `skipped /tmp/a.json: not in the returns folder ${Path.join("returns")}`,
      "skipped a.json.error.json: it is a report; give its file's name, a.json",
      "requeued 1, skipped 5, orphan reports removed 0"
    ])
    expect(list(dir(root, "data"))).toEqual(["a.json"])
    expect(NFS.readlinkSync(Path.join(root, "returns", "link.json"))).toBe("/etc/passwd")
    expect(list(dir(root, "returns"))).toEqual(["b.json", "b.json.error.json", "link.json"])
  })

  it("a report given by name is refused with its file's name", async () => {
    const root = newRoot()
    await returnFiles(root, { "a.json": invalid("a") })
    const r = await requeue(root, ["a.json.error.json"])
    expect(r.status).toBe(1)
    expect(r.stdout).toContain("skipped a.json.error.json: it is a report; give its file's name, a.json")
    expect(list(dir(root, "returns"))).toEqual(["a.json", "a.json.error.json"])
  })

  it("run where there is no returns folder: exit 1, and says where it looked and how to point it at the daemon's folders", async () => {
    const root = newRoot()
    const r = await requeue(root, ["--all"])
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/cannot list the returns folder returns: ENOENT.*run it in the daemon's working folder.*RETURNS_DIR/)
  })

  it("bad arguments exit 64 and move nothing", async () => {
    const root = newRoot()
    await returnFiles(root, { "a.json": invalid("a") })
    for (const args of [[], ["--all", "a.json"], ["--all", "--older-than", "2x"], ["--all", "--newer-than", "2026-11-28T10:00"], ["a.json", "--older-than", "2h"], ["--bogus", "a.json"], ["a.json", "--dry"]]) {
      const r = await requeue(root, args)
      expect(r.status, args.join(" ")).toBe(64)
      expect(r.stderr).toMatch(/^customer-json-processor requeue: .+\nusage: customer-json-processor requeue /)
      expect(r.stdout).toBe("")
    }
    expect(list(dir(root, "returns"))).toEqual(["a.json", "a.json.error.json"])
  })

  it("a crash's leftovers are finished: a file linked into data/ but still in returns/, and an orphan report (by --all and by name)", async () => {
    const root = newRoot()
    await returnFiles(root, { "half.json": invalid("half"), "gone.json": invalid("gone"), "gone2.json": invalid("gone2"), "placing.json": invalid("placing") })
    // 1. Linked into data/ (under a stamped name), not yet unlinked from returns/.
    NFS.linkSync(Path.join(root, "returns", "half.json"), Path.join(root, "data", "half-20261128T093000120Z.json"))
    // 2. Moved, report left behind.
    NFS.renameSync(Path.join(root, "returns", "gone.json"), Path.join(root, "data", "gone.json"))
    NFS.renameSync(Path.join(root, "returns", "gone2.json"), Path.join(root, "data", "gone2.json"))
    // 3. A report whose file is still being placed by a daemon: its private stage holds a second link.
    NFS.unlinkSync(Path.join(root, "returns", "placing.json"))
    NFS.linkSync(Path.join(root, "returns", "placing.json.error.json"), Path.join(root, "stage-link"))

    const byName = await requeue(root, ["gone2.json"])
    expect(byName.status).toBe(0)
    expect(byName.stdout.split("\n")[0]).toBe("removed orphan report gone2.json.error.json (its file was moved already)")

    const r = await requeue(root, ["--all"])
    expect(r.status, r.stdout).toBe(0)
    expect(r.stdout.trim().split("\n").sort()).toEqual([
      "removed orphan report gone.json.error.json (its file was moved already)",
      "requeued 1, skipped 0, orphan reports removed 1",
      "requeued half.json -> data/half-20261128T093000120Z.json (finishing an interrupted requeue)"
    ])
    expect(list(dir(root, "returns"))).toEqual(["placing.json.error.json"])
    expect(list(dir(root, "data"))).toEqual(["gone.json", "gone2.json", "half-20261128T093000120Z.json"])
    expect(NFS.statSync(Path.join(root, "data", "half-20261128T093000120Z.json")).nlink).toBe(1)
  })

  it("kill -9 mid-way, then a rerun: every file in data/ exactly once, nothing left in returns/, no orphan report", async () => {
    const root = newRoot()
    const files: Record<string, string> = {}
    for (let i = 0; i < 800; i++) files[`f${String(i).padStart(4, "0")}.json`] = invalid(`f${i}`)
    await returnFiles(root, files)
    expect(reports(root)).toHaveLength(800)

    const first = spawnRequeue(root, ["--all"])
    await waitUntil(() => /^requeued /m.test(first.stdout()), 30_000, "the first requeued line")
    first.child.kill("SIGKILL")
    expect(await first.exited).toBe("SIGKILL")
    const movedBefore = first.stdout().split("\n").filter((l) => l.startsWith("requeued ")).length
    // Interrupted mid-way, not after the end.
    expect(movedBefore).toBeLessThan(800)
    expect(dataNames(root, "returns").length).toBeGreaterThan(0)

    const rerun = await requeue(root, ["--all"])
    expect(rerun.status, rerun.stdout).toBe(0)
    expect(list(dir(root, "returns"))).toEqual([])
    expect(list(dir(root, "data"))).toEqual(Object.keys(files).sort())
    for (const [name, content] of Object.entries(files)) {
      expect(read(root, "data", name)).toBe(content)
      expect(NFS.statSync(Path.join(root, "data", name)).nlink).toBe(1)
    }
    // Each move logged, whichever run made it: a move the kill cut short after its line is logged again by the run that finishes it.
    const logged = requeuedLines(root).map((l) => l.file as string)
    expect(new Set(logged).size).toBe(800)
    expect(logged.length).toBeGreaterThanOrEqual(800)
    expect(logged.length).toBeLessThanOrEqual(801)
  })

  it("beside a running daemon: each file requeued and returned again exactly once, with one report", async () => {
    const root = newRoot()
    const env = { WATCH_MODE: "poll", POLL_INTERVAL_MS: "200", QUIET_PERIOD_MS: "200", LOG_CONSOLE: "json" }
    const d = spawnDaemon(root, [], env)
    daemons.push(d)
    await d.waitFor(/customer-json-processor started/, 30_000)
    const count = 60
    await waitUntil(() => NFS.existsSync(Path.join(root, "data")), 30_000, "data/")
    const contents = Array.from({ length: count }, (_, i) => invalid(`live${i}`))
    contents.forEach((c, i) => drop(root, `live${i}.json`, c))
    const settled = () => {
      const data = dataNames(root, "returns")
      return data.length === count && reports(root).length === count &&
        data.every((n) => NFS.lstatSync(Path.join(root, "returns", n)).nlink === 1) && dataNames(root, "data").length === 0
    }
    await waitUntil(settled, 60_000, "every file returned")

    const run = spawnRequeue(root, ["--all"])
    expect(await run.exited, run.stdout()).toBe(0)
    expect(run.stdout()).toContain(`requeued ${count}, skipped 0`)
    await waitUntil(() => requeuedLines(root).length === count && settled(), 60_000, "every file returned again")
    // Each file exactly once in returns/, none validated, none left anywhere else.
    const hashes = dataNames(root, "returns").map((n) => sha256(NFS.readFileSync(Path.join(root, "returns", n))))
    expect(hashes.sort()).toEqual(contents.map((c) => sha256(c)).sort())
    expect(list(dir(root, "validated"))).toEqual([])
    for (const n of dataNames(root, "returns")) expect(reports(root)).toContain(`${n}.error.json`)
    const returnedLines = appLogLines(root, "logs").filter((l) => l.msg === "file processed" && l.outcome === "returned")
    expect(returnedLines.length).toBe(2 * count)
  })

  it("beside a daemon watching with native events: no requeued file is taken for a hard-linked one (its moment of two links)", async () => {
    const root = newRoot()
    const env = { WATCH_MODE: "native", QUIET_PERIOD_MS: "200", LOG_CONSOLE: "json" }
    const d = spawnDaemon(root, [], env)
    daemons.push(d)
    await d.waitFor(/customer-json-processor started/, 30_000)
    const count = 100
    const contents = Array.from({ length: count }, (_, i) => invalid(`native${i}`))
    contents.forEach((c, i) => drop(root, `native${i}.json`, c))
    const settled = () => {
      const data = dataNames(root, "returns")
      return data.length === count && reports(root).length === count &&
        data.every((n) => NFS.lstatSync(Path.join(root, "returns", n)).nlink === 1) && dataNames(root, "data").length === 0
    }
    await waitUntil(settled, 60_000, "every file returned")
    const run = spawnRequeue(root, ["--all"])
    expect(await run.exited, run.stdout()).toBe(0)
    await waitUntil(() => requeuedLines(root).length === count && settled(), 60_000, "every file returned again")
    // Each requeued file was seen by an event the moment it was linked into data/, before its
    // returns/ name went: none is said to be a hard-linked file.
    const linked = appLogLines(root, "logs").filter((l) => l.kind === "hard-linked file")
    expect(linked.map((l) => l.file)).toEqual([])
    expect(appLogLines(root, "logs").filter((l) => l.msg === "file processed" && l.outcome === "returned")).toHaveLength(2 * count)
  })

  it.skipIf(!isRoot)("RETURNS_DIR on another filesystem (tmpfs): each file named with EXDEV and left where it is", async () => {
    const root = newRoot()
    NFS.mkdirSync(Path.join(root, "returns"))
    const mounted = ChildProcess.spawnSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", Path.join(root, "returns")], { encoding: "utf8" })
    expect(mounted.status, mounted.stderr).toBe(0)
    mounts.push(Path.join(root, "returns"))
    await returnFiles(root, { "a.json": invalid("a") })
    const r = await requeue(root, ["--all"])
    expect(r.status).toBe(1)
    expect(r.stdout).toContain("skipped a.json: EXDEV: RETURNS_DIR and DATA_DIR are on different filesystems")
    expect(list(dir(root, "returns"))).toEqual(["a.json", "a.json.error.json"])
    expect(list(dir(root, "data"))).toEqual([])
  })

  /** A folder tree the service user owns. */
  const serviceTree = () => {
    const root = newRoot()
    NFS.chmodSync(root, 0o755)
    for (const folder of ["data", "processing", "validated", "returns", "logs"]) {
      NFS.mkdirSync(Path.join(root, folder))
      NFS.chownSync(Path.join(root, folder), SERVICE, SERVICE)
    }
    return root
  }

  it.skipIf(!isRoot)("as the service user (uid 65534) on a tree it owns", async () => {
    const root = serviceTree()
    const asService = (args: ReadonlyArray<string>) => runAsync(root, args, { QUIET_PERIOD_MS: "0" }, SERVICE)
    for (const n of ["a", "b"]) NFS.writeFileSync(Path.join(root, "data", `${n}.json`), invalid(n), { mode: 0o644 })
    expect((await asService(["--once"])).status).toBe(0)
    for (const n of list(dir(root, "returns"))) expect(NFS.statSync(Path.join(root, "returns", n)).uid).toBe(SERVICE)
    const r = await asService(["requeue", "--all"])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain("requeued 2, skipped 0")
    expect(list(dir(root, "data"))).toEqual(["a.json", "b.json"])
    expect(list(dir(root, "returns"))).toEqual([])
    expect(requeuedLines(root)).toHaveLength(2)
    // A file the service user may not move (root's, in a folder it may not write) is named with the reason.
    NFS.writeFileSync(Path.join(root, "returns", "root.json"), invalid("root"), { mode: 0o600 })
    NFS.chownSync(Path.join(root, "returns"), 0, 0)
    const denied = await asService(["requeue", "root.json"])
    expect(denied.status).toBe(1)
    expect(denied.stdout).toMatch(/^skipped root\.json: (EPERM|PermissionDenied|EACCES)/m)
    expect(NFS.existsSync(Path.join(root, "returns", "root.json"))).toBe(true)
  })

  it.skipIf(!isRoot)("as the service user, a file a producer put in returns/ is named with why the kernel refuses to link it", async () => {
    const root = serviceTree()
    // A producer's own file (another user's, 0644) in a returns/ the service user may write.
    NFS.writeFileSync(Path.join(root, "returns", "theirs.json"), invalid("theirs"), { mode: 0o644 })
    NFS.chownSync(Path.join(root, "returns", "theirs.json"), SERVICE - 1, SERVICE - 1)
    const r = await runAsync(root, ["requeue", "theirs.json"], {}, SERVICE)
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/^skipped theirs\.json: EPERM in link \(the kernel links only a file this user owns or may write, fs\.protected_hardlinks/m)
    expect(r.stdout).not.toContain("run as the daemon's user")
  })
})
