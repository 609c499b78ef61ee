/**
 * INSTANCES=N: one process runs N daemons on the same folders, restarts one
 * that fails, stops them all when stopped, and none outlives it.
 */
import { describe, expect, it } from "vitest"
import * as NFS from "node:fs"
import * as Path from "node:path"
import type { CorpusFile } from "../support/corpus.js"
import { makeCorpus } from "../support/corpus.js"
import { cleanUpAfterEach, makeRoot, spawnDaemon } from "./support.js"
import { misrouted } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"
import { gravestExitCode, restartDelayMs, shouldRestart } from "../../src/daemon/InstancePool.js"

const { daemons, roots } = cleanUpAfterEach()

const rootWith = (corpus: ReadonlyArray<CorpusFile>) => {
  const root = makeRoot()
  roots.push(root)
  NFS.mkdirSync(Path.join(root, "data"))
  for (const f of corpus) NFS.writeFileSync(Path.join(root, "data", f.name), f.content)
  return root
}

/** The pids of the instances a pool started, from its console. */
const instancePids = (output: string): Array<number> =>
  [...output.matchAll(/instance started.*?pid=(\d+)/g)].map((m) => Number(m[1]))

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("the pool's rules", () => {
  it("exits 0 when every instance did, otherwise with the gravest code", () => {
    expect(gravestExitCode([0, 0])).toBe(0)
    expect(gravestExitCode([0, 75])).toBe(75)
    expect(gravestExitCode([75, 1])).toBe(1)
    expect(gravestExitCode([1, 78, 73])).toBe(78)
    expect(gravestExitCode([0, 143])).toBe(143)
  })
  it("restarts a failed instance, not a stopped or misconfigured one, after a growing delay", () => {
    expect(shouldRestart(1)).toBe(true)
    expect(shouldRestart(137)).toBe(true)
    expect([0, 78, 73].map(shouldRestart)).toEqual([false, false, false])
    expect([1, 2, 3, 10, 20].map(restartDelayMs)).toEqual([1000, 2000, 4000, 60_000, 60_000])
  })
})

describe("INSTANCES=2", () => {
  it("drains a backlog with two daemons, each file routed exactly once", async () => {
    const corpus = makeCorpus(400, 11)
    const root = rootWith(corpus)
    const pool = spawnDaemon(root, ["--once"], { INSTANCES: "2", LOG_CONSOLE: "pretty", NO_COLOR: "1" })
    daemons.push(pool)
    expect(await pool.exited).toBe(0)
    expect(misrouted(root, corpus)).toEqual([])
    expect(NFS.readdirSync(Path.join(root, "data"))).toEqual([])
    const pids = instancePids(pool.output())
    expect(new Set(pids).size).toBe(2)
    // Both took part: each instance's summary line counts files of its own.
    const summaries = [...pool.output().matchAll(/stopped.*?validated=(\d+).*?returned=(\d+)/gs)]
    expect(summaries).toHaveLength(2)
  })

  it("the supervisor's own lines follow LOG_CONSOLE: JSON lines with json, none but errors with off", async () => {
    const root = rootWith(makeCorpus(10, 3))
    const json = spawnDaemon(root, ["--once"], { INSTANCES: "2", LOG_CONSOLE: "json" })
    daemons.push(json)
    expect(await json.exited).toBe(0)
    const lines = json.output().split("\n").filter((l) => l.trim() !== "")
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow()
    expect(lines.some((l) => (JSON.parse(l) as { msg: string }).msg === "running instances")).toBe(true)
    const off = spawnDaemon(root, ["--once"], { INSTANCES: "2", LOG_CONSOLE: "off" })
    daemons.push(off)
    expect(await off.exited).toBe(0)
    expect(off.output()).toBe("")
  })

  it("restarts an instance killed with SIGKILL, goes on routing, and stops them all on SIGTERM", async () => {
    const root = rootWith([])
    const pool = spawnDaemon(root, [], { INSTANCES: "2", WATCH_MODE: "poll", POLL_INTERVAL_MS: "200", LOG_CONSOLE: "pretty", NO_COLOR: "1" })
    daemons.push(pool)
    await waitUntil(() => instancePids(pool.output()).length === 2, 30_000, "two instances started")
    const [first] = instancePids(pool.output())
    process.kill(first!, "SIGKILL")
    await waitUntil(() => instancePids(pool.output()).length === 3, 30_000, "the killed instance restarted")
    expect(pool.output()).toMatch(/an instance failed; it is restarted/)
    const corpus = makeCorpus(50, 3)
    for (const f of corpus) {
      NFS.writeFileSync(Path.join(root, `.${f.name}.tmp`), f.content)
      NFS.renameSync(Path.join(root, `.${f.name}.tmp`), Path.join(root, "data", f.name))
    }
    await waitUntil(() => misrouted(root, corpus).length === 0, 30_000, "the files routed")
    const running = instancePids(pool.output()).filter(alive)
    expect(running).toHaveLength(2)
    pool.child.kill("SIGTERM")
    expect(await pool.exited).toBe(0)
    await waitUntil(() => running.every((pid) => !alive(pid)), 10_000, "the instances stopped")
  })

  it("leaves no instance behind when the pool is killed with SIGKILL", async () => {
    const root = rootWith([])
    const pool = spawnDaemon(root, [], { INSTANCES: "2", WATCH_MODE: "poll", LOG_CONSOLE: "pretty", NO_COLOR: "1" })
    daemons.push(pool)
    await waitUntil(() => instancePids(pool.output()).length === 2, 30_000, "two instances started")
    const pids = instancePids(pool.output())
    pool.child.kill("SIGKILL")
    await pool.exited
    await waitUntil(() => pids.every((pid) => !alive(pid)), 15_000, "the instances stopped by themselves")
  })
})
