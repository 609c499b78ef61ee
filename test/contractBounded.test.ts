// Bounded work per file (issue 15, item 4). The Contract lists at most the
// report's 100 errors and counts the rest without making them, and its Effect
// form validates in slices of a few milliseconds, handing the event loop and
// other fibers a turn in between. Held to the old behaviour (every error of
// every record collected through the schema) by a differential property test.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Fiber, ParseResult } from "effect"
import type { ValidationError } from "../src/contract/Contract.js"
import { Contract, jsonPathSegment, validateDocument, validateEffect } from "../src/contract/Contract.js"
import { makeCustomer, makeCustomerRules } from "../src/contract/ContractSchema.js"
import { MAX_REPORTED_ERRORS, renderReport } from "../src/contract/ErrorReport.js"
import { fieldRule } from "../src/contract/Rules.js"
import type { FileRule, RecordRule } from "../src/contract/Rules.js"
import { record } from "./support/fixtures.js"
import { Entries, toJson } from "./support/jsonText.js"

const TODAY = "2026-11-28"
const NOW = new Date(`${TODAY}T12:00:00Z`)

// ------------------------------------------------ the old behaviour, as the oracle

const decode = ParseResult.decodeUnknownEither(makeCustomer(TODAY), { errors: "all", onExcessProperty: "error" })

const oldMessage = (issue: ParseResult.ArrayFormatterIssue): string => {
  if (issue._tag === "Missing") return "is required"
  if (issue._tag === "Unexpected") {
    const last = issue.path[issue.path.length - 1]
    return typeof last === "string" && ["cvv", "cvc"].includes(last.toLowerCase())
      ? "is not an allowed field (a card verification code must never be stored)"
      : "is not an allowed field"
  }
  return issue.message
}

// The rule code, from the untrimmed record (rule codes came later than the bounding; held here alike).
const oldRule = (issue: ParseResult.ArrayFormatterIssue, record: unknown): RecordRule => {
  if (issue._tag === "Missing") return "required"
  if (issue._tag === "Unexpected") return "unknown-field"
  let value = record
  for (const key of issue.path) value = (value as Record<PropertyKey, unknown>)[key]
  return fieldRule(issue.path[issue.path.length - 1], value)
}

/** Every error of the document, as the Contract collected them before errors were bounded. */
const collectAll = (document: unknown, maxRecords: number): { records: number; errors: Array<ValidationError> } => {
  const fileError = (rule: FileRule, message: string) => [{ record: null, path: "$", rule, message }]
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)
  const errors: Array<ValidationError> = []
  const seen = new Map<string, number>()
  const checkRecord = (record: unknown, index: number, prefix: string) => {
    const result = decode(record)
    if (Either.isLeft(result)) {
      for (const issue of ParseResult.ArrayFormatter.formatIssueSync(result.left)) {
        errors.push({ record: index, path: prefix + issue.path.map(jsonPathSegment).join(""), rule: oldRule(issue, record), message: oldMessage(issue) })
      }
    }
    if (isObject(record) && typeof record.customer_id === "string") {
      const first = seen.get(record.customer_id)
      if (first === undefined) seen.set(record.customer_id, index)
      else errors.push({ record: index, path: `${prefix}.customer_id`, rule: "customer-id-unique-in-file", message: `duplicates the customer_id of record ${first}` })
    }
  }
  if (Array.isArray(document)) {
    if (document.length === 0) return { records: 0, errors: fileError("empty-array", `file contains an empty array; expected 1 to ${maxRecords} customer records`) }
    if (document.length > maxRecords) {
      return { records: document.length, errors: fileError("too-many-records", `file contains ${document.length} records; at most ${maxRecords} are allowed (MAX_RECORDS)`) }
    }
    document.forEach((record, i) => checkRecord(record, i, `$[${i}]`))
    return { records: document.length, errors }
  }
  if (isObject(document)) {
    checkRecord(document, 0, "$")
    return { records: 1, errors }
  }
  const kind = document === null ? "null" : typeof document
  return { records: 0, errors: fileError("top-level-value", `top-level value must be a customer object or an array of customer objects, not ${kind}`) }
}

// ------------------------------------------------------------ generated files

