/**
 * Real network filesystems for the end-to-end tests, set up and torn down by
 * scripts/netfs.sh: a one-brick GlusterFS volume or an SFTP export (sshd on
 * 127.0.0.1), each mounted twice, as two hosts would mount one share.
 *
 * `useNetfs(kind)` is called in a `describe` block. The share is set up by the
 * first `mounts()` call, inside a test, so that a setup that cannot work fails
 * that test with the script's output (never a skipped or silently passing
 * test); it is torn down in that block's `afterAll` whatever happened, after
 * `beforeTeardown` (stop the processes that use the mounts there).
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll } from "vitest"

export const NETFS_SCRIPT = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..", "scripts", "netfs.sh")

export type NetfsKind = "gluster" | "sshfs"

export interface NetfsMounts {
  /** the folder holding the brick or export, the mount points and the script's state (local disk) */
  readonly dir: string
  /** the share through its first mount */
  readonly a: string
  /** the same share through its second mount */
  readonly b: string
}

/** Installing the packages on a fresh machine takes minutes; a setup on a ready one, seconds. */
export const SETUP_TIMEOUT_MS = 10 * 60_000
export const TEARDOWN_TIMEOUT_MS = 2 * 60_000

interface ScriptRun {
  readonly code: number | string
  readonly stdout: string
  readonly stderr: string
}

const runScript = (command: string, dir: string, timeoutMs: number): Promise<ScriptRun> =>
  new Promise((resolve) => {
    const child = ChildProcess.spawn("bash", [NETFS_SCRIPT, command, dir], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    // The script's own steps are bounded; this bounds a hung mount or apt.
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("error", (error) => {
      clearTimeout(timer)
      resolve({ code: "spawn failed", stdout, stderr: `${stderr}${error.message}` })
    })
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? `killed by ${signal ?? "?"} after ${timeoutMs} ms`, stdout, stderr })
    })
  })

const describeRun = (command: string, dir: string, run: ScriptRun) =>
  `scripts/netfs.sh ${command} ${dir} failed (exit ${run.code}); its output (last 6000 characters):\n` +
  `${(run.stdout + run.stderr).slice(-6000)}`

/** Sets the share up under `dir`: its two mount points, or a failure carrying the script's output. */
export const netfsUp = async (kind: NetfsKind, dir: string): Promise<NetfsMounts> => {
  const run = await runScript(`${kind}-up`, dir, SETUP_TIMEOUT_MS)
  if (run.code !== 0) throw new Error(describeRun(`${kind}-up`, dir, run))
  const [a, b] = run.stdout.trim().split("\n").slice(-2)
  if (a === undefined || b === undefined || !NFS.existsSync(a) || !NFS.existsSync(b)) {
    throw new Error(`scripts/netfs.sh ${kind}-up ${dir} printed no two mount points:\n${run.stdout}${run.stderr}`)
  }
  return { dir, a, b }
}

const isMountPoint = (path: string) => ChildProcess.spawnSync("mountpoint", ["-q", path]).status === 0

/** Tears the share down and removes `dir`; fails (leaving `dir`) if a mount point is still mounted. */
export const netfsDown = async (kind: NetfsKind, dir: string): Promise<void> => {
  const run = await runScript(`${kind}-down`, dir, TEARDOWN_TIMEOUT_MS)
  const stillMounted = ["mnt-a", "mnt-b"].map((m) => Path.join(dir, m)).filter(isMountPoint)
  // Never rm -r through a live mount: that would delete through the share, or hang on a dead one.
  if (stillMounted.length === 0) NFS.rmSync(dir, { recursive: true, force: true })
  if (run.code !== 0 || stillMounted.length > 0) {
    throw new Error(`${describeRun(`${kind}-down`, dir, run)}\nstill mounted: ${stillMounted.join(", ") || "none"}`)
  }
}

export interface Netfs {
  /** Sets the share up on the first call (the same promise afterwards). */
  readonly mounts: () => Promise<NetfsMounts>
}

/**
 * A share for the enclosing `describe` block: set up on demand by `mounts()`,
 * torn down in its `afterAll` (after `beforeTeardown`), even when a test failed
 * or the setup failed half way.
 */
export const useNetfs = (
  kind: NetfsKind,
  options: { readonly beforeTeardown?: () => Promise<void> } = {}
): Netfs => {
  // Made by the first mounts(): a block that vitest skips runs no afterAll, and must leave nothing.
  const state: { dir?: string; setup?: Promise<NetfsMounts> } = {}
  afterAll(async () => {
    try {
      await options.beforeTeardown?.()
    } finally {
      if (state.dir !== undefined) {
        // A setup still running (its test timed out) must finish before it can be undone.
        await state.setup?.catch(() => undefined)
        await netfsDown(kind, state.dir)
      }
    }
  }, SETUP_TIMEOUT_MS + TEARDOWN_TIMEOUT_MS)
  return {
    mounts: () => {
      state.dir ??= NFS.mkdtempSync(Path.join(OS.tmpdir(), `cjp-${kind}-`))
      return (state.setup ??= netfsUp(kind, state.dir))
    }
  }
}
