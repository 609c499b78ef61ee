// Rule codes (issue 26 item 5): every error names the rule it breaks with a
// stable code, the table covers every field of the schemas, and
// docs/CONTRACT.md lists exactly the codes there are.
import { describe, expect, it } from "vitest"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { validateDocument } from "../src/contract/Contract.js"
import { Address, makeCustomer, Payment } from "../src/contract/ContractSchema.js"
import { parseFailureError, parseJsonBytes } from "../src/contract/ParseJson.js"
import { CONTRACT_RULES, FIELD_RULES, FILE_RULES, isContractRule, RECORD_RULES } from "../src/contract/Rules.js"
import { address, payment, record } from "./support/fixtures.js"

const TODAY = "2026-11-28"
const rulesOf = (doc: unknown) => validateDocument(doc, { maxRecords: 5, today: TODAY }).errors.map((e) => [e.path, e.rule])

describe("rule codes", () => {
  it("cover every field of the customer, address and payment schemas, and no other", () => {
    const fields = [makeCustomer(TODAY), Address, Payment].flatMap((schema) => Object.keys(schema.fields))
    // card_number and date_of_birth each break one of two rules, told apart by the value.
    const twoRules = ["card_number", "date_of_birth"]
    expect(Object.keys(FIELD_RULES).sort()).toEqual(fields.filter((f) => !twoRules.includes(f)).sort())
  })

  it.each<[string, Record<string, unknown>, string, string]>([
    ["customer_id", { customer_id: "C 1" }, "$.customer_id", "customer-id-format"],
    ["customer_id (not a string)", { customer_id: 7 }, "$.customer_id", "customer-id-format"],
    ["first_name", { first_name: " " }, "$.first_name", "name-format"],
    ["last_name", { last_name: "B\nyron" }, "$.last_name", "name-format"],
    ["email", { email: "a@@b.co" }, "$.email", "email-format"],
    ["phone", { phone: "123" }, "$.phone", "phone-format"],
    ["date_of_birth, not a date", { date_of_birth: "2001-02-29" }, "$.date_of_birth", "date-of-birth-format"],
    ["date_of_birth, before 1900", { date_of_birth: "1899-12-31" }, "$.date_of_birth", "date-of-birth-format"],
    ["date_of_birth, after the processing day", { date_of_birth: "2026-11-29" }, "$.date_of_birth", "date-of-birth-not-after-processing-day"],
    ["address", { address: "1 Main St" }, "$.address", "not-an-object"],
    ["address.line1", { address: address({ line1: "" }) }, "$.address.line1", "text-length"],
    ["address.line2", { address: address({ line2: "x".repeat(201) }) }, "$.address.line2", "text-length"],
    ["address.city", { address: address({ city: " " }) }, "$.address.city", "text-length"],
    ["address.postal_code", { address: address({ postal_code: "N1_9GU" }) }, "$.address.postal_code", "postal-code-format"],
    ["address.country", { address: address({ country: "gb" }) }, "$.address.country", "country-format"],
    ["payment", { payment: [] }, "$.payment", "not-an-object"],
    ["payment.card_number, shape", { payment: payment({ card_number: "4111" }) }, "$.payment.card_number", "card-number-format"],
    ["payment.card_number, Luhn", { payment: payment({ card_number: "4111 1111 1111 1112" }) }, "$.payment.card_number", "card-number-luhn"],
    ["payment.card_holder", { payment: payment({ card_holder: "" }) }, "$.payment.card_holder", "text-length"],
    ["payment.expiry", { payment: payment({ expiry: "13/28" }) }, "$.payment.expiry", "expiry-format"],
    ["created_at", { created_at: "2026-11-28" }, "$.created_at", "created-at-format"],
    ["status", { status: "gone" }, "$.status", "status-value"],
    ["marketing_opt_in", { marketing_opt_in: "yes" }, "$.marketing_opt_in", "marketing-opt-in-value"],
    ["a missing field", { email: undefined }, "$.email", "required"],
    ["an unknown field", { payment: payment({ cvv: "123" }) }, "$.payment.cvv", "unknown-field"]
  ])("%s", (_, overrides, path, rule) => {
    expect(rulesOf(record(overrides))).toEqual([[path, rule]])
  })

  it("name the file-level rules of the contract's shape and of parsing", () => {
    expect(rulesOf([])).toEqual([["$", "empty-array"]])
    expect(rulesOf(Array.from({ length: 6 }, (_, i) => record({ customer_id: `C-${i}` })))).toEqual([["$", "too-many-records"]])
    expect(rulesOf("text")).toEqual([["$", "top-level-value"]])
    expect(rulesOf([record(), 3])).toEqual([["$[1]", "not-an-object"]])
    expect(rulesOf([record(), record()])).toEqual([["$[1].customer_id", "customer-id-unique-in-file"]])
    const parseRule = (bytes: Uint8Array) => {
      const parsed = parseJsonBytes(bytes)
      return parsed._tag === "Parsed" ? "parsed" : parseFailureError(parsed).rule
    }
    const utf8 = (s: string) => new TextEncoder().encode(s)
    expect([parseRule(utf8("")), parseRule(Uint8Array.from([0xff])), parseRule(utf8("{")), parseRule(utf8('{"a":1,"a":2}'))]).toEqual([
      "empty-file",
      "invalid-utf8",
      "syntax",
      "duplicate-key"
    ])
  })

  it("are all listed, and only they, in docs/CONTRACT.md", () => {
    const doc = NFS.readFileSync(Path.join(Path.dirname(fileURLToPath(import.meta.url)), "..", "docs", "CONTRACT.md"), "utf8")
    const section = doc.slice(doc.indexOf("### Rule codes"), doc.indexOf("## 7."))
    const listed = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1])
    expect(listed).toEqual([...FILE_RULES, ...RECORD_RULES])
    expect(CONTRACT_RULES.every(isContractRule)).toBe(true)
    expect(isContractRule("my-own-rule")).toBe(false)
  })
})
