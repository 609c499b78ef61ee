import { describe, expect, it } from "vitest"
import type { ValidationError } from "../src/contract/Contract.js"
import { jsonPathSegment, KEY_SHOWN_MAX, makeDecoders, validateDocument } from "../src/contract/Contract.js"
import { contractJsonSchema } from "../src/contract/ContractSchema.js"
import { address, fixtureJson, payment, record } from "./support/fixtures.js"

const options = { maxRecords: 5, today: "2026-11-28" }
const errorsOf = (doc: unknown): ReadonlyArray<ValidationError> => validateDocument(doc, options).errors
const pathsOf = (doc: unknown) => errorsOf(doc).map((e) => e.path)

/** One field value: the single-record error paths it produces. */
const check = (overrides: Record<string, unknown>) => pathsOf(record(overrides))

describe("contract §4: customer record", () => {
  it("accepts a minimal record and one with every optional field", () => {
    expect(errorsOf(record())).toEqual([])
    expect(
      errorsOf(record({
        phone: "+44 20 7946 0958",
        date_of_birth: "1985-12-10",
        address: address({ line2: "Flat 1" }),
        payment: payment(),
        status: "active",
        marketing_opt_in: false
      }))
    ).toEqual([])
  })

  it.each([
    ["customer_id", ["C_1-a", "x".repeat(64)], ["", "x".repeat(65), "C 1", "C.1", 7, null]],
    ["first_name", ["A", " Ada ", "é".repeat(100), "x".repeat(100)], ["", "   ", "x".repeat(101), "A\u0007da", 1]],
    ["last_name", ["Byron"], ["", "\t", "B\nyron"]],
    ["email", ["a@b.co", "first.last+tag@sub.example.org", `${"a".repeat(240)}@example.com`], [
      "ab.co",
      "a@@b.co",
      "a@b@c.co",
      "a b@c.co",
      "a@bco",
      "a@.b.co",
      "a@b.co.",
      "a@-b.co",
      "a@b.co-",
      "@b.co",
      "a@",
      `${"a".repeat(250)}@example.com`,
      3
    ]],
    ["phone", ["+44 20 7946 0958", "(0161) 496-0000", "555.0100.22", "1234567", "+123456789012345"], [
      "123456",
      "+1234567890123456",
      "12345x67",
      "++1234567",
      "1234567+",
      12345678
    ]],
    ["date_of_birth", ["1900-01-01", "2000-02-29", "2026-11-28"], [
      "1899-12-31",
      "2026-11-29",
      "2001-02-29",
      "2000-13-01",
      "2000-04-31",
      "20000101",
      "2000-1-01",
      19000101
    ]],
    ["created_at", [
      "2026-11-28T09:30:00Z",
      "2026-11-28T10:30:00.250+01:00",
      "2026-11-27T23:59:59.999-05:00",
      "2024-02-29T00:00:00+00:00"
    ], [
      "2026-11-28 09:30",
      "2026-11-28T09:30Z",
      "2026-11-28T09:30:00",
      "2026-11-28T24:00:00Z",
      "2026-11-28T09:60:00Z",
      "2026-02-30T09:30:00Z",
      "2026-11-28T09:30:00+0100",
      "2026-11-28T09:30:00z",
      "2026-11-28",
      1795886819898
    ]],
    ["status", ["active", "inactive", "suspended"], ["Active", "deleted", "", true]],
    ["marketing_opt_in", [true, false], ["true", 1, null]]
  ])("%s: passing and failing values", (field, good, bad) => {
    for (const value of good as Array<unknown>) expect(check({ [field]: value }), `${field}=${JSON.stringify(value)}`).toEqual([])
    for (const value of bad as Array<unknown>) {
      expect(check({ [field]: value }), `${field}=${JSON.stringify(value)}`).toEqual([`$.${field}`])
    }
  })

  it.each(["customer_id", "first_name", "last_name", "email", "address", "created_at"])("requires %s", (field) => {
    expect(errorsOf(record({ [field]: undefined }))).toEqual([{ record: 0, path: `$.${field}`, rule: "required", message: "is required" }])
  })

  it.each([
    ["line1", ["x", "y".repeat(200)], ["", "  ", "y".repeat(201), 5]],
    ["line2", ["", "y".repeat(200)], ["y".repeat(201), null]],
    ["city", ["Zürich"], ["", " ", "c".repeat(101)]],
    ["postal_code", ["1", "EC1A 1BB", "12345-6789", "X".repeat(16)], ["", "X".repeat(17), "EC1A_1BB", "1.2", 12345]],
    ["country", ["GB", "US"], ["gb", "GBR", "G", "G1", ""]]
  ])("address.%s: passing and failing values", (field, good, bad) => {
    for (const value of good as Array<unknown>) expect(check({ address: address({ [field]: value }) })).toEqual([])
    for (const value of bad as Array<unknown>) {
      expect(check({ address: address({ [field]: value }) }), JSON.stringify(value)).toEqual([`$.address.${field}`])
    }
  })

  it.each(["line1", "city", "postal_code", "country"])("address requires %s", (field) => {
    expect(check({ address: address({ [field]: undefined }) })).toEqual([`$.address.${field}`])
  })

  it.each([
    ["card_number", [
      "4111111111111111",
      "4111 1111 1111 1111",
      "4111-1111-1111-1111",
      "378282246310005",
      "5555-5555-5555-4444",
      "6011111111111117",
      "411111111117" // 12 digits, Luhn-valid
    ], ["4111111111111112", "4111  1111 1111 1111", "4111--1111111111111", " 4111111111111111", "41111111111", "41111111111111111111", "4111x11111111111", 4111111111111111]],
    ["card_holder", ["A B"], ["", "  ", "h".repeat(101)]],
    ["expiry", ["01/27", "12/30"], ["13/27", "00/27", "1/27", "01/2027", "01-27"]]
  ])("payment.%s: passing and failing values", (field, good, bad) => {
    for (const value of good as Array<unknown>) expect(check({ payment: payment({ [field]: value }) }), JSON.stringify(value)).toEqual([])
    for (const value of bad as Array<unknown>) {
      expect(check({ payment: payment({ [field]: value }) }), JSON.stringify(value)).toEqual([`$.payment.${field}`])
    }
  })

  it("rejects unknown fields at every level, cvv included", () => {
    expect(errorsOf(record({ nickname: "x", address: address({ floor: 2 }), payment: payment({ cvv: "123" }) }))).toEqual([
      { record: 0, path: "$.nickname", rule: "unknown-field", message: "is not an allowed field" },
      { record: 0, path: "$.address.floor", rule: "unknown-field", message: "is not an allowed field" },
      {
        record: 0,
        path: "$.payment.cvv",
        rule: "unknown-field",
        message: "is not an allowed field (a card verification code must never be stored)"
      }
    ])
  })

  it("rejects wrong types for objects", () => {
    expect(check({ address: "1 Main St" })).toEqual(["$.address"])
    expect(check({ payment: [] })).toEqual(["$.payment"])
  })

  it("shows a failing card number only masked to its last four digits", () => {
    expect(errorsOf(record({ payment: payment({ card_number: "4111 1111 1111 1112" }) }))).toEqual([
      { record: 0, path: "$.payment.card_number", rule: "card-number-luhn", message: "card number fails the Luhn check (************1112)" }
    ])
  })
})

