/**
 * The intake over the in-memory filesystem: memory bounded by its window
 * whatever the backlog, every file routed once, the order of a listing kept,
 * and warnings about ignored names bounded too. Plus its pure helpers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as Path from "node:path"
import { runDaemon } from "../src/daemon/Daemon.js"
import { judgeThreads, OFF_THREAD_BYTES } from "../src/contract/OffThreadJudge.js"
import { defaultLimits, FOLDER_QUIET_MS } from "../src/daemon/Intake.js"
import { inShare, nameHash } from "../src/daemon/NameMarks.js"
import { parseProcessingName } from "../src/files/Naming.js"
import { shareOf } from "../src/instances/Instance.js"
import { Status } from "../src/status/Status.js"
import * as MemoryFileSystem from "../src/files/adapters/MemoryFileSystem.js"
import type { MemoryVolume } from "../src/files/adapters/MemoryFileSystem.js"
import { FOLDERS, listing, makeTestApp } from "./support/app.js"
import { fixture } from "./support/fixtures.js"
import { captureLogs } from "./support/logs.js"
import { provideToday, setToday } from "./support/today.js"

const D = FOLDERS.DATA_DIR
const V = FOLDERS.VALIDATED_DIR
const VALID = fixture("valid-single.json")

/** The names of a folder in the order a listing (opendir) gives them. */
const listingOrder = (volume: MemoryVolume, dir: string): Array<string> => {
  const handle = volume.opendirSync(dir)
  const names: Array<string> = []
  for (let d = handle.readSync(); d !== null; d = handle.readSync()) names.push(String(d.name))
  handle.closeSync()
  return names
}

/** The original names of the files claimed, in the order they were claimed (the claim's rename into processing/). */
const claimOrder = () => {
  const order: Array<string> = []
  const wrapExtra = (extra: Parameters<NonNullable<Parameters<typeof makeTestApp>[0]>["wrapExtra"] & {}>[0]) => ({
    ...extra,
    rename: (from: string, to: string) =>
      Effect.tap(extra.rename(from, to), () =>
        Effect.sync(() => {
          const parsed = parseProcessingName(Path.basename(to))
          if (parsed !== undefined && from.startsWith(FOLDERS.DATA_DIR) && to.startsWith(FOLDERS.PROCESSING_DIR)) order.push(parsed.original)
        }))
  })
  return { order, wrapExtra }
}

describe("intake: memory independent of the backlog", () => {
  it.scoped("with 20,000 files waiting and a window of 100, never holds more than 100 names; every file routed once", () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 20_000; i++) files[`${D}/f${i}.json`] = VALID
    const app = makeTestApp({ files, settings: { CONCURRENCY: "8", QUIET_PERIOD_MS: "0" } })
    return Effect.gen(function*() {
      const summary = yield* runDaemon({ once: true, window: 100 })
      const status = yield* Status
      expect(summary).toEqual({ validated: 20_000, returned: 0, failed: 0, leftBehind: 0 })
      expect((yield* status.snapshot).intakePeak).toBeGreaterThan(0)
      expect((yield* status.snapshot).intakePeak).toBeLessThanOrEqual(100)
      expect(listing(app.volume, V)).toHaveLength(20_000)
      expect(new Set(listing(app.volume, V)).size).toBe(20_000)
      expect(listing(app.volume, D)).toEqual([])
    }).pipe(provideToday(app.layer))
  }, 240_000)

  it.scoped("takes the names of a pass in the order the listing gives them", () => {
    const files: Record<string, string> = {}
    // Inserted in an order that sorting would change: the listing's order is what counts.
    for (let i = 0; i < 600; i++) files[`${D}/n${(i * 7919) % 600}.json`] = VALID
    const claims = claimOrder()
    const app = makeTestApp({ files, settings: { CONCURRENCY: "1", QUIET_PERIOD_MS: "0" }, wrapExtra: claims.wrapExtra })
    const expected = listingOrder(app.volume, D)
    return Effect.gen(function*() {
      const summary = yield* runDaemon({ once: true, window: 25 })
      expect(summary.validated).toBe(600)
      expect(claims.order).toEqual(expected)
      expect((yield* (yield* Status).snapshot).intakePeak).toBeLessThanOrEqual(25)
    }).pipe(provideToday(app.layer))
  }, 60_000)

  it.live("a file that arrives during a pass goes after every file of that pass", () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 300; i++) files[`${D}/old${i}.json`] = VALID
    const claims = claimOrder()
    const app = makeTestApp({ files, settings: { CONCURRENCY: "1", QUIET_PERIOD_MS: "0", RESCAN_INTERVAL_MS: "200" }, wrapExtra: claims.wrapExtra })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false, window: 10 }))
      while (claims.order.length < 20) yield* Effect.sleep("5 millis")
      app.volume.writeFileSync(`${D}/new.json`, VALID)
      while (listing(app.volume, V).length < 301) yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(fiber)
      expect(claims.order).toHaveLength(301)
      expect(claims.order[300]).toBe("new.json")
      expect(new Set(claims.order).size).toBe(301)
    }).pipe(Effect.provide(app.layer), Effect.provide(captureLogs().layer), Effect.timeout("60 seconds"))
  }, 70_000)
})

