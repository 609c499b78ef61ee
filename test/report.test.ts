import { describe, expect, it } from "vitest"
import type { ValidationError } from "../src/Contract.js"
import { makeReport, MAX_REPORTED_ERRORS } from "../src/Report.js"

const at = new Date("2026-11-28T09:30:00.120Z")
const errorsOf = (n: number): Array<ValidationError> =>
  Array.from({ length: n }, (_, i) => ({ record: i, path: `$[${i}].email`, message: "must be an email address" }))
const base = { file: "f.json", storedAs: "f.json", receivedAt: at, processedAt: at }

describe("makeReport (contract §6)", () => {
  it("counts every error when given the total, and lists the errors it holds", () => {
    const report = makeReport({ ...base, errors: errorsOf(MAX_REPORTED_ERRORS), errorCount: 7_100_000 })
    expect(report.error_count).toBe(7_100_000)
    expect(report.errors).toHaveLength(MAX_REPORTED_ERRORS)
    expect(Object.keys(report)).toEqual(["file", "stored_as", "received_at", "processed_at", "error_count", "errors"])
  })

  it("without a total, counts the errors given and lists at most 100", () => {
    const report = makeReport({ ...base, errors: errorsOf(150) })
    expect(report.error_count).toBe(150)
    expect(report.errors).toHaveLength(100)
    expect(report.errors[99]).toEqual({ record: 99, path: "$[99].email", message: "must be an email address" })
  })
})
