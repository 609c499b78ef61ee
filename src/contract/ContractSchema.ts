/**
 * The customer record of contract §4 three ways: an `effect/Schema` (for the
 * messages), one boolean check (the fast path) and the JSON Schema published
 * to producers. Differential property tests hold the three together.
 *
 * Every field carries its own message (`override: true`) because Schema's
 * built-in messages quote the input value, and the contract (§6) forbids
 * that. The only value ever shown is a card number masked to its last four
 * digits.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import type * as ParseResult from "effect/ParseResult"
import { luhnValid, maskDigitsKeepLastFour } from "../masking/Masking.js"

/**
 * The version of the customer file contract these rules implement. The
 * published JSON Schema and every error report carry it, so a partner can tell
 * which rules a report applied.
 */
export const CONTRACT_VERSION = "1"

const message = (text: string) => ({ message: () => ({ message: text, override: true }) })
// For structs: without `override` the field messages inside still win, and this
// one is used only when the value is not an object at all.
const typeMessage = (text: string) => ({ message: () => text })

// ---------------------------------------------------------------- predicates

const CONTROL = /[\u0000-\u001F\u007F-\u009F]/
const codePoints = (s: string): number => {
  let n = 0
  for (const _ of s) n++
  return n
}

/** `first_name`, `last_name`: 1 to 100 characters (code points) after trimming, no control characters. */
export const isPersonName = (s: string): boolean => {
  const length = codePoints(s.trim())
  return length >= 1 && length <= 100 && !CONTROL.test(s)
}

/** `email`: at most 254 characters (UTF-16 units), no whitespace, one `@`, a domain with a `.` that neither starts nor ends with `.` or `-`. */
export const isEmailAddress = (s: string): boolean => {
  if (s.length > 254 || /\s/.test(s)) return false
  const at = s.indexOf("@")
  if (at <= 0 || at !== s.lastIndexOf("@")) return false
  const domain = s.slice(at + 1)
  if (domain.length === 0) return false
  if (/^[.-]|[.-]$/.test(domain)) return false
  return domain.includes(".")
}

