/**
 * Real deployments: the daemon as an unprivileged service user (setpriv, uid
 * 65534) over files other users wrote, with Linux's protected_hardlinks; names
 * of every kind a filesystem allows; a returns/ folder that fills up.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { makeCorpus, sha256 } from "../support/corpus.js"
import { fixture } from "../support/fixtures.js"
import { appLogLines, cleanUpAfterEach, makeRoot, spawnDaemon } from "./support.js"
import { list, misrouted } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"

const SERVICE = 65534
const fixtures = { validSingle: fixture("valid-single.json"), invalidLuhn: fixture("invalid-luhn.json") }
const isRoot = typeof process.getuid === "function" && process.getuid() === 0
const { daemons, roots, mounts } = cleanUpAfterEach()

/** A folder tree as the README's "Producers in other accounts" sets it up: folders the service user owns. */
const serviceTree = () => {
  const root = makeRoot()
  roots.push(root)
  NFS.chmodSync(root, 0o755)
  for (const dir of ["data", "processing", "validated", "returns", "logs"]) {
    NFS.mkdirSync(Path.join(root, dir))
    NFS.chownSync(Path.join(root, dir), SERVICE, SERVICE)
  }
  NFS.chmodSync(Path.join(root, "data"), 0o777)
  return root
}

