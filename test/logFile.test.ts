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
    await file.close()
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
    await file.close()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^cannot open log file .*app\.log \((ENXIO|not a regular file)\)/)
  })
})

describe("LogFile never closes its file under a write in flight", () => {
  /** Lines queued and a flush started, its write on its way (issued, not yet done) when `then` runs. */
  const midWrite = async (file: LogFile, lines: Array<string>, then: () => unknown) => {
    for (const line of lines) file.append(line)
    const flushed = file.flush()
    // the queued write starts a few microtasks later, and ends on a later turn of the event loop
    for (let i = 0; i < 4; i++) await Promise.resolve()
    const done = then()
    await flushed
    await done
  }
  const lineSet = (n: number, round: number) => Array.from({ length: n }, (_, i) => `round ${round} line ${i} ${"x".repeat(200)}\n`)

  it("a reopen (logrotate's SIGHUP) while a batch is being written loses no line", async () => {
    const dir = tempDir()
    const path = Path.join(dir, "app.log")
    const errors: Array<string> = []
    const file = new LogFile({ path, maxBytes: 1e9, maxFiles: 2, onError: (m) => errors.push(m) })
    const expected: Array<string> = []
    for (let round = 0; round < 200; round++) {
      const lines = lineSet(20, round)
      expected.push(...lines)
      await midWrite(file, lines, () => file.reopen())
    }
    await file.close()
    expect(errors).toEqual([])
    expect(NFS.readFileSync(path, "utf8")).toBe(expected.join(""))
  })

  it("a close while a batch is being written writes the batch first", async () => {
    const dir = tempDir()
    for (let round = 0; round < 100; round++) {
      const path = Path.join(dir, `app-${round}.log`)
      const errors: Array<string> = []
      const file = new LogFile({ path, maxBytes: 1e9, maxFiles: 2, onError: (m) => errors.push(m) })
      const lines = lineSet(20, round)
      await midWrite(file, lines, () => file.close())
      expect(errors).toEqual([])
      expect(NFS.readFileSync(path, "utf8")).toBe(lines.join(""))
    }
  })
})
