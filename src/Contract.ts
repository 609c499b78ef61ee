/**
 * The Contract service: validates a parsed document against contract §3–4
 * and turns every failure into `{ record, path, message }` (contract §6).
 */
import * as Context from "effect/Context"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import { contractJsonSchema, makeCustomer, makeCustomerCheck } from "./ContractSchema.js"
import type { JsonObject, JsonSchemaDraft } from "./ContractSchema.js"

export interface ValidationError {
  /** index of the record in the file (0 for a single object), null for a file-level error */
  readonly record: number | null
  /** JSONPath from the document root */
  readonly path: string
  readonly message: string
}

export interface Validation {
  /** the number of records in the file (0 when the file is not a customer document) */
  readonly records: number
  readonly errors: ReadonlyArray<ValidationError>
}

export interface ValidateOptions {
  readonly maxRecords: number
  /** the processing date, UTC `YYYY-MM-DD` */
  readonly today: string
}

const DECODE_OPTIONS = { errors: "all", onExcessProperty: "error" } as const

type RecordDecoder = (record: unknown) => Either.Either<unknown, ParseResult.ParseIssue>

interface Decoder {
  readonly today: string
  /** the schema's decoder: every issue, for the messages */
  readonly decode: RecordDecoder
  /** the same rules as one boolean check, tried first */
  readonly isValid: (record: unknown) => boolean
}

// One decoder per processing day: building it per file would cost more than decoding.
let cached: Decoder | undefined
const decoderFor = (today: string): Decoder => {
  if (cached === undefined || cached.today !== today) {
    cached = {
      today,
      // The issue itself, not a ParseError: an Error object (and its stack trace) per rejected
      // record cost more than the decoding.
      decode: ParseResult.decodeUnknownEither(makeCustomer(today), DECODE_OPTIONS),
      isValid: makeCustomerCheck(today)
    }
  }
  return cached
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Appends one segment to a JSONPath, bracket-quoting keys that are not identifiers. */
export const jsonPathSegment = (key: PropertyKey): string => {
  if (typeof key === "number") return `[${key}]`
  const name = String(key)
  return IDENTIFIER.test(name) ? `.${name}` : `['${name.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}']`
}

const UNEXPECTED_MESSAGE = "is not an allowed field"
const CVV_FIELDS = new Set(["cvv", "cvc"])

const issueMessage = (issue: ParseResult.ArrayFormatterIssue): string => {
  switch (issue._tag) {
    case "Missing":
      return "is required"
    case "Unexpected": {
      const last = issue.path[issue.path.length - 1]
      return typeof last === "string" && CVV_FIELDS.has(last.toLowerCase())
        ? `${UNEXPECTED_MESSAGE} (a card verification code must never be stored)`
        : UNEXPECTED_MESSAGE
    }
    default:
      return issue.message
  }
}

const fileError = (message: string): ValidationError => ({ record: null, path: "$", message })

const typeName = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Validates one parsed document; pure apart from the per-day decoder cache. */
export const validateDocument = (document: unknown, options: ValidateOptions): Validation => {
  const decoder = decoderFor(options.today)
  const errors: Array<ValidationError> = []
  const checkRecord = (record: unknown, index: number, prefix: string, seen: Map<string, number>) => {
    const result = decoder.isValid(record) ? undefined : decoder.decode(record)
    if (result !== undefined && Either.isLeft(result)) {
      for (const issue of ParseResult.ArrayFormatter.formatIssueSync(result.left)) {
        errors.push({ record: index, path: prefix + issue.path.map(jsonPathSegment).join(""), message: issueMessage(issue) })
      }
    }
    if (isPlainObject(record) && typeof record.customer_id === "string") {
      const first = seen.get(record.customer_id)
      if (first === undefined) seen.set(record.customer_id, index)
      else errors.push({ record: index, path: `${prefix}.customer_id`, message: `duplicates the customer_id of record ${first}` })
    }
  }

  if (Array.isArray(document)) {
    if (document.length === 0) {
      return { records: 0, errors: [fileError(`file contains an empty array; expected 1 to ${options.maxRecords} customer records`)] }
    }
    if (document.length > options.maxRecords) {
      return {
        records: document.length,
        errors: [fileError(`file contains ${document.length} records; at most ${options.maxRecords} are allowed (MAX_RECORDS)`)]
      }
    }
    const seen = new Map<string, number>()
    for (let i = 0; i < document.length; i++) checkRecord(document[i], i, `$[${i}]`, seen)
    return { records: document.length, errors }
  }
  if (isPlainObject(document)) {
    checkRecord(document, 0, "$", new Map())
    return { records: 1, errors }
  }
  return {
    records: 0,
    errors: [fileError(`top-level value must be a customer object or an array of customer objects, not ${typeName(document)}`)]
  }
}

export const todayUtc = (now: Date): string => now.toISOString().slice(0, 10)

/** The Contract as a service, so a test or an extension can swap the rules. */
export class Contract extends Context.Tag("customer-json/Contract")<
  Contract,
  {
    readonly validate: (document: unknown, now: Date) => Validation
    /** the published JSON Schema (ContractSchema.ts), draft-07 unless told */
    readonly jsonSchema: (draft?: JsonSchemaDraft) => JsonObject
  }
>() {
  static readonly make = (maxRecords: number): Context.Tag.Service<Contract> => ({
    validate: (document, now) => validateDocument(document, { maxRecords, today: todayUtc(now) }),
    jsonSchema: (draft = "draft-07") => contractJsonSchema({ maxRecords, draft })
  })
  static readonly layer = (maxRecords: number) => Layer.succeed(Contract, Contract.make(maxRecords))
}
