// validateText and validateBytes (issue 26 item 5): the daemon's own judge for a
// document in hand, through the package's entry point, with rule codes.
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, TestClock } from "effect"
import { judgeBytes } from "../src/contract/JudgeBytes.js"
import { validateBytes, validateText } from "../src/index.js"
import type { ValidateInputOptions } from "../src/index.js"
import { fixture } from "./support/fixtures.js"
import { record } from "./support/fixtures.js"
import { TODAY, TODAY_DATE } from "./support/today.js"

const ON_TODAY = { today: TODAY_DATE }
const text = (value: unknown) => JSON.stringify(value, null, 2)
const rulesOf = (verdict: { readonly errors: ReadonlyArray<{ readonly rule: string }> }) => verdict.errors.map((e) => e.rule)

describe("validateText", () => {
  it.effect("parses the string as JSON text: a valid record's text is valid, not a top-level string", () =>
    Effect.gen(function*() {
      const verdict = yield* validateText(text(record()), ON_TODAY)
      expect(verdict).toMatchObject({ valid: true, records: 1, errors: [], errorCount: 0 })
      expect(verdict.document).toEqual(Option.some(record()))
      // A JSON string value is what a string would be judged as, were it not parsed.
      expect(rulesOf(yield* validateText('"a string"', ON_TODAY))).toEqual(["top-level-value"])
    }))

  it.effect("refuses a key given twice, with line and column (JSON.parse alone keeps the last one)", () =>
    Effect.gen(function*() {
      const verdict = yield* validateText('{\n  "customer_id": "C-1",\n  "customer_id": "C-2"\n}', ON_TODAY)
      expect(verdict.valid).toBe(false)
      expect(verdict.document).toEqual(Option.none())
      expect(verdict.errors).toEqual([{
        record: null,
        path: "$",
        rule: "duplicate-key",
        message: "a key given twice in one object, at line 3, column 3 (each key may appear once)"
      }])
    }))

  it.effect("gives line and column of a syntax error and never quotes the text", () =>
    Effect.gen(function*() {
      const verdict = yield* validateText('{\n  "card": "4111111111111111",\n  oops\n}', ON_TODAY)
      expect(verdict.errors).toEqual([{ record: null, path: "$", rule: "syntax", message: expect.stringMatching(/^malformed JSON at line 3, column 3: /) }])
      expect(verdict.errors[0]!.message).not.toMatch(/4111|oops/)
    }))

  it.effect("ignores a leading byte-order mark, refuses an empty text", () =>
    Effect.gen(function*() {
      expect((yield* validateText("\uFEFF" + text(record()), ON_TODAY)).valid).toBe(true)
      expect(rulesOf(yield* validateText(" \n\t", ON_TODAY))).toEqual(["empty-file"])
    }))

  it.effect("applies MAX_RECORDS: the daemon's default, or the one given", () =>
    Effect.gen(function*() {
      const batch = Array.from({ length: 6 }, (_, i) => record({ customer_id: `C-${i}` }))
      expect((yield* validateText(text(batch), ON_TODAY)).valid).toBe(true)
      const limited = yield* validateText(text(batch), { ...ON_TODAY, maxRecords: 5 })
      expect(limited).toMatchObject({ valid: false, records: 6, errorCount: 1 })
      expect(rulesOf(limited)).toEqual(["too-many-records"])
    }))

  it.effect("lists at most maxErrors errors and counts them all", () =>
    Effect.gen(function*() {
      const verdict = yield* validateText(text(record({ a: 1, b: 2, c: 3 })), { ...ON_TODAY, maxErrors: 2 })
      expect(verdict.errorCount).toBe(3)
      expect(verdict.errors).toHaveLength(2)
    }))

  it.effect("gives each record-level error its rule code", () =>
    Effect.gen(function*() {
      const verdict = yield* validateText(fixture("invalid-mixed-batch.json"), ON_TODAY)
      expect(verdict.errors.map((e) => [e.path, e.rule])).toEqual([
        ["$[1].first_name", "name-format"],
        ["$[1].email", "email-format"],
        ["$[1].address.country", "country-format"],
        ["$[1].payment.cvv", "unknown-field"],
        ["$[1].payment.expiry", "expiry-format"],
        ["$[1].created_at", "created-at-format"],
        ["$[2].customer_id", "customer-id-unique-in-file"]
      ])
    }))

  it.effect("validates a large batch in slices with the same verdict", () =>
    Effect.gen(function*() {
      const batch = Array.from({ length: 3000 }, (_, i) => record({ customer_id: `C-${i}`, ...(i === 2999 ? { email: "x" } : {}) }))
      const verdict = yield* validateText(text(batch), ON_TODAY)
      expect(verdict).toMatchObject({ valid: false, records: 3000, errorCount: 1 })
      expect(verdict.errors).toEqual([{ record: 2999, path: "$[2999].email", rule: "email-format", message: expect.any(String) }])
    }))
})

