/**
 * What a test run left running or mounted (Linux, from /proc), and stopping
 * it. A test run has a folder of its own (`RUN_MARKER`, set by globalSetup):
 * every temporary folder of its tests is inside it (TMPDIR), and every process
 * its tests start inherits the marker in its environment. A process is the
 * run's when its environment carries the run's marker, or its command line or
 * working folder is in the run's folder, or (started during the run, with an
 * environment of its own that carries no run's marker) its command line runs
 * a file of the checkout's dist/ or test/; vitest's own processes are not, nor
 * those of another run. A mount is the run's when its mount point is in the
 * run's folder.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"

/** The environment variable naming the run's folder, in the run and every process it starts. */
export const RUN_MARKER = "CJP_TEST_RUN"

export interface RunScope {
  /** the run's own folder (TMPDIR of its tests) */
  readonly runDir: string
  /** the checkout whose dist/ and test/ the run's processes run from */
  readonly checkout: string
  /** the process checking (vitest's main process): it, its ancestors and its own children (the workers) are not leftovers */
  readonly self: number
  /** when the run began (ms since the epoch) */
  readonly since: number
}

export interface LeftProcess {
  readonly pid: number
  readonly command: string
}

export interface Leftovers {
  readonly processes: ReadonlyArray<LeftProcess>
  readonly mounts: ReadonlyArray<string>
}

const read = (path: string): string | undefined => {
  try {
    return NFS.readFileSync(path, "utf8")
  } catch {
    return undefined
  }
}

/** Clock ticks a second of /proc/PID/stat's start time (USER_HZ: 100 on Linux, whatever the kernel's HZ). */
const USER_HZ = 100

/** `pid`'s parent, state and start time (ticks since boot) from /proc/PID/stat (the command name may hold spaces and parentheses). */
const statOf = (pid: number): { readonly ppid: number; readonly state: string; readonly startTicks: number } | undefined => {
  const stat = read(`/proc/${pid}/stat`)
  if (stat === undefined) return undefined
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  // (fields from the third on: state is field 3, ppid 4, starttime 22)
  return { state: rest[0] ?? "?", ppid: Number(rest[1]), startTicks: Number(rest[19]) }
}

/** When the machine booted (ms since the epoch), from /proc/stat. */
const bootMs = (): number => Number(/^btime (\d+)$/m.exec(read("/proc/stat") ?? "")?.[1] ?? 0) * 1000

const within = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`)

/** The run's processes still there (zombies, which are only waiting to be reaped, left out). */
export const leftProcesses = (scope: RunScope): Array<LeftProcess> => {
  const spared = new Set<number>([scope.self])
  for (let pid = scope.self; pid > 1;) {
    const ppid = statOf(pid)?.ppid
    if (ppid === undefined || spared.has(ppid)) break
    spared.add(ppid)
    pid = ppid
  }
  const booted = bootMs()
  const found: Array<LeftProcess> = []
  for (const entry of NFS.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    const stat = statOf(pid)
    if (stat === undefined || spared.has(pid) || stat.ppid === scope.self || stat.state === "Z") continue
    const argv = (read(`/proc/${pid}/cmdline`) ?? "").split("\0").filter((a) => a !== "")
    const command = argv.join(" ")
    const environ = (read(`/proc/${pid}/environ`) ?? "").split("\0")
    let cwd = ""
    try {
      cwd = NFS.readlinkSync(`/proc/${pid}/cwd`)
    } catch {
      // gone meanwhile, or not ours to look at
    }
    const marked = environ.includes(`${RUN_MARKER}=${scope.runDir}`)
    const otherRun = !marked && environ.some((v) => v.startsWith(`${RUN_MARKER}=`))
    const inRun = command.includes(scope.runDir) || within(cwd, scope.runDir)
    const fromCheckout = !otherRun && booted + (stat.startTicks * 1000) / USER_HZ >= scope.since - 1000 &&
      argv.some((a) => within(a, Path.join(scope.checkout, "dist")) || within(a, Path.join(scope.checkout, "test")))
    if (marked || inRun || fromCheckout) found.push({ pid, command: command.length > 200 ? `${command.slice(0, 200)}…` : command })
  }
  return found
}

/** Mount points in the run's folder, deepest first (as they must be unmounted). */
export const leftMounts = (scope: Pick<RunScope, "runDir">): Array<string> => {
  const mountinfo = read("/proc/self/mountinfo") ?? ""
  // The mount point is the fifth field, with space, tab, newline and backslash as octal escapes.
  const points = mountinfo.split("\n").map((line) => line.split(" ")[4]).filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
  return points.filter((p) => within(p, scope.runDir)).sort((a, b) => b.length - a.length)
}

export const findLeftovers = (scope: RunScope): Leftovers => ({ processes: leftProcesses(scope), mounts: leftMounts(scope) })

/** The leftovers as one line each, for a failure that names them. */
export const describeLeftovers = (left: Leftovers): Array<string> => [
  ...left.processes.map((p) => `process ${p.pid} left running: ${p.command}`),
  ...left.mounts.map((m) => `mount left: ${m}`)
]

/**
 * Waits up to `graceMs` for leftovers to go by themselves (a process told to
 * stop a moment ago), then kills what is left (SIGKILL) and unmounts (lazily,
 * deepest first). What was found at the end of the grace, whatever stopping it did.
 */
export const settleLeftovers = async (scope: RunScope, graceMs = 5000): Promise<Leftovers> => {
  const deadline = Date.now() + graceMs
  let left = findLeftovers(scope)
  while ((left.processes.length > 0 || left.mounts.length > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    left = findLeftovers(scope)
  }
  for (const p of left.processes) {
    try {
      process.kill(p.pid, "SIGKILL")
    } catch {
      // gone meanwhile
    }
  }
  // Processes first: a mount in use by one of them would only go lazily.
  for (const m of left.mounts) ChildProcess.spawnSync("umount", ["-l", m])
  return left
}

/** The run's scope as globalSetup set it in this (vitest's main) process, or `undefined` outside a run. */
export const runScopeOf = (env: NodeJS.ProcessEnv, checkout: string): RunScope | undefined => {
  const runDir = env[RUN_MARKER]
  const since = Number(env[`${RUN_MARKER}_SINCE`])
  return runDir === undefined || !Number.isFinite(since) ? undefined : { runDir, checkout, self: process.pid, since }
}
