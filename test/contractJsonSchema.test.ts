// The published JSON Schema (`schema`) against the daemon's own validator.
// Partners check their files with the schema before sending them, so:
// - no file the daemon accepts may be rejected by the schema;
// - a file the schema accepts but the daemon rejects must fail only rules the
//   schema lists as inexpressible (x-cjp-unchecked-rules).
// The judge of the schema is an independent validator, ajv (with ajv-formats,
// so `format` is asserted too), in its strictest mode, for both drafts.
import { Ajv } from "ajv"
import type { Options, ValidateFunction } from "ajv"
import { Ajv2020 } from "ajv/dist/2020.js"
import addFormats from "ajv-formats"
import { FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import type { ValidationError } from "../src/contract/Contract.js"
import { Contract, validateDocument } from "../src/contract/Contract.js"
import {
  CONTRACT_SCHEMA_ID,
  CONTRACT_VERSION,
  CONTRACT_VERSION_KEYWORD,
  contractJsonSchema,
  isCardNumberShape,
  isBirthDate,
  isDateTime,
  isEmailAddress,
  isPersonName,
  isPhoneNumber,
  JSON_SCHEMA_DRAFTS,
  makeCustomerCheck,
  UNCHECKED_RULES,
  UNCHECKED_RULES_KEYWORD
} from "../src/contract/ContractSchema.js"
import type { JsonObject, JsonSchemaDraft, UncheckedRule } from "../src/contract/ContractSchema.js"
import { makeReport } from "../src/contract/ErrorReport.js"
import { address, payment, record } from "./support/fixtures.js"
import { Entries, toJson } from "./support/jsonText.js"

const TODAY = "2026-11-28"
const MAX_RECORDS = 3
const daemon = (document: unknown) => validateDocument(document, { maxRecords: MAX_RECORDS, today: TODAY }).errors

interface Judge {
  readonly draft: JsonSchemaDraft
  readonly formats: boolean
  readonly schema: JsonObject
  readonly validate: ValidateFunction
  readonly warnings: ReadonlyArray<unknown>
}

/**
 * ajv as a partner would wire it: formats added, the schema's own keywords
 * registered, everything else strict. Without formats, `format` is ignored and
 * the patterns alone must carry the rules.
 */
const makeAjv = (draft: JsonSchemaDraft, warnings: Array<unknown>, formats = true) => {
  const options: Options = {
    strict: true,
    validateFormats: formats,
    strictTypes: true,
    strictTuples: true,
    strictRequired: true,
    allErrors: true,
    logger: { log: (...a) => warnings.push(a), warn: (...a) => warnings.push(a), error: (...a) => warnings.push(a) }
  }
  const ajv = draft === "draft-07" ? new Ajv(options) : new Ajv2020(options)
  if (formats) addFormats.default(ajv)
  ajv.addKeyword(CONTRACT_VERSION_KEYWORD)
  ajv.addKeyword(UNCHECKED_RULES_KEYWORD)
  return ajv
}

const makeJudge = (draft: JsonSchemaDraft, formats: boolean): Judge => {
  const warnings: Array<unknown> = []
  const schema = contractJsonSchema({ maxRecords: MAX_RECORDS, draft })
  return { draft, formats, schema, validate: makeAjv(draft, warnings, formats).compile(schema), warnings }
}
const judges = [makeJudge("draft-07", true), makeJudge("2020-12", true), makeJudge("draft-07", false)]
const draft07 = judges[0]!
const judgeName = (judge: Judge) => `${judge.draft}${judge.formats ? "" : " without formats"}`

/** `$[2].payment.card_number` → `$.payment.card_number`: the path inside the record, as UNCHECKED_RULES give it. */
const recordPath = (path: string) => path.replace(/^\$\[\d+\]/, "$")

const valueAt = (document: unknown, error: ValidationError): unknown => {
  let value: unknown = Array.isArray(document) ? document[error.record ?? 0] : document
  for (const key of recordPath(error.path).split(".").slice(1)) {
    value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined
  }
  return value
}

/**
 * Which listed rule a daemon error stands for, judged from the error and the
 * value it points at, independently of the list; undefined for any other error.
 */
const uncheckedRuleOf = (document: unknown, error: ValidationError): string | undefined => {
  const path = recordPath(error.path)
  const value = valueAt(document, error)
  if (path === "$.payment.card_number" && error.message.startsWith("card number fails the Luhn check (")) return "card-number-luhn"
  if (path === "$.customer_id" && /^duplicates the customer_id of record \d+$/.test(error.message)) return "customer-id-unique-in-file"
  // A date the daemon would take on a later processing day.
  if (path === "$.date_of_birth" && typeof value === "string" && isBirthDate(value, "9999-12-31") && !isBirthDate(value, TODAY)) {
    return "date-of-birth-not-after-processing-day"
  }
  if (path === "$.email" && typeof value === "string" && value.length > 254 && [...value].length <= 254) return "email-length-utf16"
  return undefined
}

const listedRules = (schema: JsonObject): ReadonlyArray<UncheckedRule> => schema[UNCHECKED_RULES_KEYWORD] as ReadonlyArray<UncheckedRule>

/** Every difference between the daemon and one judge that the contract between them forbids. */
const disagreements = (document: unknown, errors: ReadonlyArray<ValidationError>, judge: Judge): ReadonlyArray<string> => {
  const bySchema = judge.validate(document)
  if (errors.length === 0) {
    return bySchema ? [] : [`${judgeName(judge)}: the daemon accepts, the schema rejects: ${JSON.stringify(judge.validate.errors)}`]
  }
  if (!bySchema) return []
  const listed = listedRules(judge.schema)
  return errors.flatMap((error) => {
    const rule = uncheckedRuleOf(document, error)
    return rule !== undefined && listed.some((r) => r.rule === rule && r.path === recordPath(error.path))
      ? []
      : [`${judgeName(judge)}: the schema accepts, the daemon rejects by a rule not listed: ${JSON.stringify(error)}`]
  })
}

const agreement = (document: unknown) => {
  const errors = daemon(document)
  return { errors, problems: judges.flatMap((judge) => disagreements(document, errors, judge)) }
}

describe("the printed JSON Schema", () => {
  it.each(JSON_SCHEMA_DRAFTS)("%s is valid against ajv's meta-schema and compiles in strict mode without a warning", (draft) => {
    const warnings: Array<unknown> = []
    const ajv = makeAjv(draft, warnings)
    const schema = contractJsonSchema({ maxRecords: MAX_RECORDS, draft })
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true)
    expect(schema["$schema"]).toBe(draft === "draft-07" ? "http://json-schema.org/draft-07/schema#" : "https://json-schema.org/draft/2020-12/schema")
    expect(ajv.compile(schema)).toBeTypeOf("function")
    expect(warnings).toEqual([])
    // The other draft's meta-schema is not the one it claims: each names its own.
    expect(JSON.stringify(schema)).toContain(draft === "draft-07" ? '"#/definitions/Customer"' : '"#/$defs/Customer"')
  })

  it("has an $id, a title and the contract version that reports carry", () => {
    for (const { schema } of judges) {
      expect(schema["$id"]).toBe(CONTRACT_SCHEMA_ID)
      expect(schema["title"]).toBe(`Customer file (contract version ${CONTRACT_VERSION})`)
      expect(schema[CONTRACT_VERSION_KEYWORD]).toBe(CONTRACT_VERSION)
    }
    const now = new Date("2026-11-28T09:30:00Z")
    const report = makeReport({ file: "a.json", storedAs: "a.json", receivedAt: now, processedAt: now, errors: [] })
    expect(report.contract_version).toBe(draft07.schema[CONTRACT_VERSION_KEYWORD])
    // The Contract service publishes the same schema.
    expect(Contract.make(MAX_RECORDS).jsonSchema()).toEqual(draft07.schema)
    expect(Contract.make(MAX_RECORDS).jsonSchema("2020-12")).toEqual(judges[1]!.schema)
  })

  it("names every rule it cannot check in its keyword, its description and the field's description", () => {
    const description = String(draft07.schema["description"])
    const customer = (draft07.schema["definitions"] as Record<string, JsonObject>)["Customer"]!
    const payment = (draft07.schema["definitions"] as Record<string, JsonObject>)["Payment"]!
    const fieldDescription = (path: string): string => {
      const [, first, second] = path.split(".")
      const properties = (second === undefined ? customer : payment)["properties"] as Record<string, JsonObject>
      return String(properties[second ?? first!]!["description"])
    }
    expect(listedRules(draft07.schema).map((r) => r.rule)).toEqual([
      "card-number-luhn",
      "date-of-birth-not-after-processing-day",
      "customer-id-unique-in-file",
      "email-length-utf16"
    ])
    for (const rule of listedRules(draft07.schema)) {
      expect(Object.keys(rule)).toEqual(["rule", "path", "description"])
      expect(description).toContain(`${rule.rule} (${rule.path}): ${rule.description}`)
      expect(fieldDescription(rule.path)).toContain(`${UNCHECKED_RULES_KEYWORD}, rule ${rule.rule}`)
    }
    expect(judges[1]!.schema[UNCHECKED_RULES_KEYWORD]).toEqual(UNCHECKED_RULES)
  })

  it("states MAX_RECORDS as maxItems and additionalProperties false on every object", () => {
    const schema = contractJsonSchema({ maxRecords: 7 })
    expect((schema["anyOf"] as Array<JsonObject>)[1]).toMatchObject({ type: "array", minItems: 1, maxItems: 7 })
    for (const definition of Object.values(schema["definitions"] as Record<string, JsonObject>)) {
      expect(definition).toMatchObject({ type: "object", additionalProperties: false })
    }
  })
})

