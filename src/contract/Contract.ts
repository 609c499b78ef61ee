/**
 * The Contract service: validates a parsed document against contract §3–4,
 * counts every failure and turns the first ones (the report's 100) into
 * `{ record, path, message }` (contract §6).
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import { makeCustomer } from "./schema/EffectSchema.js"
import { makeCustomerRules } from "./schema/FastRules.js"
import { contractJsonSchema } from "./schema/JsonSchema.js"
import type { JsonObject, JsonSchemaDraft } from "./schema/JsonSchema.js"
import { MAX_REPORTED_ERRORS } from "./ErrorReport.js"
import { fieldRule } from "./Rules.js"
import type { FileRule, RecordRule } from "./Rules.js"
import type { ValidationError } from "./ValidationError.js"
import { AppConfig } from "../Config.js"
import { maskShortened } from "../masking/Masking.js"
// (`Effect.yieldNow` alone lets other fibers run but not the loop: the health endpoint, signals, timers)
import { yieldToEventLoop } from "../runtime/SliceScheduler.js"

export type { ValidationError } from "./ValidationError.js"

/** The contract's verdict on a document: valid exactly when `errorCount` is 0. */
export interface Validation {
  /** the number of records in the file (0 when the file is not a customer document) */
  readonly records: number
  /** the first errors, in order: at most `maxErrors` (the report's 100) */
  readonly errors: ReadonlyArray<ValidationError>
  /** every error, listed or not (the report's `error_count`) */
  readonly errorCount: number
}

/** Options of `validateDocument` and `validateEffect` (for a text or bytes, see `validateText`). */
export interface ValidateOptions {
  readonly maxRecords: number
  /** the processing date, UTC `YYYY-MM-DD` */
  readonly today: string
  /** the most errors listed in `errors` (the others are only counted); default MAX_REPORTED_ERRORS */
  readonly maxErrors?: number | undefined
  /** the decoders to use (see `makeDecoders`); without, the day's decoder is built for this call */
  readonly decoders?: Decoders | undefined
}

const DECODE_OPTIONS = { errors: "all", onExcessProperty: "error" } as const

type RecordDecoder = (record: unknown) => Either.Either<unknown, ParseResult.ParseIssue>

/** The record rules of one processing day, built once and reused (see `makeDecoders`). */
export interface Decoder {
  readonly today: string
  /** the schema's decoder: every issue, for the messages */
  readonly decode: RecordDecoder
  /** the same rules as one boolean check, tried first */
  readonly isValid: (record: unknown) => boolean
  /** the number of issues `decode` reports, without making them */
  readonly issueCount: (record: unknown) => number
  /** the record with at most `keep` unknown keys per object: its first `keep` issues are the record's */
  readonly trim: (record: unknown, keep: number) => unknown
}

const buildDecoder = (today: string): Decoder => {
  const rules = makeCustomerRules(today)
  return {
    today,
    // The issue itself, not a ParseError: an Error object (and its stack trace) per rejected
    // record cost more than the decoding.
    decode: ParseResult.decodeUnknownEither(makeCustomer(today), DECODE_OPTIONS),
    isValid: rules.check,
    issueCount: rules.count,
    trim: rules.trim
  }
}

/** The decoder for a processing day (`YYYY-MM-DD`). */
export type Decoders = (today: string) => Decoder

/**
 * Decoders that keep the current day's: building one (about half a
 * millisecond) per file would cost more than decoding it. Each Contract (and
 * each caller that validates many documents) holds its own.
 */
