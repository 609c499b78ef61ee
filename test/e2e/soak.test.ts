/**
 * Crash soak: 4 instances on one folder tree (poll mode, as on a network
 * filesystem), files arriving while they run, and every 2–5 s one instance
 * killed with SIGKILL and restarted. At the end every input is in its
 * validated or returns folder exactly once, byte-identical, processing/ holds
 * no data file, and every file's outcome is in the logs. Twice: 20,000 files
 * in one data/, and 8,000 files of 4 partners (PARTNERS_FILE), each partner's
 * returned files in its own returns folder.
 */
import * as NFS from "node:fs"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeCorpus, sha256 } from "../support/corpus.js"
import type { CorpusFile } from "../support/corpus.js"
import { appLogLines, cleanup, instanceEnv, killAll, makeRoot, spawnDaemon } from "./support.js"
import { dataFiles, hashCounts, list } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"
import type { Daemon } from "./support.js"

const INSTANCES = 4
const roots: Array<string> = []
let instances: Array<Daemon> = []
afterAll(async () => {
  await killAll(instances)
  for (const root of roots) cleanup(root)
})

/** The partners of a run (none: one data/ and one returns/), and where each file goes. */
interface Layout {
  readonly partners: ReadonlyArray<string>
  /** the partner of corpus file `i` (undefined without partners) */
  readonly partnerOf: (i: number) => string | undefined
  readonly inbox: (partner: string | undefined) => string
  readonly returns: (partner: string | undefined) => string
}

const layoutOf = (root: string, partners: ReadonlyArray<string>): Layout => ({
  partners,
  partnerOf: (i) => (partners.length === 0 ? undefined : partners[i % partners.length]),
  inbox: (p) => (p === undefined ? Path.join(root, "data") : Path.join(root, p, "in")),
  returns: (p) => (p === undefined ? Path.join(root, "returns") : Path.join(root, p, "returns"))
})

/** Each input in its validated or returns folder exactly once, byte for byte (an empty list when all is well). */
const misrouted = (root: string, layout: Layout, corpus: ReadonlyArray<CorpusFile>) => {
  const validated = hashCounts([Path.join(root, "validated")])
  const returned = new Map((layout.partners.length === 0 ? [undefined] : layout.partners).map((p) => [p, hashCounts([layout.returns(p)])]))
  const wrong: Array<string> = []
  corpus.forEach((f, i) => {
    const h = sha256(f.content)
    const v = validated.get(h) ?? 0
    const mine = returned.get(layout.partnerOf(i))?.get(h) ?? 0
    let elsewhere = 0
    for (const [p, counts] of returned) if (p !== layout.partnerOf(i)) elsewhere += counts.get(h) ?? 0
    if (v + mine + elsewhere !== 1 || (f.valid ? v : mine) !== 1) wrong.push(`${f.name}: validated ${v}, returned ${mine}, in another partner's returns ${elsewhere}`)
  })
  return wrong
}