describe("contract §3: shape", () => {
  it("indexes records in a batch and uses $ for a single object", () => {
    expect(pathsOf([record(), record({ customer_id: "C-2", email: "bad" })])).toEqual(["$[1].email"])
    expect(errorsOf([record(), record({ customer_id: "C-2", email: "bad" })])[0]!.record).toBe(1)
    expect(pathsOf(record({ email: "bad" }))).toEqual(["$.email"])
  })
  it("makes the second of two equal customer_ids invalid", () => {
    expect(errorsOf([record(), record({ email: "b@example.com" })])).toEqual([
      { record: 1, path: "$[1].customer_id", rule: "customer-id-unique-in-file", message: "duplicates the customer_id of record 0" }
    ])
  })
  it("rejects an empty array as a file-level error", () => {
    expect(errorsOf([])).toEqual([{ record: null, path: "$", rule: "empty-array", message: "file contains an empty array; expected 1 to 5 customer records" }])
  })
  it("rejects more than MAX_RECORDS records", () => {
    const result = validateDocument(Array.from({ length: 6 }, (_, i) => record({ customer_id: `C-${i}` })), options)
    expect(result.errors).toEqual([{ record: null, path: "$", rule: "too-many-records", message: "file contains 6 records; at most 5 are allowed (MAX_RECORDS)" }])
  })
  it.each([["string", "x"], ["number", 7], ["null", null], ["boolean", true]])("rejects a top-level %s", (kind, doc) => {
    expect(errorsOf(doc)).toEqual([{
      record: null,
      path: "$",
      rule: "top-level-value",
      message: `top-level value must be a customer object or an array of customer objects, not ${kind}`
    }])
  })
  it("rejects a record that is not an object", () => {
    expect(errorsOf([record(), "x", [record({ customer_id: "C-3" })]])).toEqual([
      { record: 1, path: "$[1]", rule: "not-an-object", message: "must be a customer object" },
      { record: 2, path: "$[2]", rule: "not-an-object", message: "must be a customer object" }
    ])
  })
  it("collects every error of every record", () => {
    const errors = errorsOf([record({ email: "x", status: "y" }), record({ customer_id: "C-2", first_name: "" })])
    expect(errors.map((e) => e.path)).toEqual(["$[0].email", "$[0].status", "$[1].first_name"])
  })
})

