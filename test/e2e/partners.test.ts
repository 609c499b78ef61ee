/**
 * Partners end to end, with the built daemon: each partner's inbox listed and
 * watched, its returned files and reports in its own returns folder, its valid
 * files in validated/ or validated/<partner>/, a claimed file of a partner
 * recovered to that partner's folders, partners added and removed by SIGHUP
 * without a restart, and a layout where one partner could reach another's
 * folder refused at start, naming the partner, the folder and the fix.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { list } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"
import { appLogLines, cleanUpAfterEach, makeRoot, runCli, spawnDaemon } from "./support.js"

const { daemons, roots, mounts } = cleanUpAfterEach()

const VALID = NFS.readFileSync(Path.join(import.meta.dirname, "..", "fixtures", "valid-single.json"), "utf8")
const invalid = (tag: string) => `[{"customer_id":"${tag}","first_name":"Ann"}]\n`

/** A tree with each partner's inbox and returns folder, 0700 (only their owner, here the daemon's user, reaches them). */
const tree = (partners: ReadonlyArray<string>) => {
  const root = makeRoot()
  roots.push(root)
  for (const p of partners) {
    for (const folder of ["in", "returns"]) {
      NFS.mkdirSync(Path.join(root, p, folder), { recursive: true })
      NFS.chmodSync(Path.join(root, p, folder), 0o700)
    }
  }
  return root
}
const writePartners = (root: string, lines: ReadonlyArray<string>) => {
  const temp = Path.join(root, "partners.yaml.tmp")
  NFS.writeFileSync(temp, `partners:\n${lines.map((l) => `  - ${l}\n`).join("")}`)
  NFS.renameSync(temp, Path.join(root, "partners.yaml"))
}
const line = (id: string, extra = "") => `{ id: ${id}, inbox: ${id}/in, returns: ${id}/returns${extra} }`
/** Delivers a file into a partner's inbox the way producers should (temporary name, then rename). */
const deliver = (root: string, partner: string, name: string, content: string) => {
  const temp = Path.join(root, partner, "in", `${name}.tmp`)
  NFS.writeFileSync(temp, content)
  NFS.renameSync(temp, Path.join(root, partner, "in", name))
}
const env = { PARTNERS_FILE: "partners.yaml", QUIET_PERIOD_MS: "0", LOG_CONSOLE: "json" }