describe("the patterns on long input", () => {
  // A partner may run the schema on a file of any size: no pattern may
  // backtrack its way into seconds (an earlier email pattern took 15 s on
  // 100,000 characters of 'a.').
  it("each decides 100,000 adversarial characters well within a second", () => {
    const definitions = draft07.schema["definitions"] as Record<string, JsonObject>
    const patterns = Object.values(definitions).flatMap((d) =>
      Object.entries(d["properties"] as Record<string, JsonObject>).flatMap(([name, p]) => typeof p["pattern"] === "string" ? [[name, p["pattern"]] as const] : [])
    )
    expect(patterns).toHaveLength(14)
    const N = 100_000
    const inputs = [
      " ".repeat(N) + "\u0007", "a" + " ".repeat(N) + "\u0007", "a" + " a".repeat(N / 2) + "\u0007", "a".repeat(N) + "@",
      "a@" + "a.".repeat(N / 2) + "-", "a@b" + ".".repeat(N), "a@" + "b.".repeat(N / 2) + " ", "1 ".repeat(N / 2) + "x", "1-".repeat(N / 2),
      "2000-01-01".repeat(N / 10)
    ]
    for (const [name, pattern] of patterns) {
      const regex = new RegExp(pattern, "u")
      for (const input of inputs) {
        const started = performance.now()
        regex.test(input)
        expect(performance.now() - started, `${name} on ${JSON.stringify(input.slice(0, 12))}…`).toBeLessThan(1000)
      }
    }
  })
})

