/** The error report of contract §6, as a pure function. */
import type { ValidationError } from "./ValidationError.js"
import { CONTRACT_VERSION } from "./schema/Predicates.js"
import { maskShortened, storedNameShown } from "../masking/Masking.js"

export const MAX_REPORTED_ERRORS = 100
/** The most characters of a file name, path or message a report shows: longer ones are masked, cut and end in `…`. */
export const REPORT_TEXT_MAX = 1000

export interface ReportInput {
  readonly file: string
  readonly storedAs: string
  readonly receivedAt: Date
  readonly processedAt: Date
  /** the first errors (only the first MAX_REPORTED_ERRORS are listed); the report leaves out their rule codes */
  readonly errors: ReadonlyArray<Pick<ValidationError, "record" | "path" | "message">>
  /** every error, listed or not, when `errors` holds only the first (Validation's `errorCount`) */
  readonly errorCount?: number | undefined
}

/**
 * The report object; `mask` (the Masker's free-text masking) is applied to
 * every text in it: a file name or a JSON path can hold a card number too.
 * Each text is shown in at most REPORT_TEXT_MAX characters, masked before it
 * is cut and only as much of it as is shown (a path can hold a key of any
 * length). `stored_as` is the stored name exactly (contract §5): it holds
 * nothing to mask (see `storedNameShown`).
 */
export const makeReport = (input: ReportInput, mask: (text: string) => string = (t) => t) => ({
  file: maskShortened(input.file, REPORT_TEXT_MAX, mask),
  stored_as: storedNameShown(input.storedAs, mask),
  received_at: input.receivedAt.toISOString(),
  processed_at: input.processedAt.toISOString(),
  // The rules this report applied; the published JSON Schema carries the same version.
  contract_version: CONTRACT_VERSION,
  error_count: input.errorCount ?? input.errors.length,
  errors: input.errors.slice(0, MAX_REPORTED_ERRORS).map((e) => ({
    record: e.record,
    path: maskShortened(e.path, REPORT_TEXT_MAX, mask),
    message: maskShortened(e.message, REPORT_TEXT_MAX, mask)
  }))
})

export const renderReport = (input: ReportInput, mask?: (text: string) => string): string =>
  JSON.stringify(makeReport(input, mask), null, 2) + "\n"
