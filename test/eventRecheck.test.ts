/** How soon an event brings on another look at a file waiting for its writer (pure). */
import { describe, expect, it } from "vitest"
import { EVENT_RECHECK_MAX_MS, eventRecheckDelay } from "../src/daemon/Intake.js"

describe("eventRecheckDelay", () => {
  it("starts at 50 ms, doubles with each read that found the file unfinished, and stops at a second", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(eventRecheckDelay)).toEqual([50, 100, 200, 400, 800, 1000, 1000, 1000])
    expect(EVENT_RECHECK_MAX_MS).toBe(1000)
    expect(eventRecheckDelay(1_000_000)).toBe(1000)
  })
})
