/**
 * Counts mean files, not attempts: a file tried again and again is one failed
 * file in the stop line, on the status page (counts, rows, chart) and in the
 * metrics; routed after all, it is counted as routed instead. And when a
 * critical condition clears, an all-clear line and notification say so.
 */
import { SystemError } from "@effect/platform/Error"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Metric } from "effect"
import { runDaemon } from "../src/daemon/Daemon.js"
import * as ActivityModule from "../src/status/Activity.js"
import { Activity } from "../src/status/Activity.js"
import * as Metrics from "../src/status/Metrics.js"
import { Status } from "../src/status/Status.js"
import { fixture } from "./support/fixtures.js"
import { FOLDERS, listing, makeTestApp } from "./support/app.js"
import { captureLogs } from "./support/logs.js"

const D = FOLDERS.DATA_DIR
const V = FOLDERS.VALIDATED_DIR
const R = FOLDERS.RETURNS_DIR
const P = FOLDERS.PROCESSING_DIR

const eperm = (path: string, method: string) =>
  new SystemError({
    reason: "PermissionDenied",
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    cause: Object.assign(new Error("EPERM: operation not permitted"), { code: "EPERM" })
  })

/**
 * Seven valid files and one invalid one, with returns/ refusing new files
 * (as `chattr +i` would) until `returnsWritable()`. The folder checks' probes
 * are let through, so that only the file fails (not the health check too).
 */
const immutableReturns = () => {
  let immutable = true
  const refused = (path: string) => immutable && path.startsWith(`${R}/`) && !/\/\.cjp-(fs)?probe-/.test(path)
  const files: Record<string, string> = { [`${D}/bad.json`]: fixture("invalid-luhn.json") }
  for (let i = 1; i <= 7; i++) files[`${D}/good-${i}.json`] = fixture("valid-single.json")
  const app = makeTestApp({
    files,
    settings: { RESCAN_INTERVAL_MS: "100", POLL_INTERVAL_MS: "50", WATCH_MODE: "poll", QUIET_PERIOD_MS: "0" },
    wrapExtra: (extra) => ({
      ...extra,
      writeNew: (path, bytes, mode, sync) => (refused(path) ? Effect.fail(eperm(path, "open")) : extra.writeNew(path, bytes, mode, sync)),
      copyNew: (source, size, path, mode, sync) => (refused(path) ? Effect.fail(eperm(path, "open")) : extra.copyNew(source, size, path, mode, sync)),
      link: (from, to) => (refused(to) ? Effect.fail(eperm(to, "link")) : extra.link(from, to))
    })
  })
  return { app, returnsWritable: () => void (immutable = false) }
}

const counter = (metric: Metric.Metric.Counter<number>) => Effect.map(Metric.value(metric), (s) => s.count)
const metricCounts = Effect.all({
  failed: counter(Metrics.filesFailed),
  validated: counter(Metrics.filesByOutcome("validated")),
  returned: counter(Metrics.filesByOutcome("returned"))
})
const attemptsLogged = (logs: ReturnType<typeof captureLogs>) =>
  logs.lines.filter((l) => l.message === "file still cannot be processed" && l.annotations["file"] === "bad.json").length + 1
const stopLine = (logs: ReturnType<typeof captureLogs>) => logs.lines.find((l) => l.message === "customer-json-processor stopped")?.annotations

