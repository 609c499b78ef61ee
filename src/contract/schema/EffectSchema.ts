/**
 * The customer record of contract §4 as an `effect/Schema`: the encoding whose
 * messages reports carry (the Contract decodes with it only the records the
 * fast rules reject).
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
import { luhnValidGrouped, maskDigitsKeepLastFour } from "../../masking/Masking.js"
import {
  CONTRACT_VERSION,
  COUNTRY,
  CUSTOMER_ID,
  EXPIRY,
  isBirthDate,
  isCardNumberShape,
  isDateTime,
  isEmailAddress,
  isLine2,
  isPersonName,
  isPhoneNumber,
  isTrimmedText,
  POSTAL_CODE,
  STATUS_VALUES
} from "./Predicates.js"

const message = (text: string) => ({ message: () => ({ message: text, override: true }) })
// For structs: without `override` the field messages inside still win, and this
// one is used only when the value is not an object at all.
const typeMessage = (text: string) => ({ message: () => text })

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
  Schema.filter(luhnValidGrouped, {
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
      Schema.Literal(...STATUS_VALUES).annotations(
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