describe("the files issue 16 found the schema looser on", () => {
  it.each([
    ["an email without a dot in its domain", record({ email: "a@b" })],
    ["a first name of one space", record({ first_name: " " })],
    ["a first name with a control character", record({ first_name: "A\u0007da" })],
    ["a phone number of two digits", record({ phone: "12" })],
    ["a phone number of 22 digits", record({ phone: "1".repeat(22) })]
  ])("rejects %s, as the daemon does", (_, document) => {
    expect(daemon(document)).not.toEqual([])
    for (const judge of judges) expect(judge.validate(document), judgeName(judge)).toBe(false)
  })

  it("accepts a date of birth after the processing day and lists that rule", () => {
    const document = record({ date_of_birth: "2026-11-29" })
    const errors = daemon(document)
    expect(errors.map((e) => e.path)).toEqual(["$.date_of_birth"])
    expect(uncheckedRuleOf(document, errors[0]!)).toBe("date-of-birth-not-after-processing-day")
    expect(agreement(document).problems).toEqual([])
    for (const judge of judges) expect(judge.validate(document), judgeName(judge)).toBe(true)
  })
})

describe("the contract's own examples (test/contract.test.ts)", () => {
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<unknown>, ReadonlyArray<unknown>, (v: unknown) => unknown]> = [
    ["customer_id", ["C_1-a", "x".repeat(64)], ["", "x".repeat(65), "C 1", "C.1", 7, null], (v) => record({ customer_id: v })],
    ["first_name", ["A", " Ada ", "é".repeat(100), "x".repeat(100), "😀".repeat(100)], ["", "   ", "x".repeat(101), "A\u0007da", "B\nyron", "A\u0085", 1], (v) => record({ first_name: v })],
    ["email", ["a@b.co", "first.last+tag@sub.example.org", `${"a".repeat(240)}@example.com`, "é@ü.de", "a@b_c.d"], [
      "ab.co", "a@@b.co", "a@b@c.co", "a b@c.co", "a\u00a0b@c.co", "a@bco", "a@.b.co", "a@b.co.", "a@-b.co", "a@b.co-", "@b.co", "a@", "a@b", `${"a".repeat(250)}@example.com`, 3
    ], (v) => record({ email: v })],
    ["phone", ["+44 20 7946 0958", "(0161) 496-0000", "555.0100.22", "1234567", "+123456789012345", " +(1)234-5678 ", "1\u00a02\u30003 4567"], [
      "123456", "+1234567890123456", "12345x67", "++1234567", "1234567+", "+ +1234567", "12", "1".repeat(22), "١٢٣٤٥٦٧", 12345678
    ], (v) => record({ phone: v })],
    ["date_of_birth", ["1900-01-01", "2000-02-29", TODAY, "1904-02-29"], ["1899-12-31", "2001-02-29", "1900-02-29", "2000-13-01", "2000-04-31", "20000101", "2000-1-01", "２０００-01-01", 19000101], (v) => record({ date_of_birth: v })],
    ["created_at", ["2026-11-28T09:30:00Z", "2026-11-28T10:30:00.250+01:00", "2024-02-29T00:00:00+00:00", "0000-02-29T23:59:59-23:59"], [
      "2026-11-28 09:30", "2026-11-28T09:30Z", "2026-11-28T09:30:00", "2026-11-28T24:00:00Z", "2026-11-28T09:60:00Z", "2026-02-30T09:30:00Z",
      "2026-11-28T09:30:00+0100", "2026-11-28T09:30:00z", "2026-11-28t09:30:00Z", "2026-11-28T23:59:60Z", "2100-02-29T00:00:00Z", "2026-11-28", 1795886819898
    ], (v) => record({ created_at: v })],
    ["status", ["active", "inactive", "suspended"], ["Active", "deleted", "", true], (v) => record({ status: v })],
    ["marketing_opt_in", [true, false], ["true", 1, null], (v) => record({ marketing_opt_in: v })],
    ["address.line1", ["x", "y".repeat(200), " \u0007 x"], ["", "  ", "y".repeat(201), 5], (v) => record({ address: address({ line1: v }) })],
    ["address.line2", ["", "y".repeat(200), "😀".repeat(200)], ["y".repeat(201), null], (v) => record({ address: address({ line2: v }) })],
    ["address.city", ["Zürich", "c".repeat(100)], ["", " ", "c".repeat(101)], (v) => record({ address: address({ city: v }) })],
    ["address.postal_code", ["1", "EC1A 1BB", "12345-6789", "X".repeat(16), "٣٣", "𝐀".repeat(16)], ["", "X".repeat(17), "EC1A_1BB", "1.2", 12345], (v) => record({ address: address({ postal_code: v }) })],
    ["address.country", ["GB", "US"], ["gb", "GBR", "G", "G1", ""], (v) => record({ address: address({ country: v }) })],
    ["payment.card_number", ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005", "411111111117", "4111 1111-1111 1111"], [
      "4111  1111 1111 1111", "4111--1111111111111", " 4111111111111111", "41111111111", "41111111111111111111", "4111x11111111111", 4111111111111111
    ], (v) => record({ payment: payment({ card_number: v }) })],
    ["payment.card_holder", ["A B"], ["", "  ", "h".repeat(101)], (v) => record({ payment: payment({ card_holder: v }) })],
    ["payment.expiry", ["01/27", "12/30"], ["13/27", "00/27", "1/27", "01/2027", "01-27"], (v) => record({ payment: payment({ expiry: v }) })]
  ]

  it.each(cases)("%s: the schema takes what the daemon takes and rejects what it rejects", (field, good, bad, build) => {
    for (const value of good) {
      expect(daemon(build(value)), `${field}=${JSON.stringify(value)}`).toEqual([])
      for (const judge of judges) expect(judge.validate(build(value)), `${judgeName(judge)} ${field}=${JSON.stringify(value)}`).toBe(true)
    }
    for (const value of bad) {
      expect(daemon(build(value)), `${field}=${JSON.stringify(value)}`).not.toEqual([])
      for (const judge of judges) expect(judge.validate(build(value)), `${judgeName(judge)} ${field}=${JSON.stringify(value)}`).toBe(false)
    }
  })

  it("a card number failing only the Luhn check passes the schema, as listed", () => {
    const document = record({ payment: payment({ card_number: "4111 1111 1111 1112" }) })
    expect(daemon(document)).toHaveLength(1)
    expect(agreement(document).problems).toEqual([])
    expect(draft07.validate(document)).toBe(true)
  })

  it("a repeated customer_id passes the schema, as listed", () => {
    const document = [record(), record({ email: "b@example.com" })]
    expect(daemon(document).map((e) => e.path)).toEqual(["$[1].customer_id"])
    expect(agreement(document).problems).toEqual([])
    expect(draft07.validate(document)).toBe(true)
  })

  it("an email of 254 characters but more UTF-16 code units passes the schema, as listed", () => {
    const document = record({ email: `${"😀".repeat(200)}@example.com` })
    expect(daemon(document).map((e) => e.path)).toEqual(["$.email"])
    expect(agreement(document).problems).toEqual([])
    expect(draft07.validate(document)).toBe(true)
  })

  it("documents: one record, 1 to MAX_RECORDS records; not an empty array, more records or another value", () => {
    for (const document of [record(), [record()], [record(), record({ customer_id: "C-2" }), record({ customer_id: "C-3" })]]) {
      expect(agreement(document)).toEqual({ errors: [], problems: [] })
    }
    for (const document of [[], [1, 2, 3, 4].map((i) => record({ customer_id: `C-${i}` })), "x", 7, null, true, [record(), "x"]]) {
      expect(agreement(document).errors).not.toEqual([])
      for (const judge of judges) expect(judge.validate(document), `${judgeName(judge)} ${JSON.stringify(document)}`).toBe(false)
    }
  })
})

