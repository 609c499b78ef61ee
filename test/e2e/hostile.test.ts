/**
 * Hostile producers (issue: nothing outside the five folders is ever created,
 * written, read or exposed). The daemon runs as root, as it often does; the
 * producer is uid 65534 (setpriv) and may write data/ and returns/. For a
 * while it sprays links at every name the daemon used to make predictably,
 * races the daemon's new names through inotify, swaps claimed names for links
 * to a secret, rewrites files it holds open after they were judged, and plants
 * FIFOs and hard links (test/e2e/support/attacker.mjs). Then:
 *  - a canary folder outside the tree is untouched, nothing was created there;
 *  - everything the daemon made is a regular file with one link, no set-id bit;
 *  - every stored file holds exactly the bytes that were dropped (judged);
 *  - the secret appears in no output; FIFOs and hard links hung nothing;
 *  - /healthz answered within a second throughout.
 * Once on one filesystem, once with validated/ and returns/ on tmpfs mounts
 * (copies across filesystems stage in the producer's folder), and once with
 * data/ and returns/ a partner's inbox and returns folder (PARTNERS_FILE).
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { sha256 } from "../support/corpus.js"
import { cleanUpAfterEach, forOtherUsers, makeRoot, spawnDaemon } from "./support.js"
import { healthProbe } from "./support/healthProbe.js"
import { waitUntil } from "../support/wait.js"

const ATTACKER = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "support", "attacker.mjs")
const PRODUCER = 65534
const SECRET = "SECRET-7f3a9c-do-not-leak"
const ATTACK_MS = 6000

const isRoot = typeof process.getuid === "function" && process.getuid() === 0

interface Dropped {
  readonly name: string
  readonly content: string
  readonly valid: boolean
  /** held open and rewritten to REWRITTEN (mode 6777) 300 ms after the drop */
  readonly held?: boolean
}

const REWRITTEN = "#!/bin/sh\necho owned\n"

const { daemons, roots, mounts, children } = cleanUpAfterEach()

/** Every file under `dir` (recursively), with lstat. */
const walk = (dir: string): Array<{ path: string; stat: NFS.Stats }> => {
  const out: Array<{ path: string; stat: NFS.Stats }> = []
  for (const name of NFS.readdirSync(dir)) {
    const path = Path.join(dir, name)
    // (a name the daemon or the attacker removed meanwhile is no longer there to check)
    const stat = NFS.lstatSync(path, { throwIfNoEntry: false })
    if (stat === undefined) continue
    out.push({ path, stat })
    if (stat.isDirectory()) out.push(...walk(path))
  }
  return out
}

