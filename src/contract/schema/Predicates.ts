/**
 * The field rules of contract §4 as plain predicates over strings, shared by
 * the effect Schema (EffectSchema.ts) and the fast rules (FastRules.ts), so
 * the two cannot drift apart on what a valid value is. The JSON Schema
 * (JsonSchema.ts) states the same rules as patterns of its own;
 * test/contractEncodings.test.ts holds the three together field by field.
 *
 * @module
 */
import { luhnValid } from "../../masking/Masking.js"

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

/** `card_number`: the shape of `isCardNumberShape`, and digits that pass the Luhn check. */
export const isCardNumber = (s: string): boolean => isCardNumberShape(s) && luhnValid(s.replace(/\D/g, ""))

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