const anyJson = fc.jsonValue({ maxDepth: 2 })
const value = (good: ReadonlyArray<unknown>, bad: ReadonlyArray<unknown>) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...good) },
    { weight: 3, arbitrary: fc.constantFrom(...bad) },
    { weight: 1, arbitrary: anyJson }
  )
const ABSENT = Symbol("absent")
const maybe = (arb: fc.Arbitrary<unknown>, absentWeight: number) =>
  fc.oneof({ weight: 10, arbitrary: arb }, { weight: absentWeight, arbitrary: fc.constant(ABSENT) })

const UNKNOWN_KEYS = ["cvv", "CVC", "nickname", "__proto__", "constructor", "toString", "0", "7", "42", "a b", "it's", "Email"]
/** Unknown keys: often none, sometimes a few, sometimes many (more than a small report holds). */
const unknownEntries = fc.oneof(
  { weight: 3, arbitrary: fc.constant([] as Array<[string, unknown]>) },
  { weight: 2, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...UNKNOWN_KEYS), fc.string({ maxLength: 6 })), anyJson), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.constant(0)), { minLength: 5, maxLength: 40 }) }
)

/** An object of these fields (any of them left out), unknown keys mixed in anywhere, or now and then not an object. */
const object = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc.tuple(fc.record(fields), unknownEntries).chain(([known, unknown]) => {
        const entries = [...Object.entries(known).filter(([, v]) => v !== ABSENT), ...unknown]
        return fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }).map((es) => new Entries(es))
      })
    },
    { weight: 1, arbitrary: fc.oneof(anyJson, fc.array(fc.integer(), { maxLength: 3 })) }
  )

const addressArb = object({
  line1: maybe(value(["1 Main St"], ["", "  ", 5]), 1),
  line2: maybe(value(["Flat 1"], ["y".repeat(201), null]), 10),
  city: maybe(value(["London"], ["", "c".repeat(101)]), 1),
  postal_code: maybe(value(["N1 9GU"], ["", "X".repeat(17), 12345]), 1),
  country: maybe(value(["GB"], ["gb", "GBR"]), 1)
})
const paymentArb = object({
  card_number: maybe(value(["4111 1111 1111 1111", "378282246310005"], ["4111111111111112", "41111111111", 4111111111111111]), 1),
  card_holder: maybe(value(["A BYRON"], ["", "h".repeat(101)]), 1),
  expiry: maybe(value(["09/28"], ["13/27", "1/27"]), 1)
})
const customerArb = object({
  // A small pool of ids: duplicates are common.
  customer_id: maybe(value(["C-1", "C-2", "C-3"], ["", "C 1", 7, null]), 1),
  first_name: maybe(value(["Ada"], ["", "A\u0007da", 1]), 1),
  last_name: maybe(value(["Byron"], ["", null]), 1),
  email: maybe(value(["ada@example.com"], ["ab.co", "a@bco", 3]), 1),
  phone: maybe(value(["+44 20 7946 0958"], ["123456", 12345678]), 6),
  date_of_birth: maybe(value(["1985-12-10"], ["2026-11-29", "2001-02-29"]), 6),
  address: maybe(addressArb, 1),
  payment: maybe(paymentArb, 4),
  created_at: maybe(value(["2026-11-28T09:30:00Z"], ["2026-11-28 09:30", 1795886819898]), 1),
  status: maybe(value(["active"], ["Active", true]), 6),
  marketing_opt_in: maybe(value([true], ["true", null]), 6)
})

