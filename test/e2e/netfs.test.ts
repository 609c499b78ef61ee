/**
 * Real network filesystems (scripts/netfs.sh), each one share mounted twice,
 * as two hosts would mount it, with one instance per mount polling it:
 *
 * - GlusterFS (one brick, two FUSE mounts) keeps hard links and link counts:
 *   the instance on one mount is killed with SIGKILL several times in the
 *   middle of a backlog and restarted, and every file still ends in
 *   validated/ or returns/ exactly once, byte-identical, with its outcome in
 *   the logs, and nothing is left in data/ or processing/.
 * - sshfs (SFTP from an sshd on 127.0.0.1) reports one link for every file, so
 *   crash recovery could not tell a stored file from an unstored one: the
 *   daemon refuses to start there (exit 78, one ERROR line naming the folder
 *   and the missing link counts) and moves nothing.
 */
import * as NFS from "node:fs"
import * as FS from "node:fs/promises"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { makeCorpus } from "../support/corpus.js"
import type { CorpusFile } from "../support/corpus.js"
import { useNetfs } from "../support/netfs.js"
import { appLogLines, instanceEnv, killAll, spawnDaemon } from "./support.js"
import { dataFiles, list, misrouted } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"
import type { Daemon } from "./support.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** How often a wait looks again: each look lists folders over the network. */
const LOOK_MS = 200

/** Writes the corpus into `share/data` through one mount, 16 files at a time (each a round trip). */
const writeCorpus = async (share: string, corpus: ReadonlyArray<CorpusFile>) => {
  await FS.mkdir(Path.join(share, "data"), { recursive: true })
  let next = 0
  const writer = async () => {
    while (next < corpus.length) {
      const f = corpus[next++]!
      await FS.writeFile(Path.join(share, "data", f.name), f.content)
    }
  }
  await Promise.all(Array.from({ length: 16 }, writer))
}

/** Files stored so far (data files in validated/ and returns/), seen through `share`. */
const storedCount = (share: string) =>
  list(Path.join(share, "validated")).length + list(Path.join(share, "returns")).filter((n) => !n.endsWith(".error.json")).length

/** The data files an instance (by its process id) holds claimed in `share/processing/<host>-<pid>-<random>/`. */
const claimedBy = (share: string, pid: number | undefined) => {
  const own = list(Path.join(share, "processing")).find((n) => n.includes(`-${pid}-`))
  return own === undefined ? 0 : dataFiles(Path.join(share, "processing", own)).length
}

