/**
 * What a notification says, as pure functions: subjects and plain-text
 * bodies for rejected files and critical errors. Every text passes through
 * the masking policy; subjects lose control and bidirectional characters (a
 * file name with CR/LF must not inject a header) and are cut to 150
 * characters; names in bodies show them as `?`.
 *
 * @module
 */
import type { CriticalEvent, RejectedFile } from "./Notifier.js"
import { UNSAFE_CHAR, UNSAFE_RUN } from "../masking/UnsafeText.js"

/** The most rejected files one message names (the others go into the next). */
export const FILES_PER_MESSAGE = 100
/** The most errors a message lists for one file (the report has them all). */
export const ERRORS_PER_FILE = 20
/** The longest subject, in characters. */
export const SUBJECT_MAX = 150
const PREFIX = "[customer-json]"

/** A composed notification, masked: what a `Delivery` sends. */
export interface Outgoing {
  readonly kind: "rejected" | "critical"
  readonly subject: string
  readonly text: string
  /** the files named in this message (masked), for structured deliveries such as a webhook */
  readonly files: ReadonlyArray<{ readonly file: string; readonly storedAs: string; readonly errorCount: number }>
  /** failures counted in this message but not named in it */
  readonly more: number
}

/** Strips control and bidirectional characters (CR, LF, TAB, U+202E, …) and cuts to 150 characters. */
export const sanitizeSubject = (subject: string): string => {
  const clean = subject.replace(UNSAFE_RUN, " ").replace(/\s+/g, " ").trim()
  return clean.length <= SUBJECT_MAX ? clean : `${clean.slice(0, SUBJECT_MAX - 1)}…`
}

/** A file name as it may appear inside a body line: no line breaks, other controls or bidirectional characters. */
const oneLine = (text: string) => text.replace(UNSAFE_CHAR, "?")

/** The message naming rejected files (and counting `more` not named), every text passed through `mask`. */
export const rejectedMessage = (
  files: ReadonlyArray<RejectedFile>,
  more: number,
  returnsDir: string,
  mask: (text: string) => string
): Outgoing => {
  const total = files.length + more
  const subject = total === 1 && files.length === 1
    ? `${PREFIX} Validation failed: ${mask(files[0]!.file)}`
    : `${PREFIX} ${total} files failed validation`
  const lines: Array<string> = [
    total === 1 ? "A customer file failed validation and was returned." : `${total} customer files failed validation and were returned.`,
    ""
  ]
  for (const f of files) {
    lines.push(
      `File: ${oneLine(mask(f.file))}`,
      `  Received:  ${f.receivedAt.toISOString()}`,
      `  Processed: ${f.processedAt.toISOString()}`,
      `  Now at:    ${oneLine(mask(`${returnsDir}/${f.storedAs}`))} (report: ${oneLine(mask(`${f.storedAs}.error.json`))})`,
      `  Errors:    ${f.errorCount}`
    )
    for (const e of f.errors.slice(0, ERRORS_PER_FILE)) lines.push(`    ${oneLine(mask(e.path))}: ${oneLine(mask(e.message))}`)
    if (f.errorCount > ERRORS_PER_FILE) lines.push(`    … and ${f.errorCount - ERRORS_PER_FILE} more errors (see the report)`)
    lines.push("")
  }
  if (more > 0) lines.push(`… and ${more} more files failed validation; they are named in the following message(s).`, "")
  return {
    kind: "rejected",
    subject: sanitizeSubject(subject),
    text: lines.join("\n"),
    files: files.map((f) => ({ file: mask(f.file), storedAs: mask(f.storedAs), errorCount: f.errorCount })),
    more
  }
}

/** The message for a critical error, with how often it repeated since last sent, passed through `mask`. */
export const criticalMessage = (event: CriticalEvent, repeats: number, mask: (text: string) => string, more = 0): Outgoing => ({
  kind: "critical",
  subject: sanitizeSubject(`${PREFIX} CRITICAL: ${mask(event.summary)}`),
  text: [
    `CRITICAL: ${oneLine(mask(event.summary))}`,
    `At: ${event.at.toISOString()}`,
    "",
    mask(event.detail),
    ...(repeats > 0 ? ["", `The same error happened ${repeats} more time(s) since it was last reported.`] : []),
    ...(more > 0 ? ["", `… and ${more} more critical event(s) too many to send one by one (each is in the daemon's log at ERROR).`] : []),
    ""
  ].join("\n"),
  files: [],
  more: 0
})