describe("intake: instances cooperate", () => {
  it.scoped("three instances on one backlog take mostly disjoint shares: everything routed once, none lost, few lost races", () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 900; i++) files[`${D}/s${i}.json`] = VALID
    const memory = MemoryFileSystem.make(files)
    const P = FOLDERS.PROCESSING_DIR
    const apps = [0, 1, 2].map(() => {
      const claimed: Array<string> = []
      /** names this instance went for and found gone (taken by another): lstat or claim */
      const lost: Array<string> = []
      const app = makeTestApp({
        memory,
        settings: { CONCURRENCY: "4", QUIET_PERIOD_MS: "0" },
        wrapExtra: (extra) => ({
          ...extra,
          identify: (p) =>
            extra.identify(p).pipe(Effect.tapErrorTag("SystemError", (e) =>
              Effect.sync(() => void (e.reason === "NotFound" && p.startsWith(`${D}/`) && lost.push(Path.basename(p)))))),
          rename: (from, to) =>
            extra.rename(from, to).pipe(
              // (hidden names are the start-up checks' probes, not claims)
              Effect.tap(() => Effect.sync(() => void (from.startsWith(`${D}/`) && to.startsWith(`${P}/`) && !Path.basename(from).startsWith(".") && claimed.push(Path.basename(from))))),
              Effect.tapErrorTag("SystemError", (e) =>
                Effect.sync(() => void (e.reason === "NotFound" && from.startsWith(`${D}/`) && lost.push(Path.basename(from)))))
            )
        })
      })
      return { app, claimed, lost }
    })
    return Effect.gen(function*() {
      yield* setToday
      // Each instance's folder exists before any backlog starts (as with instances started together).
      const summaries = yield* Effect.all(apps.map(({ app }) => Effect.provide(runDaemon({ once: true, window: 50 }), app.layer)), { concurrency: 3 })
      expect(summaries.reduce((n, s) => n + s.validated, 0)).toBe(900)
      expect(summaries.every((s) => s.failed === 0 && s.leftBehind === 0)).toBe(true)
      expect(listing(memory.volume, V)).toEqual(Object.keys(files).map((f) => Path.basename(f)).sort())
      expect(listing(memory.volume, D)).toEqual([])
      // Claimed sets are disjoint (the atomic claim), and each instance took a share.
      const all = apps.flatMap((a) => a.claimed)
      expect(new Set(all).size).toBe(900)
      expect(all).toHaveLength(900)
      for (const a of apps) expect(a.claimed.length).toBeGreaterThan(150)
      // Spread over the listing, instances seldom go for a name another one took (in the same
      // order, without shares, they lose about 1,700 races here: nearly two per file).
      const lost = apps.reduce((n, a) => n + a.lost.length, 0)
      expect(lost).toBeLessThan(900 / 5)
    })
  }, 120_000)
})

