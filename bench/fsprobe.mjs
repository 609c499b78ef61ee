// What a filesystem guarantees, measured: the figures of docs/SCALING.md's
// "Filesystems tried here". Run by hand (not part of the product or the tests):
//
//   node bench/fsprobe.mjs LABEL DIR_A [DIR_B]
//
// DIR_A and DIR_B are the same folder seen through two mounts (for a local
// filesystem, give one folder: both sides are then that folder). Each probe
// works in a fresh subfolder and prints one line; the last line is JSON with
// every figure. The floor (list, rename, read, JSON.parse, rename; 16 at a
// time, as bench/floor.mjs) runs on 3,000 small JSON files of the benchmark's
// corpus, three times, writing the corpus through DIR_A each time. Environment:
// PROBE_ROUNDS (races per probe, 200), PROBE_FLOOR_FILES (3000), PROBE_FLOOR_RUNS (3; 0: none),
// PROBE_DAEMON=1 (also time the built daemon's --once on the same files).
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as FS from "node:fs/promises"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { makeCorpus } from "./corpus.mjs"

const [label, dirA, dirB = dirA] = process.argv.slice(2)
if (!label || !dirA) {
  process.stderr.write("usage: node bench/fsprobe.mjs LABEL DIR_A [DIR_B]\n")
  process.exit(2)
}
const here = Path.dirname(fileURLToPath(import.meta.url))
const FLOOR = Path.join(here, "floor.mjs")
const FLOOR_FILES = Number(process.env.PROBE_FLOOR_FILES ?? 3000)
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 200)
const FLOOR_RUNS = Number(process.env.PROBE_FLOOR_RUNS ?? 3)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const results = { label, dirA, dirB }
const line = (key, value, detail = "") => {
  results[key] = value
  process.stdout.write(`${label}  ${key.padEnd(28)} ${JSON.stringify(value)}${detail ? `  (${detail})` : ""}\n`)
}
const codeOf = (p) => p.then(() => "ok", (e) => e.code ?? String(e))

let counter = 0
const fresh = async () => {
  const name = `probe-${process.pid}-${counter++}`
  await FS.mkdir(Path.join(dirA, name))
  return { a: Path.join(dirA, name), b: Path.join(dirB, name) }
}

// 1. Claim race: the same file renamed away through both mounts at once; exactly one may win.
{
  const { a, b } = await fresh()
  let bothWon = 0, noneWon = 0, oneWon = 0, losers = new Map()
  for (let i = 0; i < ROUNDS; i++) await FS.writeFile(Path.join(a, `f${i}`), `content ${i}`)
  for (let i = 0; i < ROUNDS; i++) {
    const [ra, rb] = await Promise.all([
      codeOf(FS.rename(Path.join(a, `f${i}`), Path.join(a, `f${i}.a`))),
      codeOf(FS.rename(Path.join(b, `f${i}`), Path.join(b, `f${i}.b`)))
    ])
    const wins = [ra, rb].filter((r) => r === "ok").length
    if (wins === 2) bothWon++
    else if (wins === 0) noneWon++
    else oneWon++
    for (const r of [ra, rb]) if (r !== "ok") losers.set(r, (losers.get(r) ?? 0) + 1)
  }
  line("claim_race_exactly_one", bothWon === 0 && noneWon === 0, `${ROUNDS} races: one won ${oneWon}, both ${bothWon}, none ${noneWon}; losers got ${JSON.stringify(Object.fromEntries(losers))}`)
}

// 2. rename over an existing name replaces it (the trap of EFFECT_NOTES 2), seen through the other mount.
{
  const { a, b } = await fresh()
  await FS.writeFile(Path.join(a, "target"), "old")
  await FS.writeFile(Path.join(a, "source"), "new")
  const r = await codeOf(FS.rename(Path.join(a, "source"), Path.join(a, "target")))
  const seen = await FS.readFile(Path.join(b, "target"), "utf8").catch((e) => e.code)
  const sourceLeft = NFS.existsSync(Path.join(b, "source"))
  line("rename_replaces_target", r === "ok" && seen === "new" && !sourceLeft, `rename ${r}; other mount reads ${JSON.stringify(seen)}; source left ${sourceLeft}`)
}

