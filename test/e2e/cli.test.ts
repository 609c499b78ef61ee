import * as NFS from "node:fs"
import * as Path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { VERSION } from "../../src/Version.js"
import { fixturesDir } from "../support/fixtures.js"
import { cleanup, list, makeRoot, runCli } from "./support.js"

let root: string
beforeEach(() => {
  root = makeRoot()
})
afterEach(() => cleanup(root))

describe("the command line", () => {
  it("--version prints the package version", () => {
    const pkg = JSON.parse(NFS.readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    expect(VERSION).toBe(pkg.version)
    const r = runCli(root, ["--version"])
    expect(r.status).toBe(0)
    expect(r.stdout.trim()).toBe(VERSION)
  })

  it("--help describes the commands", () => {
    const r = runCli(root, ["--help"])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain("--once")
    expect(r.stdout).toContain("validate")
    expect(r.stdout).toContain("schema")
  })

  it("schema prints the contract's JSON Schema", () => {
    const r = runCli(root, ["schema"])
    expect(r.status).toBe(0)
    const schema = JSON.parse(r.stdout)
    expect(schema.$defs.Customer.required).toEqual(["customer_id", "first_name", "last_name", "email", "address", "created_at"])
    expect(schema.anyOf[1].maxItems).toBe(100000)
  })

  it("validate checks files without moving them, exit 1 if any is invalid", () => {
    const files = ["valid-single.json", "invalid-luhn.json"].map((f) => Path.join(fixturesDir, f))
    const r = runCli(root, ["validate", ...files])
    expect(r.status).toBe(1)
    const reports = r.stdout.split(/\n(?=\{)/).map((s) => JSON.parse(s))
    expect(reports.map((x) => [x.file, x.valid, x.error_count])).toEqual([["valid-single.json", true, 0], ["invalid-luhn.json", false, 1]])
    expect(NFS.existsSync(files[0]!)).toBe(true)
    expect(runCli(root, ["validate", files[0]!]).status).toBe(0)
    expect(list(root)).toEqual([])
  })

  it("a bad setting stops the start with one line naming it, exit 78", () => {
    const r = runCli(root, ["--once"], { CONCURRENCY: "lots" })
    expect(r.status).toBe(78)
    const lines = (r.stdout + r.stderr).trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("CONCURRENCY must be a whole number from 1 to 256")
  })

  it("reads .env in the working directory, the environment winning", () => {
    NFS.writeFileSync(Path.join(root, ".env"), "DATA_DIR=incoming\nVALIDATED_DIR=ok\n")
    const r = runCli(root, ["--once"], { VALIDATED_DIR: "accepted" })
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(NFS.existsSync(Path.join(root, "incoming"))).toBe(true)
    expect(NFS.existsSync(Path.join(root, "accepted"))).toBe(true)
    expect(NFS.existsSync(Path.join(root, "ok"))).toBe(false)
  })

  it("a folder that cannot be created stops the start with one clear line", () => {
    NFS.writeFileSync(Path.join(root, "returns"), "a file where a folder should be")
    const r = runCli(root, ["--once"])
    expect(r.status).toBe(73)
    expect(r.stdout + r.stderr).toMatch(/ERROR folder returns \(RETURNS_DIR\) is not usable/)
  })

  it("too little free disk stops the start", () => {
    const r = runCli(root, ["--once"], { MIN_FREE_DISK_MB: "1000000000" })
    expect(r.status).toBe(75)
    expect(r.stdout + r.stderr).toMatch(/MB free on .*MIN_FREE_DISK_MB requires 1000000000 MB/)
  })

  it("an unknown option is a usage error", () => {
    expect(runCli(root, ["--frobnicate"]).status).toBe(64)
  })
})