export const makeDecoders = (): Decoders => {
  let cached: Decoder | undefined
  return (today) => {
    if (cached === undefined || cached.today !== today) cached = buildDecoder(today)
    return cached
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * The longest key a path shows whole. A longer one (an unknown key can be as
 * long as the file) is shown masked (contract §7) and cut to this many
 * characters, ending in `…`: a path, and every report, mail and log line that
 * shows it, stays small, and masking it costs no more than this.
 */
export const KEY_SHOWN_MAX = 200

/** Appends one segment to a JSONPath, bracket-quoting keys that are not identifiers. */
export const jsonPathSegment = (key: PropertyKey): string => {
  if (typeof key === "number") return `[${key}]`
  const whole = String(key)
  const name = whole.length <= KEY_SHOWN_MAX ? whole : maskShortened(whole, KEY_SHOWN_MAX)
  return IDENTIFIER.test(name) ? `.${name}` : `['${name.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}']`
}

const UNEXPECTED_MESSAGE = "is not an allowed field"
const CVV_FIELDS = new Set(["cvv", "cvc"])

/** The value at `path` inside `record` (the path of an issue of that record's decoding). */
const valueAt = (record: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let value = record
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  return value
}

const issueRule = (issue: ParseResult.ArrayFormatterIssue, record: unknown): RecordRule => {
  switch (issue._tag) {
    case "Missing":
      return "required"
    case "Unexpected":
      return "unknown-field"
    default:
      return fieldRule(issue.path[issue.path.length - 1], valueAt(record, issue.path))
  }
}

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

/** A file-level error: `record` null, `path` `$`. */
export const fileError = (rule: FileRule, message: string): ValidationError => ({ record: null, path: "$", rule, message })

const typeName = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A validation under way: `step` validates records until done (`true`) or past `deadline` (`performance.now()`). */
interface Run {
  readonly step: (deadline: number) => boolean
  readonly result: () => Validation
}

const startValidation = (document: unknown, options: ValidateOptions): Run => {
  const maxErrors = options.maxErrors ?? MAX_REPORTED_ERRORS
  const fileLevel = (records: number, rule: FileRule, message: string): Run => {
    const validation = { records, errors: maxErrors > 0 ? [fileError(rule, message)] : [], errorCount: 1 }
    return { step: () => true, result: () => validation }
  }
  if (Array.isArray(document)) {
    if (document.length === 0) {
      return fileLevel(0, "empty-array", `file contains an empty array; expected 1 to ${options.maxRecords} customer records`)
    }
    if (document.length > options.maxRecords) {
      return fileLevel(document.length, "too-many-records", `file contains ${document.length} records; at most ${options.maxRecords} are allowed (MAX_RECORDS)`)
    }
  } else if (!isPlainObject(document)) {
    return fileLevel(0, "top-level-value", `top-level value must be a customer object or an array of customer objects, not ${typeName(document)}`)
  }
  const decoder = (options.decoders ?? buildDecoder)(options.today)
  const errors: Array<ValidationError> = []
  let errorCount = 0
  const seen = new Map<string, number>()
  const checkRecord = (record: unknown, index: number, prefix: string) => {
    if (!decoder.isValid(record)) {
      const count = decoder.issueCount(record)
      errorCount += count
      const room = maxErrors - errors.length
      // Only records with errors still to list are decoded, trimmed to the issues listed.
      if (room > 0) {
        const decoded = count > room ? decoder.trim(record, room) : record
        const result = decoder.decode(decoded)
        if (Either.isLeft(result)) {
          for (const issue of ParseResult.ArrayFormatter.formatIssueSync(result.left)) {
            if (errors.length >= maxErrors) break
            errors.push({
              record: index,
              path: prefix + issue.path.map(jsonPathSegment).join(""),
              rule: issueRule(issue, decoded),
              message: issueMessage(issue)
            })
          }
        }
      }
    }
    if (isPlainObject(record) && typeof record.customer_id === "string") {
      const first = seen.get(record.customer_id)
      if (first === undefined) seen.set(record.customer_id, index)
      else {
        errorCount++
        if (errors.length < maxErrors) {
          errors.push({ record: index, path: `${prefix}.customer_id`, rule: "customer-id-unique-in-file", message: `duplicates the customer_id of record ${first}` })
        }
      }
    }
  }
  const records = Array.isArray(document) ? document : [document]
  const prefixOf = Array.isArray(document) ? (i: number) => `$[${i}]` : () => "$"
  let next = 0
  return {
    step: (deadline) => {
      while (next < records.length) {
        const i = next++
        checkRecord(records[i], i, prefixOf(i))
        if (deadline !== Infinity && performance.now() >= deadline) break
      }
      return next >= records.length
    },
    result: () => ({ records: records.length, errors, errorCount })
  }
}

/** Validates one parsed document in one go (pass `decoders` when validating many). */
export const validateDocument = (document: unknown, options: ValidateOptions): Validation => {
  const run = startValidation(document, options)
  run.step(Infinity)
  return run.result()
}

/**
 * How long validation keeps the event loop before handing it back. Records
 * differ in cost by orders of magnitude (one may hold a million keys), so a
 * slice is bounded by time, read after every record (a fraction of a
 * microsecond, against microseconds a record); a few milliseconds keeps the
 * hand-backs (a setImmediate each) well under 1% of the work.
 */
const SLICE_MS = 4

/**
 * `validateDocument` in slices of a few milliseconds, handing the event loop
 * (and other fibers) a turn between them: a file of 100,000 records never
 * holds the process for its whole validation. A document validated within
 * one slice costs no hand-back.
 */
export const validateEffect = (document: unknown, options: ValidateOptions): Effect.Effect<Validation> =>
  Effect.suspend(() => {
    const run = startValidation(document, options)
    const slice = (): Effect.Effect<Validation> =>
      run.step(performance.now() + SLICE_MS) ? Effect.succeed(run.result()) : Effect.zipRight(yieldToEventLoop, Effect.suspend(slice))
    return slice()
  })

/** The processing day of an instant: its UTC date, `YYYY-MM-DD`. */
export const todayUtc = (now: Date): string => now.toISOString().slice(0, 10)

const DAY_MS = 86_400_000

/** `todayUtc`, remembering the last day's text: formatted once a day, not once a file. */
export const makeTodayUtc = (): (now: Date) => string => {
  let start = Number.NaN
  let text = ""
  return (now) => {
    const ms = now.getTime()
    if (!(ms >= start && ms < start + DAY_MS)) {
      text = todayUtc(now)
      start = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS)
    }
    return text
  }
}

/** The Contract as a service, so a test or an extension can swap the rules. */
export class Contract extends Context.Tag("customer-json/Contract")<
  Contract,
  {
    /** in one go, holding the event loop for as long as it takes */
    readonly validate: (document: unknown, now: Date) => Validation
    /** in slices of a few milliseconds, handing the event loop a turn between them */
    readonly validateEffect: (document: unknown, now: Date) => Effect.Effect<Validation>
    /** the published JSON Schema (schema/JsonSchema.ts), draft-07 unless told */
    readonly jsonSchema: (draft?: JsonSchemaDraft) => JsonObject
    /** present for the built-in rules: what a worker thread needs to apply them too (see OffThreadJudge) */
    readonly builtIn?: { readonly maxRecords: number }
  }
>() {
  static readonly make = (maxRecords: number): Context.Tag.Service<Contract> => {
    const decoders = makeDecoders()
    const today = makeTodayUtc()
    return {
      validate: (document, now) => validateDocument(document, { maxRecords, today: today(now), decoders }),
      validateEffect: (document, now) => validateEffect(document, { maxRecords, today: today(now), decoders }),
      jsonSchema: (draft = "draft-07") => contractJsonSchema({ maxRecords, draft }),
      builtIn: { maxRecords }
    }
  }
}

/** The contract with MAX_RECORDS from the settings. */
export const layer: Layer.Layer<Contract, never, AppConfig> = Layer.effect(
  Contract,
  Effect.map(AppConfig, (c) => Contract.make(c.maxRecords))
)

/** The contract with a fixed record limit, for tests and embedding. */
export const layerMaxRecords = (maxRecords: number): Layer.Layer<Contract> => Layer.succeed(Contract, Contract.make(maxRecords))
