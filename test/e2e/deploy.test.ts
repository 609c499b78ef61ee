/** The systemd unit: valid, hardened, and its stop timing matching the daemon's shutdown. */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import { describe, expect, it } from "vitest"
import { DEFAULTS } from "../../src/Config.js"
import { ensureCommand } from "../support/debian.js"

const unitPath = new URL("../../deploy/customer-json-processor.service", import.meta.url)
const unit = NFS.readFileSync(unitPath, "utf8")
const setting = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1]!)

describe("deploy/customer-json-processor.service", () => {
  it("passes systemd-analyze verify (systemd is installed when missing)", () => {
    const tool = ensureCommand("systemd-analyze", "systemd")
    // Never passes without checking: a machine that cannot get the tool fails here, saying why.
    expect(tool, tool.available ? "" : tool.reason).toEqual({ available: true })
    const r = ChildProcess.spawnSync("systemd-analyze", ["verify", unitPath.pathname], { encoding: "utf8" })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr.trim()).toBe("")
  }, 600_000)

  it("sets UMask=0027: what the daemon creates is never readable by others", () => {
    expect(setting("UMask")).toEqual(["0027"])
    // in [Service], where systemd reads it
    expect(unit.indexOf("UMask=")).toBeGreaterThan(unit.indexOf("[Service]"))
    expect(unit.indexOf("UMask=")).toBeLessThan(unit.indexOf("[Install]"))
  })

  it("restarts on failure, stops with SIGTERM, and waits long enough for a clean shutdown", () => {
    expect(setting("Type")).toEqual(["simple"])
    expect(setting("Restart")).toEqual(["on-failure"])
    expect(setting("KillSignal")).toEqual(["SIGTERM"])
    expect(setting("EnvironmentFile")[0]).toMatch(/^-?\//)
    // files in flight get SHUTDOWN_TIMEOUT_MS, then the notifier as long again
    const shutdownSeconds = Number(DEFAULTS.SHUTDOWN_TIMEOUT_MS) / 1000
    expect(Number(setting("TimeoutStopSec")[0])).toBeGreaterThanOrEqual(2 * shutdownSeconds + 5)
    expect(setting("ExecReload")[0]).toContain("kill -HUP")
  })

  it("gives the thread pool sixteen threads (the daemon cannot size it itself), before the operator's file may change it", () => {
    expect(setting("Environment")).toContain("UV_THREADPOOL_SIZE=16")
    expect(unit.indexOf("Environment=UV_THREADPOOL_SIZE")).toBeLessThan(unit.indexOf("EnvironmentFile="))
  })

  it("is hardened and may write only its working folder, as one mount (claims rename data/ into processing/)", () => {
    for (const key of ["NoNewPrivileges", "PrivateTmp"]) expect(setting(key)).toEqual(["true"])
    expect(setting("ProtectSystem")).toEqual(["strict"])
    // One entry, the working folder that holds the five: each entry would be a mount of its own, and
    // a rename between two mounts fails (EXDEV) even on one filesystem.
    expect(setting("ReadWritePaths")).toEqual([setting("WorkingDirectory")[0]])
  })
})