describe("every character in every text position", () => {
  // The patterns spell out JavaScript's whitespace and control sets and count
  // code points. Every BMP code point (lone surrogates included) and a few
  // astral ones must get the same verdict from the daemon's predicates and the
  // schema where whitespace, control characters and separators matter; every
  // code point of the ranges holding such characters, and a sample of the
  // rest, in every text field.
  const check = makeCustomerCheck(TODAY)
  const definitions = draft07.schema["definitions"] as Record<string, JsonObject>
  const properties = definitions["Customer"]!["properties"] as Record<string, JsonObject>
  const ajv = makeAjv("draft-07", [], false)
  const customer = ajv.compile({ ...definitions["Customer"], definitions })
  const ASTRAL = [0x1d400, 0x1f600, 0x2070e, 0xe0020, 0x10ffff]

  it("agree for all of U+0000-U+FFFF and a sample of the astral planes where whitespace and controls matter", () => {
    const byPredicate: ReadonlyArray<readonly [JsonObject, (s: string) => boolean, (c: string) => string]> = [
      [properties["first_name"]!, isPersonName, (c) => `${c}A`],
      [properties["first_name"]!, isPersonName, (c) => `A${c}B`],
      [properties["email"]!, isEmailAddress, (c) => `a${c}@b.co`],
      [properties["phone"]!, isPhoneNumber, (c) => `+1234${c}5678`],
      // The shape only: a digit more breaks the Luhn check, which the schema leaves to the daemon.
      [(definitions["Payment"]!["properties"] as Record<string, JsonObject>)["card_number"]!, isCardNumberShape, (c) => `4111${c}1111 1111 1111`]
    ]
    const mismatches: Array<string> = []
    for (const [property, predicate, place] of byPredicate) {
      const schema = ajv.compile(property)
      const name = String(property["description"]).split(":")[0]
      for (let point = 0; point <= 0x10ffff; point = point < 0xffff ? point + 1 : ASTRAL.find((a) => a > point) ?? 0x110000) {
        const value = place(String.fromCodePoint(point))
        if (predicate(value) !== schema(value)) mismatches.push(`U+${point.toString(16)} in ${name} ${JSON.stringify(value)}`)
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([])
  })

  it("agree in every text field for the ranges that hold whitespace, controls and separators", () => {
    const placements: ReadonlyArray<(c: string) => Record<string, unknown>> = [
      (c) => record({ first_name: c }),
      (c) => record({ last_name: `A${c}` }),
      (c) => record({ email: `a@b${c}.co` }),
      (c) => record({ email: `a@${c}b.co` }),
      (c) => record({ customer_id: `C${c}` }),
      (c) => record({ address: address({ line1: `${c}x` }) }),
      (c) => record({ address: address({ line2: c }) }),
      (c) => record({ address: address({ city: c }) }),
      (c) => record({ address: address({ postal_code: `1${c}` }) }),
      (c) => record({ address: address({ country: `G${c}` }) }),
      (c) => record({ payment: payment({ card_holder: `A${c}` }) }),
      (c) => record({ payment: payment({ expiry: `09/2${c}` }) }),
      (c) => record({ date_of_birth: `2000-01-0${c}` }),
      (c) => record({ created_at: `2026-11-28T09:30:00${c}` })
    ]
    const ranges = [[0, 0x3ff], [0x1600, 0x18ff], [0x2000, 0x20ff], [0x3000, 0x30ff], [0xd7f0, 0xe00f], [0xfe00, 0xffff]]
    const points = [
      ...ranges.flatMap(([from, to]) => Array.from({ length: to! - from! + 1 }, (_, i) => from! + i)),
      ...Array.from({ length: 0x10000 / 97 }, (_, i) => i * 97),
      ...ASTRAL
    ]
    const mismatches: Array<string> = []
    for (const point of points) {
      const c = String.fromCodePoint(point)
      for (const [i, place] of placements.entries()) {
        const value = place(c)
        if (check(value) !== customer(value)) mismatches.push(`U+${point.toString(16)} in placement ${i}`)
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([])
  })

  it("agree on calendar dates around every leap-year rule and on times and offsets", () => {
    const dob = ajv.compile((definitions["Customer"]!["properties"] as Record<string, JsonObject>)["date_of_birth"]!)
    const createdAt = ajv.compile((definitions["Customer"]!["properties"] as Record<string, JsonObject>)["created_at"]!)
    const two = (n: number) => String(n).padStart(2, "0")
    const mismatches: Array<string> = []
    for (const year of ["0000", "0004", "0100", "0400", "1600", "1800", "1899", "1900", "1904", "1996", "2000", "2023", "2024", "2100", "2400", "9996", "9999"]) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const date = `${year}-${two(month)}-${two(day)}`
          // The processing day is the one rule the schema leaves to the daemon.
          if (dob(date) !== isBirthDate(date, "9999-12-31")) mismatches.push(date)
          if (createdAt(`${date}T12:00:00Z`) !== isDateTime(`${date}T12:00:00Z`)) mismatches.push(`${date}T12:00:00Z`)
        }
      }
    }
    for (const time of ["00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "09:30:00.1", "09:30:00.", "9:30:00"]) {
      for (const zone of ["Z", "+00:00", "-23:59", "+24:00", "+12:60", "+0100", "+01", ""]) {
        const value = `2024-02-29T${time}${zone}`
        if (createdAt(value) !== isDateTime(value)) mismatches.push(value)
      }
    }
    expect(mismatches).toEqual([])
  })
})

// ------------------------------------------------------------- generated files

const absent = Symbol("absent")

const WHITESPACE = [" ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u1680", "\u2000", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff"]
const SPACES_NOT_CONTROL = [" ", "\u00a0", "\u2003", "\u3000", "\ufeff"]
const CONTROLS = ["\u0000", "\u0007", "\u001f", "\u007f", "\u0080", "\u0085", "\u009f"]
const LOOKALIKES = ["\u180e", "\u200b", "\u2060", "\u001c", "\ufffe", "０", "١"]
const LETTERS = ["a", "Z", "é", "ß", "李", "😀", "𝐀", "\ud800", "'", "_"]
const PUNCTUATION = ["@", ".", "-", "+", "(", ")", "/", ":", "T", "Z", "0", "9"]
const interesting = fc.constantFrom(...WHITESPACE, ...CONTROLS, ...LOOKALIKES, ...LETTERS, ...PUNCTUATION)
const anyChar = fc.oneof({ weight: 4, arbitrary: interesting }, { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) })
const join = (parts: ReadonlyArray<string>) => parts.join("")
const text = (unit: fc.Arbitrary<string>, minLength: number, maxLength: number) => fc.array(unit, { minLength, maxLength }).map(join)
const DIGITS = "0123456789".split("")

/** A changed copy of a value: a character inserted, removed or replaced, whitespace added, or a value of another kind. */
const mutated = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(valid, fc.nat(), anyChar, fc.constantFrom("insert", "delete", "replace", "prefix", "suffix")).map(([v, n, c, how]) => {
        const s = typeof v === "string" ? [...v] : [...String(v)]
        const at = s.length === 0 ? 0 : n % s.length
        if (how === "insert") s.splice(at, 0, c)
        else if (how === "delete") s.splice(at, 1)
        else if (how === "replace") s.splice(at, 1, c)
        else if (how === "prefix") s.unshift(c)
        else s.push(c)
        return join(s)
      })
    },
    { weight: 1, arbitrary: text(anyChar, 0, 12) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant(new Entries([]))) },
    { weight: 1, arbitrary: fc.constant(absent) }
  )

