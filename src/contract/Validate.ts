/**
 * The daemon's own judge for a document in hand: `validateText` for JSON text,
 * `validateBytes` for a file's bytes. The same rules, in the same order, as a
 * file dropped into DATA_DIR: invalid UTF-8, a byte-order mark, an empty text,
 * a syntax error (with line and column, never a quote of the text), a key given
 * twice in one object, then the shape (§3) and every record (§4). The verdict
 * lists the errors as the report would, each with its rule code.
 *
 * @module
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { DEFAULTS } from "../Config.js"
import { todayUtc, validateDocument, validateEffect } from "./Contract.js"
import type { Decoders, Validation } from "./Contract.js"
import { MAX_REPORTED_ERRORS } from "./ErrorReport.js"
import { parseFailureError, parseJsonBytes, parseJsonText } from "./ParseJson.js"
import type { ParsedText } from "./ParseJson.js"

/** The daemon's default MAX_RECORDS: what `validateText` and `validateBytes` allow unless told. */
export const DEFAULT_MAX_RECORDS: number = Number(DEFAULTS.MAX_RECORDS)

/** Options of `validateText` and `validateBytes`; every one has a default. */
export interface ValidateInputOptions {
  /**
   * The processing day, which bounds a date of birth: a `Date` (its UTC day)
   * or `YYYY-MM-DD`. Default: today (UTC) by effect's `Clock`, so under the
   * TestClock it is 1970-01-01 unless the test sets the clock or passes a day.
   */
  readonly today?: Date | string | undefined
  /** The most records one document may hold (MAX_RECORDS). Default: `DEFAULT_MAX_RECORDS`. */
  readonly maxRecords?: number | undefined
  /** The most errors listed in `errors` (all are counted in `errorCount`). Default: the report's 100. */
  readonly maxErrors?: number | undefined
  /**
   * Decoders to share between calls (`Contract.makeDecoders()`): building the
   * day's decoder costs about half a millisecond, more than a small document.
   */
  readonly decoders?: Decoders | undefined
}

/** The judgement of one document: the contract's `Validation`, and the document itself when it parsed. */
export interface Verdict extends Validation {
  /** no error: the daemon would move this file to VALIDATED_DIR */
  readonly valid: boolean
  /**
   * The parsed JSON value (valid or not), so that a caller need not parse the
   * text again; `None` when the text is not one JSON document (a file-level
   * error: invalid UTF-8, empty, a syntax error or a key given twice).
   */
  readonly document: Option.Option<unknown>
}

const CALENDAR_DAY = /^\d{4}-\d{2}-\d{2}$/

/** `YYYY-MM-DD` of the option, or why it is not one. */
const dayOf = (today: Date | string): Option.Option<string> => {
  if (typeof today === "string") {
    const time = CALENDAR_DAY.test(today) ? Date.parse(`${today}T00:00:00Z`) : Number.NaN
    return !Number.isNaN(time) && todayUtc(new Date(time)) === today ? Option.some(today) : Option.none()
  }
  return Number.isNaN(today.getTime()) ? Option.none() : Option.some(todayUtc(today))
}

const isCount = (n: number, min: number): boolean => Number.isSafeInteger(n) && n >= min

/** Batches larger than this are validated in slices that hand the event loop a turn (as the daemon does). */
const SLICED_ABOVE_RECORDS = 1000

const judgeParsed = (parsed: ParsedText, options: ValidateInputOptions = {}): Effect.Effect<Verdict> =>
  Effect.gen(function*() {
    const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS
    const maxErrors = options.maxErrors ?? MAX_REPORTED_ERRORS
    if (!isCount(maxRecords, 1)) return yield* Effect.die(new Cause.IllegalArgumentException(`maxRecords must be a whole number from 1, not ${maxRecords}`))
    if (!isCount(maxErrors, 0)) return yield* Effect.die(new Cause.IllegalArgumentException(`maxErrors must be a whole number from 0, not ${maxErrors}`))
    const given = options.today === undefined ? Option.none() : Option.some(options.today)
    const today = Option.isSome(given)
      ? dayOf(given.value)
      : Option.some(todayUtc(new Date(yield* Clock.currentTimeMillis)))
    if (Option.isNone(today)) {
      return yield* Effect.die(new Cause.IllegalArgumentException("today must be a valid Date or a real date YYYY-MM-DD"))
    }
    if (parsed._tag !== "Parsed") {
      const error = parseFailureError(parsed)
      return { valid: false, document: Option.none(), records: 0, errors: maxErrors > 0 ? [error] : [], errorCount: 1 }
    }
    const validateOptions = { maxRecords, maxErrors, today: today.value, decoders: options.decoders }
    const value = parsed.value
    // Small documents (nearly all) in one go: the sliced form would cost a turn of the event loop each.
    const validation = Array.isArray(value) && value.length > SLICED_ABOVE_RECORDS
      ? yield* validateEffect(value, validateOptions)
      : validateDocument(value, validateOptions)
    return { ...validation, valid: validation.errorCount === 0, document: Option.some(value) }
  })

/**
 * Judges JSON text as the daemon judges a file: the string is parsed as JSON
 * (a leading byte-order mark is ignored), not taken as a string value. Never
 * fails: an invalid document is a verdict whose `errors` carry rule codes
 * (docs/CONTRACT.md §6). Options that make no sense (a `maxRecords` below 1,
 * an invalid day) are a defect (`IllegalArgumentException`).
 *
 * @example
 * ```ts
 * const verdict = yield* validateText('{"customer_id": "C-1"}', { today: "2026-11-28" })
 * verdict.valid // false
 * verdict.errors.map((e) => e.rule) // ["required", "required", …]
 * ```
 */
export const validateText = (text: string, options?: ValidateInputOptions): Effect.Effect<Verdict> =>
  Effect.suspend(() => judgeParsed(parseJsonText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text), options))

/**
 * Judges a file's bytes as the daemon does: UTF-8 (a leading byte-order mark
 * is dropped, invalid UTF-8 is the `invalid-utf8` error), then as
 * `validateText`. The size limit (MAX_FILE_SIZE_MB) is the caller's: these
 * bytes are judged whatever their length.
 */
export const validateBytes = (bytes: Uint8Array, options?: ValidateInputOptions): Effect.Effect<Verdict> =>
  Effect.suspend(() => judgeParsed(parseJsonBytes(bytes), options))