describe("the example kinds (own fixtures)", () => {
  it("valid-single and valid-batch pass", () => {
    expect(errorsOf(fixtureJson("valid-single.json"))).toEqual([])
    expect(validateDocument(fixtureJson("valid-batch.json"), options)).toEqual({ records: 3, errors: [], errorCount: 0 })
  })
  it("invalid-luhn reports only the masked card number", () => {
    expect(errorsOf(fixtureJson("invalid-luhn.json"))).toEqual([
      { record: 0, path: "$.payment.card_number", rule: "card-number-luhn", message: "card number fails the Luhn check (************1882)" }
    ])
  })
  it("invalid-mixed-batch reports each broken rule of records 1 and 2", () => {
    expect(pathsOf(fixtureJson("invalid-mixed-batch.json")).sort()).toEqual([
      "$[1].address.country",
      "$[1].created_at",
      "$[1].email",
      "$[1].first_name",
      "$[1].payment.cvv",
      "$[1].payment.expiry",
      "$[2].customer_id"
    ])
  })
})

describe("messages never quote the input (contract §6)", () => {
  const secrets = [
    "4111111111111112",
    "SECRET-NAME-\u0001",
    "leak@@example.com",
    "LEAKCITY".repeat(30),
    "ZZZZZZZZZZZZZZZZZZ",
    "hunter2-password"
  ]
  const doc = [
    record({
      customer_id: "SECRET ID",
      first_name: secrets[1],
      email: secrets[2],
      phone: "hunter2-password",
      date_of_birth: "1234-99-99",
      address: address({ city: secrets[3], postal_code: secrets[4], country: "leakland" }),
      payment: payment({ card_number: secrets[0], card_holder: "", expiry: "99/99", cvv: "987" }),
      created_at: "yesterday at noon",
      status: "leaked-status",
      marketing_opt_in: "leaked-bool"
    })
  ]
  it("names the rule, and shows a card number only as its last four digits", () => {
    const errors = errorsOf(doc)
    expect(errors.length).toBeGreaterThanOrEqual(12)
    const text = errors.map((e) => e.message).join("\n")
    for (const s of [...secrets, "SECRET ID", "1234-99-99", "leakland", "987", "99/99", "yesterday", "leaked"]) {
      expect(text).not.toContain(s)
    }
    expect(text).toContain("************1112")
  })
})

describe("JSONPath", () => {
  it("quotes keys that are not identifiers", () => {
    expect(jsonPathSegment("a b")).toBe("['a b']")
    expect(jsonPathSegment("it's")).toBe("['it\\'s']")
    expect(jsonPathSegment(3)).toBe("[3]")
    expect(pathsOf(record({ "odd key": 1 }))).toEqual(["$['odd key']"])
  })

  it("shows a key longer than KEY_SHOWN_MAX masked and cut: a path stays small whatever the key (issue 27)", () => {
    // the unknown key of the report that blocked the daemon: letters ending in `@`, here 1 MB
    const long = `${"a".repeat(1 << 20)}@`
    expect(pathsOf(record({ [long]: 1 }))).toEqual([`$['${"a".repeat(KEY_SHOWN_MAX - 1)}…']`])
    // a card number or an address across the cut is masked before it is cut
    const card = `${"k".repeat(KEY_SHOWN_MAX - 8)}4111 1111 1111 1111${"z".repeat(1000)}`
    expect(pathsOf(record({ [card]: 1 }))).toEqual([`$['${"k".repeat(KEY_SHOWN_MAX - 8)}${"*".repeat(7)}…']`])
    const email = `${"k".repeat(KEY_SHOWN_MAX - 8)} jane.roe@example.org ${"z".repeat(1000)}`
    expect(pathsOf(record({ [email]: 1 }))).toEqual([`$['${"k".repeat(KEY_SHOWN_MAX - 8)} j***@e…']`])
    // a key of KEY_SHOWN_MAX characters is shown whole, for the report's masking to mask
    const whole = "b".repeat(KEY_SHOWN_MAX)
    expect(pathsOf(record({ [whole]: 1 }))).toEqual([`$.${whole}`])
  })
})

describe("JSON Schema", () => {
  it("describes the document as one customer or an array of 1 to MAX_RECORDS", () => {
    const schema = contractJsonSchema({ maxRecords: 5 })
    const text = JSON.stringify(schema)
    expect(schema["anyOf"]).toHaveLength(2)
    expect(text).toContain('"minItems":1')
    expect(text).toContain('"maxItems":5')
    expect(text).toContain('"additionalProperties":false')
    expect(text).toContain('"customer_id"')
  })
})

describe("decoders: one per processing day, held by whoever validates (no module state)", () => {
  it("keeps the day's decoder, builds the next day's, and validates as a fresh one does", () => {
    const decoders = makeDecoders()
    const day1 = decoders("2026-11-28")
    expect(decoders("2026-11-28")).toBe(day1)
    const day2 = decoders("2026-11-29")
    expect(day2).not.toBe(day1)
    expect(day2.today).toBe("2026-11-29")
    // another holder's decoders are its own
    expect(makeDecoders()("2026-11-29")).not.toBe(day2)
    const doc = [record({}), record({ customer_id: "C 1", email: "x" })]
    expect(validateDocument(doc, { ...options, decoders })).toEqual(validateDocument(doc, options))
  })
})