/** Mostly valid, now and then mutated: about a third of all records stay valid. */
const field = (valid: fc.Arbitrary<unknown>, optional = false): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: optional ? 20 : 26, arbitrary: valid },
    ...(optional ? [{ weight: 6, arbitrary: fc.constant(absent) }] : []),
    { weight: 1, arbitrary: mutated(valid) }
  )

const UNKNOWN_KEYS = ["cvv", "cvc", "nickname", "__proto__", "constructor", "toString", "Email", "customer_id "]
const object = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.tuple(
    fc.record(fields),
    fc.oneof({ weight: 40, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom(...UNKNOWN_KEYS), fc.jsonValue({ maxDepth: 1 })), { minLength: 1, maxLength: 1 }) })
  ).map(([values, extra]) => new Entries([...Object.entries(values).filter(([, v]) => v !== absent), ...extra]))

/** Trimmed text of 1 to `max` characters: `inner` may hold anything `edge` holds, and whitespace. */
const trimmed = (max: number, edge: fc.Arbitrary<string>, inner: fc.Arbitrary<string>, around: fc.Arbitrary<string>) =>
  fc.tuple(text(around, 0, 3), edge, fc.option(fc.tuple(text(inner, 0, max - 2), edge).map(join), { nil: "" }), text(around, 0, 3))
    .map(join)
