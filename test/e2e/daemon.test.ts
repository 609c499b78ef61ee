import * as NFS from "node:fs"
import * as Path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { classifyFilesystem } from "../../src/files/SyscallMode.js"
import { fixture } from "../support/fixtures.js"
import { drop, rootPerTest, spawnDaemon } from "./support.js"
import { list } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"
import type { Daemon } from "./support.js"

const root = rootPerTest()
let daemon: Daemon | undefined
afterEach(async () => {
  if (daemon !== undefined && daemon.child.exitCode === null) {
    daemon.child.kill("SIGKILL")
    await daemon.exited
  }
  daemon = undefined
})

const started = /customer-json-processor started/

describe("the daemon, end to end", () => {
  // FS_CALLS=auto makes the calls synchronously on a local filesystem (as here, usually);
  // async is what a network filesystem gets: both ways must route the same.
  it.each(["auto", "async"])("creates its folders, routes valid and invalid drops, and stops cleanly on SIGTERM (FS_CALLS=%s)", async (fsCalls) => {
    daemon = spawnDaemon(root(), [], { FS_CALLS: fsCalls })
    await daemon.waitFor(started)
    const local = classifyFilesystem(NFS.statfsSync(root()).type).local
    expect(daemon.output()).toMatch(fsCalls === "auto" && local ? /started.*file_calls=synchronous/ : /started.*file_calls=thread-pool/)
    for (const dir of ["data", "processing", "validated", "returns", "logs"]) {
      expect(NFS.statSync(Path.join(root(), dir)).isDirectory()).toBe(true)
    }
    const good = fixture("valid-batch.json")
    const bad = fixture("invalid-luhn.json")
    drop(root(), "good.json", good)
    drop(root(), "bad.json", bad)
    await waitUntil(() => list(Path.join(root(), "returns")).length === 2 && list(Path.join(root(), "validated")).length === 1)
    expect(NFS.readFileSync(Path.join(root(), "validated", "good.json"), "utf8")).toBe(good)
    expect(NFS.readFileSync(Path.join(root(), "returns", "bad.json"), "utf8")).toBe(bad)
    const report = JSON.parse(NFS.readFileSync(Path.join(root(), "returns", "bad.json.error.json"), "utf8"))
    expect(report).toMatchObject({
      file: "bad.json",
      stored_as: "bad.json",
      error_count: 1,
      errors: [{ record: 0, path: "$.payment.card_number", message: "card number fails the Luhn check (************1882)" }]
    })
    expect(report.received_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    await daemon.waitFor(/file processed.*file=bad\.json.*outcome=returned/)
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    expect(daemon.output()).toMatch(/customer-json-processor stopped.*validated=1/)
    expect(list(Path.join(root(), "processing"))).toEqual([])
  })

  it("never routes a file while a slow writer is still writing it (3 s in chunks)", async () => {
    daemon = spawnDaemon(root(), [], { QUIET_PERIOD_MS: "1000" })
    await daemon.waitFor(started)
    const content = fixture("valid-batch.json")
    const target = Path.join(root(), "data", "slow.json")
    const chunks = 10
    const size = Math.ceil(content.length / chunks)
    for (let i = 0; i < chunks; i++) {
      NFS.appendFileSync(target, content.slice(i * size, (i + 1) * size))
      await new Promise((r) => setTimeout(r, 300))
      if (i < chunks - 1) {
        expect(list(Path.join(root(), "validated"))).toEqual([])
        expect(list(Path.join(root(), "returns"))).toEqual([])
        expect(list(Path.join(root(), "data"))).toEqual(["slow.json"])
      }
    }
    await waitUntil(() => list(Path.join(root(), "validated")).length === 1)
    expect(NFS.readFileSync(Path.join(root(), "validated", "slow.json"), "utf8")).toBe(content)
    expect(list(Path.join(root(), "returns"))).toEqual([])
  })

  it("keeps all three files when the same name is dropped three times", async () => {
    daemon = spawnDaemon(root())
    await daemon.waitFor(started)
    const contents = ["valid-single.json", "valid-batch.json", "invalid-luhn.json"].map(fixture)
    for (const c of contents) {
      drop(root(), "same.json", c)
      await waitUntil(() => list(Path.join(root(), "data")).length === 0, 10_000, "the drop to be taken")
    }
    await waitUntil(() => list(Path.join(root(), "validated")).length + list(Path.join(root(), "returns")).length === 4)
    const validated = list(Path.join(root(), "validated"))
    expect(validated).toHaveLength(2)
    expect(validated).toContain("same.json")
    expect(validated.find((n) => n !== "same.json")).toMatch(/^same-\d{8}T\d{9}Z\.json$/)
    const returned = list(Path.join(root(), "returns"))
    expect(returned).toEqual(["same.json", "same.json.error.json"])
    const stored = [...validated.map((n) => Path.join(root(), "validated", n)), Path.join(root(), "returns", "same.json")]
    expect(stored.map((p) => NFS.readFileSync(p, "utf8")).sort()).toEqual([...contents].sort())
  })

  it("recovers at start a file left in processing/ by a dead instance", async () => {
    const dead = Path.join(root(), "processing", "oldhost-4000000-aaaaaa")
    NFS.mkdirSync(dead, { recursive: true })
    // pid 4000000 is above Linux's pid_max: that process cannot be running
    NFS.writeFileSync(Path.join(dead, ".heartbeat"), JSON.stringify({ host: (await import("node:os")).hostname(), pid: 4_000_000, beat: 12 }))
    const content = fixture("valid-single.json")
    NFS.writeFileSync(Path.join(dead, "1795886819898-7_left.json"), content)
    daemon = spawnDaemon(root())
    await waitUntil(() => list(Path.join(root(), "validated")).length === 1)
    expect(NFS.readFileSync(Path.join(root(), "validated", "left.json"), "utf8")).toBe(content)
    expect(NFS.existsSync(dead)).toBe(false)
    await daemon.waitFor(/recovered the files of a stopped instance/)
  })

  it("picks up files in poll mode", async () => {
    daemon = spawnDaemon(root(), [], { WATCH_MODE: "poll", POLL_INTERVAL_MS: "100" })
    await daemon.waitFor(started)
    drop(root(), "polled.json", fixture("valid-single.json"))
    await waitUntil(() => list(Path.join(root(), "validated")).length === 1)
    expect(list(Path.join(root(), "validated"))).toEqual(["polled.json"])
  })
})
