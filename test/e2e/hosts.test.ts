/**
 * Two hosts on one folder tree: an instance in a UTS namespace of its own runs
 * as host "otherhost", so this host's instance cannot judge it by its process
 * (as it does instances on its own host) but only by its heartbeat file.
 * Killed with SIGKILL in the middle of a backlog, its claimed files are
 * adopted once its heartbeat has stood still for three beats — not before —
 * and every file ends in validated/ or returns/ exactly once, with its outcome
 * in one of the two instances' logs.
 */
import * as NFS from "node:fs"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeCorpus } from "../support/corpus.js"
import { appLogLines, cleanup, instanceEnv, killAll, makeRoot, spawnDaemon } from "./support.js"
import { dataFiles, list, misrouted } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"
import type { Daemon } from "./support.js"

const FILES = 3000
const HEARTBEAT_MS = 500
const root = makeRoot()
const daemons: Array<Daemon> = []
afterAll(async () => {
  await killAll(daemons)
  cleanup(root)
})

const env = (n: number) => instanceEnv(n, { heartbeatMs: HEARTBEAT_MS, concurrency: 8 }, { LOG_CONSOLE: "json" })

describe("two hosts on one folder tree", () => {
  it("a dead instance on another host is recovered from once its heartbeat is stale, each file exactly once", async () => {
    const corpus = makeCorpus(FILES, 11)
    NFS.mkdirSync(Path.join(root, "data"), { recursive: true })
    for (const f of corpus) NFS.writeFileSync(Path.join(root, "data", f.name), f.content)

    // The other host's instance works on the backlog and dies with files claimed.
    const other = spawnDaemon(root, [], env(0), { host: "otherhost" })
    daemons.push(other)
    await waitUntil(() => list(Path.join(root, "validated")).length >= 50, 60_000, "the other host's instance to store files")
    other.child.kill("SIGKILL")
    await other.exited
    const otherDir = list(Path.join(root, "processing")).find((n) => n.startsWith("otherhost-"))
    expect(otherDir).toBeDefined()
    const leftClaimed = dataFiles(Path.join(root, "processing", otherDir!)).length
    expect(leftClaimed).toBeGreaterThan(0)
    process.stdout.write(`hosts: ${leftClaimed} files left claimed by the dead instance\n`)

    // This host's instance: the rest of the backlog at once, the dead one's files after three beats.
    const here = spawnDaemon(root, [], env(1))
    daemons.push(here)
    await waitUntil(
      () => list(Path.join(root, "data")).length === 0 && dataFiles(Path.join(root, "processing")).length === 0 &&
        !NFS.existsSync(Path.join(root, "processing", otherDir!)),
      60_000,
      "the backlog and the dead instance's files to be done"
    )
    here.child.kill("SIGTERM")
    expect(await here.exited).toBe(0)

    // Exactly once, byte-identical.
    expect(misrouted(root, corpus)).toEqual([])
    expect(dataFiles(Path.join(root, "validated")).length + dataFiles(Path.join(root, "returns")).length).toBe(FILES)

    // Adopted by heartbeat staleness, judged on this instance's own clock: not before three beats.
    const lines = appLogLines(root, "logs-1")
    const started = lines.find((l) => l.msg === "customer-json-processor started")
    const adopted = lines.find((l) => l.msg === "recovered the files of a stopped instance" && l.dead_instance === otherDir)
    expect(started).toBeDefined()
    expect(adopted, `${leftClaimed} files were left claimed`).toBeDefined()
    expect(Date.parse(String(adopted!.ts)) - Date.parse(String(started!.ts))).toBeGreaterThanOrEqual(3 * HEARTBEAT_MS)

    // Every file's outcome is in one of the two logs.
    const logged = new Set([...appLogLines(root, "logs-0"), ...lines].filter((l) => l.msg === "file processed").map((l) => l.file))
    expect(corpus.filter((f) => !logged.has(f.name)).map((f) => f.name)).toEqual([])
  }, 180_000)

  it("two live instances on two hosts never take each other for dead, however long they run side by side", async () => {
    const live = Path.join(root, "live")
    NFS.mkdirSync(Path.join(live, "data"), { recursive: true })
    const env2 = (n: number) => instanceEnv(n, { heartbeatMs: 100, concurrency: 2 }, { LOG_CONSOLE: "json" })
    const a = spawnDaemon(live, [], env2(0), { host: "hosta" })
    const b = spawnDaemon(live, [], env2(1), { host: "hostb" })
    daemons.push(a, b)
    await Promise.all([a.waitFor(/customer-json-processor started/), b.waitFor(/customer-json-processor started/)])
    // Twenty beats and more: each sees the other's heartbeat change at every beat.
    await new Promise((r) => setTimeout(r, 2500))
    a.child.kill("SIGTERM")
    b.child.kill("SIGTERM")
    expect(await a.exited).toBe(0)
    expect(await b.exited).toBe(0)
    const takeOvers = [...appLogLines(live, "logs-0"), ...appLogLines(live, "logs-1")].filter((l) => String(l.msg).startsWith("recovered the files of"))
    expect(takeOvers).toEqual([])
  }, 60_000)
})