const textEdge = fc.oneof(fc.constantFrom(...LETTERS, ...PUNCTUATION, ...LOOKALIKES, ...CONTROLS.filter((c) => !/\s/.test(c))))
const nameEdge = fc.constantFrom(...LETTERS, ...PUNCTUATION, ...LOOKALIKES.filter((c) => !/[\u0000-\u001f]/.test(c)))

const personName = fc.oneof(
  trimmed(100, nameEdge, fc.oneof(nameEdge, fc.constantFrom(...SPACES_NOT_CONTROL)), fc.constantFrom(...SPACES_NOT_CONTROL)),
  fc.constantFrom("Ada", "😀".repeat(100), `${" ".repeat(5)}${"x".repeat(100)}\u3000`)
)
const trimmedText = (max: number) =>
  fc.oneof(
    trimmed(max, textEdge, fc.oneof(textEdge, fc.constantFrom(...WHITESPACE)), fc.constantFrom(...WHITESPACE)),
    fc.constantFrom("x".repeat(max), `\t${"é".repeat(max)}\n`)
  )

const customerId = fc.oneof(
  { weight: 3, arbitrary: text(fc.constantFrom(..."AZaz09_-".split(""), "q", "Q", "5"), 1, 64) },
  { weight: 1, arbitrary: fc.constantFrom("C-1", "C-2") }
)