const soak = async (files: number, partners: ReadonlyArray<string>) => {
  const root = makeRoot()
  roots.push(root)
  const layout = layoutOf(root, partners)
  const corpus = makeCorpus(files, 99)
  const extra: Record<string, string> = { LOG_CONSOLE: "off", EMAIL_BATCH_WINDOW_MS: "1000" }
  if (partners.length === 0) NFS.mkdirSync(layout.inbox(undefined), { recursive: true })
  else {
    for (const p of partners) {
      for (const dir of [layout.inbox(p), layout.returns(p)]) {
        NFS.mkdirSync(dir, { recursive: true })
        NFS.chmodSync(dir, 0o700)
      }
    }
    NFS.writeFileSync(Path.join(root, "partners.yaml"), `partners:\n${partners.map((p) => `  - { id: ${p}, inbox: ${p}/in, returns: ${p}/returns }\n`).join("")}`)
    extra["PARTNERS_FILE"] = "partners.yaml"
  }
  const env = (n: number) => instanceEnv(n, { heartbeatMs: 500, concurrency: 4 }, extra)
  instances = Array.from({ length: INSTANCES }, (_, n) => spawnDaemon(root, [], env(n)))
  await Promise.all(instances.map((d) => d.waitFor(/customer-json-processor started/, 30_000).catch(() => undefined)))

  // The writer: atomic renames, in bursts, over about 20 s (8 s for 8,000).
  let written = 0
  const writer = (async () => {
    for (let i = 0; i < corpus.length; i++) {
      const f = corpus[i]!
      const inbox = layout.inbox(layout.partnerOf(i))
      const temp = Path.join(inbox, `${f.name}.tmp`)
      NFS.writeFileSync(temp, f.content)
      NFS.renameSync(temp, Path.join(inbox, f.name))
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
  expect(written).toBe(files)

  // Let them finish: the inputs drained and nothing left claimed.
  const inboxes = partners.length === 0 ? [layout.inbox(undefined)] : partners.map((p) => layout.inbox(p))
  await waitUntil(
    () => inboxes.every((dir) => list(dir).length === 0) && dataFiles(Path.join(root, "processing")).length === 0,
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

  expect(misrouted(root, layout, corpus)).toEqual([])
  const returnsDirs = partners.length === 0 ? [layout.returns(undefined)] : partners.map((p) => layout.returns(p))
  const stored = dataFiles(Path.join(root, "validated")).length + returnsDirs.reduce((n, dir) => n + dataFiles(dir).length, 0)
  expect(stored).toBe(files)
  expect(dataFiles(Path.join(root, "processing"))).toEqual([])
  for (const dir of [Path.join(root, "validated"), ...returnsDirs]) expect(NFS.readdirSync(dir).filter((n) => n.startsWith("."))).toEqual([])
  const reports = returnsDirs.reduce((n, dir) => n + list(dir).filter((name) => name.endsWith(".error.json")).length, 0)
  expect(reports).toBe(corpus.filter((f) => !f.valid).length)

  // The logs: a stored file's claimed name goes only after the log write holding its
  // outcome line, and recovery logs the files found stored but still claimed; so every
  // file has its outcome in the logs, the one matching where it is. A file logged twice
  // (killed between that write and the unlink) is logged again with already_stored.
  const lines = Array.from({ length: INSTANCES }, (_, n) => appLogLines(root, `logs-${n}`)).flat()
    .filter((l) => l.msg === "file processed") as Array<{ file: string; outcome: string; already_stored?: boolean; partner?: string }>
  const byFile = new Map<string, Array<(typeof lines)[number]>>()
  for (const l of lines) byFile.set(l.file, [...(byFile.get(l.file) ?? []), l])
  const unlogged = corpus.filter((f) => !byFile.has(f.name)).map((f) => f.name)
  expect(unlogged).toEqual([])
  expect(byFile.size).toBe(files)
  const mislogged = corpus.filter((f) => byFile.get(f.name)!.some((l) => l.outcome !== (f.valid ? "validated" : "returned")))
  expect(mislogged.map((f) => f.name)).toEqual([])
  const repeats = [...byFile.values()].filter((ls) => ls.length > 1)
  for (const ls of repeats) expect(ls.filter((l) => l.already_stored === true).length).toBeGreaterThanOrEqual(ls.length - 1)
  expect(kills).toBeGreaterThanOrEqual(3)
  process.stdout.write(`soak: ${files} files, ${partners.length} partners, ${kills} kills, ${lines.length} outcome lines, ${byFile.size} files logged, ${repeats.length} logged twice\n`)
}

describe("crash soak", () => {
  it(`${INSTANCES} instances, 20000 files, one instance killed every 2-5 s: each file exactly once`, () => soak(20_000, []), 420_000)

  it(`${INSTANCES} instances, 8000 files of 4 partners, one instance killed every 2-5 s: each file exactly once, in its partner's folders`, () =>
    soak(8_000, ["acme", "globex", "initech", "umbrella"]), 420_000)
})
