/**
 * The daemon's whole tree deleted under it (its working folder included):
 * it says so, keeps trying at its usual pace without burning a core, and
 * still stops on SIGTERM. Node's recursive mkdir never returns in a deleted
 * working folder; the outbox used to call it for the critical mail. The input
 * folder alone deleted: the failing listing says so, and the watch event that
 * names the folder itself is not taken for an entry in it.
 */
import * as NFS from "node:fs"
import { describe, expect, it } from "vitest"
import { folderLevels } from "../../src/notify/adapters/Outbox.js"
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

describe("the input folder deleted under the daemon", () => {
  it("the failing listing says so; the folder's own name is not warned about as a file in it (an entry of that name is)", async () => {
    const root = makeRoot()
    roots.push(root)
    const daemon = spawnDaemon(root, [], { RESCAN_INTERVAL_MS: "300", LOG_CONSOLE: "json" })
    daemons.push(daemon)
    await daemon.waitFor(/customer-json-processor started/)
    // An entry named like the folder: a file that is no .json, warned about as any other.
    NFS.writeFileSync(`${root}/data/data`, "not json")
    await daemon.waitFor(/"msg":"not a .json file; left where it is","file":"data"/, 20_000)
    NFS.rmSync(`${root}/data/data`)
    // Warned once per name: a fresh daemon sees the folder itself go.
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    const again = spawnDaemon(root, [], { RESCAN_INTERVAL_MS: "300", LOG_CONSOLE: "json" })
    daemons.push(again)
    await again.waitFor(/customer-json-processor started/)
    NFS.rmSync(`${root}/data`, { recursive: true, force: true })
    await again.waitFor(/listing the input folder failed/, 20_000)
    await new Promise((r) => setTimeout(r, 500))
    expect(again.output()).not.toMatch(/not a .json file/)
    again.child.kill("SIGTERM")
    expect(await again.exited).toBe(0)
  }, 60_000)
})