const emailChar = fc.constantFrom("a", "Z", "é", "😀", ".", "-", "+", "_", "'", "!", "\ud800", "0")
const domainEdge = fc.constantFrom("a", "z", "0", "é", "_", "😀")
const domainInner = fc.constantFrom("a", "0", ".", "-", "é")
const email = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(text(emailChar, 1, 12), domainEdge, text(domainInner, 0, 4), text(domainInner, 0, 4), domainEdge)
    .map(([local, a, m1, m2, b]) => `${local}@${a}${m1}.${m2}${b}`) },
  // Near the length limit, in characters and in UTF-16 code units.
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 238, max: 244 }), fc.constantFrom("a", "😀")).map(([n, c]) => `${c.repeat(n)}@example.com`) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 250 }).map((n) => `${"😀".repeat(n)}@b.co`) }
)

const separator = fc.constantFrom(" ", "-", ".", "(", ")", "\t", "\u00a0", "\u3000")
const phone = fc.tuple(text(separator, 0, 2), fc.boolean(), text(separator, 0, 1), fc.array(fc.tuple(fc.constantFrom(...DIGITS), text(separator, 0, 1)), { minLength: 7, maxLength: 15 }))
  .map(([lead, plus, afterPlus, digits]) => `${lead}${plus ? "+" : ""}${plus ? afterPlus : ""}${digits.map(join).join("")}`)

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
const calendarDate = (minYear: number, maxYear: number) =>
  fc.tuple(fc.integer({ min: minYear, max: maxYear }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 })).map(([y, m, d]) => {
    const last = m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]!
    return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(Math.min(d, last)).padStart(2, "0")}`
  })
const pad2 = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, "0"))
const birthDate = fc.oneof(
  { weight: 4, arbitrary: calendarDate(1900, 2026).filter((d) => d <= TODAY) },
  // Real dates after the processing day: only the listed rule breaks.
  { weight: 1, arbitrary: fc.constantFrom("1900-01-01", "2000-02-29", TODAY, "2026-11-29", "2028-02-29", "2400-02-29", "9999-12-31") }
)
const createdAt = fc.tuple(
  calendarDate(0, 9999),
  pad2(23),
  pad2(59),
  pad2(59),
  fc.option(text(fc.constantFrom(...DIGITS), 1, 4), { nil: undefined }),
  fc.oneof(fc.constant("Z"), fc.tuple(fc.constantFrom("+", "-"), pad2(23), pad2(59)).map(([s, h, m]) => `${s}${h}:${m}`))
).map(([d, h, m, s, fraction, zone]) => `${d}T${h}:${m}:${s}${fraction === undefined ? "" : `.${fraction}`}${zone}`)

const luhnCheckDigit = (digits: ReadonlyArray<number>): number => {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    const d = digits[digits.length - 1 - i]!
    // From the right, counting the check digit still to come as position 0.
    sum += i % 2 === 0 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d
  }
  return (10 - (sum % 10)) % 10
}
const cardNumber = fc.tuple(
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 18 }),
  fc.array(fc.constantFrom("", "", "", " ", "-"), { minLength: 19, maxLength: 19 }),
  fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 9 }) })
).map(([body, separators, off]) => {
  const digits = [...body, (luhnCheckDigit(body) + off) % 10]
  return digits.map((d, i) => (i === 0 ? String(d) : `${separators[i]}${d}`)).join("")
})

const addressArb = object({
  line1: field(trimmedText(200)),
  line2: field(fc.oneof(text(anyChar, 0, 10), fc.constantFrom("y".repeat(200), "😀".repeat(200))), true),
  city: field(trimmedText(100)),
  postal_code: field(text(fc.constantFrom("A", "z", "0", "9", " ", "-", "é", "李", "٣", "Ⅻ", "𝐀"), 1, 16)),
  country: field(text(fc.constantFrom(..."ABCXYZ".split("")), 2, 2))
})
const paymentArb = object({
  card_number: field(cardNumber),
  card_holder: field(trimmedText(100)),
  expiry: field(fc.tuple(fc.integer({ min: 1, max: 12 }), pad2(99)).map(([m, y]) => `${String(m).padStart(2, "0")}/${y}`))
})
const customerArb = object({
  customer_id: field(customerId),
  first_name: field(personName),
  last_name: field(personName),
  email: field(email),
  phone: field(phone, true),
  date_of_birth: field(birthDate, true),
  address: field(addressArb),
  payment: field(paymentArb, true),
  created_at: field(createdAt),
  status: field(fc.constantFrom("active", "inactive", "suspended"), true),
  marketing_opt_in: field(fc.boolean(), true)
})
const documentArb = fc.oneof(
  { weight: 10, arbitrary: customerArb },
  { weight: 8, arbitrary: fc.array(customerArb, { minLength: 1, maxLength: MAX_RECORDS }) },
  // The same record twice: valid records in it break only the unique customer_id.
  { weight: 2, arbitrary: customerArb.map((r) => [r, r]) },
  { weight: 1, arbitrary: fc.oneof(fc.constant([]), fc.array(customerArb, { minLength: MAX_RECORDS + 1, maxLength: MAX_RECORDS + 1 }), fc.jsonValue({ maxDepth: 2 })) }
)

const FIELD_PATHS = [
  "customer_id", "first_name", "last_name", "email", "phone", "date_of_birth", "address", "payment", "created_at", "status", "marketing_opt_in",
  "address.line1", "address.line2", "address.city", "address.postal_code", "address.country",
  "payment.card_number", "payment.card_holder", "payment.expiry"
].map((p) => `$.${p}`)

describe("generated files: the daemon and the schema (ajv, both drafts)", () => {
  it("the schema rejects no file the daemon accepts, and accepts a file the daemon rejects only for a listed rule", () => {
    const counts = { runs: 0, acceptedByBoth: 0, rejectedByBoth: 0, listedOnly: 0 }
    const rulesSeen = new Set<string>()
    // Fields whose breach the schema caught as well: every field of contract §4 is mutated and judged.
    const caught = new Set<string>()
    fc.assert(
      fc.property(documentArb, (generated) => {
        const text = toJson(generated)
        const document: unknown = JSON.parse(text)
        const { errors, problems } = agreement(document)
        expect(problems, text).toEqual([])
        counts.runs++
        const bySchema = draft07.validate(document)
        if (errors.length === 0) counts.acceptedByBoth++
        else if (!bySchema) {
          counts.rejectedByBoth++
          for (const e of errors) caught.add(recordPath(e.path))
        } else {
          counts.listedOnly++
          for (const e of errors) rulesSeen.add(uncheckedRuleOf(document, e) ?? "")
        }
      }),
      { numRuns: 1500 }
    )
    // Both verdicts and every listed rule are exercised, not just one side.
    expect(counts.acceptedByBoth / counts.runs).toBeGreaterThan(0.15)
    expect(counts.rejectedByBoth / counts.runs).toBeGreaterThan(0.15)
    expect([...rulesSeen].sort()).toEqual(UNCHECKED_RULES.map((r) => r.rule).sort())
    expect(FIELD_PATHS.filter((p) => !caught.has(p))).toEqual([])
  })
})