describe("today, from effect's Clock unless given", () => {
  const born = text(record({ date_of_birth: "1985-12-10" }))

  it.effect("under the TestClock it is 1970-01-01: a date of birth is then after the processing day", () =>
    Effect.gen(function*() {
      const verdict = yield* validateText(born)
      expect(rulesOf(verdict)).toEqual(["date-of-birth-not-after-processing-day"])
      expect(verdict.errors[0]!.message).toContain("(1970-01-01)")
    }))

  it.effect("follows the clock once the test sets it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(TODAY)
      expect((yield* validateText(born)).valid).toBe(true)
    }))

  it.effect("a day given as YYYY-MM-DD or as a Date wins over the clock", () =>
    Effect.gen(function*() {
      expect((yield* validateText(born, { today: "1985-12-10" })).valid).toBe(true)
      expect(rulesOf(yield* validateText(born, { today: new Date("1985-12-09T23:59:59Z") }))).toEqual(["date-of-birth-not-after-processing-day"])
    }))

  it.effect.each<[string, ValidateInputOptions]>([
    ["an impossible day", { today: "2026-02-30" }],
    ["a day in another form", { today: "28/11/2026" }],
    ["an invalid Date", { today: new Date("nonsense") }],
    ["maxRecords 0", { maxRecords: 0 }],
    ["a fractional maxRecords", { maxRecords: 1.5 }],
    ["a negative maxErrors", { maxErrors: -1 }]
  ])("dies with IllegalArgumentException on %s", ([, options]) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(validateText(text(record()), options))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      if (Exit.isFailure(exit)) expect(Cause.squash(exit.cause)).toBeInstanceOf(Cause.IllegalArgumentException)
    }))
})

describe("validateBytes", () => {
  it.effect("refuses invalid UTF-8 and ignores a leading byte-order mark", () =>
    Effect.gen(function*() {
      const latin1 = Uint8Array.from([...new TextEncoder().encode('{"first_name": "Ren'), 0xe9, 0x22, 0x7d])
      expect(rulesOf(yield* validateBytes(latin1, ON_TODAY))).toEqual(["invalid-utf8"])
      const withBom = Uint8Array.from([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text(record()))])
      expect((yield* validateBytes(withBom, ON_TODAY)).valid).toBe(true)
    }))

  it.effect.each(["valid-single.json", "valid-batch.json", "invalid-luhn.json", "invalid-mixed-batch.json", "invalid-truncated.json"])(
    "judges %s as the daemon's own judge does",
    (name) =>
      Effect.gen(function*() {
        const bytes = new TextEncoder().encode(fixture(name))
        const verdict = yield* validateBytes(bytes, ON_TODAY)
        const daemon = judgeBytes({ bytes, maxRecords: 100_000, today: TODAY_DATE }).validation
        expect({ records: verdict.records, errors: verdict.errors, errorCount: verdict.errorCount }).toEqual(daemon)
        expect(verdict.valid).toBe(name.startsWith("valid"))
      })
  )
})