const asService = (root: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  spawnDaemon(root, args, { LOG_CONSOLE: "json", ...env }, { uid: SERVICE })

describe.skipIf(!isRoot)("as an unprivileged service user (uid 65534)", () => {
  it("routes files other users wrote (mode 0644, protected_hardlinks), byte-identical, exactly once through kill -9 and restarts", async () => {
    expect(NFS.readFileSync("/proc/sys/fs/protected_hardlinks", "utf8").trim()).toBe("1")
    const root = serviceTree()
    const corpus = makeCorpus(1500, 31)
    for (const f of corpus) NFS.writeFileSync(Path.join(root, "data", f.name), f.content, { mode: 0o644 }) // owned by root
    const env = { WATCH_MODE: "poll", POLL_INTERVAL_MS: "200", HEARTBEAT_MS: "500", QUIET_PERIOD_MS: "0" }
    for (let kill = 0; kill < 3; kill++) {
      const d = asService(root, [], env)
      daemons.push(d)
      const before = list(Path.join(root, "validated")).length
      await waitUntil(() => list(Path.join(root, "validated")).length > before + 100, 60_000, "progress before the kill")
      d.child.kill("SIGKILL")
      await d.exited
    }
    const last = asService(root, ["--once"], env)
    daemons.push(last)
    expect(await last.exited).toBe(0)
    expect(misrouted(root, corpus)).toEqual([])
    expect(list(Path.join(root, "data"))).toEqual([])
    for (const dir of NFS.readdirSync(Path.join(root, "processing"))) expect(list(Path.join(root, "processing", dir))).toEqual([])
    // The stored files are the service user's own, readable by its group only.
    for (const name of list(Path.join(root, "validated")).slice(0, 20)) {
      const stat = NFS.statSync(Path.join(root, "validated", name))
      expect(stat.uid).toBe(SERVICE)
      expect(stat.mode & 0o777).toBe(0o640)
    }
  }, 180_000)

  it("the README's producer setup: a producer in returns/'s group reads its returned file and report", async () => {
    const PRODUCER = 65533
    const PRODUCERS = 4242 // the producers' group, which the service user is in too
    const root = serviceTree()
    NFS.chownSync(Path.join(root, "data"), SERVICE, PRODUCERS)
    NFS.chmodSync(Path.join(root, "data"), 0o2770)
    NFS.chownSync(Path.join(root, "returns"), SERVICE, PRODUCERS)
    NFS.chmodSync(Path.join(root, "returns"), 0o2750)
    const asProducer = (command: ReadonlyArray<string>, input = "") =>
      ChildProcess.spawnSync("setpriv", ["--reuid", String(PRODUCER), "--regid", String(PRODUCER), "--groups", String(PRODUCERS), ...command], { input, encoding: "utf8" })
    // The producer drops an invalid file as producers do: written aside, renamed into place, umask 0027.
    const dropped = asProducer(["sh", "-c", `umask 0027 && cat > "$0/data/.bad.tmp" && mv "$0/data/.bad.tmp" "$0/data/bad.json"`, root], fixtures.invalidLuhn)
    expect(dropped.status, dropped.stderr).toBe(0)
    const d = spawnDaemon(root, ["--once"], { LOG_CONSOLE: "json" }, { uid: SERVICE, groups: [PRODUCERS] })
    daemons.push(d)
    expect(await d.exited).toBe(0)
    expect(list(Path.join(root, "returns"))).toEqual(["bad.json", "bad.json.error.json"])
    for (const name of ["bad.json", "bad.json.error.json"]) {
      const stat = NFS.statSync(Path.join(root, "returns", name))
      expect(stat.gid, name).toBe(PRODUCERS)
      expect(stat.mode & 0o777, name).toBe(0o640)
      const read = asProducer(["cat", Path.join(root, "returns", name)])
      expect(read.status, `${name}: ${read.stderr}`).toBe(0)
    }
    expect(JSON.parse(asProducer(["cat", Path.join(root, "returns", "bad.json.error.json")]).stdout)).toHaveProperty("error_count")
    expect(asProducer(["cat", Path.join(root, "returns", "bad.json")]).stdout).toBe(fixtures.invalidLuhn)
  }, 60_000)

  it("a file it may not read: one ERROR and one notification, left in data/, the others flow, /healthz degraded, --once exits 75", async () => {
    const root = serviceTree()
    NFS.writeFileSync(Path.join(root, "data", "private.json"), fixtures.validSingle, { mode: 0o600 }) // root's, unreadable
    NFS.writeFileSync(Path.join(root, "data", "open.json"), fixtures.validSingle, { mode: 0o644 })
    const d = asService(root, [], { RESCAN_INTERVAL_MS: "300", QUIET_PERIOD_MS: "0", METRICS_PORT: "19321" })
    daemons.push(d)
    await waitUntil(() => list(Path.join(root, "validated")).includes("open.json"), 30_000, "open.json validated")
    await new Promise((r) => setTimeout(r, 3000)) // ten rescans
    const health = await (await fetch("http://127.0.0.1:19321/healthz")).json() as Record<string, unknown>
    expect(health).toMatchObject({ status: "degraded", failing_files: 1 })
    const metrics = await (await fetch("http://127.0.0.1:19321/metrics")).text()
    expect(metrics).toMatch(/^cjp_files_failing 1$/m)
    d.child.kill("SIGTERM")
    expect(await d.exited).toBe(0)
    const errors = appLogLines(root, "logs").filter((l) => l.level === "ERROR" && l.file === "private.json")
    expect(errors).toHaveLength(1)
    expect(String(errors[0]!.error)).toMatch(/permission denied: the daemon \(uid 65534\) may not read it \(owner 0, group 0, mode 0600\)/)
    expect(NFS.readdirSync(Path.join(root, "logs", "outbox")).filter((n) => /-critical-[a-p]+\.eml$/.test(n))).toHaveLength(1)
    expect(list(Path.join(root, "data"))).toEqual(["private.json"])

    const once = asService(root, ["--once"], { QUIET_PERIOD_MS: "0" })
    daemons.push(once)
    expect(await once.exited).toBe(75)
    expect(once.output()).toMatch(/"msg":"finished with files that could not be routed; they stay where they are \(exit code 75\)".*"left_behind":1/)
  }, 60_000)

  it("refuses a sticky data/ it does not own, saying why and how to fix it", async () => {
    const root = serviceTree()
    NFS.chownSync(Path.join(root, "data"), 0, 0)
    NFS.chmodSync(Path.join(root, "data"), 0o1777)
    const d = asService(root, ["--once"], {})
    daemons.push(d)
    expect(await d.exited).toBe(73)
    expect(d.output()).toMatch(/folder data \(DATA_DIR\) is not usable: it has the sticky bit.*chmod o-t/)
  })
})

describe("names a filesystem allows", () => {
  it("routes 255-byte names (valid, invalid, colliding twice), Latin-1, newline, tab, escape and leading-dash names; --once ends", async () => {
    const root = makeRoot()
    roots.push(root)
    const data = Path.join(root, "data")
    NFS.mkdirSync(data)
    const valid = Buffer.from(fixtures.validSingle)
    const invalid = Buffer.from(fixtures.invalidLuhn)
    const long = (c: string, ext: string) => Buffer.concat([Buffer.from(c.repeat(255 - Buffer.byteLength(ext))), Buffer.from(ext)])
    const names: Array<[Buffer, Buffer]> = [
      [long("a", ".json"), valid],
      [long("b", ".json"), invalid],
      [Buffer.concat([Buffer.from("é".repeat(125)), Buffer.from(".json")]), valid],
      [Buffer.from("caf\xe9.json", "latin1"), valid],
      [Buffer.from("new\nline.json"), valid],
      [Buffer.from("tab\tname.json"), invalid],
      [Buffer.from("esc\x1b[31mred.json"), valid],
      [Buffer.from("-dash.json"), valid]
    ]
    for (const [name, content] of names) NFS.writeFileSync(Buffer.concat([Buffer.from(data + "/"), name]), content)
    // A 255-byte name stored twice already: the third copy gets the stamped name, shortened to fit.
    NFS.mkdirSync(Path.join(root, "returns"))
    const r = spawnDaemon(root, ["--once"], { QUIET_PERIOD_MS: "0", LOG_CONSOLE: "json" })
    daemons.push(r)
    expect(await r.exited).toBe(0)
    expect(NFS.readdirSync(data)).toEqual([])
    for (const pass of [1, 2]) {
      NFS.writeFileSync(Buffer.concat([Buffer.from(data + "/"), long("b", ".json")]), Buffer.concat([invalid, Buffer.from(" ".repeat(pass))]))
      const again = spawnDaemon(root, ["--once"], { QUIET_PERIOD_MS: "0", LOG_CONSOLE: "json" })
      daemons.push(again)
      expect(await again.exited).toBe(0)
    }
    const validated = NFS.readdirSync(Path.join(root, "validated"))
    const returned = NFS.readdirSync(Path.join(root, "returns"))
    for (const n of [...validated, ...returned]) expect(Buffer.byteLength(n), n).toBeLessThanOrEqual(255)
    expect(validated).toContain("caf%E9.json")
    expect(validated).toContain("new%0Aline.json")
    expect(validated).toContain("esc%1B[31mred.json")
    expect(validated).toContain("-dash.json")
    expect(validated).toContain("a".repeat(250) + ".json")
    expect(returned).toContain("tab%09name.json.error.json")
    // the long invalid name three times: itself, then two stamped and shortened names, each with its report
    const longReturned = returned.filter((n) => n.startsWith("bbbb") && !n.endsWith(".error.json"))
    expect(longReturned).toHaveLength(3)
    for (const n of longReturned) expect(returned).toContain(`${n}.error.json`)
    // every stored file is byte-identical to one dropped
    const dropped = new Set(names.map(([, c]) => sha256(c)))
    for (const n of validated) expect(dropped.has(sha256(NFS.readFileSync(Path.join(root, "validated", n))))).toBe(true)
    // the report names the original as escaped text; the log shows one JSON object per line
    const report = JSON.parse(NFS.readFileSync(Path.join(root, "returns", "tab%09name.json.error.json"), "utf8")) as Record<string, unknown>
    expect(report).toMatchObject({ file: "tab%09name.json", stored_as: "tab%09name.json" })
    const lines = appLogLines(root, "logs").filter((l) => l.msg === "file processed")
    expect(lines.map((l) => l.file)).toContain("caf%E9.json")
    expect(lines.map((l) => l.file)).toContain("new%0Aline.json")
  }, 60_000)
})

describe.skipIf(!isRoot)("a returns/ folder that fills up", () => {
  it("ENOSPC: nothing lost, the daemon keeps running, everything routed once space returns, no leftovers", async () => {
    const root = makeRoot()
    roots.push(root)
    for (const dir of ["data", "returns"]) NFS.mkdirSync(Path.join(root, dir))
    const m = ChildProcess.spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", Path.join(root, "returns")], { encoding: "utf8" })
    expect(m.status, m.stderr).toBe(0)
    mounts.push(Path.join(root, "returns"))
    const d = spawnDaemon(root, [], { QUIET_PERIOD_MS: "0", RESCAN_INTERVAL_MS: "300", HEALTH_CHECK_INTERVAL_MS: "300", MIN_FREE_DISK_MB: "0", LOG_CONSOLE: "json" })
    daemons.push(d)
    await d.waitFor(/customer-json-processor started/)
    // returns/ fills up while the daemon runs (its health check probes it meanwhile).
    const filler = Path.join(root, "returns", "filler.bin")
    const fd = NFS.openSync(filler, "w")
    try {
      const chunk = Buffer.alloc(4096, 1)
      for (;;) NFS.writeSync(fd, chunk)
    } catch {
      // ENOSPC: full
    } finally {
      NFS.closeSync(fd)
    }
    const corpus = makeCorpus(40, 37)
    for (const f of corpus) NFS.writeFileSync(Path.join(root, "data", f.name), f.content)
    await waitUntil(() => corpus.filter((f) => f.valid).every((f) => NFS.existsSync(Path.join(root, "validated", f.name))), 30_000, "valid files validated")
    await new Promise((r) => setTimeout(r, 1500))
    expect(d.child.exitCode).toBeNull()
    // Nothing half-written and nothing of the daemon's in the full folder.
    expect(NFS.readdirSync(Path.join(root, "returns"))).toEqual(["filler.bin"])
    NFS.unlinkSync(filler)
    await waitUntil(() => misrouted(root, corpus).length === 0, 60_000, "every file routed once space returned")
    d.child.kill("SIGTERM")
    expect(await d.exited).toBe(0)
    expect(list(Path.join(root, "data"))).toEqual([])
    for (const dir of ["validated", "returns"]) expect(NFS.readdirSync(Path.join(root, dir)).filter((n) => n.startsWith("."))).toEqual([])
    for (const dir of NFS.readdirSync(Path.join(root, "processing"))) expect(list(Path.join(root, "processing", dir))).toEqual([])
  }, 120_000)
})

describe.skipIf(!isRoot)("folders on separate mounts (as systemd's ReadWritePaths= makes them, one per entry)", () => {
  it("data/ and processing/ on two mounts: refused at start with exit 78 and the fix, not an EXDEV for every file", async () => {
    const root = makeRoot()
    roots.push(root)
    for (const dir of ["data", "processing", "validated", "returns", "logs"]) NFS.mkdirSync(Path.join(root, dir))
    // A bind mount of data/ onto itself: the same filesystem, another mount.
    const mounted = ChildProcess.spawnSync("mount", ["--bind", Path.join(root, "data"), Path.join(root, "data")], { encoding: "utf8" })
    expect(mounted.status, mounted.stderr).toBe(0)
    mounts.push(Path.join(root, "data"))
    NFS.writeFileSync(Path.join(root, "data", "a.json"), fixtures.validSingle)
    const d = spawnDaemon(root, ["--once"], { LOG_CONSOLE: "json" })
    daemons.push(d)
    expect(await d.exited).toBe(78)
    expect(d.output()).toMatch(/is not on the same mount as PROCESSING_DIR.*EXDEV.*ReadWritePaths= their common parent/)
    // Nothing was claimed, and no probe was left behind.
    expect(NFS.readdirSync(Path.join(root, "data"))).toEqual(["a.json"])
    expect(NFS.readdirSync(Path.join(root, "processing")).flatMap((d) => NFS.readdirSync(Path.join(root, "processing", d)))).toEqual([])
  }, 60_000)
})