const documentArb = fc.oneof(
  { weight: 2, arbitrary: customerArb },
  { weight: 6, arbitrary: fc.array(customerArb, { maxLength: 24 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.boolean()) }
)

describe("bounded errors: the same verdict, count and first errors as collecting them all", () => {
  it("on generated files, for reports of 0 to 150 errors and the default 100", async () => {
    let truncated = 0
    let runs = 0
    await fc.assert(
      fc.asyncProperty(
        documentArb,
        fc.integer({ min: 1, max: 30 }),
        fc.option(fc.integer({ min: 0, max: 150 }), { nil: undefined }),
        async (generated, maxRecords, maxErrors) => {
          const text = toJson(generated)
          const document: unknown = JSON.parse(text)
          const all = collectAll(document, maxRecords)
          const options = { maxRecords, today: TODAY, maxErrors }
          const bounded = validateDocument(document, options)
          const limit = maxErrors ?? MAX_REPORTED_ERRORS
          runs++
          if (all.errors.length > limit) truncated++
          expect(bounded.records, text).toBe(all.records)
          expect(bounded.errorCount, text).toBe(all.errors.length)
          expect(bounded.errors, text).toEqual(all.errors.slice(0, limit))
          expect(await Effect.runPromise(validateEffect(document, options)), text).toEqual(bounded)
        }
      ),
      { numRuns: 1500 }
    )
    // The cut is exercised, not just files that fit.
    expect(truncated / runs).toBeGreaterThan(0.2)
  })

  it("lists the first errors of a record with more unknown keys than the report holds, \"__proto__\" and cvv included", () => {
    const document: unknown = JSON.parse(
      `[{"customer_id":"C-1","__proto__":{"x":1},"cvv":"123","7":0,"b":1,"c":2,"address":{"z":1,"y":2,"line1":""}}]`
    )
    const all = collectAll(document, 5)
    for (const maxErrors of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const bounded = validateDocument(document, { maxRecords: 5, today: TODAY, maxErrors })
      expect(bounded.errors).toEqual(all.errors.slice(0, maxErrors))
      expect(bounded.errorCount).toBe(all.errors.length)
    }
    expect(all.errors.slice(0, 3).map((e) => [e.path, e.message])).toEqual([
      ["$[0]['7']", "is not an allowed field"],
      ["$[0].__proto__", "is not an allowed field"],
      ["$[0].cvv", "is not an allowed field (a card verification code must never be stored)"]
    ])
  })
})

describe("the record rules' count and trim", () => {
  const rules = makeCustomerRules(TODAY)

  it("count: one issue per unknown key, per missing required field and per failing field", () => {
    expect(rules.count(record())).toBe(0)
    expect(rules.count("x")).toBe(1)
    expect(rules.count([record()])).toBe(1)
    expect(rules.count(JSON.parse(`{"a":1,"b":2}`))).toBe(2 + 6)
    // email of the wrong type; address: one unknown key and its four required fields missing
    expect(rules.count(record({ email: 3, address: { x: 1 } }))).toBe(1 + 1 + 4)
    expect(rules.count(record({ payment: "none" }))).toBe(1)
  })

  it("trim: keeps the first unknown keys of each object, every known field, the order, and \"__proto__\" as an own key", () => {
    const text = `{"u1":1,"customer_id":"C-1","__proto__":{"p":1},"u3":3,"address":{"a":1,"line1":"x","b":2,"c":3},"u4":4}`
    const value: unknown = JSON.parse(text)
    const trimmed = rules.trim(value, 2)
    expect(JSON.stringify(trimmed)).toBe(`{"u1":1,"customer_id":"C-1","__proto__":{"p":1},"address":{"a":1,"line1":"x","b":2}}`)
    expect(Object.getPrototypeOf(trimmed)).toBe(Object.prototype)
    expect(JSON.stringify(rules.trim(value, 0))).toBe(`{"customer_id":"C-1","address":{"line1":"x"}}`)
    // The input is left as it was; values that are not objects come back as they are.
    expect(JSON.stringify(value)).toBe(text)
    expect(rules.trim("x", 0)).toBe("x")
    const list = [1, 2]
    expect(rules.trim(list, 0)).toBe(list)
  })
})

// ------------------------------------------------------------ the hostile file

const BIG_RECORDS = 100_000
const UNKNOWN_PER_RECORD = 65
/** 100,000 records of 65 unknown keys each (51 MB): 65 unexpected + 6 missing fields = 71 errors a record. */
const bigFileText = (): string => {
  const record = `{${Array.from({ length: UNKNOWN_PER_RECORD }, (_, k) => `"k${k}":0`).join(",")}}`
  return `[${Array.from({ length: BIG_RECORDS }, () => record).join(",")}]`
}
const MISSING = ["customer_id", "first_name", "last_name", "email", "address", "created_at"]

describe("a file of 100,000 records with 65 unknown keys each", () => {
  // Parsed once for the group, as the daemon parses it: 51 MB of JSON text.
  const document: unknown = JSON.parse(bigFileText())
  const contract = Contract.make(BIG_RECORDS)

  it.live("is judged with its exact error count and the report's first 100 errors", () =>
    Effect.gen(function*() {
      const judged = yield* contract.validateEffect(document, NOW)
      expect(judged.records).toBe(BIG_RECORDS)
      expect(judged.errorCount).toBe(BIG_RECORDS * (UNKNOWN_PER_RECORD + MISSING.length))
      expect(judged.errors).toHaveLength(MAX_REPORTED_ERRORS)
      // The schema's order: a record's unknown keys, then its missing fields; then the next record.
      const expected = [
        ...Array.from({ length: UNKNOWN_PER_RECORD }, (_, k) => ({ record: 0, path: `$[0].k${k}`, rule: "unknown-field", message: "is not an allowed field" })),
        ...MISSING.map((field) => ({ record: 0, path: `$[0].${field}`, rule: "required", message: "is required" })),
        ...Array.from({ length: 29 }, (_, k) => ({ record: 1, path: `$[1].k${k}`, rule: "unknown-field", message: "is not an allowed field" }))
      ]
      expect(judged.errors).toEqual(expected)
      // The one-go form agrees.
      expect(contract.validate(document, NOW)).toEqual(judged)

      // The report: all counted, 100 listed, and small (the result holds no per-error object beyond them).
      const report = renderReport({ file: "big.json", storedAs: "big.json", receivedAt: NOW, processedAt: NOW, ...judged })
      const parsed = JSON.parse(report) as { error_count: number; errors: Array<unknown> }
      expect(Object.keys(parsed)).toEqual(["file", "stored_as", "received_at", "processed_at", "contract_version", "error_count", "errors"])
      expect(parsed.error_count).toBe(7_100_000)
      expect(parsed.errors).toHaveLength(100)
      expect(report.length).toBeLessThan(20_000)
      expect(JSON.stringify(judged).length).toBeLessThan(10_000)
    }))

  it.live("lets a concurrent fiber and the event loop run between slices", () =>
    Effect.gen(function*() {
      let fiberTicks = 0
      let loopTurns = 0
      let probing = true
      // An event-loop turn counter: a chain of setImmediate callbacks.
      const turn = () => {
        loopTurns++
        if (probing) setImmediate(turn)
      }
      setImmediate(turn)
      const counter = yield* Effect.fork(Effect.forever(Effect.zipRight(Effect.sync(() => void fiberTicks++), Effect.yieldNow())))
      yield* Effect.yieldNow()

      // Counted from inside the validating fiber: the counters can only move while it is suspended.
      const during = <A>(validate: Effect.Effect<A>) =>
        Effect.suspend(() => {
          const ticks = fiberTicks
          const turns = loopTurns
          return Effect.map(validate, (result) => ({ result, fiberTicks: fiberTicks - ticks, loopTurns: loopTurns - turns }))
        })
      const sliced = yield* during(contract.validateEffect(document, NOW))
      const inOneGo = yield* during(Effect.sync(() => contract.validate(document, NOW)))
      probing = false
      yield* Fiber.interrupt(counter)

      expect(sliced.result).toEqual(inOneGo.result)
      // Validating 100,000 records takes far longer than a slice of a few milliseconds.
      expect(sliced.fiberTicks).toBeGreaterThanOrEqual(2)
      expect(sliced.loopTurns).toBeGreaterThanOrEqual(2)
      // The contrast: in one go, neither gets a turn.
      expect(inOneGo.fiberTicks).toBe(0)
      expect(inOneGo.loopTurns).toBe(0)
    }))

  it.live("counts duplicate customer_ids across slices as in one go", () =>
    Effect.gen(function*() {
      // Valid records whose ids repeat every 1,000: 49,000 duplicates, checked across many slices.
      const records = Array.from({ length: 50_000 }, (_, i) => record({ customer_id: `C-${i % 1000}` }))
      const judged = yield* validateEffect(records, { maxRecords: 50_000, today: TODAY })
      const all = collectAll(records, 50_000)
      expect(judged.errorCount).toBe(49_000)
      expect(all.errors).toHaveLength(49_000)
      expect(judged.errors).toEqual(all.errors.slice(0, 100))
      expect(judged.errors[0]).toEqual({ record: 1000, path: "$[1000].customer_id", rule: "customer-id-unique-in-file", message: "duplicates the customer_id of record 0" })
    }))
})