describe("GlusterFS: one share, two mounts, two instances", () => {
  const FILES = 3000
  const KILLS = 5
  const instances: Array<Daemon> = []
  const share = useNetfs("gluster", { beforeTeardown: () => killAll(instances) })
  // Logs stay on local disk beside the share (as docs/SCALING.md recommends); n: 0 on mount a, 1 on mount b.
  // The instance on mount a runs 2 workers, the one on mount b 8: a alone drains the backlog slowly
  // enough for b to be restarted five times in the middle of it, however long b takes to start.
  const env = (n: number, logRoot: string) =>
    instanceEnv(n, { heartbeatMs: 500, concurrency: n === 0 ? 2 : 8 }, { LOG_CONSOLE: "json", LOG_DIR: Path.join(logRoot, `logs-${n}`) })

  it(`${FILES} files, the instance on one mount killed with SIGKILL ${KILLS} times mid-backlog: each file exactly once`, async () => {
    const { dir, a, b } = await share.mounts()
    const corpus = makeCorpus(FILES, 23)
    await writeCorpus(a, corpus)
    expect(list(Path.join(b, "data")).length).toBe(FILES)

    const started = Date.now()
    instances.push(spawnDaemon(a, [], env(0, dir)), spawnDaemon(b, [], env(1, dir)))

    // Kill the instance on mount b whenever it holds claimed files and the backlog has moved
    // on by another 40 files; restart it at once, each time.
    const leftClaimed: Array<number> = []
    const timeline: Array<string> = []
    for (let kill = 1; kill <= KILLS; kill++) {
      const threshold = 40 * kill
      const victim = instances[1]!
      await waitUntil(
        () => storedCount(a) >= threshold && claimedBy(a, victim.child.pid) > 0,
        60_000,
        `the instance on mount b to hold claimed files with ${threshold} stored (kill ${kill})`,
        LOOK_MS
      ).catch((e: unknown) => {
        throw new Error(
          `${String(e)}\n${timeline.join("\n")}\nnow ${storedCount(a)} stored, ${list(Path.join(a, "data")).length} in data/; processing/: ${
            list(Path.join(a, "processing")).map((n) => `${n} (${dataFiles(Path.join(a, "processing", n)).length})`).join(", ")
          }\nits output:\n${victim.output().slice(-3000)}\nthe other instance's:\n${instances[0]!.output().slice(-3000)}`
        )
      })
      timeline.push(`${new Date().toISOString()} kill ${kill}: b ${victim.child.pid} (a ${instances[0]!.child.pid}), ${storedCount(a)} stored`)
      victim.child.kill("SIGKILL")
      await victim.exited
      leftClaimed.push(claimedBy(a, victim.child.pid))
      instances[1] = spawnDaemon(b, [], env(1, dir))
      timeline.push(`${new Date().toISOString()} b restarted: ${instances[1]!.child.pid}`)
    }
    expect(storedCount(a), "the kills all came before the backlog was done").toBeLessThan(FILES)

    await waitUntil(
      () => list(Path.join(a, "data")).length === 0 && dataFiles(Path.join(a, "processing")).length === 0 && storedCount(a) === FILES,
      60_000,
      "the backlog and the killed instance's claimed files to be done",
      LOOK_MS
    )
    // The last restarted instance must be up (its own processing folder made) before the stop.
    await waitUntil(
      () => instances[1]!.child.exitCode !== null || list(Path.join(a, "processing")).some((n) => n.includes(`-${instances[1]!.child.pid}-`)),
      30_000,
      "the restarted instance to start",
      LOOK_MS
    )
    for (const d of instances) d.child.kill("SIGTERM")
    expect(await Promise.all(instances.map((d) => d.exited))).toEqual([0, 0])
    const seconds = (Date.now() - started) / 1000

    // Exactly once, byte-identical, as seen through both mounts; nothing left behind.
    for (const mount of [a, b]) {
      expect(misrouted(mount, corpus)).toEqual([])
      expect(dataFiles(Path.join(mount, "validated")).length + dataFiles(Path.join(mount, "returns")).length).toBe(FILES)
      expect(list(Path.join(mount, "data"))).toEqual([])
      expect(dataFiles(Path.join(mount, "processing"))).toEqual([])
    }
    expect(list(Path.join(a, "returns")).filter((n) => n.endsWith(".error.json")).length).toBe(corpus.filter((f) => !f.valid).length)

    // Every file's outcome is in the two instances' logs (a file may be logged twice, the
    // second time marked already_stored, when its instance died between the two).
    const lines = [...appLogLines(dir, "logs-0"), ...appLogLines(dir, "logs-1")].filter((l) => l.msg === "file processed")
    const logged = new Set(lines.map((l) => l.file))
    expect(corpus.filter((f) => !logged.has(f.name)).map((f) => f.name)).toEqual([])
    process.stdout.write(
      `glusterfs: ${FILES} files in ${seconds.toFixed(1)} s, ${KILLS} kills leaving ${leftClaimed.join(", ")} files claimed, ` +
        `${lines.length} outcome lines\n${timeline.join("\n")}\n`
    )
  }, 15 * 60_000)
})

describe("sshfs: one share, two mounts, two instances", () => {
  const FILES = 40
  const instances: Array<Daemon> = []
  const share = useNetfs("sshfs", { beforeTeardown: () => killAll(instances) })

  it("the daemon refuses to start where link counts are not kept (exit 78, one line naming the folder) and moves nothing", async () => {
    const { dir, a, b } = await share.mounts()
    const corpus = makeCorpus(FILES, 29)
    await writeCorpus(a, corpus)

    instances.push(
      spawnDaemon(a, [], instanceEnv(0, { heartbeatMs: 500, concurrency: 8 }, { LOG_DIR: Path.join(dir, "logs-0") })),
      spawnDaemon(b, [], instanceEnv(1, { heartbeatMs: 500, concurrency: 8 }, { LOG_DIR: Path.join(dir, "logs-1") }))
    )
    // A daemon that does not refuse would run on: give the refusal 30 s (it comes at start), then stop it.
    const codes = await Promise.all(
      instances.map((d) =>
        Promise.race([d.exited, sleep(30_000).then(() => "still running after 30 s")])
      )
    )
    await killAll(instances)
    const outputs = instances.map((d) => d.output())
    expect(codes, outputs.join("\n----\n").slice(-4000)).toEqual([78, 78])
    for (const output of outputs) {
      const refusal = output.split("\n").filter((l) => /\bERROR\b/.test(l) && /link count/i.test(l))
      expect(refusal, output.slice(-3000)).toHaveLength(1)
      expect(refusal[0]).toMatch(/\b(data|processing|validated|returns)\b/)
    }

    // Nothing moved: every file still in data/, byte-identical; nothing claimed or stored.
    for (const f of corpus) expect(NFS.readFileSync(Path.join(a, "data", f.name), "utf8")).toBe(f.content)
    expect(list(Path.join(a, "data"))).toHaveLength(FILES)
    expect(dataFiles(Path.join(a, "processing"))).toEqual([])
    expect(dataFiles(Path.join(a, "validated"))).toEqual([])
    expect(dataFiles(Path.join(a, "returns"))).toEqual([])
  }, 15 * 60_000)
})