describe("counts mean files", () => {
  it.live("a file tried three times while returns/ is immutable is one failed file: stop line, status page and metrics", () => {
    const { app } = immutableReturns()
    const logs = captureLogs()
    return Effect.gen(function*() {
      const before = yield* metricCounts
      const status = yield* Status
      const activity = yield* Activity
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      // tried again after 1 s, then 2 s more
      while (listing(app.volume, V).length < 7 || attemptsLogged(logs) < 3) yield* Effect.sleep("50 millis")
      expect((yield* status.snapshot).failing).toBe(1)
      const snapshot = activity.snapshot()
      expect(snapshot.totals).toEqual({ validated: 7, returned: 0, failed: 1 })
      // one row for the file, its attempts counted on it
      const failedRows = snapshot.outcomes.filter((o) => o.outcome === "failed")
      expect(failedRows).toHaveLength(1)
      expect(failedRows[0]).toMatchObject({ file: "bad.json", attempts: 3 })
      expect(snapshot.outcomes).toHaveLength(8)
      // the chart: 8 files, 1 of them failed
      const sum = (k: "validated" | "returned" | "failed") => snapshot.minutes.reduce((n, m) => n + m[k], 0)
      expect([sum("validated"), sum("returned"), sum("failed")]).toEqual([7, 0, 1])
      const after = yield* metricCounts
      expect({ failed: after.failed - before.failed, validated: after.validated - before.validated }).toEqual({ failed: 1, validated: 7 })
      expect(Metrics.renderPrometheus(Metric.unsafeSnapshot())).not.toContain('outcome="failed"')
      yield* Fiber.interrupt(fiber)
      expect(stopLine(logs)).toMatchObject({ validated: 7, returned: 0, failed: 1 })
    }).pipe(Effect.provide(app.layer), Effect.provide(ActivityModule.layer), Effect.provide(logs.layer), Effect.timeout("30 seconds"))
  })

  it.live("routed after all, it is a returned file, not a failed one, and an all-clear line and notification say so", () => {
    const { app, returnsWritable } = immutableReturns()
    const logs = captureLogs()
    return Effect.gen(function*() {
      const before = yield* metricCounts
      const status = yield* Status
      const activity = yield* Activity
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      while (listing(app.volume, V).length < 7 || attemptsLogged(logs) < 2) yield* Effect.sleep("50 millis")
      expect(app.recorded.critical.map((c) => c.summary)).toEqual(["file bad.json could not be processed"])
      expect(app.recorded.critical[0]!.instance).toMatch(/-\d+-[0-9a-f]{6}$/)
      expect(app.recorded.cleared).toEqual([])
      returnsWritable()
      while ((yield* status.snapshot).failing > 0 || listing(app.volume, R).length < 2) yield* Effect.sleep("50 millis")
      const snapshot = activity.snapshot()
      expect(snapshot.totals).toEqual({ validated: 7, returned: 1, failed: 0 })
      expect(snapshot.outcomes.filter((o) => o.outcome === "failed")).toEqual([])
      expect(snapshot.outcomes.filter((o) => o.outcome === "returned").map((o) => o.file)).toEqual(["bad.json"])
      const sum = (k: "validated" | "returned" | "failed") => snapshot.minutes.reduce((n, m) => n + m[k], 0)
      expect([sum("validated"), sum("returned"), sum("failed")]).toEqual([7, 1, 0])
      // The counter of files that failed does not go down; the routed one is counted as returned too.
      const after = yield* metricCounts
      expect({ failed: after.failed - before.failed, returned: after.returned - before.returned }).toEqual({ failed: 1, returned: 1 })
      // The all-clear: one line, one notification, under the critical's summary.
      while (app.recorded.cleared.length === 0) yield* Effect.sleep("20 millis")
      expect(app.recorded.cleared).toHaveLength(1)
      expect(app.recorded.cleared[0]).toMatchObject({ summary: "file bad.json could not be processed", instance: app.recorded.critical[0]!.instance })
      expect(app.recorded.cleared[0]!.detail).toMatch(/^it was returned after \d+ failed attempts \(stored as bad\.json\)$/)
      expect(app.recorded.cleared[0]!.since.getTime()).toBeLessThan(app.recorded.cleared[0]!.at.getTime())
      const clear = logs.lines.filter((l) => l.message.startsWith("all clear"))
      expect(clear).toHaveLength(1)
      expect(clear[0]).toMatchObject({ level: "INFO", annotations: { file: "bad.json" } })
      yield* Fiber.interrupt(fiber)
      expect(stopLine(logs)).toMatchObject({ validated: 7, returned: 1, failed: 0 })
    }).pipe(Effect.provide(app.layer), Effect.provide(ActivityModule.layer), Effect.provide(logs.layer), Effect.timeout("30 seconds"))
  })

  it.live("a failing file removed from processing/ ended failed: still counted, no longer failing, and its all-clear says it is gone", () => {
    const { app } = immutableReturns()
    const logs = captureLogs()
    return Effect.gen(function*() {
      const status = yield* Status
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      while (listing(app.volume, V).length < 7 || (yield* status.snapshot).failing === 0) yield* Effect.sleep("50 millis")
      // claimed and failing in processing/: its producer cannot reach it, but an operator removes it there
      const dir = (app.volume.readdirSync(P) as Array<string>).map(String)[0]!
      for (const name of listing(app.volume, `${P}/${dir}`)) if (name.endsWith("bad.json")) app.volume.unlinkSync(`${P}/${dir}/${name}`)
      while ((yield* status.snapshot).failing > 0) yield* Effect.sleep("50 millis")
      while (app.recorded.cleared.length === 0) yield* Effect.sleep("20 millis")
      expect(app.recorded.cleared[0]!.detail).toMatch(/^it is gone from \S+ after \d+ failed attempts? \(removed\); it is not tried any more$/)
      yield* Fiber.interrupt(fiber)
      expect(stopLine(logs)).toMatchObject({ validated: 7, returned: 0, failed: 1 })
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("30 seconds"))
  })

  it.live("a file failing in data/ that its producer removes ended failed too, and its all-clear says so at the next full listing", () => {
    const eio = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "read", pathOrDescriptor: path, cause: Object.assign(new Error("EIO: i/o error"), { code: "EIO" }) })
    const app = makeTestApp({
      files: { [`${D}/sick.json`]: fixture("valid-single.json"), [`${D}/ok.json`]: fixture("valid-single.json") },
      settings: { RESCAN_INTERVAL_MS: "100", POLL_INTERVAL_MS: "50", WATCH_MODE: "poll", QUIET_PERIOD_MS: "0" },
      // It cannot be read where it is (an I/O error): it fails before its claim, in data/.
      wrapExtra: (extra) => ({ ...extra, readRegular: (path, max) => (path === `${D}/sick.json` ? Effect.fail(eio(path)) : extra.readRegular(path, max)) })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const status = yield* Status
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      while (listing(app.volume, V).length < 1 || (yield* status.snapshot).failing === 0) yield* Effect.sleep("50 millis")
      expect(app.recorded.critical.map((c) => c.summary)).toEqual(["file sick.json could not be processed"])
      app.volume.unlinkSync(`${D}/sick.json`)
      while ((yield* status.snapshot).failing > 0) yield* Effect.sleep("50 millis")
      while (app.recorded.cleared.length === 0) yield* Effect.sleep("20 millis")
      expect(app.recorded.cleared).toEqual([expect.objectContaining({ summary: "file sick.json could not be processed", detail: expect.stringMatching(/^it is no longer in \/srv\/data/) })])
      yield* Fiber.interrupt(fiber)
      expect(stopLine(logs)).toMatchObject({ validated: 1, returned: 0, failed: 1 })
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("30 seconds"))
  })
})

