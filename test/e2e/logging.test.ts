/** The daemon's logs on disk: masked, flushed at exit, reopened on SIGHUP, rotated. */
import * as NFS from "node:fs"
import * as Path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { fixture } from "../support/fixtures.js"
import { cleanup, drop, list, makeRoot, runCli, spawnDaemon, waitUntil } from "./support.js"

let root: string
beforeEach(() => {
  root = makeRoot()
})
afterEach(() => cleanup(root))

const logLines = (name: string) =>
  NFS.readFileSync(Path.join(root, "logs", name), "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>)

/** Every file below a folder, recursively, as text. */
const allText = (dir: string): Array<[string, string]> =>
  NFS.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const p = Path.join(e.parentPath, e.name)
      return [p, NFS.readFileSync(p, "utf8")] as [string, string]
    })

describe("logs, end to end", () => {
  it("no raw card number, email or phone of the input appears in any log or report, even with DEBUG", () => {
    const inputs = ["valid-single.json", "valid-batch.json", "invalid-luhn.json", "invalid-mixed-batch.json", "invalid-truncated.json"]
    NFS.mkdirSync(Path.join(root, "data"))
    for (const f of inputs) NFS.writeFileSync(Path.join(root, "data", f), fixture(f))
    // PII in file names too, and a failing card number in a text field of an invalid record
    NFS.writeFileSync(Path.join(root, "data", "customer 4012 8888 8888 1881 grace.brewster@example.com.json"), fixture("valid-single.json"))
    NFS.writeFileSync(
      Path.join(root, "data", "notes-5105105105105100.json"),
      JSON.stringify({ note: "call hedy@films.example or 4012888888881881" })
    )
    const r = runCli(root, ["--once"], { DEBUG: "true", QUIET_PERIOD_MS: "200" })
    expect(r.status, r.stderr).toBe(0)
    expect(list(Path.join(root, "returns")).filter((n) => n.endsWith(".error.json"))).toHaveLength(4)
    const secrets = new Set<string>()
    const collect = (value: unknown, key = ""): void => {
      if (typeof value === "string" && ["card_number", "email", "phone"].includes(key)) {
        secrets.add(value)
        if (key !== "email") secrets.add(value.replace(/\D/g, ""))
      } else if (typeof value === "object" && value !== null) {
        for (const [k, v] of Object.entries(value)) collect(v, k)
      }
    }
    for (const f of inputs.filter((f) => f !== "invalid-truncated.json")) collect(JSON.parse(fixture(f)))
    for (const extra of ["4012 8888 8888 1881", "4012888888881881", "grace.brewster@example.com", "5105105105105100", "hedy@films.example"]) secrets.add(extra)
    expect(secrets.size).toBeGreaterThan(15)
    const outputs = [
      ...allText(Path.join(root, "logs")),
      ...allText(Path.join(root, "returns")).filter(([p]) => p.endsWith(".error.json")),
      ["stdout", r.stdout] as [string, string],
      ["stderr", r.stderr] as [string, string]
    ]
    expect(outputs.map(([p]) => Path.basename(p))).toEqual(expect.arrayContaining(["app.log", "debug.log", "error.log"]))
    for (const [path, text] of outputs) {
      for (const secret of secrets) expect(text.includes(secret), `${secret} in ${path}`).toBe(false)
    }
    // and the masked forms are there, so the test looked at the right text
    expect(NFS.readFileSync(Path.join(root, "logs", "app.log"), "utf8")).toContain("customer ************1881 g***@example.com.json")
  })

  it("logs start-up settings with secrets redacted, one INFO line per file, and a shutdown summary", () => {
    NFS.mkdirSync(Path.join(root, "data"))
    NFS.writeFileSync(Path.join(root, "data", "a.json"), fixture("valid-single.json"))
    NFS.writeFileSync(Path.join(root, "data", "b.json"), fixture("invalid-luhn.json"))
    const r = runCli(root, ["--once"], { EMAIL_PASSWORD: "pa55-w0rd-xyz" })
    expect(r.status).toBe(0)
    const app = logLines("app.log")
    const started = app.find((l) => l["msg"] === "customer-json-processor started")!
    expect(started).toMatchObject({ level: "INFO", version: "1.0.0", watch_mode: "native", folders: { data: "data", returns: "returns" } })
    expect(started["settings"]).toMatchObject({ CONCURRENCY: 8, EMAIL_PASSWORD: "<redacted>", QUIET_PERIOD_MS: 500 })
    const processed = app.filter((l) => l["msg"] === "file processed")
    expect(processed.map((l) => [l["file"], l["outcome"], l["records"], l["error_count"]]).sort()).toEqual([
      ["a.json", "validated", 1, 0],
      ["b.json", "returned", 1, 1]
    ])
    expect(processed.every((l) => typeof l["duration_ms"] === "number")).toBe(true)
    expect(app.find((l) => l["msg"] === "customer-json-processor stopped")).toMatchObject({ validated: 1, returned: 1, failed: 0, uptime_s: expect.any(Number) })
    // the notification about b.json went out at shutdown, to the outbox (no SMTP server configured)
    expect(app.some((l) => l["msg"] === "notification written to the outbox")).toBe(true)
    expect(NFS.existsSync(Path.join(root, "logs", "debug.log"))).toBe(false)
    expect(JSON.stringify(app) + r.stdout).not.toContain("pa55-w0rd-xyz")
  })

  it("lines logged just before SIGTERM are on disk after exit", async () => {
    const daemon = spawnDaemon(root)
    await daemon.waitFor(/customer-json-processor started/)
    drop(root, "last.json", fixture("valid-single.json"))
    await daemon.waitFor(/file processed.*file=last\.json/)
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    const app = logLines("app.log")
    expect(app.some((l) => l["msg"] === "file processed" && l["file"] === "last.json")).toBe(true)
    expect(app[app.length - 1]!["msg"]).toBe("customer-json-processor stopped")
  })

  it("SIGHUP reopens the log files after logrotate moved them", async () => {
    const daemon = spawnDaemon(root)
    await daemon.waitFor(/customer-json-processor started/)
    await waitUntil(() => NFS.readFileSync(Path.join(root, "logs", "app.log"), "utf8").includes("started"), 5000, "the start line on disk")
    NFS.renameSync(Path.join(root, "logs", "app.log"), Path.join(root, "logs", "app.log.rotated"))
    daemon.child.kill("SIGHUP")
    await waitUntil(() => NFS.existsSync(Path.join(root, "logs", "app.log")), 5000, "app.log to be reopened")
    drop(root, "after-hup.json", fixture("valid-single.json"))
    await daemon.waitFor(/file processed.*after-hup/)
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    expect(NFS.readFileSync(Path.join(root, "logs", "app.log.rotated"), "utf8")).toContain("customer-json-processor started")
    const app = logLines("app.log")
    expect(app.map((l) => l["msg"])).toEqual(["file processed", "customer-json-processor stopped"])
  })

  it("rotates app.log by size, keeping LOG_MAX_FILES", () => {
    NFS.mkdirSync(Path.join(root, "data"))
    for (let i = 0; i < 40; i++) NFS.writeFileSync(Path.join(root, "data", `f${i}.json`), fixture("valid-single.json"))
    const r = runCli(root, ["--once"], { LOG_MAX_SIZE_MB: "0.001", LOG_MAX_FILES: "2", LOG_CONSOLE: "off" })
    expect(r.status).toBe(0)
    expect(r.stdout).toBe("")
    expect(list(Path.join(root, "logs")).filter((n) => n.startsWith("app.log")).sort()).toEqual(["app.log", "app.log.1", "app.log.2"])
  })

  it("LOG_CONSOLE=json prints JSON Lines on the console", () => {
    const r = runCli(root, ["--once"], { LOG_CONSOLE: "json" })
    expect(r.status).toBe(0)
    const lines = r.stdout.split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>)
    // The start-up checks' line (what the filesystems guarantee) comes first, then the start.
    expect(lines[0]).toMatchObject({ level: "INFO", msg: "filesystems checked" })
    expect(lines[1]).toMatchObject({ level: "INFO", msg: "customer-json-processor started" })
  })
})