describe("intake: fairness", () => {
  it.live("files waiting for their writer hold at most half the window: a new file is taken at once while they are touched again and again", () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 40; i++) files[`${D}/w${i}.json`] = "["
    const app = makeTestApp({
      files,
      // No full listing within the test: the new file must come through the polls.
      settings: { RESCAN_INTERVAL_MS: "600000", WATCH_MODE: "poll", POLL_INTERVAL_MS: "30", QUIET_PERIOD_MS: "2000", HEALTH_CHECK_INTERVAL_MS: "3600000" }
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const status = yield* Status
      // A producer touches its 40 half-written files every 50 ms, for ever.
      const touch = Effect.sync(() => {
        const now = new Date()
        for (let i = 0; i < 40; i++) app.volume.utimesSync(`${D}/w${i}.json`, now, now)
      })
      yield* Effect.fork(Effect.forever(Effect.zipRight(touch, Effect.sleep("50 millis"))))
      const fiber = yield* Effect.fork(runDaemon({ once: false, window: 10 }))
      yield* Effect.sleep("500 millis")
      app.volume.writeFileSync(`${D}/honest.json`, VALID)
      const arrived = Date.now()
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("10 millis")
      expect(Date.now() - arrived).toBeLessThan(1500)
      expect((yield* status.snapshot).intakePeak).toBeLessThanOrEqual(10)
      // The ones let go are counted as waiting, and said once.
      expect((yield* status.snapshot).waiting.count).toBeGreaterThanOrEqual(40)
      expect(logs.lines.filter((l) => l.message.startsWith("more files are waiting for their writers than the intake keeps room for"))).toHaveLength(1)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })
})

describe("intake: the large-file lane", () => {
  it.live("large files are worked on a few at a time in a lane of their own: a small file never waits behind them", () => {
    const big = "[" + " ".repeat(1024 * 1024 + 10) + "]"
    const files: Record<string, string> = {}
    for (let i = 0; i < 6; i++) files[`${D}/big${i}.json`] = big
    let reading = 0
    let mostAtOnce = 0
    const app = makeTestApp({
      files,
      settings: { CONCURRENCY: "4", WATCH_MODE: "poll", POLL_INTERVAL_MS: "30", QUIET_PERIOD_MS: "0" },
      // Each large file takes 3 s to read and judge (a slow disk, a file of millions of keys): the read
      // of the large-file lane, whole (the other workers only look at its size).
      wrapExtra: (extra) => ({
        ...extra,
        readRegular: (path, max) =>
          path.includes("big") && max >= OFF_THREAD_BYTES
            ? Effect.acquireUseRelease(
              Effect.sync(() => {
                reading++
                mostAtOnce = Math.max(mostAtOnce, reading)
              }),
              () => Effect.zipRight(Effect.sleep("3 seconds"), extra.readRegular(path, max)),
              () => Effect.sync(() => void reading--)
            )
            : extra.readRegular(path, max)
      })
    })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      while (reading === 0) yield* Effect.sleep("10 millis")
      app.volume.writeFileSync(`${D}/small.json`, VALID)
      const arrived = Date.now()
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("10 millis")
      expect(Date.now() - arrived).toBeLessThan(1500)
      expect(reading).toBeGreaterThan(0) // the large ones still being worked on
      expect(mostAtOnce).toBeLessThanOrEqual(judgeThreads())
      while (listing(app.volume, FOLDERS.RETURNS_DIR).length < 12) yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(captureLogs().layer), Effect.timeout("40 seconds"))
  }, 50_000)
})