// 3. A replacing rename is atomic for a reader on the other mount: never missing, never partial.
{
  const { a, b } = await fresh()
  const body = (i) => `${i}:`.padEnd(4096, String(i % 10))
  await FS.writeFile(Path.join(a, "target"), body(0))
  let running = true, reads = 0
  const bad = new Map()
  const reader = (async () => {
    while (running) {
      const got = await FS.readFile(Path.join(b, "target"), "utf8").catch((e) => `error ${e.code}`)
      reads++
      const m = /^(\d+):/.exec(got)
      const ok = m !== null && got === body(Number(m[1]))
      if (!ok) {
        const key = got.startsWith("error") ? got : `partial (${got.length} bytes)`
        bad.set(key, (bad.get(key) ?? 0) + 1)
      }
    }
  })()
  for (let i = 1; i <= ROUNDS; i++) {
    await FS.writeFile(Path.join(a, `t${i}`), body(i))
    await FS.rename(Path.join(a, `t${i}`), Path.join(a, "target"))
  }
  running = false
  await reader
  line("rename_atomic_for_reader", bad.size === 0, `${ROUNDS} replacing renames, ${reads} reads through the other mount; bad ${JSON.stringify(Object.fromEntries(bad))}`)
}

// 4. link onto an existing name fails with EEXIST and leaves the target alone.
{
  const { a, b } = await fresh()
  await FS.writeFile(Path.join(a, "x"), "x")
  await FS.writeFile(Path.join(a, "y"), "y")
  const same = await codeOf(FS.link(Path.join(a, "x"), Path.join(a, "y")))
  const other = await codeOf(FS.link(Path.join(b, "x"), Path.join(b, "y")))
  const y = await FS.readFile(Path.join(a, "y"), "utf8")
  // And a link race through both mounts: exactly one of two links to one new name succeeds.
  let exactlyOne = 0
  for (let i = 0; i < ROUNDS; i++) {
    await FS.writeFile(Path.join(a, `s${i}a`), "a")
    await FS.writeFile(Path.join(a, `s${i}b`), "b")
  }
  for (let i = 0; i < ROUNDS; i++) {
    const rs = await Promise.all([codeOf(FS.link(Path.join(a, `s${i}a`), Path.join(a, `d${i}`))), codeOf(FS.link(Path.join(b, `s${i}b`), Path.join(b, `d${i}`)))])
    if (rs.filter((r) => r === "ok").length === 1) exactlyOne++
  }
  line("link_eexist", same === "EEXIST" && other === "EEXIST" && y === "y", `same mount ${same}, other mount ${other}, target kept ${y === "y"}`)
  line("link_race_exactly_one", exactlyOne === ROUNDS, `${exactlyOne} of ${ROUNDS} races through both mounts had exactly one winner`)
}

// 5. Link counts: create, open, link; fstat on the open file and stat through both mounts;
// then how long the other mount takes to see a change made through this one (its attribute
// and entry caches), polled every 20 ms for up to 30 s.
const lagUntil = async (predicate) => {
  const t0 = performance.now()
  while (!(await predicate())) {
    if (performance.now() - t0 > 30_000) return "over 30 s"
    await sleep(20)
  }
  return `${Math.round(performance.now() - t0)} ms`
}
{
  const { a, b } = await fresh()
  const fd = await FS.open(Path.join(a, "f"), "wx")
  const before = (await fd.stat()).nlink
  const linked = await codeOf(FS.link(Path.join(a, "f"), Path.join(a, "g")))
  const fstatAfter = (await fd.stat()).nlink
  await fd.close()
  const statA = (await FS.stat(Path.join(a, "f"))).nlink
  const statB = (await FS.stat(Path.join(b, "f"))).nlink
  line("nlink_reflects_links", before === 1 && fstatAfter === 2 && statA === 2 && statB === 2,
    `link ${linked}; nlink before ${before}, fstat after link ${fstatAfter}, stat ${statA}, first stat through the other mount ${statB}`)
  await FS.unlink(Path.join(a, "g"))
  const staleB = (await FS.stat(Path.join(b, "f"))).nlink
  const nlinkLag = await lagUntil(async () => (await FS.stat(Path.join(b, "f"))).nlink === 1)
  // An unlinked name, and a new name, as seen through the other mount.
  await FS.stat(Path.join(b, "f"))
  await FS.unlink(Path.join(a, "f"))
  const goneLag = await lagUntil(() => codeOf(FS.stat(Path.join(b, "f"))).then((r) => r === "ENOENT"))
  await FS.writeFile(Path.join(a, "n"), "n")
  const newLag = await lagUntil(() => codeOf(FS.stat(Path.join(b, "n"))).then((r) => r === "ok"))
  line("other_mount_lag", `nlink ${nlinkLag}, unlink ${goneLag}, create ${newLag}`,
    `after an unlink through this mount the other mount's stat said nlink ${staleB}`)
}