describe("all-clears", () => {
  it.live("a disk nearly full, then not: an all-clear line and notification, and the critical named the instance", () => {
    const app = makeTestApp({ settings: { RESCAN_INTERVAL_MS: "60000", HEALTH_CHECK_INTERVAL_MS: "100" } })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const status = yield* Status
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("150 millis")
      app.memory.setFreeBytes(10 * 1024 * 1024)
      while (app.recorded.critical.length === 0) yield* Effect.sleep("20 millis")
      expect(app.recorded.critical[0]).toMatchObject({ summary: `disk nearly full: ${P}`, instance: expect.stringMatching(/-\d+-[0-9a-f]{6}$/) })
      yield* Effect.sleep("300 millis") // failing at several checks: still one condition
      expect(app.recorded.cleared).toEqual([])
      app.memory.setFreeBytes(1024 ** 4)
      while (app.recorded.cleared.length === 0) yield* Effect.sleep("20 millis")
      expect((yield* status.snapshot).healthProblem).toBeUndefined()
      yield* Effect.sleep("300 millis") // passing at several checks: one all-clear
      expect(app.recorded.cleared).toHaveLength(1)
      expect(app.recorded.cleared[0]).toMatchObject({ summary: `disk nearly full: ${P}`, detail: "the health check passes again", instance: app.recorded.critical[0]!.instance })
      const clear = logs.lines.filter((l) => l.message === "all clear: the health check passes again")
      expect(clear).toHaveLength(1)
      expect(clear[0]!.annotations["was"]).toMatch(/MIN_FREE_DISK_MB/)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })

  it.live("a file reported as waiting without an outcome gets an all-clear when it has one", () => {
    const app = makeTestApp({ settings: { RESCAN_INTERVAL_MS: "100", QUIET_PERIOD_MS: "200", WATCH_MODE: "poll", POLL_INTERVAL_MS: "50" } })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      // A writer that takes its time: a partial document, touched every 50 ms, until reported as stuck.
      for (let i = 0; app.recorded.critical.length === 0; i++) {
        if (i > 200) throw new Error("never reported as waiting without an outcome")
        app.volume.writeFileSync(`${D}/slow.json`, `[{"customer_id": "${"x".repeat(i)}"`)
        yield* Effect.sleep("50 millis")
      }
      expect(app.recorded.cleared).toEqual([])
      app.volume.writeFileSync(`${D}/slow.json`, fixture("valid-single.json"))
      while (listing(app.volume, V).length === 0) yield* Effect.sleep("20 millis")
      while (app.recorded.cleared.length === 0) yield* Effect.sleep("20 millis")
      expect(app.recorded.cleared).toEqual([
        expect.objectContaining({ summary: "file slow.json has been waiting without an outcome", detail: "it was validated (stored as slow.json)" })
      ])
      expect(logs.lines.filter((l) => l.message.startsWith("all clear"))).toHaveLength(1)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("30 seconds"))
  })
})
