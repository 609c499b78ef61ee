/**
 * The stable codes of the contract's rules. Every `ValidationError` carries
 * one (`rule`), so a program can tell errors apart without reading their
 * messages, which are written for people and may be reworded.
 * docs/CONTRACT.md §6 lists them; a test holds that list to this one.
 *
 * @module
 */
import { isBirthDate, isCardNumberShape } from "./schema/Predicates.js"

/**
 * Rules about the file as a whole: the error's `record` is `null` and its
 * `path` is `$`. `file-too-large` comes from the daemon and the `validate`
 * command (validateText and validateBytes are given the content itself);
 * `not-a-regular-file`, `file-not-found` and `unreadable-file` only from the
 * `validate` command.
 */
export const FILE_RULES = [
  "file-too-large",
  "not-a-regular-file",
  "file-not-found",
  "unreadable-file",
  "invalid-utf8",
  "empty-file",
  "syntax",
  "duplicate-key",
  "top-level-value",
  "empty-array",
  "too-many-records"
] as const

/** Rules about one record: the error's `record` is its index and `path` points into it. */
export const RECORD_RULES = [
  "required",
  "unknown-field",
  "not-an-object",
  "customer-id-format",
  "customer-id-unique-in-file",
  "name-format",
  "email-format",
  "phone-format",
  "date-of-birth-format",
  "date-of-birth-not-after-processing-day",
  "text-length",
  "postal-code-format",
  "country-format",
  "card-number-format",
  "card-number-luhn",
  "expiry-format",
  "created-at-format",
  "status-value",
  "marketing-opt-in-value"
] as const

/** The code of a file-level rule of the built-in contract. */
export type FileRule = (typeof FILE_RULES)[number]

/** The code of a record-level rule of the built-in contract. */
export type RecordRule = (typeof RECORD_RULES)[number]

/** The code of a rule of the built-in contract: what `rule` holds in every error it reports. */
export type ContractRule = FileRule | RecordRule

/**
 * A rule code as `ValidationError` carries it: one of the built-in
 * contract's (`ContractRule`, listed in docs/CONTRACT.md), or one of a
 * custom `Contract`'s own (any other string: keep them distinct from these).
 */
export type RuleCode = ContractRule | (string & {})

/** Every code of the built-in contract, file-level first. */
export const CONTRACT_RULES: ReadonlyArray<ContractRule> = [...FILE_RULES, ...RECORD_RULES]

/** Whether `rule` is one of the built-in contract's codes. */
export const isContractRule = (rule: string): rule is ContractRule => (CONTRACT_RULES as ReadonlyArray<string>).includes(rule)

/**
 * The rule of each field whose value breaks one rule only. `card_number` and
 * `date_of_birth` break one of two, told apart by the value (see `fieldRule`).
 * A test holds this table to the fields of the schemas in schema/EffectSchema.ts.
 */
export const FIELD_RULES: Readonly<Record<string, RecordRule>> = {
  customer_id: "customer-id-format",
  first_name: "name-format",
  last_name: "name-format",
  email: "email-format",
  phone: "phone-format",
  address: "not-an-object",
  payment: "not-an-object",
  line1: "text-length",
  line2: "text-length",
  city: "text-length",
  postal_code: "postal-code-format",
  country: "country-format",
  card_holder: "text-length",
  expiry: "expiry-format",
  created_at: "created-at-format",
  status: "status-value",
  marketing_opt_in: "marketing-opt-in-value"
}

/**
 * The rule a field's value breaks, given the field's name (the last segment
 * of the path: a number, or nothing, for the record itself) and its
 * value. Only for values the schema refused, so a card number of the right
 * shape fails Luhn and a real date of birth lies after the processing day.
 */
export const fieldRule = (field: PropertyKey | undefined, value: unknown): RecordRule => {
  if (typeof field !== "string") return "not-an-object"
  if (field === "card_number") return typeof value === "string" && isCardNumberShape(value) ? "card-number-luhn" : "card-number-format"
  if (field === "date_of_birth") {
    return typeof value === "string" && isBirthDate(value, "9999-12-31") ? "date-of-birth-not-after-processing-day" : "date-of-birth-format"
  }
  return Object.hasOwn(FIELD_RULES, field) ? FIELD_RULES[field]! : "unknown-field"
}
