import * as NFS from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { CONTRACT_VERSION } from "../../src/contract/ContractSchema.js"
import { VERSION } from "../../src/Version.js"
import { fixturesDir } from "../support/fixtures.js"
import { rootPerTest, runCli } from "./support.js"
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

  it("validate checks files without moving them, exit 1 if any is invalid", () => {
    const files = ["valid-single.json", "invalid-luhn.json"].map((f) => Path.join(fixturesDir, f))
    const r = runCli(root(), ["validate", ...files])
    expect(r.status).toBe(1)
    const reports = r.stdout.split(/\n(?=\{)/).map((s) => JSON.parse(s))
    expect(reports.map((x) => [x.file, x.valid, x.error_count])).toEqual([["valid-single.json", true, 0], ["invalid-luhn.json", false, 1]])
    expect(reports.map((x) => x.contract_version)).toEqual([CONTRACT_VERSION, CONTRACT_VERSION])
    expect(NFS.existsSync(files[0]!)).toBe(true)
    expect(runCli(root(), ["validate", files[0]!]).status).toBe(0)
    expect(list(root())).toEqual([])
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
