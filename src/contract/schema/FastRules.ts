/**
 * The customer record of contract §4 as hand-written rules: the daemon's hot
 * path. `check` decides a record with no allocation; `count` and `trim` serve
 * the reports of rejected records. The predicates are the effect Schema's
 * (Predicates.ts); the structure (which fields, which optional) is written
 * here again, for speed, and test/contractEncodings.test.ts holds it to the
 * schema's.
 *
 * @module
 */
import {
  COUNTRY,
  CUSTOMER_ID,
  isBirthDate,
  isCardNumber,
  isDateTime,
  isEmailAddress,
  isExpiry,
  isLine2,
  isPersonName,
  isPhoneNumber,
  isTrimmedText,
  POSTAL_CODE
} from "./Predicates.js"

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
  /** the fields when the rule is of an object (see `ObjectRule`), else undefined */
  readonly fields: Readonly<Record<string, FieldRule>> | undefined
}

/** A field of an object rule: its rule, and whether the object may leave it out. */
export interface FieldRule extends Rule {
  /** `true` when the object may leave the field out */
  readonly optional: boolean
}

/** The rule of an object with exactly these fields (no others, none missing), each passing its rule. */
export interface ObjectRule extends Rule {
  /** the fields, in the order the schema declares them */
  readonly fields: Readonly<Record<string, FieldRule>>
}

// Every rule has the same keys in the same order (`fields` last, undefined on a
// leaf), so the field objects the hot loop reads all share one shape.
const leaf = (check: Check): Rule => ({ check, count: (v) => (check(v) ? 0 : 1), trim: (v) => v, fields: undefined })
const str = (predicate: (s: string) => boolean): Rule => leaf((v) => typeof v === "string" && predicate(v))

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** An object with exactly these fields (no others, none missing), each passing its rule. */
const struct = (fields: Record<string, FieldRule>): ObjectRule => {
  const names = Object.keys(fields)
  const required = names.filter((n) => !fields[n]!.optional).length
  const fieldOf = (key: string): FieldRule | undefined =>
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
    },
    fields
  }
}

const required = (rule: Rule): FieldRule => ({ ...rule, optional: false })
const optional = (rule: Rule): FieldRule => ({ ...rule, optional: true })

const isTrimmed100 = isTrimmedText(100)
const isTrimmed200 = isTrimmedText(200)

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
export const makeCustomerRules = (today: string): ObjectRule =>
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
