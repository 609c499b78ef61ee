/**
 * A file's bytes judged by the built-in contract in one pure step: parsed
 * (contract §2) and, when they parse, validated (§3–4). It is what a worker
 * thread runs for large files (see OffThreadJudge), so it takes plain data
 * and gives plain data back.
 */
import { validateDocument } from "./Contract.js"
import type { Validation } from "./Contract.js"
import { isCompleteDocument, parseFailureError, parseJsonBytes } from "./ParseJson.js"

export interface JudgeRequest {
  readonly bytes: Uint8Array
  readonly maxRecords: number
  /** the processing date, UTC `YYYY-MM-DD` */
  readonly today: string
}

export interface JudgedBytes {
  /** the bytes are one complete JSON document (a writer may still be at work otherwise) */
  readonly complete: boolean
  readonly validation: Validation
}

export const judgeBytes = ({ bytes, maxRecords, today }: JudgeRequest): JudgedBytes => {
  const parsed = parseJsonBytes(bytes)
  return parsed._tag === "Parsed"
    ? { complete: true, validation: validateDocument(parsed.value, { maxRecords, today }) }
    : { complete: isCompleteDocument(parsed), validation: { records: 0, errors: [parseFailureError(parsed)], errorCount: 1 } }
}
