/**
 * A destination of one's own under kill -9 (issue 26 item 3), on the real
 * filesystem: an application embedding the built package adds a destination
 * that keeps a copy of each validated file's document by its key; killed in
 * the middle of a backlog and started again, every file is routed exactly
 * once, every validated file was in the copies before it was in validated/,
 * and the copies hold each validated file exactly once (delivered at least
 * once, kept by key).
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import type { CorpusFile } from "../support/corpus.js"
import { customer, makeCorpus, prng } from "../support/corpus.js"
import { dataFiles, list, misrouted } from "../support/folders.js"
import { waitUntil, within } from "../support/wait.js"
import { baseEnv, rootPerTest } from "./support.js"

const APP = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "support", "destinationApp.mjs")
const COUNT = 1000
const corpus: Array<CorpusFile> = makeCorpus(COUNT, 11)
// A batch of over 1 MiB, judged in a worker thread: its document reaches the destination all the same.
const BIG_RECORDS = 5000
const big: CorpusFile = {
  name: "big-batch.json",
  content: JSON.stringify(Array.from({ length: BIG_RECORDS }, (_, i) => customer(`BIG-${i}`, prng(5), false))),
  valid: true
}
corpus.push(big)
const valid = corpus.filter((f) => f.valid)
const root = rootPerTest()

const start = (args: ReadonlyArray<string>) => {
  const child = ChildProcess.spawn(process.execPath, [APP, ...args], {
    cwd: root(),
    env: baseEnv({ CONCURRENCY: "8", QUIET_PERIOD_MS: "0" }),
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (chunk: Buffer) => void (output += chunk.toString("utf8")))
  child.stderr!.on("data", (chunk: Buffer) => void (output += chunk.toString("utf8")))
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")))
  return { child, exited, output: () => output }
}

/** The copies kept, by key: the name and document each holds. */
const copies = () =>
  list(Path.join(root(), "copies")).map((key) => ({
    key,
    ...(JSON.parse(NFS.readFileSync(Path.join(root(), "copies", key), "utf8")) as { name: string; document: unknown })
  }))

describe("a destination of one's own, killed with kill -9 in the middle of a backlog", () => {
  it("gets every validated file before validated/ does, and holds each exactly once after a restart", async () => {
    NFS.mkdirSync(Path.join(root(), "data"), { recursive: true })
    for (const f of corpus) NFS.writeFileSync(Path.join(root(), "data", f.name), f.content)
    const first = start([])
    await waitUntil(() => NFS.existsSync(Path.join(root(), "copies")) && list(Path.join(root(), "copies")).length >= 30, 60_000, "30 copies")
    first.child.kill("SIGKILL")
    await first.exited
    expect(list(Path.join(root(), "data")).length, "killed before the backlog was done").toBeGreaterThan(0)
    // Nothing reaches validated/ before the destination has it.
    const copied = new Set(copies().map((c) => c.name))
    expect(list(Path.join(root(), "validated")).filter((name) => !copied.has(name))).toEqual([])

    const restart = start(["--once"])
    expect(await within(120_000, "the restart's --once run", restart.exited), restart.output().slice(-3000)).toBe(0)
    // The built-in folders: every file exactly once, byte for byte.
    expect(misrouted(root(), corpus)).toEqual([])
    expect(dataFiles(Path.join(root(), "validated")).length + dataFiles(Path.join(root(), "returns")).length).toBe(corpus.length)
    expect(dataFiles(Path.join(root(), "processing"))).toEqual([])
    // The destination: each validated file once, with its document as parsed.
    const kept = copies()
    expect(kept.map((c) => c.name).sort()).toEqual(valid.map((f) => f.name).sort())
    for (const c of kept) expect(c.document, c.name).toEqual(JSON.parse(valid.find((f) => f.name === c.name)!.content))
    expect(Buffer.byteLength(big.content)).toBeGreaterThan(1024 * 1024)
    expect((kept.find((c) => c.name === big.name)?.document as ReadonlyArray<unknown>).length).toBe(BIG_RECORDS)
    // Delivered at least once each, and under one key per file.
    const deliveries = NFS.readFileSync(Path.join(root(), "deliveries.log"), "utf8").split("\n").filter((l) => l !== "")
    expect(new Set(deliveries).size).toBe(valid.length)
    expect(deliveries.length).toBeGreaterThanOrEqual(valid.length)
  }, 180_000)
})
