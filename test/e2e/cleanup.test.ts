/**
 * The suite cleans up after itself (test/support/globalSetup.ts,
 * leftovers.ts, summaryReporter.ts): a run that leaves a process or a mount
 * behind fails naming it, and stops it; and the tests that run things as the
 * service user run a world-readable copy, so that a checkout in a private
 * folder works, or say in one line why they cannot.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it, onTestFinished } from "vitest"
import { serviceUserProblem } from "../support/globalSetup.js"
import { forOtherUsers, MAIN } from "./support.js"

const CHECKOUT = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const VITEST = Path.join(CHECKOUT, "node_modules", "vitest", "vitest.mjs")
const isRoot = typeof process.getuid === "function" && process.getuid() === 0

const tempDir = (prefix: string) => {
  const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), prefix))
  onTestFinished(() => NFS.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A project of one test file, `body`, run by vitest with this suite's globalSetup and summary reporter. */
const runProject = (body: string) => {
  const dir = tempDir("cjp-project-")
  NFS.symlinkSync(Path.join(CHECKOUT, "node_modules"), Path.join(dir, "node_modules"))
  NFS.writeFileSync(Path.join(dir, "package.json"), '{ "type": "module" }\n')
  NFS.writeFileSync(
    Path.join(dir, "vitest.config.mjs"),
    `export default { test: { include: ["*.check.ts"], globalSetup: [${JSON.stringify(Path.join(CHECKOUT, "test", "support", "globalSetup.ts"))}],
      reporters: ["default", ${JSON.stringify(Path.join(CHECKOUT, "test", "support", "summaryReporter.ts"))}] } }\n`
  )
  NFS.writeFileSync(Path.join(dir, "one.check.ts"), body)
  return ChildProcess.spawnSync(process.execPath, [VITEST, "run", "--root", dir], { cwd: dir, encoding: "utf8", timeout: 120_000, env: { ...process.env, FORCE_COLOR: "0" } })
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return NFS.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z"
  } catch {
    return false
  }
}

describe("the end-of-run check", () => {
  it("a run that leaves nothing behind passes as before", () => {
    const r = runProject(`import { expect, it } from "vitest"\nit("passes", () => expect(1).toBe(1))\n`)
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout.trim().split("\n").at(-1)).toBe("1 passed, 0 failed")
  }, 120_000)

  it("a run that leaves a process (and, as root, a mount) behind fails, naming each, and stops it", () => {
    const r = runProject(`
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { it } from "vitest"
it("forgets what it started", () => {
  const child = ChildProcess.spawn("sleep", ["300"], { detached: true, stdio: "ignore" })
  child.unref()
  NFS.writeFileSync(Path.join(OS.tmpdir(), "..", "leaked-pid"), String(child.pid))
  if (process.getuid?.() === 0) {
    const mnt = NFS.mkdtempSync(Path.join(OS.tmpdir(), "mnt-"))
    ChildProcess.spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt])
    NFS.writeFileSync(Path.join(OS.tmpdir(), "..", "leaked-mount"), mnt)
  }
})
`)
    const output = r.stdout + r.stderr
    expect(r.status, output).toBe(1)
    // (the project's run folder is inside this run's: its parent holds what the leak wrote down)
    const pid = Number(NFS.readFileSync(Path.join(OS.tmpdir(), "leaked-pid"), "utf8"))
    NFS.rmSync(Path.join(OS.tmpdir(), "leaked-pid"))
    expect(output).toContain(`process ${pid} left running: sleep 300`)
    expect(alive(pid)).toBe(false)
    if (isRoot) {
      const mnt = NFS.readFileSync(Path.join(OS.tmpdir(), "leaked-mount"), "utf8")
      NFS.rmSync(Path.join(OS.tmpdir(), "leaked-mount"))
      expect(output).toContain(`mount left: ${mnt}`)
      expect(ChildProcess.spawnSync("mountpoint", ["-q", mnt]).status).not.toBe(0)
    }
    // counted in the line CI reads
    expect(r.stdout.trim().split("\n").at(-1)).toBe(`1 passed, ${isRoot ? 2 : 1} failed`)
  }, 120_000)
})

describe.skipIf(!isRoot)("what the service user runs", () => {
  it("a build in a private folder (a checkout under a 0700 home) is one the service user cannot run, said in one line", () => {
    const home = tempDir("cjp-home-")
    NFS.chmodSync(home, 0o700)
    const dist = Path.join(home, "checkout", "dist")
    NFS.mkdirSync(dist, { recursive: true })
    for (const f of ["main.js", "judgeWorker.js"]) NFS.copyFileSync(Path.join(CHECKOUT, "dist", f), Path.join(dist, f))
    const problem = serviceUserProblem(Path.join(dist, "main.js"))
    expect(problem).toBe(`the service user (uid 65534) cannot run ${Path.join(dist, "main.js")}: ${home} is mode 0700 (every folder above it must be searchable by others: o+x)`)
    expect(problem).not.toContain("\n")
  })

  it("the tests run the run's world-readable copy as the service user, which it can run wherever the checkout is", () => {
    const copy = forOtherUsers(MAIN)
    expect(copy).not.toBe(MAIN)
    expect(copy.startsWith(OS.tmpdir())).toBe(true)
    expect(serviceUserProblem(copy)).toBeUndefined()
    expect(NFS.readFileSync(copy).equals(NFS.readFileSync(MAIN))).toBe(true)
    const attacker = forOtherUsers(Path.join(CHECKOUT, "test", "e2e", "support", "attacker.mjs"))
    expect(ChildProcess.spawnSync("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", "cat", attacker]).status).toBe(0)
  })
})