// 6. Inode numbers: stable across two lstat calls, the same through both mounts, across a
// rename and for both names of a hard link; and whether they exceed 2^53.
{
  const { a, b } = await fresh()
  await FS.writeFile(Path.join(a, "f"), "f")
  const s1 = await FS.lstat(Path.join(a, "f"), { bigint: true })
  const s2 = await FS.lstat(Path.join(a, "f"), { bigint: true })
  const sb = await FS.lstat(Path.join(b, "f"), { bigint: true })
  await FS.link(Path.join(a, "f"), Path.join(a, "h"))
  const sh = await FS.lstat(Path.join(a, "h"), { bigint: true })
  await FS.rename(Path.join(a, "f"), Path.join(a, "r"))
  const sr = await FS.lstat(Path.join(a, "r"), { bigint: true })
  const srB = await FS.lstat(Path.join(b, "r"), { bigint: true })
  // Many files: how many inode numbers are above 2^53 (unsafe as a JavaScript number)?
  for (let i = 0; i < 50; i++) await FS.writeFile(Path.join(a, `n${i}`), "n")
  const inos = await Promise.all(Array.from({ length: 50 }, (_, i) => FS.lstat(Path.join(a, `n${i}`), { bigint: true }).then((s) => s.ino)))
  // Node fills bigint stats from an int64 array: an inode number of 2^63 or more comes out
  // negative (same bits). Its true value is BigInt.asUintN(64, ino).
  const unsigned = (ino) => BigInt.asUintN(64, ino)
  const above = inos.filter((i) => unsigned(i) > BigInt(Number.MAX_SAFE_INTEGER)).length
  const negative = inos.filter((i) => i < 0n).length
  const numberIno = (await FS.lstat(Path.join(a, "r"))).ino
  line("ino_stable_two_lstat", s1.ino === s2.ino, `${unsigned(s1.ino)} / ${unsigned(s2.ino)}`)
  line("ino_same_both_mounts", s1.ino === sb.ino && sr.ino === srB.ino, `mount A ${unsigned(s1.ino)}, mount B ${unsigned(sb.ino)}; after rename A ${unsigned(sr.ino)}, B ${unsigned(srB.ino)}`)
  line("ino_kept_by_rename_and_link", s1.ino === sr.ino && s1.ino === sh.ino, `original ${unsigned(s1.ino)}, renamed ${unsigned(sr.ino)}, hard link ${unsigned(sh.ino)}`)
  line("ino_above_2^53", `${above} of 50`, `e.g. ${unsigned(inos[0])}, negative as Node's bigint ino: ${negative} of 50; as a JavaScript number ${numberIno} (exact: ${Number.isSafeInteger(numberIno) && BigInt(numberIno) === unsigned(sr.ino)})`)
  line("dev_same_both_mounts", s1.dev === sb.dev, `dev A ${s1.dev}, B ${sb.dev}`)
}

// 7. O_EXCL: "wx" on an existing name fails; two exclusive creates through both mounts, one wins.
{
  const { a, b } = await fresh()
  await FS.writeFile(Path.join(a, "e"), "e")
  const existing = await codeOf(FS.writeFile(Path.join(b, "e"), "z", { flag: "wx" }))
  let exactlyOne = 0
  for (let i = 0; i < ROUNDS; i++) {
    const rs = await Promise.all([
      codeOf(FS.writeFile(Path.join(a, `x${i}`), "a", { flag: "wx" })),
      codeOf(FS.writeFile(Path.join(b, `x${i}`), "b", { flag: "wx" }))
    ])
    if (rs.filter((r) => r === "ok").length === 1) exactlyOne++
  }
  line("o_excl", existing === "EEXIST" && exactlyOne === ROUNDS, `existing name ${existing}; ${exactlyOne} of ${ROUNDS} create races through both mounts had exactly one winner`)
}

