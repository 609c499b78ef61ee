/** The processing day, remembered between files: the same text as formatting each instant. */
import { describe, expect, it } from "vitest"
import { makeTodayUtc, todayUtc } from "../src/contract/Contract.js"

describe("the processing day (makeTodayUtc)", () => {
  it("gives todayUtc's text at every instant: across midnight, backwards, before 1970 and far ahead", () => {
    const today = makeTodayUtc()
    const midnight = Date.parse("2026-12-04T00:00:00.000Z")
    const instants = [
      midnight - 1, midnight, midnight + 1, midnight - 1, midnight + 86_399_999, midnight + 86_400_000,
      0, -1, -86_400_000, -86_400_001, Date.parse("2099-12-31T23:59:59.999Z"), Date.parse("2100-01-01T00:00:00.000Z"), midnight
    ]
    for (const ms of instants) expect(today(new Date(ms)), new Date(ms).toISOString()).toBe(todayUtc(new Date(ms)))
  })
})
