/** The daemon's logs on disk: masked, flushed at exit, reopened on SIGHUP, rotated. */
import * as NFS from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { fixture } from "../support/fixtures.js"
import { drop, rootPerTest, runCli, spawnDaemon } from "./support.js"
import { list } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"

const root = rootPerTest()

/** Characters a terminal acts on: C0, DEL, C1, bidi controls, line/paragraph separators. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

const logLines = (name: string) =>
  NFS.readFileSync(Path.join(root(), "logs", name), "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>)

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
    NFS.mkdirSync(Path.join(root(), "data"))
    for (const f of inputs) NFS.writeFileSync(Path.join(root(), "data", f), fixture(f))
    // PII in file names too, and a failing card number in a text field of an invalid record
    NFS.writeFileSync(Path.join(root(), "data", "customer 4012 8888 8888 1881 grace.brewster@example.com.json"), fixture("valid-single.json"))
    NFS.writeFileSync(
      Path.join(root(), "data", "notes-5105105105105100.json"),
      JSON.stringify({ note: "call hedy@films.example or 4012888888881881" })
    )
    const r = runCli(root(), ["--once"], { DEBUG: "true", QUIET_PERIOD_MS: "200" })
    expect(r.status, r.stderr).toBe(0)
    expect(list(Path.join(root(), "returns")).filter((n) => n.endsWith(".error.json"))).toHaveLength(4)
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
      ...allText(Path.join(root(), "logs")),
      ...allText(Path.join(root(), "returns")).filter(([p]) => p.endsWith(".error.json")),
      ["stdout", r.stdout] as [string, string],
      ["stderr", r.stderr] as [string, string]
    ]
    expect(outputs.map(([p]) => Path.basename(p))).toEqual(expect.arrayContaining(["app.log", "debug.log", "error.log"]))
    for (const [path, text] of outputs) {
      for (const secret of secrets) expect(text.includes(secret), `${secret} in ${path}`).toBe(false)
    }
    // and the masked forms are there, so the test looked at the right text
    expect(NFS.readFileSync(Path.join(root(), "logs", "app.log"), "utf8")).toContain("customer ************1881 g***@example.com.json")
  })

  it("masks card numbers joined to letters or punctuation in names (contract §7 revised), in logs, reports and console", () => {
    NFS.mkdirSync(Path.join(root(), "data"))
    const names = ["card4111111111111111.json", "x_4111.1111.1111.1111_y.json", "acct5555555555554444end.json"]
    for (const n of names) NFS.writeFileSync(Path.join(root(), "data", n), fixture("invalid-luhn.json"))
    const r = runCli(root(), ["--once"], { DEBUG: "true", QUIET_PERIOD_MS: "200" })
    expect(r.status, r.stderr).toBe(0)
    const reports = list(Path.join(root(), "returns")).filter((n) => n.endsWith(".error.json"))
    expect(reports).toHaveLength(3)
    const outputs = [
      ...allText(Path.join(root(), "logs")),
      ...reports.map((n) => [n, NFS.readFileSync(Path.join(root(), "returns", n), "utf8")] as [string, string]),
      ["stdout", r.stdout] as [string, string],
      ["stderr", r.stderr] as [string, string]
    ]
    for (const [path, text] of outputs) {
      for (const secret of ["4111111111111111", "4111.1111.1111.1111", "5555555555554444"]) expect(text.includes(secret), `${secret} in ${path}`).toBe(false)
    }
    const files = logLines("app.log").filter((l) => l["msg"] === "file processed").map((l) => l["file"]).sort()
    expect(files).toEqual(["acct************4444end.json", "card************1111.json", "x_************1111_y.json"])
    // Stored under the name masked with X (contract §5), which reports and logs give exactly.
    expect(list(Path.join(root(), "returns")).filter((n) => !n.endsWith(".error.json")).sort()).toEqual([
      "acctXXXXXXXXXXXX4444end.json",
      "cardXXXXXXXXXXXX1111.json",
      "x_XXXX.XXXX.XXXX.1111_y.json"
    ])
    const report = JSON.parse(NFS.readFileSync(Path.join(root(), "returns", "cardXXXXXXXXXXXX1111.json.error.json"), "utf8")) as Record<string, unknown>
    expect(report).toMatchObject({ file: "card************1111.json", stored_as: "cardXXXXXXXXXXXX1111.json" })
    const storedAs = logLines("app.log").filter((l) => l["msg"] === "file processed").map((l) => l["stored_as"]).sort()
    expect(storedAs).toEqual(["acctXXXXXXXXXXXX4444end.json", "cardXXXXXXXXXXXX1111.json", "x_XXXX.XXXX.XXXX.1111_y.json"])
    expect(r.stdout).toContain("file=card************1111.json")
  })

  it("a file name cannot forge a console line; the logs stay one JSON object per line", () => {
    NFS.mkdirSync(Path.join(root(), "data"))
    const evil = "evil\u001b[2K\r2026-11-28T09:30:00.000Z \u001b[31mERROR\u001b[0m forged\n\u009b31m\u202egnp.json"
    NFS.writeFileSync(Path.join(root(), "data", evil), fixture("valid-single.json"))
    const r = runCli(root(), ["--once"], { QUIET_PERIOD_MS: "200" })
    expect(r.status, r.stderr).toBe(0)
    expect(list(Path.join(root(), "validated"))).toHaveLength(1)
    // stdout is not a terminal: no colour of the daemon's own, so any control character would be forged
    const console = r.stdout + r.stderr
    expect(console.replaceAll("\n", "")).not.toMatch(UNSAFE)
    expect(console.split("\n").filter((l) => l.includes("forged"))).toHaveLength(1)
    expect(console.split("\n").filter((l) => l.includes("file processed"))).toHaveLength(1)
    const raw = NFS.readFileSync(Path.join(root(), "logs", "app.log"), "utf8")
    expect(raw.replaceAll("\n", "")).not.toMatch(UNSAFE)
    expect(logLines("app.log").find((l) => l["msg"] === "file processed")!["file"]).toBe(list(Path.join(root(), "validated"))[0])
  })

  it("the pretty console shows control and bidi characters of any logged text escaped (a folder setting here)", () => {
    const odd = "in\u001b[31mred\u202e\u0085x"
    const r = runCli(root(), ["--once"], { DATA_DIR: odd, QUIET_PERIOD_MS: "200" })
    expect(r.status, r.stderr).toBe(0)
    const console = r.stdout + r.stderr
    expect(console.replaceAll("\n", "")).not.toMatch(UNSAFE)
    // the folder on its own indented line of the start-up line's `folders`, quoted, each character a terminal would act on as its \u escape
    expect(console.split("\n")).toContain('      data="in\\u001b[31mred\\u202e\\u0085x"')
    // the JSON log has the setting as it is, one object per line
    const raw = NFS.readFileSync(Path.join(root(), "logs", "app.log"), "utf8")
    expect(raw.replaceAll("\n", "")).not.toMatch(UNSAFE)
    expect(logLines("app.log").find((l) => l["msg"] === "customer-json-processor started")!["folders"]).toMatchObject({ data: odd })
  })

  it("starts with a banner of a few lines, logs one INFO line per file and a shutdown summary; the settings, secrets redacted, at DEBUG", () => {
    NFS.mkdirSync(Path.join(root(), "data"))
    NFS.writeFileSync(Path.join(root(), "data", "a.json"), fixture("valid-single.json"))
    NFS.writeFileSync(Path.join(root(), "data", "b.json"), fixture("invalid-luhn.json"))
    const r = runCli(root(), ["--once"], { EMAIL_PASSWORD: "pa55-w0rd-xyz" })
    expect(r.status).toBe(0)
    const app = logLines("app.log")
    const started = app.find((l) => l["msg"] === "customer-json-processor started")!
    expect(started).toMatchObject({
      level: "INFO",
      version: "1.0.0",
      mode: "once",
      status_page: "off (METRICS_PORT is not set)",
      watch_mode: "native",
      store: "auto",
      open_files_limit: { soft: expect.anything(), hard: expect.anything() },
      folders: { data: "data", returns: "returns" }
    })
    expect(started["settings"]).toBeUndefined()
    // The banner: the start-up line and its folders, nothing before it; then the files.
    const console = r.stdout.split("\n")
    expect(console[0]).toMatch(/^\S+ INFO  customer-json-processor started version=1\.0\.0 instance=\S+ mode=once status_page="off \(METRICS_PORT is not set\)" watch_mode=native store=auto file_calls=\S+$/)
    expect(console[1]).toMatch(/^ {4}open_files_limit: soft=(\d+|unlimited) hard=(\d+|unlimited)$/)
    expect(console[2]).toBe("    folders: data=data processing=processing validated=validated returns=returns logs=logs")
    expect(console[3]).toMatch(/ INFO  file processed /)
    expect(r.stdout).not.toContain("CONCURRENCY")
    expect(r.stdout).not.toContain("pa55-w0rd-xyz")
    const processed = app.filter((l) => l["msg"] === "file processed")
    expect(processed.map((l) => [l["file"], l["outcome"], l["records"], l["error_count"]]).sort()).toEqual([
      ["a.json", "validated", 1, 0],
      ["b.json", "returned", 1, 1]
    ])
    expect(processed.every((l) => typeof l["duration_ms"] === "number")).toBe(true)
    expect(app.find((l) => l["msg"] === "customer-json-processor stopped")).toMatchObject({ validated: 1, returned: 1, failed: 0, uptime_s: expect.any(Number) })
    // the notification about b.json went out at shutdown, to the outbox (no SMTP server configured)
    expect(app.filter((l) => l["msg"] === "notification sent" && String(l["path"]).includes("outbox"))).toHaveLength(1)
    expect(NFS.existsSync(Path.join(root(), "logs", "debug.log"))).toBe(false)
    expect(JSON.stringify(app) + r.stdout).not.toContain("pa55-w0rd-xyz")

    // DEBUG=true: the settings (the password redacted) and the rest of the start, NAME=value on indented lines.
    const debug = runCli(root(), ["--once"], { EMAIL_PASSWORD: "pa55-w0rd-xyz", DEBUG: "true" })
    expect(debug.status).toBe(0)
    expect(debug.stdout).toMatch(/ DEBUG start-up details file_calls_reason=.* store=.*\n {4}settings:\n {6}DATA_DIR=data\n/)
    expect(debug.stdout).toMatch(/^ {6}CONCURRENCY=8$/m)
    expect(debug.stdout).toMatch(/^ {6}EMAIL_PASSWORD=<redacted>$/m)
    const details = logLines("debug.log").find((l) => l["msg"] === "start-up details")!
    expect(details["settings"]).toMatchObject({ CONCURRENCY: 8, EMAIL_PASSWORD: "<redacted>", QUIET_PERIOD_MS: 500 })
    for (const f of NFS.readdirSync(Path.join(root(), "logs")).filter((n) => n.endsWith(".log"))) {
      expect(NFS.readFileSync(Path.join(root(), "logs", f), "utf8")).not.toContain("pa55-w0rd-xyz")
    }
    expect(debug.stdout + r.stdout).not.toContain("pa55-w0rd-xyz")
  })

  it("lines logged just before SIGTERM are on disk after exit", async () => {
    const daemon = spawnDaemon(root())
    await daemon.waitFor(/customer-json-processor started/)
    drop(root(), "last.json", fixture("valid-single.json"))
    await daemon.waitFor(/file processed.*file=last\.json/)
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    const app = logLines("app.log")
    expect(app.some((l) => l["msg"] === "file processed" && l["file"] === "last.json")).toBe(true)
    expect(app[app.length - 1]!["msg"]).toBe("customer-json-processor stopped")
  })

  it("SIGHUP reopens the log files after logrotate moved them", async () => {
    const daemon = spawnDaemon(root())
    await daemon.waitFor(/customer-json-processor started/)
    await waitUntil(() => NFS.readFileSync(Path.join(root(), "logs", "app.log"), "utf8").includes("started"), 5000, "the start line on disk")
    NFS.renameSync(Path.join(root(), "logs", "app.log"), Path.join(root(), "logs", "app.log.rotated"))
    daemon.child.kill("SIGHUP")
    await waitUntil(() => NFS.existsSync(Path.join(root(), "logs", "app.log")), 5000, "app.log to be reopened")
    drop(root(), "after-hup.json", fixture("valid-single.json"))
    await daemon.waitFor(/file processed.*after-hup/)
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    expect(NFS.readFileSync(Path.join(root(), "logs", "app.log.rotated"), "utf8")).toContain("customer-json-processor started")
    const app = logLines("app.log")
    expect(app.map((l) => l["msg"])).toEqual(["file processed", "customer-json-processor stopped"])
  })

  it("rotates app.log by size, keeping LOG_MAX_FILES", () => {
    NFS.mkdirSync(Path.join(root(), "data"))
    for (let i = 0; i < 40; i++) NFS.writeFileSync(Path.join(root(), "data", `f${i}.json`), fixture("valid-single.json"))
    const r = runCli(root(), ["--once"], { LOG_MAX_SIZE_MB: "0.001", LOG_MAX_FILES: "2", LOG_CONSOLE: "off" })
    expect(r.status).toBe(0)
    expect(r.stdout).toBe("")
    expect(list(Path.join(root(), "logs")).filter((n) => n.startsWith("app.log")).sort()).toEqual(["app.log", "app.log.1", "app.log.2"])
  })

  it("LOG_CONSOLE=json prints JSON Lines on the console", () => {
    const r = runCli(root(), ["--once"], { LOG_CONSOLE: "json" })
    expect(r.status).toBe(0)
    const lines = r.stdout.split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>)
    // The start first (what the filesystems guarantee is at DEBUG when they guarantee everything).
    expect(lines[0]).toMatchObject({ level: "INFO", msg: "customer-json-processor started", folders: { data: "data" } })
    expect(lines.map((l) => l["msg"])).not.toContain("filesystems checked")
  })
})
