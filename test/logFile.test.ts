/**
 * A log file is opened without following a link planted at its name and
 * without waiting on a FIFO there: only a regular file is written.
 */
import { describe, expect, it } from "@effect/vitest"
import { onTestFinished } from "vitest"
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { LogFile } from "../src/logging/LogFile.js"

/** A temporary folder, removed when the test that made it ends. */
const tempDir = () => {
  const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-logfile-"))
  onTestFinished(() => NFS.rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe("LogFile opens only a regular file at its name", () => {
  it("does not write through a symbolic link, and says so once", async () => {
    const dir = tempDir()
    const canary = Path.join(dir, "canary")
    NFS.writeFileSync(canary, "untouched\n")
    NFS.symlinkSync(canary, Path.join(dir, "app.log"))
    const errors: Array<string> = []
    const file = new LogFile({ path: Path.join(dir, "app.log"), maxBytes: 1e6, maxFiles: 2, onError: (m) => errors.push(m) })
    file.append("secret line\n")
    await file.flush()
    file.close()
    expect(NFS.readFileSync(canary, "utf8")).toBe("untouched\n")
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^cannot open log file .*app\.log \(ELOOP\)/)
  })

  it("does not hang on a FIFO at its name", async () => {
    const dir = tempDir()
    const fifo = Path.join(dir, "app.log")
    ChildProcess.execFileSync("mkfifo", [fifo])
    const errors: Array<string> = []
    const file = new LogFile({ path: fifo, maxBytes: 1e6, maxFiles: 2, onError: (m) => errors.push(m) })
    file.append("line\n")
    await file.flush()
    file.close()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^cannot open log file .*app\.log \((ENXIO|not a regular file)\)/)
  })
})