const attack = async (tmpfs: boolean, port: number, partner = false) => {
  const root = makeRoot()
  roots.push(root)
  NFS.chmodSync(root, 0o755)
  const canary = Path.join(root, "..", `${Path.basename(root)}-canary`)
  roots.push(canary)
  NFS.mkdirSync(canary, { mode: 0o755 })
  NFS.writeFileSync(Path.join(canary, "target"), "canary\n", { mode: 0o644 })
  const secret = Path.join(canary, "secret")
  NFS.writeFileSync(secret, `${SECRET}\n`, { mode: 0o600 })
  for (const dir of ["data", "processing", "validated", "returns", "logs"]) NFS.mkdirSync(Path.join(root, dir))
  if (tmpfs) {
    for (const dir of ["validated", "returns"]) {
      const r = ChildProcess.spawnSync("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", Path.join(root, dir)], { encoding: "utf8" })
      expect(r.status, r.stderr).toBe(0)
      mounts.push(Path.join(root, dir))
    }
  }
  for (const dir of ["data", "returns"]) {
    NFS.chownSync(Path.join(root, dir), PRODUCER, PRODUCER)
    // (a partner's folders are sealed: no access for others, or the start refuses them)
    NFS.chmodSync(Path.join(root, dir), partner ? 0o700 : 0o755)
  }
  if (partner) NFS.writeFileSync(Path.join(root, "partners.yaml"), "partners:\n  - { id: acme, inbox: data, returns: returns }\n")

  const daemon = spawnDaemon(root, [], {
    WATCH_MODE: "native",
    RESCAN_INTERVAL_MS: "500",
    QUIET_PERIOD_MS: "300",
    CONCURRENCY: "4",
    METRICS_PORT: String(port),
    LOG_CONSOLE: "json",
    ...(partner ? { PARTNERS_FILE: "partners.yaml" } : {})
  })
  daemons.push(daemon)
  await daemon.waitFor(/customer-json-processor started/)
  const health = healthProbe(port, `${root}-health.json`, children)
  roots.push(`${root}-health.json`)

  const out = Path.join(canary, "..", `${Path.basename(root)}-dropped.json`)
  roots.push(out)
  const attacker = ChildProcess.spawn(
    "setpriv",
    ["--reuid", String(PRODUCER), "--regid", String(PRODUCER), "--clear-groups", process.execPath, forOtherUsers(ATTACKER), root, canary, secret, String(ATTACK_MS), out],
    { stdio: ["ignore", "ignore", "pipe"] }
  )
  // (stopped after the test, on failure too)
  children.push(attacker)
  let attackerErrors = ""
  attacker.stderr.on("data", (chunk: Buffer) => void (attackerErrors += chunk.toString("utf8")))
  const status = await new Promise<number | null>((resolve) => {
    attacker.on("exit", (code) => resolve(code))
    // bounded: the attack's own time plus its spray, generously
    setTimeout(() => (attacker.kill("SIGKILL"), resolve(-1)), ATTACK_MS + 40_000)
  })
  if (status !== 0) throw new Error(`the attacker did not finish (${status}): ${attackerErrors}; daemon output:\n${daemon.output().slice(-3000)}`)
  expect(status, attackerErrors).toBe(0)
  const dropped = JSON.parse(NFS.readFileSync(out, "utf8")) as Array<Dropped>
  expect(dropped.length).toBeGreaterThan(100)

  // Every dropped file ends stored once (or, if its claim raced the attacker, is still being retried).
  const storedCount = () =>
    walk(Path.join(root, "validated")).filter((f) => f.stat.uid === 0 && !Path.basename(f.path).startsWith(".")).length +
    walk(Path.join(root, "returns")).filter((f) => f.stat.uid === 0 && !Path.basename(f.path).startsWith(".") && !f.path.endsWith(".error.json")).length
  await waitUntil(() => storedCount() >= dropped.length, 60_000, `${dropped.length} stored files`, 500).catch((e: unknown) => {
    throw new Error(`${String(e)} (stored ${storedCount()}); daemon output:\n${daemon.output().slice(-4000)}`)
  })
  await new Promise((r) => setTimeout(r, 1500))
  const answered = await health.stop()
  daemon.child.kill("SIGTERM")
  expect(await daemon.exited).toBe(0)

  // The canary: nothing created, nothing changed.
  expect(NFS.readdirSync(canary).sort()).toEqual(["secret", "target"])
  expect(NFS.readFileSync(Path.join(canary, "target"), "utf8")).toBe("canary\n")
  expect(NFS.statSync(Path.join(canary, "target")).mode & 0o7777).toBe(0o644)

  // Everything the daemon made (owned by root) is a regular file with one link and no set-id bit.
  const made = [...walk(Path.join(root, "validated")), ...walk(Path.join(root, "returns")), ...walk(Path.join(root, "processing")), ...walk(Path.join(root, "logs"))]
    .filter((f) => f.stat.uid === 0)
  for (const f of made) {
    if (f.stat.isDirectory()) continue
    expect(f.stat.isFile(), `${f.path} is a regular file`).toBe(true)
    expect(f.stat.nlink, `${f.path} has one link`).toBe(1)
    expect(f.stat.mode & 0o6000, `${f.path} has no set-id bit`).toBe(0)
  }
  // No stage or probe of the daemon's is left in the producer's folders.
  expect(walk(Path.join(root, "returns")).filter((f) => f.stat.uid === 0 && Path.basename(f.path).startsWith("."))).toEqual([])

  // Stored bytes are the judged bytes: each dropped file exactly once, in the right folder.
  const contents = new Map<string, { validated: number; returned: number }>()
  for (const [folder, key] of [["validated", "validated"], ["returns", "returned"]] as const) {
    for (const f of walk(Path.join(root, folder))) {
      if (f.stat.uid !== 0 || !f.stat.isFile() || f.path.endsWith(".error.json")) continue
      const h = sha256(NFS.readFileSync(f.path))
      const entry = contents.get(h) ?? { validated: 0, returned: 0 }
      entry[key]++
      contents.set(h, entry)
    }
  }
  // A held file was judged as dropped, as rewritten, or (read between the attacker's truncate and
  // its write) empty: it is stored once in any case, and the rewritten script and the empty file
  // are only ever returned, never validated.
  const rewritten = contents.get(sha256(REWRITTEN)) ?? { validated: 0, returned: 0 }
  const emptied = contents.get(sha256("")) ?? { validated: 0, returned: 0 }
  expect(rewritten.validated).toBe(0)
  expect(emptied.validated).toBe(0)
  let heldAsDropped = 0
  const wrong = dropped.filter((d) => {
    const found = contents.get(sha256(d.content))
    if (d.held === true && found === undefined) return false
    if (d.held === true) heldAsDropped++
    return found === undefined || (d.valid ? found.validated !== 1 || found.returned !== 0 : found.returned !== 1 || found.validated !== 0)
  })
  expect(wrong.map((d) => d.name)).toEqual([])
  expect(heldAsDropped + rewritten.returned + emptied.returned).toBe(dropped.filter((d) => d.held === true).length)
  const storedHashes = new Set([...dropped.map((d) => sha256(d.content)), sha256(REWRITTEN), sha256("")])
  for (const [h] of contents) expect(storedHashes.has(h), "a stored file holds bytes that were never dropped").toBe(true)
  // Every report is a report.
  for (const f of walk(Path.join(root, "returns"))) {
    if (f.stat.uid === 0 && f.path.endsWith(".error.json")) expect(JSON.parse(NFS.readFileSync(f.path, "utf8"))).toHaveProperty("error_count")
  }

  // The secret is nowhere in the daemon's output: stored files, reports, logs, outbox, console.
  for (const f of made) if (f.stat.isFile()) expect(NFS.readFileSync(f.path, "utf8").includes(SECRET), f.path).toBe(false)
  expect(daemon.output().includes(SECRET)).toBe(false)

  // Health answered within a second throughout (moments an idle process did not answer either
  // are the machine's, not the daemon's, and are left out).
  expect(answered.failures, answered.failures.join("; ")).toEqual([])
  expect(answered.latencies.length).toBeGreaterThan(10)
  // (moments the whole machine was starved are few, or the check says nothing)
  expect(answered.starved.length).toBeLessThan(answered.latencies.length / 4)
  return { daemon, dropped }
}

