/**
 * Large files are judged in a worker thread, with the same verdict as on the
 * main thread, while the daemon's event loop keeps turning.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { judgeBytes } from "../src/contract/JudgeBytes.js"
import * as OffThreadJudgeModule from "../src/contract/OffThreadJudge.js"
import { OFF_THREAD_BYTES, OffThreadJudge } from "../src/contract/OffThreadJudge.js"
import { runDaemon } from "../src/daemon/Daemon.js"
import { FOLDERS, listing, makeTestApp } from "./support/app.js"
import { provideToday, TODAY_DATE } from "./support/today.js"

const today = TODAY_DATE
const record = (i: number, extra: Record<string, unknown> = {}) => ({
  customer_id: `C-${i}`,
  first_name: "Ada",
  last_name: "Lovelace",
  email: `ada${i}@example.com`,
  ...extra
})
const bytesOf = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
const validBig = bytesOf(Array.from({ length: 20_000 }, (_, i) => record(i)))
const invalidBig = bytesOf(Array.from({ length: 20_000 }, (_, i) => record(i, i % 7 === 0 ? { unknown_key: i } : {})))
/** Many unknown keys per record: the costliest kind of file to parse and judge. */
const pathological = bytesOf(Array.from({ length: 40_000 }, (_, i) => record(i, Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`x${k}`, k])))))

describe("OffThreadJudge", () => {
  it("the test files are large enough to go off the event loop", () => {
    expect(validBig.length).toBeGreaterThan(OFF_THREAD_BYTES)
    expect(invalidBig.length).toBeGreaterThan(OFF_THREAD_BYTES)
  })

  it.scoped("gives the main thread's verdict for valid, invalid, malformed and unfinished files", () =>
    Effect.gen(function*() {
      const judge = yield* OffThreadJudge
      for (const bytes of [validBig, invalidBig, new TextEncoder().encode("[{\"a\": 1},"), new Uint8Array([0xff, 0xfe]), new Uint8Array(0)]) {
        const request = { bytes, maxRecords: 100_000, today }
        expect(yield* judge.judge(request)).toEqual(judgeBytes(request))
      }
      const invalid = yield* judge.judge({ bytes: invalidBig, maxRecords: 100_000, today })
      expect(invalid.complete).toBe(true)
      expect(invalid.validation.errorCount).toBeGreaterThan(100)
      expect(invalid.validation.errors).toHaveLength(100)
    }).pipe(Effect.provide(OffThreadJudgeModule.layer)))

  it.scoped("the event loop keeps turning while a large file is judged", () =>
    Effect.gen(function*() {
      const judge = yield* OffThreadJudge
      // Started first, so that timing below is the judgement, not the thread's start.
      yield* judge.judge({ bytes: validBig, maxRecords: 100_000, today })
      const ticks: Array<number> = []
      const timer = setInterval(() => ticks.push(performance.now()), 5)
      const started = performance.now()
      const verdict = yield* judge.judge({ bytes: pathological, maxRecords: 100_000, today })
      const took = performance.now() - started
      clearInterval(timer)
      expect(verdict).toEqual(judgeBytes({ bytes: pathological, maxRecords: 100_000, today }))
      // The judgement took a while; the timer kept firing meanwhile, with no long gap.
      const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!)
      expect(took).toBeGreaterThan(100)
      expect(ticks.length).toBeGreaterThan(5)
      expect(Math.max(...gaps)).toBeLessThan(took / 2)
    }).pipe(Effect.provide(OffThreadJudgeModule.layer)))
})

describe("the daemon judges a large file off the event loop", () => {
  it.scoped("routes a large invalid file with the same report as the main thread would write", () => {
    const app = makeTestApp({ files: { [`${FOLDERS.DATA_DIR}/big.json`]: invalidBig } })
    return Effect.gen(function*() {
      const summary = yield* runDaemon({ once: true })
      expect(summary.returned).toBe(1)
      expect(listing(app.volume, FOLDERS.RETURNS_DIR)).toEqual(["big.json", "big.json.error.json"])
      const report = JSON.parse(String(app.volume.readFileSync(`${FOLDERS.RETURNS_DIR}/big.json.error.json`, "utf8")))
      const expected = judgeBytes({ bytes: invalidBig, maxRecords: 100_000, today })
      expect(report.error_count).toBe(expected.validation.errorCount)
      expect(report.errors).toHaveLength(100)
      expect(Buffer.from(app.volume.readFileSync(`${FOLDERS.RETURNS_DIR}/big.json`) as Buffer).equals(Buffer.from(invalidBig))).toBe(true)
    }).pipe(provideToday(app.layer))
  })
})