/** `phone`: after removing spaces, `-`, `.`, `(` and `)`, an optional `+` and 7 to 15 digits. */
export const isPhoneNumber = (s: string): boolean => /^\+?\d{7,15}$/.test(s.replace(/[\s\-.()]/g, ""))

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
const isRealDate = (y: number, m: number, d: number): boolean =>
  m >= 1 && m <= 12 && d >= 1 && d <= (m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]!)

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** `YYYY-MM-DD`, a real date, from 1900-01-01 to `today` (inclusive, UTC). */
export const isBirthDate = (s: string, today: string): boolean => {
  const m = CALENDAR_DATE.exec(s)
  if (m === null) return false
  if (!isRealDate(Number(m[1]), Number(m[2]), Number(m[3]))) return false
  // Fixed-width ISO dates compare correctly as strings.
  return s >= "1900-01-01" && s <= today
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/

/** `created_at`: ISO 8601 date-time with seconds and `Z` or `±HH:MM`, a real date and time. */
export const isDateTime = (s: string): boolean => {
  const m = DATE_TIME.exec(s)
  if (m === null) return false
  const [, y, mo, d, h, mi, sec, sign, oh, om] = m
  if (!isRealDate(Number(y), Number(mo), Number(d))) return false
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return false
  return sign === undefined || (Number(oh) <= 23 && Number(om) <= 59)
}

const CARD_SHAPE = /^\d+(?:[ -]\d+)*$/

/** 12 to 19 digits, optionally in groups separated by single spaces or single `-`. */
export const isCardNumberShape = (s: string): boolean => {
  if (!CARD_SHAPE.test(s)) return false
  const digits = s.replace(/\D/g, "").length
  return digits >= 12 && digits <= 19
}

const EXPIRY = /^(0[1-9]|1[0-2])\/\d{2}$/
/** `expiry`: `MM/YY` with a month from 01 to 12. */
export const isExpiry = (s: string): boolean => EXPIRY.test(s)

const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/
const POSTAL_CODE = /^[\p{L}\p{N} -]{1,16}$/u
const COUNTRY = /^[A-Z]{2}$/

/** 1 to `max` characters after trimming. */
const isTrimmedText = (max: number) => (s: string): boolean => {
  const n = codePoints(s.trim())
  return n >= 1 && n <= max
}
const isTrimmed100 = isTrimmedText(100)
const isTrimmed200 = isTrimmedText(200)
const isLine2 = (s: string): boolean => codePoints(s) <= 200
const isCardNumber = (s: string): boolean => isCardNumberShape(s) && luhnValid(s.replace(/\D/g, ""))

// ------------------------------------------------------------------- schemas

const string = (text: string) => Schema.String.annotations(message(text))

const TrimmedText = (max: number, text: string) => string(text).pipe(Schema.filter(isTrimmedText(max), message(text)))

const PersonName = string("must be a string of 1 to 100 characters after trimming, without control characters").pipe(
  Schema.filter(isPersonName, message("must be a string of 1 to 100 characters after trimming, without control characters"))
)

const CUSTOMER_ID_MESSAGE = "must be a string of 1 to 64 letters, digits, '_' or '-'"
const EMAIL_MESSAGE = "must be an email address: a local part, one '@' and a domain with a '.', at most 254 characters"
const PHONE_MESSAGE = "must be a phone number: an optional '+' and 7 to 15 digits, optionally separated by spaces, '-', '.', '(' or ')'"
const CREATED_AT_MESSAGE = "must be an ISO 8601 date-time with seconds and a 'Z' or '±HH:MM' offset, e.g. 2026-11-28T09:30:00Z"
const CARD_MESSAGE = "must be a card number of 12 to 19 digits, optionally grouped by single spaces or single '-'"

/** The `address` object of a record (contract §4), every field with its own message. */
export const Address = Schema.Struct({
  line1: TrimmedText(200, "must be a string of 1 to 200 characters after trimming"),
  line2: Schema.optionalWith(
    string("must be a string of at most 200 characters").pipe(
      Schema.filter(isLine2, message("must be a string of at most 200 characters"))
    ),
    { exact: true }
  ),
  city: TrimmedText(100, "must be a string of 1 to 100 characters after trimming"),
  postal_code: string("must be 1 to 16 letters, digits, spaces or '-'").pipe(
    Schema.pattern(POSTAL_CODE, message("must be 1 to 16 letters, digits, spaces or '-'"))
  ),
  country: string("must be two uppercase letters A-Z (ISO 3166-1 alpha-2)").pipe(
    Schema.pattern(COUNTRY, message("must be two uppercase letters A-Z (ISO 3166-1 alpha-2)"))
  )
}).annotations(typeMessage("must be an address object"))

/** `card_number`: the shape first, then the Luhn check, whose message shows the number masked to its last four digits. */
export const CardNumber = string(CARD_MESSAGE).pipe(
  Schema.filter(isCardNumberShape, message(CARD_MESSAGE)),
  Schema.filter((s) => luhnValid(s.replace(/\D/g, "")), {
    message: (issue: ParseResult.ParseIssue) => ({
      message: `card number fails the Luhn check (${
        typeof issue.actual === "string" ? maskDigitsKeepLastFour(issue.actual) : "****"
      })`,
      // No override: a failure of the shape check above keeps its own message.
      override: false
    })
  })
)

/** The `payment` object of a record (contract §4); no card verification code is allowed in it. */
export const Payment = Schema.Struct({
  card_number: CardNumber,
  card_holder: TrimmedText(100, "must be a string of 1 to 100 characters after trimming"),
  expiry: string("must be MM/YY with a month from 01 to 12").pipe(
    Schema.pattern(EXPIRY, message("must be MM/YY with a month from 01 to 12"))
  )
}).annotations(typeMessage("must be a payment object"))

/**
 * The record schema for files processed on `today` (UTC `YYYY-MM-DD`): a
 * date of birth may not lie after the processing day, so the schema depends
 * on the date and is rebuilt (once a day) by the Contract service.
 */
export const makeCustomer = (today: string) =>
  Schema.Struct({
    customer_id: string(CUSTOMER_ID_MESSAGE).pipe(
      Schema.pattern(CUSTOMER_ID, message(CUSTOMER_ID_MESSAGE))
    ),
    first_name: PersonName,
    last_name: PersonName,
    email: string(EMAIL_MESSAGE).pipe(
      Schema.filter(isEmailAddress, message(EMAIL_MESSAGE))
    ),
    phone: Schema.optionalWith(
      string(PHONE_MESSAGE).pipe(Schema.filter(isPhoneNumber, message(PHONE_MESSAGE))),
      { exact: true }
    ),
    date_of_birth: Schema.optionalWith(
      string(`must be a real date YYYY-MM-DD from 1900-01-01 to the processing date (${today})`).pipe(
        Schema.filter(
          (s) => isBirthDate(s, today),
          message(`must be a real date YYYY-MM-DD from 1900-01-01 to the processing date (${today})`)
        )
      ),
      { exact: true }
    ),
    address: Address,
    payment: Schema.optionalWith(Payment, { exact: true }),
    created_at: string(CREATED_AT_MESSAGE).pipe(
      Schema.filter(isDateTime, message(CREATED_AT_MESSAGE))
    ),
    status: Schema.optionalWith(
      Schema.Literal("active", "inactive", "suspended").annotations(
        message("must be one of: active, inactive, suspended")
      ),
      { exact: true }
    ),
    marketing_opt_in: Schema.optionalWith(Schema.Boolean.annotations(message("must be true or false")), {
      exact: true
    })
  }).annotations({
    ...typeMessage("must be a customer object"),
    identifier: "Customer",
    title: "Customer record",
    description: `One customer, as defined by the customer file contract version ${CONTRACT_VERSION}`
  })

/** One customer record as decoded by `makeCustomer(today)`. */
export type Customer = Schema.Schema.Type<ReturnType<typeof makeCustomer>>

// ------------------------------------------------------- the fast path

type Check = (value: unknown) => boolean

/**
 * One rule of the contract, three ways, for values parsed from JSON (whose own
 * keys are enumerable strings). A differential property test holds all three
 * to the schema.
 */
export interface Rule {
  /** `true` exactly when the schema decodes the value */
  readonly check: Check
  /** how many issues the schema reports for the value (ArrayFormatter entries): 0 when it decodes */
  readonly count: (value: unknown) => number
  /**
   * The value with at most `keep` unknown keys in each object the rule knows
   * (the first ones, in key order), everything else as it is. The schema
   * reports an object's unknown keys first, in key order, then its fields in
   * the order declared: the first `keep` issues of the trimmed value are the
   * first `keep` of the value, at the cost of `keep` issues rather than one per
   * unknown key.
   */
  readonly trim: (value: unknown, keep: number) => unknown
}

const leaf = (check: Check): Rule => ({ check, count: (v) => (check(v) ? 0 : 1), trim: (v) => v })
const str = (predicate: (s: string) => boolean): Rule => leaf((v) => typeof v === "string" && predicate(v))

interface Field extends Rule {
  readonly optional: boolean
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** An object with exactly these fields (no others, none missing), each passing its rule. */
const struct = (fields: Record<string, Field>): Rule => {
  const names = Object.keys(fields)
  const required = names.filter((n) => !fields[n]!.optional).length
  const fieldOf = (key: string): Field | undefined =>
    Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined
  return {
    // `fieldOf` written out: this runs for every key of every record.
    check: (v) => {
      if (!isObject(v)) return false
      let present = 0
      for (const key of Object.keys(v)) {
        const field = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined
        if (field === undefined || !field.check(v[key])) return false
        if (!field.optional) present++
      }
      return present === required
    },
    // Not an object: one issue. Otherwise one per unknown key, one per missing required field,
    // and the issues of each field present.
    count: (v) => {
      if (!isObject(v)) return 1
      let issues = 0
      let present = 0
      for (const key of Object.keys(v)) {
        const field = fieldOf(key)
        if (field === undefined) issues++
        else {
          issues += field.count(v[key])
          if (!field.optional) present++
        }
      }
      return issues + required - present
    },
    trim: (v, keep) => {
      if (!isObject(v)) return v
      const out: Record<string, unknown> = {}
      let unknown = 0
      for (const key of Object.keys(v)) {
        const field = fieldOf(key)
        if (field === undefined && unknown++ >= keep) continue
        // defineProperty, not assignment: a "__proto__" key must stay an own key, as JSON.parse made it.
        Object.defineProperty(out, key, {
          value: field === undefined ? v[key] : field.trim(v[key], keep),
          enumerable: true,
          writable: true,
          configurable: true
        })
      }
      return out
    }
  }
}

const required = (rule: Rule): Field => ({ ...rule, optional: false })
const optional = (rule: Rule): Field => ({ ...rule, optional: true })

/**
 * The rules of `makeCustomer(today)` by hand: `check` is `true` exactly when
 * the schema decodes the value without an issue, with no allocation; `count`
 * is the number of issues the schema would report, also without allocation.
 * The Contract runs `check` first and decodes with the schema only the
 * rejected records whose messages it reports (at most the report's 100
 * errors), counting the others' issues with `count`: most records are valid,
 * `check` is some twenty times faster than a decode, and a file of records
 * with thousands of unknown keys would otherwise make an issue object per key.
 */
export const makeCustomerRules = (today: string): Rule =>
  struct({
    customer_id: required(str((s) => CUSTOMER_ID.test(s))),
    first_name: required(str(isPersonName)),
    last_name: required(str(isPersonName)),
    email: required(str(isEmailAddress)),
    phone: optional(str(isPhoneNumber)),
    date_of_birth: optional(str((s) => isBirthDate(s, today))),
    address: required(struct({
      line1: required(str(isTrimmed200)),
      line2: optional(str(isLine2)),
      city: required(str(isTrimmed100)),
      postal_code: required(str((s) => POSTAL_CODE.test(s))),
      country: required(str((s) => COUNTRY.test(s)))
    })),
    payment: optional(struct({
      card_number: required(str(isCardNumber)),
      card_holder: required(str(isTrimmed100)),
      expiry: required(str(isExpiry))
    })),
    created_at: required(str(isDateTime)),
    status: optional(leaf((v) => v === "active" || v === "inactive" || v === "suspended")),
    marketing_opt_in: optional(leaf((v) => typeof v === "boolean"))
  })

/** The boolean check of `makeCustomerRules(today)`. */
export const makeCustomerCheck = (today: string): Check => makeCustomerRules(today).check

// ------------------------------------------------- the published JSON Schema

/**
 * The JSON Schema that `schema` prints, for producers to check files before
 * sending them. It is written out here rather than derived from the
 * effect/Schema above: the rules that matter to a producer (trimmed lengths,
 * real calendar dates, a phone number over its raw text) are predicates there
 * and need patterns of their own here. test/contractJsonSchema.test.ts holds
 * the two together: no file the daemon accepts is rejected by this schema, and
 * a file this schema accepts fails the daemon only by a rule listed in
 * `UNCHECKED_RULES`.
 *
 * The patterns are ECMA-262 regular expressions in Unicode mode (the `u` flag,
 * ajv's default, which 2020-12 recommends): a quantifier counts code points, as
 * the daemon's lengths do. They spell out whitespace and digits instead of
 * `\s` and `\d`, whose meaning differs between regular-expression engines.
 */

export const JSON_SCHEMA_DRAFTS = ["draft-07", "2020-12"] as const
/** The JSON Schema dialects `contractJsonSchema` can write: `draft-07` or `2020-12`. */
export type JsonSchemaDraft = (typeof JSON_SCHEMA_DRAFTS)[number]

const META_SCHEMAS: Record<JsonSchemaDraft, string> = {
  "draft-07": "http://json-schema.org/draft-07/schema#",
  "2020-12": "https://json-schema.org/draft/2020-12/schema"
}

/** Names the contract version, not the dialect: both drafts state the same rules. */
export const CONTRACT_SCHEMA_ID = `urn:customer-json-processor:customer-file:v${CONTRACT_VERSION}`
/** Custom keyword at the schema's root: the contract version, as reports give it in `contract_version`. */
export const CONTRACT_VERSION_KEYWORD = "x-cjp-contract-version"
/** Custom keyword at the schema's root: the rules of the contract this schema cannot check. */
export const UNCHECKED_RULES_KEYWORD = "x-cjp-unchecked-rules"

/** A rule of the contract that JSON Schema cannot express, as listed in the schema's `x-cjp-unchecked-rules`. */
export interface UncheckedRule {
  /** a stable name for the rule */
  readonly rule: string
  /**
   * where a report puts a breach, as for a file of one object (`$` is the
   * record); in a batch the record's index follows `$` (`$[3].customer_id`)
   */
  readonly path: string
  readonly description: string
}

/** The rules of contract §3–4 that JSON Schema cannot express. */
export const UNCHECKED_RULES: ReadonlyArray<UncheckedRule> = [
  {
    rule: "card-number-luhn",
    path: "$.payment.card_number",
    description: "The digits of a card number must pass the Luhn check."
  },
  {
    rule: "date-of-birth-not-after-processing-day",
    path: "$.date_of_birth",
    description:
      "A date of birth may not lie after the day the file is processed (UTC). The schema checks that it is a real date from 1900-01-01 on."
  },
  {
    rule: "customer-id-unique-in-file",
    path: "$.customer_id",
    description: "No two records in one file may have the same customer_id: the later record is invalid."
  },
  {
    rule: "email-length-utf16",
    path: "$.email",
    description:
      "The processor counts the 254 characters of an email address in UTF-16 code units, so a character outside the Basic Multilingual Plane (an emoji, say) counts twice; the schema's maxLength counts it once."
  }
]

// The set JavaScript's `\s` and `String.prototype.trim` share.
const WHITESPACE = String.raw`\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff`
const CONTROLS = String.raw`\u0000-\u001f\u007f-\u009f`
const WHITESPACE_NOT_CONTROL = String.raw` \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff`

/** 1 to `max` characters once leading and trailing whitespace is trimmed. */
const trimmedTextPattern = (max: number) =>
  String.raw`^[${WHITESPACE}]*[^${WHITESPACE}](?:[\s\S]{0,${max - 2}}[^${WHITESPACE}])?[${WHITESPACE}]*$`

// As trimmedTextPattern(100), with no control character anywhere (tab and newline are both).
const PERSON_NAME_PATTERN = String.raw`^[${WHITESPACE_NOT_CONTROL}]*[^${WHITESPACE}${CONTROLS}]` +
  String.raw`(?:[^${CONTROLS}]{0,98}[^${WHITESPACE}${CONTROLS}])?[${WHITESPACE_NOT_CONTROL}]*$`

// One '@'; the domain holds a '.' (the lookahead) and starts and ends with neither '.' nor '-'.
// Written so that no substring can be matched in two ways: a pattern with two
// unbounded runs around the '.' took seconds on a long domain of dots.
const EMAIL_PATTERN = String.raw`^[^${WHITESPACE}@]+@(?=[^${WHITESPACE}@]*\.)[^${WHITESPACE}@.-](?:[^${WHITESPACE}@]*[^${WHITESPACE}@.-])?$`

// The daemon removes these, then wants an optional '+' and 7 to 15 digits.
const PHONE_SEPARATORS = `${WHITESPACE}.()-`
const PHONE_PATTERN = String.raw`^[${PHONE_SEPARATORS}]*(?:\+[${PHONE_SEPARATORS}]*)?(?:[0-9][${PHONE_SEPARATORS}]*){7,15}$`

const MONTH_DAY = "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
// Years ending in these two digits are leap years; so are the centuries of `leapCentury` followed by 00.
const LEAP_YEAR_END = "(?:0[48]|[2468][048]|[13579][26])"
/** `YYYY-MM-DD`, a real date (Gregorian leap years), for years whose first two digits match `century`. */
const calendarDate = (century: string, leapCentury: string) =>
  `(?:${century}[0-9]{2}-${MONTH_DAY}|(?:${century}${LEAP_YEAR_END}|${leapCentury}00)-02-29)`

// From 1900 (1900 itself is no leap year); the upper bound is the processing day: see UNCHECKED_RULES.
const BIRTH_DATE_PATTERN = `^${calendarDate("(?:19|[2-9][0-9])", "(?:[2468][048]|[3579][26])")}$`
const DATE_TIME_PATTERN = `^${calendarDate("[0-9]{2}", "(?:[02468][048]|[13579][26])")}` +
  String.raw`T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$`

const uncheckedNote = (rule: string) => ` Not checked by this schema: see ${UNCHECKED_RULES_KEYWORD}, rule ${rule}.`

const text = (description: string, pattern: string) => ({ type: "string", description, pattern })
const trimmedText = (max: number, what: string) =>
  text(`${what}: 1 to ${max} characters after trimming leading and trailing whitespace.`, trimmedTextPattern(max))

/** Options of `contractJsonSchema`. */
export interface ContractJsonSchemaOptions {
  /** the largest batch this processor takes (MAX_RECORDS) */
  readonly maxRecords: number
  readonly draft?: JsonSchemaDraft
}

/** A JSON object, as `contractJsonSchema` returns it. */
export type JsonObject = { readonly [key: string]: unknown }

/** The customer file contract as a JSON Schema document of the given draft (draft-07 by default). */
export const contractJsonSchema = ({ draft = "draft-07", maxRecords }: ContractJsonSchemaOptions): JsonObject => {
  const definitions = draft === "draft-07" ? "definitions" : "$defs"
  const ref = (name: string) => ({ $ref: `#/${definitions}/${name}` })
  const description = [
    `A customer file, contract version ${CONTRACT_VERSION}: one customer object, or an array of 1 to ${maxRecords} (this processor's MAX_RECORDS) customer objects.`,
    "Unknown fields are errors at every level. Patterns are ECMA-262 regular expressions in Unicode mode.",
    `A file this schema accepts is still returned if it breaks one of these rules, which JSON Schema cannot express (also listed in ${UNCHECKED_RULES_KEYWORD}):`,
    ...UNCHECKED_RULES.map((r) => `${r.rule} (${r.path}): ${r.description}`),
    "Before any of this, the file itself must be UTF-8, well-formed JSON and at most MAX_FILE_SIZE_MB (contract §2)."
  ].join(" ")

  const Address = {
    type: "object",
    title: "Address",
    required: ["line1", "city", "postal_code", "country"],
    properties: {
      line1: trimmedText(200, "First address line"),
      line2: { type: "string", description: "Second address line, optional: at most 200 characters.", maxLength: 200 },
      city: trimmedText(100, "City"),
      postal_code: text("Postal code: 1 to 16 letters, digits, spaces or '-'.", String.raw`^[\p{L}\p{N} -]{1,16}$`),
      country: text("Country: two uppercase letters A-Z (ISO 3166-1 alpha-2).", "^[A-Z]{2}$")
    },
    additionalProperties: false
  }

  const Payment = {
    type: "object",
    title: "Payment",
    description: "Card details. No card verification code (cvv, cvc) may be sent.",
    required: ["card_number", "card_holder", "expiry"],
    properties: {
      card_number: text(
        "Card number: 12 to 19 digits, optionally in groups separated by single spaces or single '-'. The digits must pass the Luhn check." +
          uncheckedNote("card-number-luhn"),
        "^[0-9](?:[ -]?[0-9]){11,18}$"
      ),
      card_holder: trimmedText(100, "Card holder"),
      expiry: text("Expiry: MM/YY with a month from 01 to 12.", "^(?:0[1-9]|1[0-2])/[0-9]{2}$")
    },
    additionalProperties: false
  }

  const personName = (what: string) =>
    text(
      `${what}: 1 to 100 characters after trimming leading and trailing whitespace; no control characters (U+0000-U+001F, U+007F-U+009F).`,
      PERSON_NAME_PATTERN
    )

  const Customer = {
    type: "object",
    title: "Customer record",
    description: `One customer, as defined by the customer file contract version ${CONTRACT_VERSION}.`,
    required: ["customer_id", "first_name", "last_name", "email", "address", "created_at"],
    properties: {
      customer_id: text(
        "Customer id: 1 to 64 letters A-Z or a-z, digits, '_' or '-'. Unique within a file." + uncheckedNote("customer-id-unique-in-file"),
        "^[A-Za-z0-9_-]{1,64}$"
      ),
      first_name: personName("First name"),
      last_name: personName("Last name"),
      email: {
        ...text(
          "Email address, at most 254 characters: local@domain, no whitespace, exactly one '@', a '.' inside the domain, which neither starts nor ends with '.' or '-'." +
            " The processor counts the 254 in UTF-16 code units." + uncheckedNote("email-length-utf16"),
          EMAIL_PATTERN
        ),
        maxLength: 254
      },
      phone: text(
        "Phone number, optional: after removing spaces, '-', '.', '(' and ')', an optional leading '+' and then 7 to 15 digits.",
        PHONE_PATTERN
      ),
      date_of_birth: {
        ...text(
          "Date of birth, optional: YYYY-MM-DD, a real calendar date, from 1900-01-01 to the day the file is processed (UTC)." +
            uncheckedNote("date-of-birth-not-after-processing-day"),
          BIRTH_DATE_PATTERN
        ),
        format: "date"
      },
      address: ref("Address"),
      payment: ref("Payment"),
      created_at: {
        ...text(
          "Creation time: ISO 8601 date-time with seconds and a 'Z' or '±HH:MM' offset, a real date and time (2026-11-28T09:30:00Z, 2026-11-28T10:30:00.250+01:00).",
          DATE_TIME_PATTERN
        ),
        format: "date-time"
      },
      status: { type: "string", description: "Status, optional.", enum: ["active", "inactive", "suspended"] },
      marketing_opt_in: { type: "boolean", description: "Marketing opt-in, optional." }
    },
    additionalProperties: false
  }

  return {
    $schema: META_SCHEMAS[draft],
    $id: CONTRACT_SCHEMA_ID,
    title: `Customer file (contract version ${CONTRACT_VERSION})`,
    description,
    [CONTRACT_VERSION_KEYWORD]: CONTRACT_VERSION,
    [UNCHECKED_RULES_KEYWORD]: UNCHECKED_RULES,
    anyOf: [
      ref("Customer"),
      { type: "array", description: `A batch: 1 to ${maxRecords} customer records.`, minItems: 1, maxItems: maxRecords, items: ref("Customer") }
    ],
    [definitions]: { Customer, Address, Payment }
  }
}
