/** Bad input of every kind gets its outcome from the contract, and the daemon stays up. */
import * as NFS from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fixture } from "../support/fixtures.js"
import { cleanup, drop, makeRoot, spawnDaemon } from "./support.js"
import { list } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"
import type { Daemon } from "./support.js"

let root: string
let daemon: Daemon

const report = (name: string) => JSON.parse(NFS.readFileSync(Path.join(root, "returns", `${name}.error.json`), "utf8"))
const returned = async (name: string) => {
  await waitUntil(() => NFS.existsSync(Path.join(root, "returns", name)), 30_000, `${name} in returns/`)
  return report(name)
}

beforeAll(async () => {
  root = makeRoot()
  NFS.mkdirSync(Path.join(root, "data"))
  NFS.mkdirSync(Path.join(root, "data", "y.json"))
  NFS.writeFileSync(Path.join(root, "target.json"), fixture("valid-single.json"))
  NFS.symlinkSync(Path.join(root, "target.json"), Path.join(root, "data", "x.json"))
  NFS.writeFileSync(Path.join(root, "data", "pending.json.tmp"), "{")
  NFS.writeFileSync(Path.join(root, "data", "notes.txt"), "hello")
  daemon = spawnDaemon(root, [], { QUIET_PERIOD_MS: "300", MAX_FILE_SIZE_MB: "50" })
  await daemon.waitFor(/customer-json-processor started/)
})

afterAll(async () => {
  daemon.child.kill("SIGTERM")
  expect(await daemon.exited).toBe(0)
  cleanup(root)
})

describe("bad input", () => {
  it("an empty file", async () => {
    drop(root, "empty.json", "")
    expect((await returned("empty.json")).errors).toEqual([{ record: null, path: "$", message: "file is empty or contains only whitespace" }])
  })

  it("invalid UTF-8", async () => {
    drop(root, "latin1.json", Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]))
    expect((await returned("latin1.json")).errors).toEqual([{ record: null, path: "$", message: "file is not valid UTF-8" }])
  })

  it("a 60 MB file", async () => {
    const big = Buffer.alloc(60 * 1024 * 1024, 0x20)
    big[0] = 0x5b
    big[big.length - 1] = 0x5d
    drop(root, "huge.json", big)
    const r = await returned("huge.json")
    expect(r.errors).toEqual([{ record: null, path: "$", message: "file is 60.0 MB; larger than MAX_FILE_SIZE_MB (50 MB): it was not read, and is returned as it is" }])
    expect(NFS.statSync(Path.join(root, "returns", "huge.json")).size).toBe(big.length)
  })

  it("a 100,000-deep nested array", async () => {
    drop(root, "deep.json", "[".repeat(100_000) + "]".repeat(100_000))
    const r = await returned("deep.json")
    expect(r.error_count).toBe(1)
    expect(r.errors[0]).toEqual({ record: 0, path: "$[0]", message: "must be a customer object" })
  })

  it("top-level null", async () => {
    drop(root, "null.json", "null")
    expect((await returned("null.json")).errors[0].message).toBe(
      "top-level value must be a customer object or an array of customer objects, not null"
    )
  })

  it("a truncated file, once its writer has gone quiet", async () => {
    drop(root, "cut.json", fixture("invalid-truncated.json"))
    expect((await returned("cut.json")).errors).toEqual([
      { record: null, path: "$", message: "malformed JSON at line 1, column 49: unterminated string" }
    ])
  })

  it("a name with spaces and unicode", async () => {
    drop(root, "Kundenliste März ✓ 2026.json", fixture("valid-single.json"))
    await waitUntil(() => list(Path.join(root, "validated")).includes("Kundenliste März ✓ 2026.json"))
  })

  it("more errors than a report lists", async () => {
    const records = Array.from({ length: 60 }, (_, i) => ({ customer_id: `C-${i}`, email: "x" }))
    drop(root, "many.json", JSON.stringify(records))
    const r = await returned("many.json")
    // per record: a bad email and four missing fields
    expect(r.error_count).toBe(60 * 5)
    expect(r.errors).toHaveLength(100)
  })

  it("leaves a symbolic link, a folder, a temporary file and another extension where they are, and stays up", async () => {
    // a later good file proves the daemon is still running
    drop(root, "after.json", fixture("valid-batch.json"))
    await waitUntil(() => list(Path.join(root, "validated")).includes("after.json"))
    expect(list(Path.join(root, "data")).sort()).toEqual(["notes.txt", "pending.json.tmp", "x.json", "y.json"])
    expect(NFS.lstatSync(Path.join(root, "data", "x.json")).isSymbolicLink()).toBe(true)
    expect(NFS.readFileSync(Path.join(root, "target.json"), "utf8")).toBe(fixture("valid-single.json"))
    const out = daemon.output()
    expect(out.match(/WARN.*file=x\.json/g)).toHaveLength(1)
    expect(out.match(/WARN.*file=y\.json/g)).toHaveLength(1)
    expect(out.match(/WARN.*file=notes\.txt/g)).toHaveLength(1)
    expect(out).not.toMatch(/pending\.json\.tmp/)
    expect(daemon.child.exitCode).toBeNull()
  })
})
