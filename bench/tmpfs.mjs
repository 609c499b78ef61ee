// The backlog's tmpfs rows: a tmpfs mounted on a new folder under the
// temporary folder for the run, unmounted at its end (bench/run.mjs also
// unmounts it after a failure and on SIGINT/SIGTERM). Needs root.
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"

/** Mounts a tmpfs on a new folder: `{ dir, unmount }` (unmount: idempotent; says what it could not do). */
export const mountTmpfs = (log) => {
  const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-bench-tmpfs-"))
  const mount = ChildProcess.spawnSync("mount", ["-t", "tmpfs", "-o", "mode=0755", "cjp-bench", dir], { encoding: "utf8" })
  if (mount.status !== 0) {
    NFS.rmdirSync(dir)
    throw new Error(`mount -t tmpfs on ${dir} failed: ${(mount.stderr || mount.error?.message || "").trim()}`)
  }
  let mounted = true
  const unmount = () => {
    if (!mounted) return
    mounted = false
    if (ChildProcess.spawnSync("umount", [dir]).status !== 0) {
      // still busy (a process of ours not yet gone): detach it now, the kernel frees it when the last user goes
      const lazy = ChildProcess.spawnSync("umount", ["-l", dir])
      if (lazy.status !== 0) {
        log(`WARNING: could not unmount the tmpfs on ${dir}: umount -l ${dir} by hand`)
        return
      }
    }
    NFS.rmSync(dir, { recursive: true, force: true })
  }
  return { dir, unmount }
}
