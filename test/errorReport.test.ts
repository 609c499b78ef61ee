import { describe, expect, it } from "vitest"
import { CONTRACT_VERSION, contractJsonSchema, CONTRACT_VERSION_KEYWORD } from "../src/contract/ContractSchema.js"
import { makeReport, MAX_REPORTED_ERRORS, renderReport, REPORT_TEXT_MAX } from "../src/contract/ErrorReport.js"
import { maskText } from "../src/masking/Masking.js"

const input = {
  file: "batch-7.json",
  storedAs: "batch-7-20261128T093000120Z.json",
  receivedAt: new Date("2026-11-28T09:30:00.120Z"),
  processedAt: new Date("2026-11-28T09:30:00.135Z"),
  errors: [
    { record: 0, path: "$[0].payment.card_number", message: "card number fails the Luhn check (************1112)" },
    { record: null, path: "$", message: "x" }
  ]
}

describe("the error report (contract §6)", () => {
  it("has every field, in order, and the contract version the published schema carries", () => {
    const report = makeReport(input)
    expect(Object.keys(report)).toEqual(["file", "stored_as", "received_at", "processed_at", "contract_version", "error_count", "errors"])
    expect(report).toEqual({
      file: "batch-7.json",
      stored_as: "batch-7-20261128T093000120Z.json",
      received_at: "2026-11-28T09:30:00.120Z",
      processed_at: "2026-11-28T09:30:00.135Z",
      contract_version: CONTRACT_VERSION,
      error_count: 2,
      errors: input.errors
    })
    expect(report.contract_version).toBe(contractJsonSchema({ maxRecords: 1 })[CONTRACT_VERSION_KEYWORD])
    expect(JSON.parse(renderReport(input))).toEqual(report)
  })

  it("lists at most 100 errors and counts them all", () => {
    const errors = Array.from({ length: 150 }, (_, i) => ({ record: i, path: `$[${i}].email`, message: "m" }))
    const report = makeReport({ ...input, errors })
    expect(report.error_count).toBe(150)
    expect(report.errors).toHaveLength(MAX_REPORTED_ERRORS)
  })

  it("counts every error when given the total, with only the first listed (bounded validation)", () => {
    const report = makeReport({ ...input, errorCount: 7_100_000 })
    expect(report.error_count).toBe(7_100_000)
    expect(report.errors).toEqual(input.errors)
    expect(Object.keys(report)).toEqual(["file", "stored_as", "received_at", "processed_at", "contract_version", "error_count", "errors"])
  })

  it("shows stored_as as the stored name exactly (contract §5), and the received file masked (§7)", () => {
    const card = makeReport({ ...input, file: "card4111111111111111.json", storedAs: "cardXXXXXXXXXXXX1111.json" }, maskText)
    expect([card.file, card.stored_as]).toEqual(["card************1111.json", "cardXXXXXXXXXXXX1111.json"])
    // the address's masked local part is X, not *: free-text masking would give o***@, a name that does not exist
    const email = makeReport({ ...input, file: "orders-jane@example.com.json", storedAs: "orders-jXXX@example.com.json" }, maskText)
    expect([email.file, email.stored_as]).toEqual(["orders-j***@example.com.json", "orders-jXXX@example.com.json"])
    // a name that was stored before names were masked is masked as free text
    expect(makeReport({ ...input, storedAs: "card4111111111111111.json" }, maskText).stored_as).toBe("card************1111.json")
  })

  it("shows a path, file or message of any length in at most REPORT_TEXT_MAX characters, masked before it is cut", () => {
    let masked = 0
    const counting = (t: string) => {
      masked += t.length
      return maskText(t)
    }
    const path = `$['${"a".repeat(REPORT_TEXT_MAX - 10)}4111 1111 1111 1111${"a".repeat(1 << 20)}@']`
    const report = makeReport({ ...input, errors: [{ record: 0, path, message: "is not an allowed field" }] }, counting)
    const shown = report.errors[0]!.path
    expect(shown).toHaveLength(REPORT_TEXT_MAX)
    expect(shown).toMatch(/^\$\['a+\*+…$/)
    // only what is shown, plus the margin masked with it
    expect(masked).toBeLessThan(3 * REPORT_TEXT_MAX + 3 * 4096)
  })
})