describe("intake: big folders stay cheap", () => {
  it.live("3,000 ignored names: warnings up to the cap, then one line for the rest, not repeated by later listings", () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 3000; i++) files[`${D}/note${i}.txt`] = "x"
    files[`${D}/a.json`] = VALID
    const app = makeTestApp({ files, settings: { RESCAN_INTERVAL_MS: "100", WATCH_MODE: "poll", POLL_INTERVAL_MS: "30" } })
    const logs = captureLogs()
    const cap = defaultLimits(8, 10).warned
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false, window: 10 }))
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("20 millis")
      yield* Effect.sleep("800 millis") // many full and light listings meanwhile
      yield* Fiber.interrupt(fiber)
      const warnings = logs.lines.filter((l) => l.level === "WARN")
      const perName = warnings.filter((l) => l.message === "not a .json file; left where it is")
      expect(cap).toBe(1024)
      expect(perName).toHaveLength(cap)
      expect(new Set(perName.map((l) => l.annotations["file"])).size).toBe(cap)
      const summaries = warnings.filter((l) => l.message.startsWith("more names are left where they are"))
      expect(summaries.map((l) => l.annotations["not_warned_about"])).toEqual([3000 - cap])
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("30 seconds"))
  }, 40_000)
})

describe("intake: polls of an unchanged folder", () => {
  it.live("do not read its names again (full listings still do), and a new file is still found by the next poll", () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 3000; i++) files[`${D}/note${i}.txt`] = "x"
    let listings = 0
    const app = makeTestApp({
      files,
      // (the health check, on its own timer aligned to the clock, probes data/ and so changes it: not within this test)
      settings: { RESCAN_INTERVAL_MS: "500", WATCH_MODE: "poll", POLL_INTERVAL_MS: "30", QUIET_PERIOD_MS: "0", HEALTH_CHECK_INTERVAL_MS: "3600000" },
      wrapExtra: (extra) => ({ ...extra, listPieces: (dir) => Effect.tap(extra.listPieces(dir), () => Effect.sync(() => void (dir === D && listings++))) })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false, window: 10 }))
      // Once the folder has been quiet for FOLDER_QUIET_MS, a second of polls every 30 ms...
      yield* Effect.sleep(`${FOLDER_QUIET_MS + 700} millis`)
      const before = listings
      yield* Effect.sleep("1 second")
      const during = listings - before
      // ...reads the folder only for the full listings (every 500 ms), not for some 33 polls.
      expect(during).toBeGreaterThanOrEqual(1)
      expect(during).toBeLessThanOrEqual(4)
      // A new file changes the folder: the next poll reads it and routes the file.
      app.volume.writeFileSync(`${D}/new.json`, VALID)
      const arrived = Date.now()
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("10 millis")
      expect(Date.now() - arrived).toBeLessThan(400)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("30 seconds"))
  }, 40_000)
})

describe("intake helpers (pure)", () => {
  it("nameHash is stable and spreads names", () => {
    expect(nameHash("a.json")).toBe(nameHash("a.json"))
    expect(nameHash("a.json")).not.toBe(nameHash("b.json"))
    const buckets = [0, 0, 0, 0]
    for (let i = 0; i < 4000; i++) buckets[nameHash(`file-${i}.json`) % 4]!++
    for (const b of buckets) expect(b).toBeGreaterThan(800)
  })

  it("inShare gives each name to exactly one of the instances", () => {
    for (let i = 0; i < 500; i++) {
      const name = `n${i}.json`
      for (const count of [1, 2, 3, 5]) {
        const owners = Array.from({ length: count }, (_, rank) => rank).filter((rank) => inShare(name, rank, count))
        expect(owners).toHaveLength(1)
      }
    }
  })

  it("an instance's share: its rank among the instance folders of processing/, sorted", () => {
    const dir = (name: string) => ({ name, type: "Directory" as const })
    const entries = [dir("host-b"), dir("host-a"), dir(".adopting-x"), { name: "loose.json", type: "File" as const }, dir("host-c")]
    expect(shareOf("host-a", entries)).toEqual({ rank: 0, count: 3 })
    expect(shareOf("host-c", entries)).toEqual({ rank: 2, count: 3 })
    // Not there (its folder was adopted meanwhile): it takes everything, as if alone.
    expect(shareOf("host-z", entries)).toEqual({ rank: 0, count: 1 })
  })

  it("the default window is a few thousand names, more with a larger CONCURRENCY", () => {
    expect(defaultLimits(8).window).toBe(2048)
    expect(defaultLimits(256).window).toBe(16384)
    expect(defaultLimits(8, 100).window).toBe(100)
  })
})
