/** Spawning the built daemon (`node dist/main.js`) on a temporary folder tree. */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, beforeEach, inject } from "vitest"
import { freePort } from "../support/smtp.js"

const CHECKOUT = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..")

export const MAIN = Path.join(CHECKOUT, "dist", "main.js")

/**
 * What a process of another user (the service user, a producer) runs instead
 * of `path` (dist/main.js, test/e2e/support/*.mjs): the run's world-readable
 * copy (test/support/globalSetup.ts), which that user can reach even when the
 * checkout is in a private folder. Throws one line saying why when the service
 * user cannot run it.
 */
export const forOtherUsers = (path: string): string => {
  const build = inject("serviceBuild")
  if (build.problem !== undefined) throw new Error(build.problem)
  return Path.join(build.dir, Path.relative(CHECKOUT, path))
}

export const makeRoot = (): string => NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-e2e-"))

export const FOLDER_NAMES = ["data", "processing", "validated", "returns", "logs"] as const

export interface Daemon {
  readonly child: ChildProcess.ChildProcess
  readonly output: () => string
  /** resolves with the exit code (or signal name) */
  readonly exited: Promise<number | string>
  /** waits until the output matches, up to `ms` */
  readonly waitFor: (pattern: RegExp, ms?: number) => Promise<void>
}

/** Environment for a test run: fast timings, no inherited settings. */
export const baseEnv = (extra: Record<string, string> = {}): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(DATA_DIR|PROCESSING_DIR|VALIDATED_DIR|RETURNS_DIR|LOG_DIR|DEBUG|CONCURRENCY|MAX_|QUIET_|RESCAN_|WATCH_|POLL_|SHUTDOWN_|MIN_FREE|HEARTBEAT|EMAIL_|SMTP_)/.test(k)) env[k] = v
  }
  return { ...env, QUIET_PERIOD_MS: "500", MIN_FREE_DISK_MB: "1", ...extra }
}

/**
 * Environment for instance `n` of several on one folder tree: polling (fast,
 * and what shared filesystems use), its own log folder, the given heartbeat
 * and concurrency, plus `extra`.
 */
export const instanceEnv = (
  n: number,
  options: { readonly heartbeatMs: number; readonly concurrency: number },
  extra: Record<string, string> = {}
): Record<string, string> => ({
  WATCH_MODE: "poll",
  POLL_INTERVAL_MS: "200",
  HEARTBEAT_MS: String(options.heartbeatMs),
  CONCURRENCY: String(options.concurrency),
  LOG_DIR: `logs-${n}`,
  ...extra
})

/**
 * Starts the built daemon in `root`. With `host`, it runs in a UTS namespace of
 * its own under that host name (root and util-linux's unshare needed): to this
 * machine's other instances it is an instance on another host. With
 * `openFiles`, under that soft and hard RLIMIT_NOFILE (util-linux's prlimit,
 * which execs it: the child's pid is the daemon's). With `script`, that
 * script (an application embedding the built package) instead of dist/main.js.
 */
