/**
 * The customer file contract as the JSON Schema that `schema` prints, for
 * producers to check files before sending them. It is written out here rather
 * than derived from the effect Schema (EffectSchema.ts): the rules that matter
 * to a producer (trimmed lengths, real calendar dates, a phone number over its
 * raw text) are predicates there and need patterns of their own here.
 * test/contractEncodings.test.ts holds the patterns to the predicates field by
 * field, and test/contractJsonSchema.test.ts holds whole files: no file the
 * daemon accepts is rejected by this schema, and a file this schema accepts
 * fails the daemon only by a rule listed in `UNCHECKED_RULES`.
 *
 * The patterns are ECMA-262 regular expressions in Unicode mode (the `u` flag,
 * ajv's default, which 2020-12 recommends): a quantifier counts code points, as
 * the daemon's lengths do. They spell out whitespace and digits instead of
 * `\s` and `\d`, whose meaning differs between regular-expression engines.
 *
 * @module
 */
import { CONTRACT_VERSION, COUNTRY, CUSTOMER_ID, POSTAL_CODE, STATUS_VALUES } from "./Predicates.js"

/** The JSON Schema dialects `contractJsonSchema` can write, draft-07 (the default) first. */
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
      postal_code: text("Postal code: 1 to 16 letters, digits, spaces or '-'.", POSTAL_CODE.source),
      country: text("Country: two uppercase letters A-Z (ISO 3166-1 alpha-2).", COUNTRY.source)
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
        CUSTOMER_ID.source
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
      status: { type: "string", description: "Status, optional.", enum: [...STATUS_VALUES] },
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
