/** Requeue embedded in a process of one's own (here over the in-memory filesystem): the move, its log line and its metric. */
import { expect, it } from "@effect/vitest"
import { Effect, Layer, Metric } from "effect"
import { renderPrometheus } from "../src/status/Metrics.js"
import { App, Config, Daemon, FileStore, FileOps, MemoryFileSystem, Notifier, Requeue } from "../src/index.js"
import { fixture } from "./support/fixtures.js"
import { captureLogs } from "./support/logs.js"
import { setToday } from "./support/today.js"

const requeuedTotal = () => {
  const line = renderPrometheus(Metric.unsafeSnapshot()).split("\n").find((l) => l.startsWith("cjp_files_requeued_total "))
  return line === undefined ? 0 : Number(line.split(" ")[1])
}

it.scoped("a returned file goes back into the input folder, logged as `file requeued` and counted in cjp_files_requeued_total", () => {
  const memory = MemoryFileSystem.make({ "/in/bad.json": fixture("invalid-luhn.json") })
  const base = Layer.mergeAll(
    Config.layerFixed({ DATA_DIR: "/in", PROCESSING_DIR: "/p", VALIDATED_DIR: "/ok", RETURNS_DIR: "/ret", LOG_DIR: "/logs" }),
    memory.layer
  )
  const logs = captureLogs()
  return Effect.gen(function*() {
    yield* setToday
    yield* Effect.provide(Daemon.runDaemon({ once: true }), App.layerMemory(memory, { notifier: Notifier.layerLogOnly }).pipe(Layer.provideMerge(base)))
    expect(memory.volume.readdirSync("/ret")).toEqual(["bad.json", "bad.json.error.json"])
    const before = requeuedTotal()
    const events: Array<Requeue.RequeueEvent> = []
    const totals = yield* Effect.flatMap(Requeue.Requeue, (r) =>
      r.run({ names: [], all: true, dryRun: false, filter: {} }, (e) => Effect.sync(() => void events.push(e)))).pipe(
        Effect.provide(Requeue.layer.pipe(Layer.provide(FileStore.layer), Layer.provideMerge(base))),
        Effect.provide(logs.layer)
      )
    expect(totals).toEqual({ requeued: 1, skipped: 0, orphansRemoved: 0 })
    expect(events).toEqual([{ _tag: "Requeued", name: "bad.json", target: "bad.json", finished: false, dryRun: false }])
    expect(memory.volume.readdirSync("/ret")).toEqual([])
    expect(memory.volume.readdirSync("/in")).toEqual(["bad.json"])
    expect(String(memory.volume.readFileSync("/in/bad.json"))).toBe(fixture("invalid-luhn.json"))
    expect(logs.lines.filter((l) => l.message.includes("file requeued"))).toHaveLength(1)
    expect(requeuedTotal()).toBe(before + 1)
  })
})

it.scoped("two requeues of one file at once: the one that sees the other's link steps back, and the file is never in the input folder twice", () => {
  const memory = MemoryFileSystem.make({ "/in/bad.json": fixture("invalid-luhn.json") })
  const config = Config.layerFixed({ DATA_DIR: "/in", PROCESSING_DIR: "/p", VALIDATED_DIR: "/ok", RETURNS_DIR: "/ret", LOG_DIR: "/logs" })
  const base = Layer.mergeAll(config, memory.layer)
  // Another requeue links the same file into /in right after this one does (and has not yet unlinked it).
  const racing = Layer.effect(
    FileOps.FileOps,
    Effect.map(FileOps.FileOps, (extra): FileOps.FileOpsService => ({
      ...extra,
      link: (from, to) =>
        Effect.zipRight(extra.link(from, to), from === "/ret/bad.json" && to === "/in/bad.json" ? extra.link(from, "/in/bad-other.json") : Effect.void)
    }))
  ).pipe(Layer.provide(memory.layer))
  return Effect.gen(function*() {
    yield* setToday
    yield* Effect.provide(Daemon.runDaemon({ once: true }), App.layerMemory(memory, { notifier: Notifier.layerLogOnly }).pipe(Layer.provideMerge(base)))
    const events: Array<Requeue.RequeueEvent> = []
    const totals = yield* Effect.flatMap(Requeue.Requeue, (r) =>
      r.run({ names: ["bad.json"], all: false, dryRun: false, filter: {} }, (e) => Effect.sync(() => void events.push(e)))).pipe(
        Effect.provide(Requeue.layer.pipe(Layer.provide(FileStore.layer), Layer.provide(Layer.merge(config, racing))))
      )
    expect(totals).toEqual({ requeued: 0, skipped: 1, orphansRemoved: 0 })
    expect(events).toEqual([{ _tag: "Skipped", name: "bad.json", reason: "another requeue is moving it at the same time" }])
    // Its own link withdrawn; the other's stays (that requeue finishes the move); the report stays until it does.
    expect(memory.volume.readdirSync("/in")).toEqual(["bad-other.json"])
    expect(memory.volume.readdirSync("/ret")).toEqual(["bad.json", "bad.json.error.json"])
  })
})

