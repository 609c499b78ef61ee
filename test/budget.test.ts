/**
 * The per-file budget of filesystem calls (issue: regressions that show before
 * they land): every call the daemon makes through FileOps is counted over the
 * in-memory filesystem, for backlogs of N and 2N files of one kind; the
 * difference over N is what one more file costs, whatever the fixed costs of a
 * run (start-up probes, listings, heartbeats). The budgets are written here:
 * adding a system call to the hot path fails this test, not just a benchmark.
 * No timing is involved.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { runDaemon } from "../src/daemon/Daemon.js"
import type { FileOpsService } from "../src/files/FileOps.js"
import { FOLDERS, makeTestApp } from "./support/app.js"
import { fixture } from "./support/fixtures.js"
import { provideToday } from "./support/today.js"

const D = FOLDERS.DATA_DIR

type Calls = Record<string, number>

/** Counts every FileOps call by its name. */
const counting = (calls: Calls) => (extra: FileOpsService): FileOpsService => {
  const counted = { ...extra } as Record<string, unknown>
  for (const [name, op] of Object.entries(extra)) {
    if (typeof op !== "function") continue
    counted[name] = (...args: Array<unknown>) => {
      calls[name] = (calls[name] ?? 0) + 1
      return (op as (...a: Array<unknown>) => unknown)(...args)
    }
  }
  return counted as unknown as FileOpsService
}

/** The calls of one `--once` run over `count` files of `content`, owned by `uid`. */
const callsFor = (count: number, content: string, uid: number | undefined, settings: Record<string, string> = {}) => {
  const files: Record<string, string> = {}
  for (let i = 0; i < count; i++) files[`${D}/f${i}.json`] = content
  const calls: Calls = {}
  const app = makeTestApp({ files, settings: { QUIET_PERIOD_MS: "0", CONCURRENCY: "4", ...settings }, wrapExtra: counting(calls) })
  if (uid !== undefined) for (let i = 0; i < count; i++) app.volume.chownSync(`${D}/f${i}.json`, uid, uid)
  return Effect.gen(function*() {
    const summary = yield* Effect.scoped(runDaemon({ once: true }))
    expect(summary.validated + summary.returned).toBe(count)
    return calls
  }).pipe(provideToday(app.layer))
}

/** What one more file costs, call by call (calls that do not grow with the files are left out). */
const perFile = (kind: { readonly content: string; readonly uid?: number; readonly settings?: Record<string, string> }) =>
  Effect.gen(function*() {
    const n = 40
    const small = yield* callsFor(n, kind.content, kind.uid, kind.settings)
    const large = yield* callsFor(2 * n, kind.content, kind.uid, kind.settings)
    const each: Calls = {}
    for (const name of new Set([...Object.keys(small), ...Object.keys(large)])) {
      const extra = ((large[name] ?? 0) - (small[name] ?? 0)) / n
      if (extra > 0.05) each[name] = Math.round(extra * 100) / 100
    }
    return each
  })

const total = (calls: Calls) => Object.values(calls).reduce((a, b) => a + b, 0)

const euid = process.geteuid?.() ?? 0
const OTHER_USER = euid + 4242

describe("the filesystem calls of one file (the budget)", () => {
  it.effect("a valid file of the daemon's own user: look (read), claim, check, link, release", () =>
    Effect.map(perFile({ content: fixture("valid-single.json") }), (each) => {
      expect(each).toEqual({ readRegular: 1, rename: 1, identify: 1, link: 1, unlink: 1 })
      expect(total(each)).toBeLessThanOrEqual(5)
    }))

  it.effect("a valid file of another user: its copy written, linked, flushed, and its stage removed", () =>
    Effect.map(perFile({ content: fixture("valid-single.json"), uid: OTHER_USER }), (each) => {
      expect(each).toEqual({ readRegular: 1, rename: 1, identify: 1, writeNew: 1, link: 1, flush: 1, unlink: 2 })
      expect(total(each)).toBeLessThanOrEqual(8)
    }))

  it.effect("a returned file of the daemon's own user: both names checked free, its report staged and placed first", () =>
    Effect.map(perFile({ content: fixture("invalid-luhn.json") }), (each) => {
      // identify: the claimed check; lookup: both names free; writeNew: the report's target note and its stage;
      // link: report and data; unlink: the claimed name, the report's stage and its note.
      expect(each).toEqual({ readRegular: 1, rename: 1, identify: 1, lookup: 2, writeNew: 2, link: 2, unlink: 3 })
      expect(total(each)).toBeLessThanOrEqual(12)
    }))

  it.effect("a returned file of another user: its copy too", () =>
    Effect.map(perFile({ content: fixture("invalid-luhn.json"), uid: OTHER_USER }), (each) => {
      expect(each).toEqual({ readRegular: 1, rename: 1, identify: 1, lookup: 2, writeNew: 3, link: 2, flush: 1, unlink: 4 })
      expect(total(each)).toBeLessThanOrEqual(15)
    }))

  it.effect("STORE_MODE=copy: a file of the daemon's own user is copied as another user's is", () =>
    Effect.map(perFile({ content: fixture("valid-single.json"), settings: { STORE_MODE: "copy" } }), (each) => {
      expect(each).toEqual({ readRegular: 1, rename: 1, identify: 1, writeNew: 1, link: 1, flush: 1, unlink: 2 })
    }))
})
