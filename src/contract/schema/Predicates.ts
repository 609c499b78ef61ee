/**
 * The field rules of contract §4 as plain predicates over strings, shared by
 * the effect Schema (EffectSchema.ts) and the fast rules (FastRules.ts), so
 * the two cannot drift apart on what a valid value is. The JSON Schema
 * (JsonSchema.ts) states the same rules as patterns of its own;
 * test/contractEncodings.test.ts holds the three together field by field.
 *
 * @module
 */
import { luhnValidGrouped } from "../../masking/Masking.js"

/**
 * The version of the customer file contract these rules implement. The
 * published JSON Schema and every error report carry it, so a partner can tell
 * which rules a report applied.
 */
export const CONTRACT_VERSION = "1"

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

/** The rule of `isPhoneNumber` as written: any text (beyond ASCII, `\s` takes Unicode's spaces too). */
const phoneAsWritten = (s: string): boolean => /^\+?\d{7,15}$/.test(s.replace(/[\s\-.()]/g, ""))

/**
 * `phone`: after removing spaces, `-`, `.`, `(` and `)`, an optional `+` and 7 to 15 digits.
 * (Checked for every record: ASCII text is read in place, without the copy a `replace` makes.)
 */
export const isPhoneNumber = (s: string): boolean => {
  let digits = 0
  let plus = false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x30 && c <= 0x39) digits++
    else if (c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29) continue
    else if (c === 0x2b && digits === 0 && !plus) plus = true
    else return c >= 0x80 && phoneAsWritten(s)
  }
  return digits >= 7 && digits <= 15
}

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
  // The shape checked, its fields are at fixed places (the offset, if any, is the last six characters):
  // read in place, without the match array an `exec` makes (checked for every record).
  if (!DATE_TIME.test(s)) return false
  const at = (i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48
  if (!isRealDate(at(0) * 100 + at(2), at(5), at(8))) return false
  if (at(11) > 23 || at(14) > 59 || at(17) > 59) return false
  const end = s.length
  return s.charCodeAt(end - 1) === 0x5a || (at(end - 5) <= 23 && at(end - 2) <= 59)
}

const CARD_SHAPE = /^\d+(?:[ -]\d+)*$/

/** 12 to 19 digits, optionally in groups separated by single spaces or single `-`. */
export const isCardNumberShape = (s: string): boolean => {
  if (!CARD_SHAPE.test(s)) return false
  let digits = 0
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 0x20 && s.charCodeAt(i) !== 0x2d) digits++
  return digits >= 12 && digits <= 19
}

/** `card_number`: the shape of `isCardNumberShape`, and digits that pass the Luhn check. */
export const isCardNumber = (s: string): boolean => isCardNumberShape(s) && luhnValidGrouped(s)

/** `expiry`: `MM/YY` with a month from 01 to 12. */
export const EXPIRY = /^(0[1-9]|1[0-2])\/\d{2}$/
/** `customer_id`: 1 to 64 letters A-Z or a-z, digits, `_` or `-`. */
export const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/
/** `postal_code`: 1 to 16 letters, digits (any script), spaces or `-`. */
export const POSTAL_CODE = /^[\p{L}\p{N} -]{1,16}$/u
/** `country`: two uppercase letters A-Z. */
export const COUNTRY = /^[A-Z]{2}$/

/** `expiry`: `MM/YY` with a month from 01 to 12. */
export const isExpiry = (s: string): boolean => EXPIRY.test(s)

/** 1 to `max` characters (code points) after trimming. */
export const isTrimmedText = (max: number) => (s: string): boolean => {
  const n = codePoints(s.trim())
  return n >= 1 && n <= max
}

/** `address.line2`: at most 200 characters (code points), blank allowed. */
export const isLine2 = (s: string): boolean => codePoints(s) <= 200

/** The values `status` may take. */
export const STATUS_VALUES = ["active", "inactive", "suspended"] as const
