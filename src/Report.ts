/** The error report of contract §6, as a pure function. */
import type { ValidationError } from "./Contract.js"

export const MAX_REPORTED_ERRORS = 100

export interface ReportInput {
  readonly file: string
  readonly storedAs: string
  readonly receivedAt: Date
  readonly processedAt: Date
  readonly errors: ReadonlyArray<ValidationError>
}

export const makeReport = (input: ReportInput) => ({
  file: input.file,
  stored_as: input.storedAs,
  received_at: input.receivedAt.toISOString(),
  processed_at: input.processedAt.toISOString(),
  error_count: input.errors.length,
  errors: input.errors.slice(0, MAX_REPORTED_ERRORS).map((e) => ({ record: e.record, path: e.path, message: e.message }))
})

export const renderReport = (input: ReportInput): string => JSON.stringify(makeReport(input), null, 2) + "\n"