describe("partners", () => {
  it("routes each partner's files to its own returns folder, and its valid ones to validated/ or validated/<partner>/", () => {
    const root = tree(["acme", "globex"])
    writePartners(root, [line("acme", ", notify: { to: [edi@acme.example], administrators: false }"), line("globex", ", validated: own")])
    deliver(root, "acme", "orders.json", invalid("a1"))
    deliver(root, "acme", "good.json", VALID)
    deliver(root, "globex", "orders.json", invalid("g1"))
    deliver(root, "globex", "good.json", VALID)
    const ran = runCli(root, ["--once"], env)
    expect(ran.status, ran.stdout + ran.stderr).toBe(0)
    expect(list(Path.join(root, "acme", "returns"))).toEqual(["orders.json", "orders.json.error.json"])
    expect(list(Path.join(root, "globex", "returns"))).toEqual(["orders.json", "orders.json.error.json"])
    expect(NFS.readFileSync(Path.join(root, "acme", "returns", "orders.json"), "utf8")).toContain("a1")
    expect(NFS.readFileSync(Path.join(root, "globex", "returns", "orders.json"), "utf8")).toContain("g1")
    // acme shares validated/; globex has validated/globex/.
    expect(list(Path.join(root, "validated")).filter((n) => n !== "globex")).toEqual(["good.json"])
    expect(list(Path.join(root, "validated", "globex"))).toEqual(["good.json"])
    expect(list(Path.join(root, "acme", "in"))).toEqual([])
    expect(list(Path.join(root, "globex", "in"))).toEqual([])
    // DATA_DIR and RETURNS_DIR are not used.
    expect(NFS.existsSync(Path.join(root, "returns")) ? list(Path.join(root, "returns")) : []).toEqual([])
    // Each partner's returned files are told in a message of their own, to its recipients.
    const outbox = Path.join(root, "logs", "outbox")
    const mails = list(outbox).map((n) => NFS.readFileSync(Path.join(outbox, n), "utf8"))
    expect(mails).toHaveLength(2)
    const toAcme = mails.filter((m) => /^To: edi@acme\.example$/m.test(m))
    expect(toAcme).toHaveLength(1)
    expect(toAcme[0]).toContain(Path.join(root, "acme", "returns"))
    expect(toAcme[0]).not.toContain("globex")
    const toAdministrators = mails.filter((m) => /^To: administrators@localhost$/m.test(m))
    expect(toAdministrators).toHaveLength(1)
    expect(toAdministrators[0]).toContain(Path.join(root, "globex", "returns"))
    expect(toAdministrators[0]).not.toContain("acme")
    expect(appLogLines(root, "logs").find((l) => l.msg === "partners served")).toMatchObject({ partners: 2, ids: ["acme", "globex"], more: 0 })
    const processed = appLogLines(root, "logs").filter((l) => l.msg === "file processed")
    expect(processed.map((l) => `${String(l.partner)} ${String(l.file)} ${String(l.outcome)}`).sort()).toEqual([
      "acme good.json validated",
      "acme orders.json returned",
      "globex good.json validated",
      "globex orders.json returned"
    ])
  })

  it("recovers a partner's claimed file (its claimed name records the partner) into that partner's returns folder", () => {
    const root = tree(["acme", "globex"])
    writePartners(root, [line("acme"), line("globex")])
    // A stopped instance left a claimed file of globex's.
    const dead = Path.join(root, "processing", "gone-1")
    NFS.mkdirSync(dead, { recursive: true })
    NFS.writeFileSync(Path.join(dead, ".heartbeat"), JSON.stringify({ host: "elsewhere", pid: 1, beat: 3, stopped: true }))
    NFS.writeFileSync(Path.join(dead, "1795886819898-4.globex_late.json"), invalid("rec"))
    const ran = runCli(root, ["--once"], env)
    expect(ran.status, ran.stdout + ran.stderr).toBe(0)
    expect(list(Path.join(root, "globex", "returns"))).toEqual(["late.json", "late.json.error.json"])
    expect(list(Path.join(root, "acme", "returns"))).toEqual([])
    const report = JSON.parse(NFS.readFileSync(Path.join(root, "globex", "returns", "late.json.error.json"), "utf8")) as Record<string, unknown>
    expect(report.file).toBe("late.json")
  })

  it("leaves a claimed file of a partner the partners file no longer names where it is, and says why (exit 75)", () => {
    const root = tree(["acme"])
    writePartners(root, [line("acme")])
    const dead = Path.join(root, "processing", "gone-1")
    NFS.mkdirSync(dead, { recursive: true })
    NFS.writeFileSync(Path.join(dead, ".heartbeat"), JSON.stringify({ host: "elsewhere", pid: 1, beat: 3, stopped: true }))
    NFS.writeFileSync(Path.join(dead, "1795886819898-4.initech_left.json"), invalid("u"))
    const ran = runCli(root, ["--once"], env)
    expect(ran.status, ran.stdout + ran.stderr).toBe(75)
    expect(ran.stdout + ran.stderr).toContain("its partner initech is not in the partners file (PARTNERS_FILE) any more")
    // Still claimed, in this run's processing folder; nothing routed anywhere.
    const claimed = NFS.readdirSync(Path.join(root, "processing")).flatMap((d) => list(Path.join(root, "processing", d)))
    expect(claimed).toEqual(["1795886819898-4.initech_left.json"])
    expect(list(Path.join(root, "acme", "returns"))).toEqual([])
    expect(NFS.existsSync(Path.join(root, "returns")) ? list(Path.join(root, "returns")) : []).toEqual([])
  })

  it("takes partners added on SIGHUP and stops watching removed ones, without a restart", async () => {
    const root = tree(["acme", "globex"])
    writePartners(root, [line("acme")])
    const daemon = spawnDaemon(root, [], { ...env, WATCH_MODE: "poll", POLL_INTERVAL_MS: "100", RESCAN_INTERVAL_MS: "500" })
    daemons.push(daemon)
    await daemon.waitFor(/customer-json-processor started/)
    deliver(root, "acme", "first.json", invalid("a"))
    await waitUntil(() => list(Path.join(root, "acme", "returns")).includes("first.json"), 30_000, "acme's file returned")
    // globex's inbox is nobody's yet: its file waits.
    deliver(root, "globex", "early.json", invalid("g"))
    writePartners(root, [line("acme"), line("globex")])
    daemon.child.kill("SIGHUP")
    await daemon.waitFor(/partners reloaded/)
    await waitUntil(() => list(Path.join(root, "globex", "returns")).includes("early.json"), 30_000, "globex's file returned after the reload")
    // acme removed: its new files stay where they are.
    writePartners(root, [line("globex")])
    daemon.child.kill("SIGHUP")
    await waitUntil(() => (daemon.output().match(/partners reloaded/g) ?? []).length >= 2, 30_000, "second reload")
    deliver(root, "acme", "after.json", invalid("a2"))
    deliver(root, "globex", "after.json", invalid("g2"))
    await waitUntil(() => list(Path.join(root, "globex", "returns")).includes("after.json"), 30_000, "globex's second file returned")
    // Several full listings (RESCAN_INTERVAL_MS) later, acme's file is still in its inbox.
    await new Promise((r) => setTimeout(r, 1500))
    expect(list(Path.join(root, "acme", "in"))).toEqual(["after.json"])
    expect(daemon.child.exitCode).toBeNull()
    const reloads = appLogLines(root, "logs").filter((l) => l.msg === "partners reloaded")
    expect(reloads.map((l) => [l.added, l.removed])).toEqual([[["globex"], []], [[], ["acme"]]])
  })

  it("requeue --partner moves that partner's returned files back into its inbox, and no other partner's", () => {
    const root = tree(["acme", "globex"])
    writePartners(root, [line("acme"), line("globex")])
    deliver(root, "acme", "a.json", invalid("a"))
    deliver(root, "globex", "g.json", invalid("g"))
    expect(runCli(root, ["--once"], env).status).toBe(0)
    const missing = runCli(root, ["requeue", "--all"], env)
    expect(missing.status).toBe(64)
    expect(missing.stderr).toContain("--partner ID")
    const unknown = runCli(root, ["requeue", "--all", "--partner", "initech"], env)
    expect(unknown.status).toBe(64)
    expect(unknown.stderr).toContain('no partner "initech" in the partners file (its partners: acme, globex)')
    const ran = runCli(root, ["requeue", "--all", "--partner", "acme"], env)
    expect(ran.status, ran.stdout + ran.stderr).toBe(0)
    expect(ran.stdout).toContain(`requeued a.json -> ${Path.join(root, "acme", "in", "a.json")}`)
    expect(list(Path.join(root, "acme", "in"))).toEqual(["a.json"])
    expect(list(Path.join(root, "acme", "returns"))).toEqual([])
    expect(list(Path.join(root, "globex", "returns"))).toEqual(["g.json", "g.json.error.json"])
    expect(list(Path.join(root, "globex", "in"))).toEqual([])
  })

  it("is fair between partners: a file of one partner delivered in the middle of another's dump of 5,000 waits for a few hundred of them, not for the 2,000 queued ahead of it", async () => {
    const root = tree(["acme", "globex"])
    writePartners(root, [line("acme"), line("globex", ", validated: own")])
    // (an inbox read to its end is looked at again after POLL_INTERVAL_MS while the others are being read)
    const daemon = spawnDaemon(root, [], { ...env, POLL_INTERVAL_MS: "100" })
    daemons.push(daemon)
    await daemon.waitFor(/customer-json-processor started/)
    // The dump lands at once (written aside, then renamed in).
    const inbox = Path.join(root, "acme", "in")
    const staging = Path.join(root, "staging")
    NFS.mkdirSync(staging)
    const DUMP = 5000
    for (let i = 0; i < DUMP; i++) NFS.writeFileSync(Path.join(staging, `d${i}.json`), VALID)
    for (let i = 0; i < DUMP; i++) NFS.renameSync(Path.join(staging, `d${i}.json`), Path.join(inbox, `d${i}.json`))
    // In the middle of it (a pass over the inboxes under way, the intake's window full of acme's names), globex delivers one file.
    await waitUntil(() => list(inbox).length <= DUMP - 1500, 120_000, "the dump being taken")
    const leftAtDelivery = list(inbox).length
    deliver(root, "globex", "single.json", VALID)
    let leftAtDone = -1
    await waitUntil(() => {
      if (!NFS.existsSync(Path.join(root, "validated", "globex", "single.json"))) return false
      leftAtDone = list(inbox).length
      return true
    }, 60_000, "globex's file validated")
    // Queued in arrival order, it would wait for the window of acme's names ahead of it (2,048); listed only at the
    // next pass, for the whole dump. In turn, it waits for the next refill of the window (every 256 names) at most.
    expect(leftAtDelivery - leftAtDone).toBeLessThan(1000)
    expect(leftAtDone).toBeGreaterThan(0)
    await waitUntil(() => list(inbox).length === 0, 180_000, "the dump done")
  }, 300_000)

  it("says where a partner's file it may not read stays: in that partner's inbox", async () => {
    if (process.getuid?.() !== 0) return
    const SERVICE = 65534
    const root = tree(["acme"])
    writePartners(root, [line("acme")])
    // The daemon as the service user, owning its tree and acme's folders; a file of root's it may not read.
    for (const path of [root, Path.join(root, "acme"), Path.join(root, "acme", "in"), Path.join(root, "acme", "returns")]) NFS.chownSync(path, SERVICE, SERVICE)
    NFS.chmodSync(Path.join(root, "partners.yaml"), 0o644)
    deliver(root, "acme", "secret.json", VALID)
    NFS.chmodSync(Path.join(root, "acme", "in", "secret.json"), 0o600)
    const daemon = spawnDaemon(root, [], env, { uid: SERVICE })
    daemons.push(daemon)
    await daemon.waitFor(/file could not be processed/)
    const said = daemon.output().split("\n").find((l) => l.includes("file could not be processed"))!
    expect(said).toContain("permission denied")
    expect(said).toContain(`it stays in ${Path.join(root, "acme", "in")} and is tried again later`)
    expect(list(Path.join(root, "acme", "in"))).toEqual(["secret.json"])
  })

  it("two instances (INSTANCES=2) drain two partners' inboxes, each file stored exactly once, in its partner's folders", async () => {
    const root = tree(["acme", "globex"])
    writePartners(root, [line("acme"), line("globex")])
    const expected = new Map<string, { readonly partner: string; readonly valid: boolean }>()
    for (const p of ["acme", "globex"]) {
      for (let i = 0; i < 200; i++) {
        const name = `${p}-${i}.json`
        const valid = i % 4 !== 0
        NFS.writeFileSync(Path.join(root, p, "in", name), valid ? VALID : invalid(`${p}${i}`))
        expected.set(name, { partner: p, valid })
      }
    }
    const pool = spawnDaemon(root, ["--once"], { ...env, INSTANCES: "2" })
    daemons.push(pool)
    expect(await pool.exited, pool.output().slice(-2000)).toBe(0)
    const validated = list(Path.join(root, "validated"))
    const returned = (p: string) => list(Path.join(root, p, "returns")).filter((n) => !n.endsWith(".error.json"))
    // Each once (no collision names: none was stored twice), each where it belongs.
    expect(validated.sort()).toEqual([...expected].filter(([, e]) => e.valid).map(([n]) => n).sort())
    for (const p of ["acme", "globex"]) {
      expect(returned(p).sort()).toEqual([...expected].filter(([, e]) => !e.valid && e.partner === p).map(([n]) => n).sort())
      expect(list(Path.join(root, p, "returns")).filter((n) => n.endsWith(".error.json"))).toHaveLength(50)
      expect(list(Path.join(root, p, "in"))).toEqual([])
    }
    const claimed = NFS.readdirSync(Path.join(root, "processing")).flatMap((d) => list(Path.join(root, "processing", d)))
    expect(claimed).toEqual([])
    // Both instances took part.
    const summaries = [...pool.output().matchAll(/"msg":"customer-json-processor stopped"[^\n]*"validated":(\d+)/g)]
    expect(summaries).toHaveLength(2)
  }, 120_000)

  it("refuses to start when one partner could reach another's folder, naming the partner, the folder and the fix (exit 78)", () => {
    const root = tree(["acme", "globex"])
    NFS.chmodSync(Path.join(root, "globex", "returns"), 0o755)
    writePartners(root, [line("acme"), line("globex")])
    deliver(root, "acme", "waiting.json", invalid("w"))
    const ran = runCli(root, ["--once"], env)
    expect(ran.status).toBe(78)
    const said = ran.stdout + ran.stderr
    expect(said).toContain("globex's returns")
    expect(said).toContain(Path.join(root, "globex", "returns"))
    expect(said).toContain("chmod o-rwx")
    // Nothing was taken.
    expect(list(Path.join(root, "acme", "in"))).toEqual(["waiting.json"])
  })

  it("checks the free space of each partner's returns folder (MIN_FREE_DISK_MB), naming the partner", () => {
    if (process.getuid?.() !== 0) return
    const root = tree(["acme"])
    writePartners(root, [line("acme")])
    const returns = Path.join(root, "acme", "returns")
    const mounted = ChildProcess.spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", returns], { encoding: "utf8" })
    expect(mounted.status, mounted.stderr).toBe(0)
    mounts.push(returns)
    const ran = runCli(root, ["--once"], { ...env, MIN_FREE_DISK_MB: "10" })
    expect(ran.status, ran.stdout + ran.stderr).toBe(75)
    expect(ran.stdout + ran.stderr).toContain(`on ${returns} (PARTNERS_FILE (partner acme's returns)); MIN_FREE_DISK_MB requires 10 MB`)
  })

  it("refuses a partners file with a mistake, naming its line (exit 78)", () => {
    const root = tree(["acme"])
    NFS.writeFileSync(Path.join(root, "partners.yaml"), "partners:\n  - id: acme\n    inbox: acme/in\n    returns: acme/returns\n    colour: blue\n")
    const ran = runCli(root, ["--once"], env)
    expect(ran.status).toBe(78)
    expect(ran.stdout + ran.stderr).toMatch(/partners\.yaml line 5, column \d+: partners\[0\]\.colour is not a field a partner has/)
  })
})
