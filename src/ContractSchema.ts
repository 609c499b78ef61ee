/**
 * The customer record of contract §4 as an `effect/Schema`.
 *
 * Every field carries its own message (`override: true`) because Schema's
 * built-in messages quote the input value, and the contract (§6) forbids
 * that. The only value ever shown is a card number masked to its last four
 * digits.
 */
import * as Schema from "effect/Schema"
import type * as ParseResult from "effect/ParseResult"
import { luhnValid, maskDigitsKeepLastFour } from "./Masking.js"

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

export const isPersonName = (s: string): boolean => {
  const length = codePoints(s.trim())
  return length >= 1 && length <= 100 && !CONTROL.test(s)
}

export const isEmailAddress = (s: string): boolean => {
  if (s.length > 254 || /\s/.test(s)) return false
  const at = s.indexOf("@")
  if (at <= 0 || at !== s.lastIndexOf("@")) return false
  const domain = s.slice(at + 1)
  if (domain.length === 0) return false
  if (/^[.-]|[.-]$/.test(domain)) return false
  return domain.includes(".")
}

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
  Schema.filter(isPersonName, {
    ...message("must be a string of 1 to 100 characters after trimming, without control characters"),
    jsonSchema: { minLength: 1, maxLength: 100 }
  })
)

const CUSTOMER_ID_MESSAGE = "must be a string of 1 to 64 letters, digits, '_' or '-'"
const EMAIL_MESSAGE = "must be an email address: a local part, one '@' and a domain with a '.', at most 254 characters"
const PHONE_MESSAGE = "must be a phone number: an optional '+' and 7 to 15 digits, optionally separated by spaces, '-', '.', '(' or ')'"
const CREATED_AT_MESSAGE = "must be an ISO 8601 date-time with seconds and a 'Z' or '±HH:MM' offset, e.g. 2026-11-28T09:30:00Z"
const CARD_MESSAGE = "must be a card number of 12 to 19 digits, optionally grouped by single spaces or single '-'"

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

export const CardNumber = string(CARD_MESSAGE).pipe(
  Schema.filter(isCardNumberShape, { ...message(CARD_MESSAGE), jsonSchema: { pattern: "^[0-9]+([ -][0-9]+)*$" } }),
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
      Schema.filter(isEmailAddress, { ...message(EMAIL_MESSAGE), jsonSchema: { maxLength: 254, pattern: "^[^\\s@]+@[^\\s@]+$" } })
    ),
    phone: Schema.optionalWith(
      string(PHONE_MESSAGE).pipe(Schema.filter(isPhoneNumber, message(PHONE_MESSAGE))),
      { exact: true }
    ),
    date_of_birth: Schema.optionalWith(
      string(`must be a real date YYYY-MM-DD from 1900-01-01 to the processing date (${today})`).pipe(
        Schema.filter((s) => isBirthDate(s, today), {
          ...message(`must be a real date YYYY-MM-DD from 1900-01-01 to the processing date (${today})`),
          jsonSchema: { format: "date" }
        })
      ),
      { exact: true }
    ),
    address: Address,
    payment: Schema.optionalWith(Payment, { exact: true }),
    created_at: string(CREATED_AT_MESSAGE).pipe(
      Schema.filter(isDateTime, { ...message(CREATED_AT_MESSAGE), jsonSchema: { format: "date-time" } })
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
    description: "One customer, as defined by the customer file contract version 1"
  })

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
