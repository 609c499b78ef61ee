/**
 * The end-of-run check (leftovers.ts): which processes and mounts are the
 * run's, and stopping them. Here over a pretend run of its own, inside the real
 * one's folder.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"
import { findLeftovers, RUN_MARKER, settleLeftovers } from "./support/leftovers.js"
import type { RunScope } from "./support/leftovers.js"

const isRoot = typeof process.getuid === "function" && process.getuid() === 0

/** A pretend run: its folder, and this test process's parent as the checking process (so this process is spared as a worker). */
const pretendRun = (): RunScope => {
  const runDir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-pretend-run-"))
  // (a checkout of its own, outside the run's folder)
  const checkout = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-pretend-checkout-"))
  onTestFinished(() => {
    if (isRoot) ChildProcess.spawnSync("umount", ["-l", Path.join(runDir, "mnt")])
    for (const dir of [runDir, checkout]) NFS.rmSync(dir, { recursive: true, force: true })
  })
  return { runDir, checkout, self: process.ppid, since: Date.now() }
}

/** `sleep 60`, stopped when the test ends whatever happened. */
const sleeper = (options: ChildProcess.SpawnOptions) => {
  const child = ChildProcess.spawn("sleep", ["60"], { stdio: "ignore", ...options })
  onTestFinished(() => void child.kill("SIGKILL"))
  return child
}

const pids = (scope: RunScope) => findLeftovers(scope).processes.map((p) => p.pid)

describe("what the run left", () => {
  it("a process carrying the run's marker, or working in its folder, is the run's; another's is not", () => {
    const scope = pretendRun()
    const marked = sleeper({ env: { ...process.env, [RUN_MARKER]: scope.runDir } })
    const inside = sleeper({ cwd: scope.runDir, env: { PATH: process.env.PATH } })
    const otherRun = sleeper({ env: { ...process.env, [RUN_MARKER]: `${scope.runDir}-other` } })
    const unrelated = sleeper({ cwd: "/", env: { PATH: process.env.PATH } })
    const found = pids(scope)
    expect(found).toContain(marked.pid)
    expect(found).toContain(inside.pid)
    expect(found).not.toContain(otherRun.pid)
    expect(found).not.toContain(unrelated.pid)
    // named by its command line
    expect(findLeftovers(scope).processes.find((p) => p.pid === marked.pid)?.command).toBe("sleep 60")
  })

  it("a process running a file of the checkout's dist/ or test/, started during the run, is the run's (whatever its environment)", () => {
    const scope = pretendRun()
    const script = Path.join(scope.checkout, "test", "e2e", "support", "probe.mjs")
    NFS.mkdirSync(Path.dirname(script), { recursive: true })
    NFS.writeFileSync(script, "setTimeout(() => {}, 60_000)\n")
    const child = ChildProcess.spawn(process.execPath, [script], { stdio: "ignore", cwd: "/", env: { PATH: process.env.PATH } })
    onTestFinished(() => void child.kill("SIGKILL"))
    expect(pids(scope)).toContain(child.pid)
    // one that was running before the run began is someone else's
    expect(pids({ ...scope, since: Date.now() + 60_000 })).not.toContain(child.pid)
  })

  it("settling kills what is left (after a grace for what is stopping anyway) and says what it found", async () => {
    const scope = pretendRun()
    const stubborn = sleeper({ env: { ...process.env, [RUN_MARKER]: scope.runDir } })
    const exited = new Promise((resolve) => stubborn.on("exit", resolve))
    const left = await settleLeftovers(scope, 300)
    expect(left.processes.map((p) => p.pid)).toEqual([stubborn.pid])
    await exited
    expect(pids(scope)).toEqual([])
  })

  it.skipIf(!isRoot)("a mount in the run's folder is the run's, and settling unmounts it", async () => {
    const scope = pretendRun()
    const mnt = Path.join(scope.runDir, "mnt")
    NFS.mkdirSync(mnt)
    const r = ChildProcess.spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt], { encoding: "utf8" })
    expect(r.status, r.stderr).toBe(0)
    expect(findLeftovers(scope).mounts).toEqual([mnt])
    const left = await settleLeftovers(scope, 0)
    expect(left.mounts).toEqual([mnt])
    expect(findLeftovers(scope).mounts).toEqual([])
    expect(ChildProcess.spawnSync("mountpoint", ["-q", mnt]).status).not.toBe(0)
  })
})