export const spawnDaemon = (
  root: string,
  args: ReadonlyArray<string> = [],
  env: Record<string, string> = {},
  options: {
    readonly host?: string
    readonly uid?: number
    readonly groups?: ReadonlyArray<number>
    readonly openFiles?: readonly [soft: number, hard: number]
    readonly script?: string
  } = {}
): Daemon => {
  const MAIN_OR_APP = options.script ?? MAIN
  const groups = options.groups === undefined || options.groups.length === 0 ? ["--clear-groups"] : ["--groups", options.groups.join(",")]
  const [command, commandArgs] = options.uid !== undefined
    // As another user (the service user of a deployment), with only the supplementary groups given.
    ? ["setpriv", ["--reuid", String(options.uid), "--regid", String(options.uid), ...groups, process.execPath, forOtherUsers(MAIN), ...args]]
    : options.openFiles !== undefined
    ? ["prlimit", [`--nofile=${options.openFiles[0]}:${options.openFiles[1]}`, process.execPath, MAIN, ...args]]
    : options.host === undefined
    ? [process.execPath, [MAIN_OR_APP, ...args]]
    : ["unshare", ["--uts", "sh", "-c", 'hostname "$0" && exec "$@"', options.host, process.execPath, MAIN, ...args]]
  const child = ChildProcess.spawn(command, commandArgs, { cwd: root, env: baseEnv(env), stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    output += chunk.toString("utf8")
    for (const l of listeners) l()
  }
  child.stdout!.on("data", onData)
  child.stderr!.on("data", onData)
  const exited = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"))
  )
  const waitFor = (pattern: RegExp, ms = 30_000) =>
    new Promise<void>((resolve, reject) => {
      if (pattern.test(output)) return resolve()
      const timer = setTimeout(() => {
        listeners.delete(check)
        reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output.slice(-3000)}`))
      }, ms)
      const check = () => {
        if (pattern.test(output)) {
          clearTimeout(timer)
          listeners.delete(check)
          resolve()
        }
      }
      listeners.add(check)
      void exited.then(() => {
        if (!pattern.test(output)) {
          clearTimeout(timer)
          listeners.delete(check)
          reject(new Error(`daemon exited before ${pattern}; output:\n${output.slice(-3000)}`))
        }
      })
    })
  return { child, output: () => output, exited, waitFor }
}

/** Runs the CLI to completion. */
export const runCli = (root: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  ChildProcess.spawnSync(process.execPath, [MAIN, ...args], { cwd: root, env: baseEnv(env), encoding: "utf8", timeout: 120_000 })

/** Drops a file the way producers should: write under `.tmp`, then rename. */
export const drop = (root: string, name: string, content: string | Uint8Array) => {
  const temp = Path.join(root, "data", `${name}.tmp`)
  NFS.writeFileSync(temp, content)
  NFS.renameSync(temp, Path.join(root, "data", name))
}

export const cleanup = (root: string) => NFS.rmSync(root, { recursive: true, force: true })

/** Kills (SIGKILL) whichever daemons still run and waits for them: none may outlive a test. */
export const killAll = async (daemons: ReadonlyArray<Daemon>) => {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill("SIGKILL")
  await Promise.all(daemons.map((d) => d.exited))
}

/** Every JSON line of the app.log files (rotated ones included) in `root/logDir`. */
export const appLogLines = (root: string, logDir: string): Array<Record<string, unknown>> =>
  NFS.readdirSync(Path.join(root, logDir)).filter((f) => f.startsWith("app.log")).flatMap((f) =>
    NFS.readFileSync(Path.join(root, logDir, f), "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>)
  )

/**
 * What a test file's tests start and make, undone after each test: daemons
 * still running are killed (and awaited), other processes killed, mounts
 * lazily unmounted (last first), folder trees removed. Call once at the top
 * of a test file.
 */
export const cleanUpAfterEach = () => {
  const daemons: Array<Daemon> = []
  const children: Array<ChildProcess.ChildProcess> = []
  const roots: Array<string> = []
  const mounts: Array<string> = []
  afterEach(async () => {
    await killAll(daemons.splice(0))
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
    for (const m of mounts.splice(0).reverse()) ChildProcess.spawnSync("umount", ["-l", m])
    for (const r of roots.splice(0)) cleanup(r)
  })
  return { daemons, children, roots, mounts }
}

/**
 * A fresh folder tree for each test, `root()` inside it, removed after it: by
 * a `cleanUpAfterEach` of its own, or by the one whose `roots` are given.
 */
export const rootPerTest = (roots: Array<string> = cleanUpAfterEach().roots) => {
  const current: Array<string> = []
  beforeEach(() => {
    const root = makeRoot()
    roots.push(root)
    current.splice(0, current.length, root)
  })
  return (): string => {
    const r = current[0]
    if (r === undefined) throw new Error("root() is only there inside a test")
    return r
  }
}

/**
 * A fresh folder tree for each test (`root()`), cleaned up after it, and
 * `startDaemon`: the daemon in that tree with its HTTP endpoint on a free
 * loopback port (or METRICS_PORT as given), once it listens (`script`: an
 * application embedding the built package instead of dist/main.js).
 */
export const daemonPerTest = () => {
  const { daemons, roots } = cleanUpAfterEach()
  const root = rootPerTest(roots)
  const startDaemon = async (env: Record<string, string> = {}, script?: string): Promise<{ daemon: Daemon; port: number; base: string }> => {
    for (let attempt = 1;; attempt++) {
      const port = env.METRICS_PORT !== undefined ? Number(env.METRICS_PORT) : await freePort()
      const daemon = spawnDaemon(root(), [], { ...env, METRICS_PORT: String(port) }, script === undefined ? {} : { script })
      daemons.push(daemon)
      await daemon.waitFor(/status page on http|the health and metrics endpoint could not start/)
      if (/status page on http/.test(daemon.output())) return { daemon, port, base: `http://127.0.0.1:${port}` }
      // A free port found a moment ago was taken by another test meanwhile: another one.
      daemon.child.kill("SIGKILL")
      await daemon.exited
      if (attempt === 3 || env.METRICS_PORT !== undefined) throw new Error(`the endpoint could not start: ${daemon.output().slice(-1000)}`)
    }
  }
  return { root, daemons, startDaemon }
}