describe.skipIf(!isRoot)("hostile producers (daemon as root, producer uid 65534)", () => {
  it("on one filesystem: the producer's control over data/ and returns/ reaches nothing else", async () => {
    const { daemon } = await attack(false, 19311)
    // Links, FIFOs and hard links were left where they are, each said once.
    expect(daemon.output()).toMatch(/"msg":"not a regular file; left where it is"/)
  }, 120_000)

  it("with validated/ and returns/ on other filesystems (tmpfs): copies staged in the producer's folder are never redirected", async () => {
    await attack(true, 19312)
  }, 120_000)

  it("against a partner's inbox and returns folder (PARTNERS_FILE): the same, every file the partner's", async () => {
    const { daemon } = await attack(false, 19313, true)
    const processed = daemon.output().split("\n").filter((l) => l.includes('"msg":"file processed"'))
    expect(processed.length).toBeGreaterThan(100)
    expect(processed.filter((l) => !l.includes('"partner":"acme"'))).toEqual([])
  }, 120_000)
})

describe("names that look like escapes (daemon watching with native events)", () => {
  it("a name holding %2F, %41 or % stays one name in data/: nothing outside is moved, and it is stored under its escaped text", async () => {
    const root = makeRoot()
    roots.push(root)
    const outside = `${root}-outside`
    roots.push(outside)
    NFS.mkdirSync(outside)
    const valid = NFS.readFileSync(Path.join(Path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "valid-single.json"))
    NFS.writeFileSync(Path.join(outside, "secret.json"), valid)
    for (const dir of ["data", "processing", "validated", "returns", "logs"]) NFS.mkdirSync(Path.join(root, dir))
    NFS.writeFileSync(Path.join(root, "validated", "victim.json"), valid)
    const daemon = spawnDaemon(root, [], { WATCH_MODE: "native", RESCAN_INTERVAL_MS: "500", QUIET_PERIOD_MS: "100", LOG_CONSOLE: "json" })
    daemons.push(daemon)
    await daemon.waitFor(/customer-json-processor started/)

    // The traversal a producer tried: a folder named like the name's start, links to the targets,
    // and a name long enough that its claim name is shortened past the escapes.
    const data = Path.join(root, "data")
    NFS.symlinkSync("../validated", Path.join(data, "v"))
    NFS.symlinkSync(outside, Path.join(data, "o"))
    const drop = (name: string, content: Buffer | string) => {
      NFS.writeFileSync(Path.join(data, ".drop.tmp"), content)
      NFS.renameSync(Path.join(data, ".drop.tmp"), Path.join(data, name))
    }
    const traversal = (link: string, target: string) => {
      const rest = `%2F..%2F${link}%2F${target}`
      const pad = "A".repeat(253 - rest.length)
      NFS.mkdirSync(Path.join(data, pad), { recursive: true })
      return `${pad}${rest}`
    }
    drop(traversal("v", "victim.json"), "{}")
    drop(traversal("o", "secret.json"), "{}")
    drop("100%.json", valid)
    drop("z%41.json", valid)

    const stored = () => NFS.readdirSync(Path.join(root, "validated")).length + NFS.readdirSync(Path.join(root, "returns")).length
    // victim.json, the two valid drops, the two returned drops with their reports
    await waitUntil(() => stored() >= 7, 20_000, "7 names in validated/ and returns/", 100)
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)

    // Nothing outside data/ was moved: the victim and the secret are where they were, unchanged.
    expect(NFS.readFileSync(Path.join(outside, "secret.json")).equals(valid)).toBe(true)
    expect(NFS.readFileSync(Path.join(root, "validated", "victim.json")).equals(valid)).toBe(true)
    expect(NFS.readdirSync(Path.join(root, "validated")).sort()).toEqual(["100%25.json", "victim.json", "z%2541.json"])
    const returned = NFS.readdirSync(Path.join(root, "returns")).filter((n) => !n.endsWith(".error.json"))
    expect(returned).toHaveLength(2)
    for (const name of returned) {
      expect(name.startsWith("AAAA")).toBe(true)
      expect(NFS.readFileSync(Path.join(root, "returns", name), "utf8")).toBe("{}")
    }
  }, 60_000)
})
