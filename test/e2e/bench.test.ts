/** Keeps the benchmark alive: a smoke run must work and print its table. Timings are never asserted. */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const bench = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "run.mjs")

it("npm run bench --smoke runs every scenario and prints its table", () => {
  const out = Path.join(NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-smoke-")), "smoke.json")
  const run = ChildProcess.spawnSync(process.execPath, [bench, "--smoke", "--out", out], { encoding: "utf8", timeout: 180_000 })
  expect(run.status, run.stderr).toBe(0)
  for (const scenario of ["backlog", "floor", "latency", "big file", "idle"]) expect(run.stdout).toMatch(new RegExp(`^\\| ${scenario}\\s+\\|`, "m"))
  const results = JSON.parse(NFS.readFileSync(out, "utf8"))
  expect(results).toMatchObject({ smoke: true, backlog: { files: 200 }, latency: { files: 300 }, big_file: { records: 2000 } })
}, 200_000)
