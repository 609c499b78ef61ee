/**
 * Debian packages a test needs: installed by its setup when missing (CI runs as
 * root on a Debian machine with the package archive reachable), so that a test
 * never passes without checking because a tool is absent.
 */
import * as ChildProcess from "node:child_process"

export type Availability = { readonly available: true } | { readonly available: false; readonly reason: string }

const hasCommand = (command: string): boolean =>
  ChildProcess.spawnSync("sh", ["-c", 'command -v "$1"', "sh", command], { encoding: "utf8" }).status === 0

const aptGet = (args: ReadonlyArray<string>) =>
  ChildProcess.spawnSync("apt-get", args, {
    encoding: "utf8",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    timeout: 600_000
  })

/**
 * Makes `command` available, installing Debian package `pkg` when it is
 * missing (`apt-get install`, after `apt-get update` if the first try fails).
 * Says why when it cannot.
 */
export const ensureCommand = (command: string, pkg: string): Availability => {
  if (hasCommand(command)) return { available: true }
  if (process.getuid?.() !== 0) return { available: false, reason: `${command} is missing and only root may apt-get install ${pkg}` }
  const install = ["install", "-y", "--no-install-recommends", pkg]
  let result = aptGet(install)
  if (result.status !== 0) {
    aptGet(["update"])
    result = aptGet(install)
  }
  if (hasCommand(command)) return { available: true }
  const detail = (result.stderr || result.error?.message || "").trim().split("\n").slice(-2).join(" ")
  return { available: false, reason: `apt-get install ${pkg} did not provide ${command}: ${detail}` }
}
