/**
 * Stopping, killing and sharing: with 2,000 files in the backlog (6,000 for
 * a stop or a kill, which must land in the middle of it), no file is ever
 * lost, duplicated or changed.
 */
import * as NFS from "node:fs"
import * as Path from "node:path"
import { beforeEach, describe, expect, it } from "vitest"
import type { CorpusFile } from "../support/corpus.js"
import { makeCorpus, sha256 } from "../support/corpus.js"
import { rootPerTest, runCli, spawnDaemon } from "./support.js"
import { dataFiles, hashCounts, list, misrouted } from "../support/folders.js"
import { within } from "../support/wait.js"

const COUNT = 2000
const corpus: Array<CorpusFile> = makeCorpus(COUNT, 7)
/** The backlog of a stop or a kill: one the daemon cannot finish between its first files and the signal, however fast it is. */
const STOP_COUNT = 6000
const stopCorpus: Array<CorpusFile> = makeCorpus(STOP_COUNT, 11)
const root = rootPerTest()

const writeBacklog = (files: ReadonlyArray<CorpusFile> = corpus) => {
  NFS.rmSync(Path.join(root(), "data"), { recursive: true, force: true })
  NFS.mkdirSync(Path.join(root(), "data"), { recursive: true })
  for (const f of files) NFS.writeFileSync(Path.join(root(), "data", f.name), f.content)
}

/** Every input is in validated/ (valid) or returns/ (invalid) exactly once, byte for byte, and nothing is left over. */
const expectAllRoutedOnce = (files: Array<CorpusFile> = corpus) => {
  expect(misrouted(root(), files)).toEqual([])
  expect(dataFiles(Path.join(root(), "validated")).length + dataFiles(Path.join(root(), "returns")).length).toBe(files.length)
  expect(dataFiles(Path.join(root(), "processing"))).toEqual([])
  expect(list(Path.join(root(), "data"))).toEqual([])
  // one report per returned file
  const reports = list(Path.join(root(), "returns")).filter((n) => n.endsWith(".error.json"))
  expect(reports.length).toBe(files.filter((f) => !f.valid).length)
  // and no staged report or copy left behind
  for (const dir of ["validated", "returns"]) expect(NFS.readdirSync(Path.join(root(), dir)).filter((n) => n.startsWith("."))).toEqual([])
}

beforeEach(() => writeBacklog())

const processedCount = (output: string) => (output.match(/file processed/g) ?? []).length

/**
 * Resolves once `n` files are in validated/: told by the folder's own change
 * events (a 2,000-file backlog takes well under a second, so polling could
 * look too late), with a deadline. The folder is made first, so it can be watched.
 */
const storedAtLeast = (n: number, ms = 30_000) => {
  const dir = Path.join(root(), "validated")
  NFS.mkdirSync(dir, { recursive: true })
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      watcher.close()
      clearTimeout(timer)
      if (error) reject(error)
      else resolve()
    }
    const check = () => {
      if (NFS.readdirSync(dir).length >= n) done()
    }
    const watcher = NFS.watch(dir, check)
    const timer = setTimeout(() => done(new Error(`fewer than ${n} files in validated/ after ${ms} ms`)), ms)
    check()
  })
}

describe("stopping and crashing in the middle of a backlog", () => {
  it("SIGTERM: exits 0 within the shutdown timeout, every file in exactly one folder, and --once finishes the rest", async () => {
    writeBacklog(stopCorpus)
    const daemon = spawnDaemon(root(), [], { CONCURRENCY: "4", SHUTDOWN_TIMEOUT_MS: "5000" })
    await storedAtLeast(3)
    daemon.child.kill("SIGTERM")
    // Within SHUTDOWN_TIMEOUT_MS (5 s); the bound is generous, for a loaded machine.
    expect(await within(5000 + 15_000, "stopping on SIGTERM", daemon.exited)).toBe(0)
    expect(processedCount(daemon.output())).toBeLessThan(STOP_COUNT)
    // Every input is in exactly one place: not lost, not copied.
    const everywhere = hashCounts(["data", "processing", "validated", "returns"].map((d) => Path.join(root(), d)))
    for (const f of stopCorpus) expect(everywhere.get(sha256(f.content)), f.name).toBe(1)
    const rest = runCli(root(), ["--once"])
    expect(rest.status).toBe(0)
    expectAllRoutedOnce(stopCorpus)
  })

  it("kill -9, then a restart: every file ends in validated/ or returns/ exactly once, byte-identical", async () => {
    writeBacklog(stopCorpus)
    const daemon = spawnDaemon(root(), [], { CONCURRENCY: "8" })
    await storedAtLeast(20)
    daemon.child.kill("SIGKILL")
    await daemon.exited
    expect(list(Path.join(root(), "data")).length).toBeGreaterThan(0)
    const restart = runCli(root(), ["--once"])
    expect(restart.status, restart.stdout + restart.stderr).toBe(0)
    expectAllRoutedOnce(stopCorpus)
  })

  it("two instances on one backlog process each file exactly once", async () => {
    const a = spawnDaemon(root(), ["--once"], { CONCURRENCY: "4" })
    const b = spawnDaemon(root(), ["--once"], { CONCURRENCY: "4" })
    expect(await a.exited).toBe(0)
    expect(await b.exited).toBe(0)
    expect(processedCount(a.output()) + processedCount(b.output())).toBe(COUNT)
    expect(processedCount(a.output())).toBeGreaterThan(0)
    expect(processedCount(b.output())).toBeGreaterThan(0)
    expectAllRoutedOnce()
  })
})
