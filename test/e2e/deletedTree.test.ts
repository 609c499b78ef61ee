/**
 * The daemon's whole tree deleted under it (its working folder included):
 * it says so, keeps trying at its usual pace without burning a core, and
 * still stops on SIGTERM. Node's recursive mkdir never returns in a deleted
 * working folder; the outbox used to call it for the critical mail.
 */
import * as NFS from "node:fs"
import { describe, expect, it } from "vitest"
import { folderLevels } from "../../src/notify/Outbox.js"
import { cleanUpAfterEach, makeRoot, spawnDaemon } from "./support.js"

const { daemons, roots } = cleanUpAfterEach()

/** CPU seconds a process has used (user + system), from /proc. */
const cpuSeconds = (pid: number): number => {
  const fields = NFS.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

describe("folderLevels", () => {
  it("lists a folder and those above it, outermost first, without / or .", () => {
    expect(folderLevels("logs/outbox")).toEqual(["logs", "logs/outbox"])
    expect(folderLevels("./logs/outbox")).toEqual(["logs", "logs/outbox"])
    expect(folderLevels("/srv/logs/outbox")).toEqual(["/srv", "/srv/logs", "/srv/logs/outbox"])
  })
})

describe("a tree deleted under the daemon", () => {
  it("is reported, costs no busy core, and SIGTERM still stops the daemon", async () => {
    const root = makeRoot()
    roots.push(root)
    const daemon = spawnDaemon(root, [], { HEALTH_CHECK_INTERVAL_MS: "1000", RESCAN_INTERVAL_MS: "500", LOG_CONSOLE: "json" })
    daemons.push(daemon)
    await daemon.waitFor(/customer-json-processor started/)
    NFS.rmSync(root, { recursive: true, force: true })
    await daemon.waitFor(/health check failed/, 20_000)
    // The critical mail is attempted meanwhile; then a few seconds of the daemon's life.
    await new Promise((r) => setTimeout(r, 2000))
    const before = cpuSeconds(daemon.child.pid!)
    await new Promise((r) => setTimeout(r, 3000))
    // A spinning thread would use close to 3 CPU-seconds here.
    expect(cpuSeconds(daemon.child.pid!) - before).toBeLessThan(1)
    daemon.child.kill("SIGTERM")
    const code = await Promise.race([daemon.exited, new Promise((r) => setTimeout(() => r("still running"), 20_000))])
    expect(code).toBe(0)
  }, 60_000)
})
