/**
 * What a notification says, as pure functions: subjects and plain-text
 * bodies for rejected files and critical errors. Every text passes through
 * the masking policy; subjects lose control and bidirectional characters (a
 * file name with CR/LF must not inject a header) and are cut to 150
 * characters; names in bodies show them as `?`.
 *
 * @module
 */
import type { ClearedEvent, CriticalEvent, Outgoing, RejectedFile } from "../events/Notifications.js"
import { maskShortened, storedNameShown } from "../masking/Masking.js"
import { UNSAFE_CHAR, UNSAFE_RUN } from "../masking/UnsafeText.js"

export type { Outgoing } from "../events/Notifications.js"

/** The most rejected files one message names (the others go into the next). */
export const FILES_PER_MESSAGE = 100
/** The most errors a message lists for one file (the report has them all). */
export const ERRORS_PER_FILE = 20
/** The longest subject, in characters. */
export const SUBJECT_MAX = 150
/** The most characters of a file name, path or error message a body shows: longer ones are masked, cut and end in `…`. */
export const LINE_TEXT_MAX = 1000
const PREFIX = "[customer-json]"

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
  const shown = (text: string) => maskShortened(text, LINE_TEXT_MAX, mask)
  // A stored name as it is (contract §5): it is how the file is found.
  const stored = (name: string) => storedNameShown(name, mask)
  const subject = total === 1 && files.length === 1
    ? `${PREFIX} Validation failed: ${shown(files[0]!.file)}`
    : `${PREFIX} ${total} files failed validation`
  const lines: Array<string> = [
    total === 1 ? "A customer file failed validation and was returned." : `${total} customer files failed validation and were returned.`,
    ""
  ]
  for (const f of files) {
    lines.push(
      `File: ${oneLine(shown(f.file))}`,
      `  Received:  ${f.receivedAt.toISOString()}`,
      `  Processed: ${f.processedAt.toISOString()}`,
      `  Now at:    ${oneLine(`${mask(returnsDir)}/${stored(f.storedAs)}`)} (report: ${oneLine(`${stored(f.storedAs)}.error.json`)})`,
      `  Errors:    ${f.errorCount}`
    )
    for (const e of f.errors.slice(0, ERRORS_PER_FILE)) lines.push(`    ${oneLine(shown(e.path))}: ${oneLine(shown(e.message))}`)
    if (f.errorCount > ERRORS_PER_FILE) lines.push(`    … and ${f.errorCount - ERRORS_PER_FILE} more errors (see the report)`)
    lines.push("")
  }
  if (more > 0) lines.push(`… and ${more} more files failed validation; they are named in the following message(s).`, "")
  return {
    kind: "rejected",
    subject: sanitizeSubject(subject),
    text: lines.join("\n"),
    files: files.map((f) => ({ file: shown(f.file), storedAs: stored(f.storedAs), errorCount: f.errorCount })),
    more
  }
}

/** Where a critical condition was seen: the host, and the daemon's instance on it when known. */
const originLines = (host: string, instance: string | undefined): Array<string> => [
  `Host:     ${oneLine(host)}`,
  ...(instance !== undefined ? [`Instance: ${oneLine(instance)}`] : [])
]

/** A critical event (`cleared`: it cleared before this message went out, and it says so). */
export const criticalMessage = (
  event: CriticalEvent,
  repeats: number,
  mask: (text: string) => string,
  { cleared, host, more = 0 }: { readonly host: string; readonly more?: number; readonly cleared?: ClearedEvent | undefined }
): Outgoing => ({
  kind: "critical",
  subject: sanitizeSubject(`${PREFIX} CRITICAL: ${mask(event.summary)}`),
  text: [
    `CRITICAL: ${oneLine(mask(event.summary))}`,
    `At:       ${event.at.toISOString()}`,
    ...originLines(host, event.instance),
    "",
    mask(event.detail),
    ...(repeats > 0 ? ["", `The same error happened ${repeats} more time(s) since it was last reported.`] : []),
    ...(cleared !== undefined ? ["", `It cleared at ${cleared.at.toISOString()}, before this message went out: ${mask(cleared.detail)}`] : []),
    ...(more > 0 ? ["", `… and ${more} more critical event(s) too many to send one by one (each is in the daemon's log at ERROR).`] : []),
    ""
  ].join("\n"),
  files: [],
  more: 0
})

/** An all-clear: critical conditions, each reported before, that have cleared (`more`: cleared too, not named). */
export const clearedMessage = (
  events: ReadonlyArray<{ readonly event: ClearedEvent; readonly repeats: number }>,
  more: number,
  mask: (text: string) => string,
  host: string
): Outgoing => {
  const total = events.length + more
  const subject = total === 1 && events.length === 1
    ? `${PREFIX} All clear: ${mask(events[0]!.event.summary)}`
    : `${PREFIX} All clear: ${total} critical conditions cleared`
  const instances = [...new Set(events.map((e) => e.event.instance).filter((i): i is string => i !== undefined))]
  const lines: Array<string> = [
    total === 1 ? "A critical condition reported earlier has cleared." : `${total} critical conditions reported earlier have cleared.`,
    ...originLines(host, instances.length === 1 ? instances[0] : undefined),
    ""
  ]
  for (const { event, repeats } of events) {
    lines.push(
      `All clear: ${oneLine(mask(event.summary))}`,
      `  Since:   ${event.since.toISOString()}`,
      `  Cleared: ${event.at.toISOString()}`,
      ...(instances.length > 1 && event.instance !== undefined ? [`  Instance: ${oneLine(event.instance)}`] : []),
      `  ${oneLine(mask(event.detail))}`,
      ...(repeats > 0 ? [`  (it happened ${repeats} more time(s) after it was last reported)`] : []),
      ""
    )
  }
  if (more > 0) lines.push(`… and ${more} more critical condition(s) cleared (each is in the daemon's log).`, "")
  return { kind: "cleared", subject: sanitizeSubject(subject), text: lines.join("\n"), files: [], more }
}
