// The Contract tries a hand-written boolean check (makeCustomerCheck) before
// the effect/Schema decoder, which runs only for the records the check
// rejects. The two must agree on every record, or a record the schema rejects
// could be routed to validated/: this differential property test holds them
// together, on records built as JSON text (as the daemon receives them) from
// pools of passing and failing values for every field of contract §4, wrong
// types, missing and unknown fields (cvv, __proto__, constructor) included.
import { Either, FastCheck as fc, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { validateDocument } from "../src/contract/Contract.js"
import { makeCustomer, makeCustomerCheck } from "../src/contract/ContractSchema.js"

const TODAY = "2026-11-28"
const decode = Schema.decodeUnknownEither(makeCustomer(TODAY), { errors: "all", onExcessProperty: "error" })
const fastCheck = makeCustomerCheck(TODAY)

/** A JSON value, or a field left out (`absent`). */
const absent = Symbol("absent")
type Entry = readonly [string, unknown]
/** A generated object, kept as its entries in order. */
class Entries {
  constructor(readonly entries: ReadonlyArray<Entry>) {}
}

const anyJson = fc.jsonValue({ maxDepth: 2 })
const pool = (good: ReadonlyArray<unknown>, bad: ReadonlyArray<unknown>) =>
  fc.oneof(
    { weight: 80, arbitrary: fc.constantFrom(...good) },
    { weight: 3, arbitrary: fc.constantFrom(...bad) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    { weight: 1, arbitrary: anyJson }
  )
const required = (values: fc.Arbitrary<unknown>) => fc.oneof({ weight: 100, arbitrary: values }, { weight: 1, arbitrary: fc.constant(absent) })
const optional = (values: fc.Arbitrary<unknown>) => fc.oneof({ weight: 1, arbitrary: values }, { weight: 1, arbitrary: fc.constant(absent) })

const UNKNOWN_KEYS = ["cvv", "cvc", "nickname", "__proto__", "constructor", "toString", "hasOwnProperty", "Email", "customer_id "]
const extras = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...UNKNOWN_KEYS), fc.string({ maxLength: 8 })), anyJson), { maxLength: 1 })
  .chain((list) => fc.oneof({ weight: 40, arbitrary: fc.constant([] as Array<[string, unknown]>) }, { weight: 1, arbitrary: fc.constant(list) }))

/** An object as entries (possibly with extras), or now and then not an object at all. */
const object = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof(
    {
      weight: 60,
      arbitrary: fc.tuple(fc.record(fields), extras).map(([values, more]) =>
        new Entries([...Object.entries(values).filter(([, v]) => v !== absent), ...more])
      )
    },
    { weight: 1, arbitrary: anyJson }
  )


/** JSON text with the keys exactly as generated (an object literal would treat __proto__ specially). */
const toJson = (value: unknown): string =>
  value instanceof Entries
    ? `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`
    : JSON.stringify(value)

const NAME_GOOD = ["A", " Ada ", "é".repeat(100), "x".repeat(100), "Zoë", "李"]
const NAME_BAD = ["", "   ", "x".repeat(101), "A\u0007da", "B\nyron", 1, null]

const addressArb = object({
  line1: required(pool(["x", "1 Main St", "y".repeat(200)], ["", "  ", "y".repeat(201), 5])),
  line2: optional(pool(["", "Flat 1", "y".repeat(200)], ["y".repeat(201), null])),
  city: required(pool(["Zürich", "London"], ["", " ", "c".repeat(101)])),
  postal_code: required(pool(["1", "EC1A 1BB", "12345-6789", "X".repeat(16)], ["", "X".repeat(17), "EC1A_1BB", "1.2", 12345])),
  country: required(pool(["GB", "US"], ["gb", "GBR", "G", "G1", ""]))
})

