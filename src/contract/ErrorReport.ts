/** The error report of contract §6, as a pure function. */
import type { ValidationError } from "./Contract.js"
import { CONTRACT_VERSION } from "./ContractSchema.js"

export const MAX_REPORTED_ERRORS = 100

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
 */
export const makeReport = (input: ReportInput, mask: (text: string) => string = (t) => t) => ({
  file: mask(input.file),
  stored_as: mask(input.storedAs),
  received_at: input.receivedAt.toISOString(),
  processed_at: input.processedAt.toISOString(),
  // The rules this report applied; the published JSON Schema carries the same version.
  contract_version: CONTRACT_VERSION,
  error_count: input.errorCount ?? input.errors.length,
  errors: input.errors.slice(0, MAX_REPORTED_ERRORS).map((e) => ({ record: e.record, path: mask(e.path), message: mask(e.message) }))
})

export const renderReport = (input: ReportInput, mask?: (text: string) => string): string =>
  JSON.stringify(makeReport(input, mask), null, 2) + "\n"
