// The quota scale-out row: each instance held to its own CPU quota in its own
// cgroup, as hosts of their own would hold it. cgroup v1 (a `cpu` hierarchy
// with `cpu.cfs_quota_us`, as on this machine) or v2 (`cpu.max`); a parent
// group for the run, a child group per instance, all removed at the end.
// Needs root. The pure parts (which files, which values, reading cpu.stat) are
// tested in test/benchTools.test.ts.
import * as NFS from "node:fs"
import * as Path from "node:path"

export const CFS_PERIOD_US = 100_000

/** Where the CPU controller is: `{ version: 1 | 2, base }`, or null when there is none to use. */
export const detectCgroups = (root = "/sys/fs/cgroup") => {
  if (NFS.existsSync(Path.join(root, "cpu", "cpu.cfs_quota_us"))) return { version: 1, base: Path.join(root, "cpu") }
  const controllers = Path.join(root, "cgroup.controllers")
  if (NFS.existsSync(controllers) && NFS.readFileSync(controllers, "utf8").split(/\s+/).includes("cpu")) return { version: 2, base: root }
  return null
}

/** The files of an instance's group and what to write in each, in order, for a quota of `cores` (0.45: 45 % of one core). */
export const quotaSettings = (version, cores, periodUs = CFS_PERIOD_US) => {
  const quotaUs = Math.round(cores * periodUs)
  if (quotaUs < 1000) throw new Error(`a CPU quota of ${cores} core is below the kernel's least (1 ms per ${periodUs / 1000} ms period)`)
  return version === 1
    ? [["cpu.cfs_period_us", String(periodUs)], ["cpu.cfs_quota_us", String(quotaUs)]]
    : [["cpu.max", `${quotaUs} ${periodUs}`]]
}

/**
 * A group's cpu.stat → `{ periods, throttled, throttled_ms }` (v1 counts the
 * throttled time in ns as throttled_time, v2 in µs as throttled_usec).
 */
export const parseCpuStat = (text) => {
  const fields = Object.fromEntries(
    text.trim().split("\n").map((line) => line.trim().split(/\s+/)).filter((p) => p.length === 2).map(([k, v]) => [k, Number(v)])
  )
  const ms = fields.throttled_usec !== undefined ? fields.throttled_usec / 1000 : (fields.throttled_time ?? 0) / 1e6
  return { periods: fields.nr_periods ?? 0, throttled: fields.nr_throttled ?? 0, throttled_ms: ms }
}

/**
 * A parent group `name` with `count` child groups, each held to `cores` of
 * CPU: `{ dirs, stat(i), remove }`. A process joins group i by writing its pid
 * into `dirs[i]/cgroup.procs` (its children follow it). remove() takes the
 * groups away (once their processes are gone) and is idempotent.
 */
export const makeQuotaGroups = ({ version, base }, name, count, cores) => {
  const parent = Path.join(base, name)
  const dirs = Array.from({ length: count }, (_, i) => Path.join(parent, `instance-${i + 1}`))
  let removed = false
  const remove = () => {
    if (removed) return
    // A process killed a moment ago may still be leaving its group (EBUSY): try for a few seconds.
    const deadline = Date.now() + 5_000
    for (const dir of [...dirs, parent]) {
      for (;;) {
        try {
          if (NFS.existsSync(dir)) NFS.rmdirSync(dir)
          break
        } catch (e) {
          if (e.code !== "EBUSY" || Date.now() > deadline) {
            throw new Error(`could not remove the cgroup ${dir} (${e.code}): stop the processes in ${Path.join(dir, "cgroup.procs")}, then rmdir it and ${parent}`)
          }
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
        }
      }
    }
    removed = true
  }
  try {
    NFS.mkdirSync(parent)
    if (version === 2) {
      // the controller must be enabled for the children of the root and of our group
      const rootControl = Path.join(base, "cgroup.subtree_control")
      if (!NFS.readFileSync(rootControl, "utf8").split(/\s+/).includes("cpu")) NFS.writeFileSync(rootControl, "+cpu")
      NFS.writeFileSync(Path.join(parent, "cgroup.subtree_control"), "+cpu")
    }
    for (const dir of dirs) {
      NFS.mkdirSync(dir)
      for (const [file, value] of quotaSettings(version, cores)) NFS.writeFileSync(Path.join(dir, file), value)
    }
  } catch (e) {
    remove()
    throw new Error(`could not make the CPU quota groups under ${parent}: ${e.message}`)
  }
  const stat = (i) => parseCpuStat(NFS.readFileSync(Path.join(dirs[i], "cpu.stat"), "utf8"))
  return { parent, dirs, stat, remove }
}
