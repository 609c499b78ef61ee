import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { CONTRACT_VERSION } from "../../src/contract/ContractSchema.js"
import { VERSION } from "../../src/Version.js"
import { fixturesDir } from "../support/fixtures.js"
import { baseEnv, MAIN, rootPerTest, runCli } from "./support.js"
import { list } from "../support/folders.js"

const root = rootPerTest()

describe("the command line", () => {
  it("--version prints the package version", () => {
    const pkg = JSON.parse(NFS.readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    expect(VERSION).toBe(pkg.version)
    const r = runCli(root(), ["--version"])
    expect(r.status).toBe(0)
    expect(r.stdout.trim()).toBe(VERSION)
  })

  it("--help describes the commands", () => {
    const r = runCli(root(), ["--help"])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain("--once")
    expect(r.stdout).toContain("validate")
    expect(r.stdout).toContain("schema")
  })

  it("--help is short and specific, and plain text when its output is not a terminal, for every command", () => {
    for (const args of [["--help"], ["-h"], ["validate", "--help"], ["schema", "--help"], ["requeue", "--help"]]) {
      const r = runCli(root(), args)
      expect(r.status, args.join(" ")).toBe(0)
      expect(r.stderr).toBe("")
      const text = r.stdout
      // no colour codes through a pipe
      expect(text).not.toMatch(/\u001b\[/)
      // said once, not under every option; none of @effect/cli's built-ins nor the internal option
      expect(text).not.toMatch(/A true or false value|This setting is optional/)
      expect(text).not.toMatch(/--wizard|--completions|--log-level|--stop-with-parent/)
      expect(text.split("\n").length, text).toBeLessThanOrEqual(30)
      expect(text).toMatch(new RegExp(`^usage: customer-json-processor${args.length > 1 ? ` ${args[0]}` : ""}`))
    }
    expect(runCli(root(), ["validate", "--help"]).stdout).toContain("--json")
    expect(runCli(root(), ["requeue", "--help"]).stdout).toContain("--dry-run")
  })

  it("an unknown option is a usage error in every command: exit 64, `unknown option`, the usage line, nothing done", () => {
    NFS.writeFileSync(Path.join(root(), "f.json"), "{}")
    for (const args of [["--bogus"], ["--once", "--bogus"], ["validate", "--bogus", "f.json"], ["validate", "f.json", "--bogus"], ["schema", "--bogus"], ["requeue", "--bogus"], ["requeue", "--all", "--bogus"], ["--wizard"]]) {
      const r = runCli(root(), args)
      const command = args[0] === "validate" || args[0] === "schema" || args[0] === "requeue" ? ` ${args[0]}` : ""
      const option = args.find((a) => a === "--bogus" || a === "--wizard")!
      expect(r.status, args.join(" ")).toBe(64)
      expect(r.stdout).toBe("")
      expect(r.stderr).toMatch(new RegExp(`^customer-json-processor${command}: unknown option ${option}\nusage: customer-json-processor${command}`))
    }
    // Nothing was started or read: no folders made, no log written.
    expect(list(root())).toEqual(["f.json"])
    const unknownCommand = runCli(root(), ["bogus"])
    expect(unknownCommand.status).toBe(64)
    expect(unknownCommand.stderr).toMatch(/^customer-json-processor: unknown command bogus\nusage: /)
  })

  it("a file whose name starts with - is validated after --", () => {
    NFS.copyFileSync(Path.join(fixturesDir, "valid-single.json"), Path.join(root(), "-x.json"))
    const r = runCli(root(), ["validate", "--", "-x.json"])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toBe("-x.json: valid\n")
  })

  it("--print-settings prints every setting as it applies, NAME=value, secrets hidden, and exits", () => {
    NFS.writeFileSync(Path.join(root(), ".env"), "CONCURRENCY=3\nEMAIL_PASSWORD=hunter2\n")
    const r = runCli(root(), ["--print-settings"], { DATA_DIR: "in box" })
    expect(r.status, r.stderr).toBe(0)
    const lines = r.stdout.trim().split("\n")
    expect(lines).toContain("CONCURRENCY=3")
    expect(lines).toContain('DATA_DIR="in box"')
    expect(lines).toContain("EMAIL_PASSWORD=<redacted>")
    expect(r.stdout).not.toContain("hunter2")
    for (const line of lines) expect(line).toMatch(/^[A-Z_]+=/)
    // nothing started
    expect(NFS.readdirSync(root())).toEqual([".env"])
    expect(runCli(root(), ["--print-settings"], { CONCURRENCY: "lots" }).status).toBe(78)
  })

  it("schema prints the contract's JSON Schema, draft-07 unless --draft 2020-12, MAX_RECORDS from the settings", () => {
    const r = runCli(root(), ["schema"])
    expect(r.status).toBe(0)
    const schema = JSON.parse(r.stdout)
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#")
    expect(schema.definitions.Customer.required).toEqual(["customer_id", "first_name", "last_name", "email", "address", "created_at"])
    expect(schema.anyOf[1].maxItems).toBe(100000)
    expect(schema["x-cjp-contract-version"]).toBe(CONTRACT_VERSION)
    expect(schema["x-cjp-unchecked-rules"].map((r: { rule: string }) => r.rule)).toContain("card-number-luhn")
    expect(runCli(root(), ["schema", "--draft", "draft-07"]).stdout).toBe(r.stdout)

    const r2020 = runCli(root(), ["schema", "--draft", "2020-12"], { MAX_RECORDS: "50" })
    expect(r2020.status).toBe(0)
    const schema2020 = JSON.parse(r2020.stdout)
    expect(schema2020.$schema).toBe("https://json-schema.org/draft/2020-12/schema")
    // The same rules; only the dialect's words differ.
    expect(JSON.stringify(schema2020.$defs).replaceAll("#/$defs/", "#/definitions/")).toBe(JSON.stringify(schema.definitions))
    expect(schema2020.anyOf[1].maxItems).toBe(50)
  })

  it("schema with an unknown --draft is a usage error", () => {
    const r = runCli(root(), ["schema", "--draft", "2019-09"])
    expect(r.status).toBe(64)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("draft-07, 2020-12")
  })

  it("validate checks files without moving them: one line each (path as given, verdict, error count, first error), exit 1 if any is invalid", () => {
    for (const f of ["valid-single.json", "invalid-luhn.json", "invalid-mixed-batch.json"]) NFS.copyFileSync(Path.join(fixturesDir, f), Path.join(root(), f))
    NFS.mkdirSync(Path.join(root(), "sub"))
    NFS.writeFileSync(Path.join(root(), "sub", "broken.json"), "{\"a\": ")
    const r = runCli(root(), ["validate", "valid-single.json", "invalid-luhn.json", "invalid-mixed-batch.json", "sub/broken.json", "missing.json"])
    expect(r.status).toBe(1)
    expect(r.stderr).toBe("")
    const lines = r.stdout.split("\n").filter((l) => l !== "")
    expect(lines).toHaveLength(5)
    expect(lines[0]).toBe("valid-single.json: valid")
    // (the one value an error shows, a card number, masked as in the reports)
    expect(lines[1]).toBe("invalid-luhn.json: invalid, 1 error: $.payment.card_number: card number fails the Luhn check (************1882)")
    expect(lines[2]).toMatch(/^invalid-mixed-batch\.json: invalid, 7 errors; first: \$\[1\]\.first_name: must be a string/)
    expect(lines[3]).toMatch(/^sub\/broken\.json: invalid, 1 error: .*line 1, column \d+/)
    expect(lines[4]).toBe("missing.json: invalid, 1 error: file not found")
    expect(runCli(root(), ["validate", "valid-single.json"]).status).toBe(0)
    expect(list(root()).sort()).toEqual(["invalid-luhn.json", "invalid-mixed-batch.json", "sub", "valid-single.json"])
  })

  it("validate --json prints JSON Lines: the path as given, the verdict and the errors, nothing meaningless", () => {
    const files = ["valid-single.json", "invalid-luhn.json"].map((f) => Path.join(fixturesDir, f))
    const r = runCli(root(), ["validate", "--json", ...files])
    expect(r.status).toBe(1)
    const lines = r.stdout.split("\n").filter((l) => l !== "")
    expect(lines).toHaveLength(2)
    const reports = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(reports.map((x) => [x.file, x.valid, x.error_count])).toEqual([[files[0], true, 0], [files[1], false, 1]])
    expect(reports.map((x) => x.contract_version)).toEqual([CONTRACT_VERSION, CONTRACT_VERSION])
    expect(Object.keys(reports[1]!).sort()).toEqual(["contract_version", "error_count", "errors", "file", "valid"])
    expect(reports[1]!.errors).toEqual([expect.objectContaining({ record: 0, message: expect.any(String) })])
    expect(list(root())).toEqual([])
  })

  it("--once: the run's notification is sent and said before the last line, `stopped`; the console's lines are in time order", () => {
    NFS.mkdirSync(Path.join(root(), "data"))
    NFS.copyFileSync(Path.join(fixturesDir, "invalid-luhn.json"), Path.join(root(), "data", "bad.json"))
    // stdout and stderr into one file, as on a terminal: the order they were written in.
    const console = Path.join(root(), "console.txt")
    const fd = NFS.openSync(console, "w")
    const r = ChildProcess.spawnSync(process.execPath, [MAIN, "--once"], { cwd: root(), env: baseEnv({ QUIET_PERIOD_MS: "0" }), stdio: ["ignore", fd, fd], timeout: 60_000 })
    NFS.closeSync(fd)
    const lines = NFS.readFileSync(console, "utf8").split("\n").filter((l) => /^\d{4}-/.test(l))
    expect(r.status, lines.join("\n")).toBe(0)
    expect(lines.at(-1)).toMatch(/ INFO  customer-json-processor stopped /)
    expect(lines.findIndex((l) => / notification /.test(l)), lines.join("\n")).toBeGreaterThan(-1)
    expect(NFS.readdirSync(Path.join(root(), "logs", "outbox"))).toHaveLength(1)
    const times = lines.map((l) => l.slice(0, 24))
    expect(times).toEqual([...times].sort())
  })

  it("a bad setting stops the start with one line naming it, exit 78", () => {
    const r = runCli(root(), ["--once"], { CONCURRENCY: "lots" })
    expect(r.status).toBe(78)
    const lines = (r.stdout + r.stderr).trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("CONCURRENCY must be a whole number from 1 to 256")
    expect(lines[0]).toMatch(/ ERROR .*, not "lots"$/)
  })

  it("a bad email setting's rule reads whole (the masking of the line leaves it alone), exit 78", () => {
    const r = runCli(root(), ["--once"], { SMTP_SERVER: "127.0.0.1", EMAIL_SENDER: "bad" })
    expect(r.status).toBe(78)
    const lines = (r.stdout + r.stderr).trim().split("\n")
    expect(lines[0]).toContain("EMAIL_SENDER must be an email address (a local part, @ and a domain)")
    expect(lines[0]).not.toContain("***")
  })

  it("a bad secret setting is named but its value never shown, exit 78", () => {
    const r = runCli(root(), ["--once"], { NOTIFY_WEBHOOK_URL: "ftp://bot:hunter2@hooks.example.com/T0KEN" })
    expect(r.status).toBe(78)
    const lines = (r.stdout + r.stderr).trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/ ERROR .*NOTIFY_WEBHOOK_URL must be an http:\/\/ or https:\/\/ URL$/)
    for (const secret of ["hunter2", "T0KEN", "bot"]) expect(lines[0]).not.toContain(secret)
  })

  it("reads .env in the working directory, the environment winning", () => {
    NFS.writeFileSync(Path.join(root(), ".env"), "DATA_DIR=incoming\nVALIDATED_DIR=ok\n")
    const r = runCli(root(), ["--once"], { VALIDATED_DIR: "accepted" })
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(NFS.existsSync(Path.join(root(), "incoming"))).toBe(true)
    expect(NFS.existsSync(Path.join(root(), "accepted"))).toBe(true)
    expect(NFS.existsSync(Path.join(root(), "ok"))).toBe(false)
  })

  it("a folder that cannot be created stops the start with one clear line", () => {
    NFS.writeFileSync(Path.join(root(), "returns"), "a file where a folder should be")
    const r = runCli(root(), ["--once"])
    expect(r.status).toBe(73)
    expect(r.stdout + r.stderr).toMatch(/ERROR folder returns \(RETURNS_DIR\) is not usable/)
  })

  it("too little free disk stops the start", () => {
    const r = runCli(root(), ["--once"], { MIN_FREE_DISK_MB: "1000000000" })
    expect(r.status).toBe(75)
    expect(r.stdout + r.stderr).toMatch(/MB free on .*MIN_FREE_DISK_MB requires 1000000000 MB/)
  })

  it("an unknown option is a usage error", () => {
    expect(runCli(root(), ["--frobnicate"]).status).toBe(64)
  })
})
