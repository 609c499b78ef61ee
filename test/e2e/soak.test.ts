/**
 * Crash soak: 4 instances on one folder tree (poll mode, as on a network
 * filesystem), 20,000 files arriving while they run, and every 2–5 s one
 * instance killed with SIGKILL and restarted. At the end every input is in
 * validated/ or returns/ exactly once, byte-identical, processing/ holds no
 * data file, and every file's outcome is in the logs.
 */
import * as NFS from "node:fs"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeCorpus } from "../support/corpus.js"
import { appLogLines, cleanup, instanceEnv, killAll, makeRoot, spawnDaemon } from "./support.js"
import { dataFiles, list, misrouted } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"
import type { Daemon } from "./support.js"

const FILES = 20_000
const INSTANCES = 4
const root = makeRoot()
let instances: Array<Daemon> = []
afterAll(async () => {
  await killAll(instances)
  cleanup(root)
})

const env = (n: number) => instanceEnv(n, { heartbeatMs: 500, concurrency: 4 }, { LOG_CONSOLE: "off", EMAIL_BATCH_WINDOW_MS: "1000" })

describe("crash soak", () => {
  it(`${INSTANCES} instances, ${FILES} files, one instance killed every 2-5 s: each file exactly once`, async () => {
    const corpus = makeCorpus(FILES, 99)
    NFS.mkdirSync(Path.join(root, "data"), { recursive: true })
    instances = Array.from({ length: INSTANCES }, (_, n) => spawnDaemon(root, [], env(n)))
    await Promise.all(instances.map((d) => d.waitFor(/customer-json-processor started/, 30_000).catch(() => undefined)))

    // The writer: atomic renames, in bursts, over about 20 s.
    let written = 0
    const writer = (async () => {
      for (let i = 0; i < corpus.length; i++) {
        const f = corpus[i]!
        const temp = Path.join(root, "data", `${f.name}.tmp`)
        NFS.writeFileSync(temp, f.content)
        NFS.renameSync(temp, Path.join(root, "data", f.name))
        written++
        if (i % 500 === 499) await new Promise((r) => setTimeout(r, 400))
      }
    })()

    // The killer: every 2–5 s, SIGKILL one instance and start it again.
    let kills = 0
    let writing = true
    void writer.then(() => {
      writing = false
    })
    while (writing || kills < 3) {
      await new Promise((r) => setTimeout(r, 2000 + Math.floor(Math.random() * 3000)))
      const n = kills % INSTANCES
      instances[n]!.child.kill("SIGKILL")
      await instances[n]!.exited
      instances[n] = spawnDaemon(root, [], env(n))
      kills++
    }
    await writer
    expect(written).toBe(FILES)

    // Let them finish: the input drained and nothing left claimed.
    await waitUntil(
      () => list(Path.join(root, "data")).length === 0 && dataFiles(Path.join(root, "processing")).length === 0,
      240_000,
      "the backlog to drain"
    )
    // An instance restarted a moment ago must be up (its signal handlers installed) before the
    // stop: its processing/<host>-<pid>-<random> folder shows it is (the console is off here).
    for (const d of instances) {
      await waitUntil(
        () => d.child.exitCode !== null || NFS.readdirSync(Path.join(root, "processing")).some((n) => n.includes(`-${d.child.pid}-`)),
        30_000,
        "an instance to start"
      )
      expect(d.child.exitCode, d.output()).toBeNull()
    }
    for (const d of instances) d.child.kill("SIGTERM")
    const codes = await Promise.all(instances.map((d) => d.exited))
    expect(codes).toEqual(Array(INSTANCES).fill(0))

    expect(misrouted(root, corpus)).toEqual([])
    expect(dataFiles(Path.join(root, "validated")).length + dataFiles(Path.join(root, "returns")).length).toBe(FILES)
    expect(dataFiles(Path.join(root, "processing"))).toEqual([])
    for (const dir of ["validated", "returns"]) expect(NFS.readdirSync(Path.join(root, dir)).filter((n) => n.startsWith("."))).toEqual([])
    expect(list(Path.join(root, "returns")).filter((n) => n.endsWith(".error.json")).length).toBe(corpus.filter((f) => !f.valid).length)

    // The logs: a stored file's claimed name goes only after the log write holding its
    // outcome line, and recovery logs the files found stored but still claimed; so every
    // file has its outcome in the logs, the one matching where it is. A file logged twice
    // (killed between that write and the unlink) is logged again with already_stored.
    const lines = Array.from({ length: INSTANCES }, (_, n) => appLogLines(root, `logs-${n}`)).flat()
      .filter((l) => l.msg === "file processed") as Array<{ file: string; outcome: string; already_stored?: boolean }>
    const byFile = new Map<string, Array<(typeof lines)[number]>>()
    for (const l of lines) byFile.set(l.file, [...(byFile.get(l.file) ?? []), l])
    const unlogged = corpus.filter((f) => !byFile.has(f.name)).map((f) => f.name)
    expect(unlogged).toEqual([])
    expect(byFile.size).toBe(FILES)
    const mislogged = corpus.filter((f) => byFile.get(f.name)!.some((l) => l.outcome !== (f.valid ? "validated" : "returned")))
    expect(mislogged.map((f) => f.name)).toEqual([])
    const repeats = [...byFile.values()].filter((ls) => ls.length > 1)
    for (const ls of repeats) expect(ls.filter((l) => l.already_stored === true).length).toBeGreaterThanOrEqual(ls.length - 1)
    const logged = lines.length
    expect(kills).toBeGreaterThanOrEqual(3)
    process.stdout.write(`soak: ${FILES} files, ${kills} kills, ${logged} outcome lines, ${byFile.size} files logged, ${repeats.length} logged twice\n`)
  }, 420_000)
})