// 8. inotify: a watcher on mount A, files created and renamed in through mount B (and, for
// comparison, through mount A).
{
  const watchCount = async (watchDir, writeDir) => {
    let events = 0
    const watcher = NFS.watch(watchDir, () => events++)
    await sleep(200)
    for (let i = 0; i < 5; i++) {
      await FS.writeFile(Path.join(writeDir, `w${i}.tmp`), "w")
      await FS.rename(Path.join(writeDir, `w${i}.tmp`), Path.join(writeDir, `w${i}`))
    }
    await sleep(2000)
    watcher.close()
    return events
  }
  const one = await fresh()
  const sameMount = await watchCount(one.a, one.a)
  const two = await fresh()
  const otherMount = dirA === dirB ? sameMount : await watchCount(two.a, two.b)
  line("inotify_same_mount", sameMount > 0, `${sameMount} events for 5 creates + 5 renames`)
  line("inotify_other_mount", otherMount > 0, dirA === dirB ? "one folder: same as above" : `${otherMount} events for 5 creates + 5 renames through the other mount`)
}

// 9. The floor, three runs: 3,000 files written through A, then bench/floor.mjs on A.
if (FLOOR_RUNS > 0) {
  const corpus = makeCorpus(FLOOR_FILES, 5)
  const runs = []
  const writes = []
  for (let run = 0; run < FLOOR_RUNS; run++) {
    const { a } = await fresh()
    await FS.mkdir(Path.join(a, "data"))
    const w0 = performance.now()
    for (const f of corpus) await FS.writeFile(Path.join(a, "data", f.name), f.content)
    writes.push((performance.now() - w0) / 1000)
    const t0 = performance.now()
    const r = ChildProcess.spawnSync(process.execPath, [FLOOR, a], { encoding: "utf8" })
    const seconds = (performance.now() - t0) / 1000
    if (r.status !== 0) throw new Error(`floor failed: ${r.stderr}`)
    const stored = NFS.readdirSync(Path.join(a, "validated")).length
    if (stored !== FLOOR_FILES) throw new Error(`floor stored ${stored} of ${FLOOR_FILES}`)
    runs.push(seconds)
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]
  line("floor_seconds", runs.map((s) => Number(s.toFixed(2))), `${FLOOR_FILES} files, median ${median(runs).toFixed(2)} s = ${Math.round(FLOOR_FILES / median(runs))} files/s`)
  line("write_corpus_seconds", writes.map((s) => Number(s.toFixed(2))), `${FLOOR_FILES} writeFile calls one after another`)
}

// 10. The daemon itself on the same 3,000 files: `node dist/main.js --once` in a fresh folder
// tree on A (default settings but the console off; build first), once.
if (process.env.PROBE_DAEMON === "1") {
  const corpus = makeCorpus(FLOOR_FILES, 5)
  const { a } = await fresh()
  await FS.mkdir(Path.join(a, "data"))
  for (const f of corpus) await FS.writeFile(Path.join(a, "data", f.name), f.content)
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATA_DIR|PROCESSING_DIR|VALIDATED_DIR|RETURNS_DIR|LOG_|WATCH_|FS_CALLS|CONCURRENCY)/.test(k)))
  const t0 = performance.now()
  const r = ChildProcess.spawnSync(process.execPath, [Path.join(here, "..", "dist", "main.js"), "--once"], { cwd: a, env: { ...env, LOG_CONSOLE: "off" }, encoding: "utf8" })
  const seconds = (performance.now() - t0) / 1000
  const stored = NFS.readdirSync(Path.join(a, "validated")).length + NFS.readdirSync(Path.join(a, "returns")).filter((n) => !n.endsWith(".error.json")).length
  line("daemon_once_seconds", Number(seconds.toFixed(2)), `exit ${r.status}, ${stored} of ${FLOOR_FILES} stored, ${Math.round(FLOOR_FILES / seconds)} files/s`)
}

// Clean up this run's folders.
for (let i = 0; i < counter; i++) await FS.rm(Path.join(dirA, `probe-${process.pid}-${i}`), { recursive: true, force: true })
process.stdout.write(`${JSON.stringify(results)}\n`)