const paymentArb = object({
  card_number: required(pool(
    ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005", "6011111111111117", "411111111117"],
    ["4111111111111112", "4111  1111 1111 1111", "4111--1111111111111", " 4111111111111111", "41111111111", "41111111111111111111", 4111111111111111]
  )),
  card_holder: required(pool(["A B", "A BYRON"], ["", "  ", "h".repeat(101)])),
  expiry: required(pool(["01/27", "12/30", "09/28"], ["13/27", "00/27", "1/27", "01/2027", "01-27"]))
})

const customerArb = object({
  customer_id: required(pool(["C-1", "C_1-a", "x".repeat(64)], ["", "x".repeat(65), "C 1", "C.1", 7, null])),
  first_name: required(pool(NAME_GOOD, NAME_BAD)),
  last_name: required(pool(NAME_GOOD, NAME_BAD)),
  email: required(pool(
    ["a@b.co", "first.last+tag@sub.example.org", `${"a".repeat(240)}@example.com`],
    ["ab.co", "a@@b.co", "a b@c.co", "a@bco", "a@.b.co", "a@b.co.", "@b.co", "a@", `${"a".repeat(250)}@example.com`, 3]
  )),
  phone: optional(pool(["+44 20 7946 0958", "(0161) 496-0000", "555.0100.22", "1234567"], ["123456", "+1234567890123456", "12345x67", 12345678])),
  date_of_birth: optional(pool(["1900-01-01", "2000-02-29", TODAY], ["1899-12-31", "2026-11-29", "2001-02-29", "2000-13-01", "20000101", 19000101])),
  address: required(addressArb),
  payment: optional(paymentArb),
  created_at: required(pool(
    ["2026-11-28T09:30:00Z", "2026-11-28T10:30:00.250+01:00", "2024-02-29T00:00:00+00:00"],
    ["2026-11-28 09:30", "2026-11-28T09:30:00", "2026-11-28T24:00:00Z", "2026-02-30T09:30:00Z", "2026-11-28T09:30:00+0100", 1795886819898]
  )),
  status: optional(pool(["active", "inactive", "suspended"], ["Active", "deleted", "", true])),
  marketing_opt_in: optional(pool([true, false], ["true", 1, null]))
})

describe("the Contract's fast path agrees with the schema", () => {
  it("on generated records: valid for the check exactly when the schema decodes them", () => {
    let valid = 0
    let runs = 0
    fc.assert(
      fc.property(customerArb, (generated) => {
        const value: unknown = JSON.parse(toJson(generated))
        const bySchema = Either.isRight(decode(value))
        runs++
        if (bySchema) valid++
        expect(fastCheck(value), toJson(generated)).toBe(bySchema)
      }),
      { numRuns: 5000 }
    )
    // Both sides of the agreement are exercised, not just one.
    expect(valid / runs).toBeGreaterThan(0.1)
    expect(valid / runs).toBeLessThan(0.9)
  })

  it("on objects with a __proto__ key and inherited names", () => {
    const base = '"customer_id":"C-1","first_name":"Ada","last_name":"B","email":"a@b.co","address":{"line1":"1","city":"L","postal_code":"N1","country":"GB"},"created_at":"2026-11-28T09:30:00Z"'
    for (const extra of ['"__proto__":{}', '"constructor":1', '"toString":"x"']) {
      const value: unknown = JSON.parse(`{${base},${extra}}`)
      expect(fastCheck(value)).toBe(false)
      expect(Either.isRight(decode(value))).toBe(false)
    }
    expect(fastCheck(JSON.parse(`{${base}}`))).toBe(true)
  })

  it("still reports every issue of a rejected record through the schema", () => {
    const errors = validateDocument([{ customer_id: "C 1", email: "x" }], { maxRecords: 5, today: TODAY }).errors
    expect(errors.map((e) => e.path)).toEqual(["$[0].customer_id", "$[0].first_name", "$[0].last_name", "$[0].email", "$[0].address", "$[0].created_at"])
  })
})