it.scoped("--all over 3,000 returned files reads the folders in pieces (whole listings refused) and moves every file once", () => {
  const files: Record<string, string> = {}
  const invalid = fixture("invalid-luhn.json")
  for (let i = 0; i < 3000; i++) files[`/in/bad-${i}.json`] = invalid
  const memory = MemoryFileSystem.make(files)
  const config = Config.layerFixed({ DATA_DIR: "/in", PROCESSING_DIR: "/p", VALIDATED_DIR: "/ok", RETURNS_DIR: "/ret", LOG_DIR: "/logs" })
  const base = Layer.mergeAll(config, memory.layer)
  let largestPiece = 0
  const piecesOnly = Layer.effect(
    FileOps.FileOps,
    Effect.map(FileOps.FileOps, (extra): FileOps.FileOpsService => ({
      ...extra,
      list: (dir) => Effect.dieMessage(`listed ${dir} whole`),
      listPieces: (dir) =>
        Effect.map(extra.listPieces(dir), (listing) => ({
          ...listing,
          next: (max: number) => Effect.tap(listing.next(max), (piece) => Effect.sync(() => void (largestPiece = Math.max(largestPiece, piece.length))))
        }))
    }))
  ).pipe(Layer.provide(memory.layer))
  return Effect.gen(function*() {
    yield* setToday
    yield* Effect.provide(Daemon.runDaemon({ once: true }), App.layerMemory(memory, { notifier: Notifier.layerLogOnly }).pipe(Layer.provideMerge(base)))
    expect(memory.volume.readdirSync("/ret")).toHaveLength(6000)
    // One file linked into /in already by an earlier requeue that stopped there: found among /in's entries.
    memory.volume.linkSync("/ret/bad-7.json", "/in/bad-7.json")
    const events: Array<Requeue.RequeueEvent> = []
    const totals = yield* Effect.flatMap(Requeue.Requeue, (r) =>
      r.run({ names: [], all: true, dryRun: false, filter: {} }, (e) => Effect.sync(() => void events.push(e)))).pipe(
        Effect.provide(Requeue.layer.pipe(Layer.provide(FileStore.layer), Layer.provide(Layer.merge(config, piecesOnly)))),
        Effect.provide(captureLogs().layer)
      )
    expect(totals).toEqual({ requeued: 3000, skipped: 0, orphansRemoved: 0 })
    expect(events.filter((e) => e._tag === "Requeued" && e.finished)).toHaveLength(1)
    expect(memory.volume.readdirSync("/ret")).toEqual([])
    expect((memory.volume.readdirSync("/in") as Array<unknown>).map(String).sort()).toEqual(Object.keys(files).map((f) => f.slice(4)).sort())
    expect(largestPiece).toBeGreaterThan(0)
    expect(largestPiece).toBeLessThanOrEqual(1024)
  })
}, 60_000)
