/**
 * Logging: one Effect logger that masks every event (message, annotations,
 * cause) through the Masker and fans it out to four sinks:
 *
 *   logs/app.log    INFO and above, JSON Lines
 *   logs/error.log  ERROR and above, JSON Lines with the full cause and stack
 *   logs/debug.log  DEBUG and above, JSON Lines, only when DEBUG=true
 *   console         INFO and above (DEBUG too when DEBUG=true): `pretty`
 *                   (one human line, coloured on a TTY unless NO_COLOR; nested
 *                   fields on indented `key=value` lines),
 *                   `json`, or `off` (LOG_CONSOLE)
 *
 * Lines are queued and written in batches at least every second, and
 * synchronously when the layer closes (shutdown, SIGTERM, a fatal error).
 * SIGHUP reopens the files, for logrotate.
 *
 * @module
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as List from "effect/List"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Queue from "effect/Queue"
import * as NFS from "node:fs"
import * as Path from "node:path"
import type { ConsoleFormat } from "../Config.js"
import { LogFile } from "./LogFile.js"
import { Masker } from "../masking/Masker.js"
import type { MaskerService } from "../masking/Masker.js"
import { HAS_UNSAFE, UNSAFE_BEYOND_C0, UNSAFE_CHAR, UNSAFE_CHAR_BUT_LF } from "../masking/UnsafeText.js"

/** Options of `layer`: the log folder, levels, console format and file rotation. */
export interface LoggingOptions {
  readonly logDir: string
  readonly debug: boolean
  readonly console: ConsoleFormat
  readonly noColor: boolean
  readonly maxBytes: number
  readonly maxFiles: number
  /** how often queued lines are written (at most 1 s) */
  readonly flushEveryMs?: number
}

/**
 * When a log line survives the process: `written` completes once every line
 * logged so far is in the log files (write(2) returned: it survives kill -9,
 * not a power cut). The ClaimReleaser waits for it before it removes the claimed
 * names of stored files, so a file's outcome line is never lost with the
 * process (recovery logs the files whose claimed name is left). Files finishing
 * together share one write. Without the logging layer it completes at once.
 */
export class LogSync extends Context.Reference<LogSync>()("customer-json/LogSync", {
  defaultValue: (): { readonly written: Effect.Effect<void> } => ({ written: Effect.void })
}) {}

/** One event, masked, ready for any sink. */
export interface LogEvent {
  readonly ts: string
  readonly level: LogLevel.LogLevel
  readonly msg: string
  readonly fields: Record<string, unknown>
  /** the masked cause (with stack traces), when there is one */
  readonly cause: string | undefined
}

const RESERVED = new Set(["ts", "level", "msg", "cause"])

/**
 * A line's fields carried in its message, `Effect.logInfo("file processed",
 * logFields({ file, outcome }))`: the same line as with `Effect.annotateLogs`,
 * for the line logged for every file (hot path 6, see WorkerPool).
 */
export class LogFields {
  constructor(readonly fields: Readonly<Record<string, unknown>>) {}
}

/**
 * Fields for a log line, passed in the message (`Effect.logInfo("file processed", logFields({ … }))`):
 * cheaper than `Effect.annotateLogs` on a hot path; masked like annotations.
 */
export const logFields = (fields: Readonly<Record<string, unknown>>): LogFields => new LogFields(fields)

const messageParts = (message: unknown): ReadonlyArray<unknown> => (Array.isArray(message) ? message : [message])

const messageText = (message: unknown): string => {
  if (typeof message === "string") return message
  // The per-file line, `[text, LogFields]`: its text as it is (hot path 6, see WorkerPool).
  if (Array.isArray(message) && message.length === 2 && typeof message[0] === "string" && message[1] instanceof LogFields) return message[0]
  return messageParts(message).filter((m) => !(m instanceof LogFields)).map((m) => (typeof m === "string" ? m : safeJson(m))).join(" ")
}

const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/**
 * A line's fields, unmasked: its annotations, then the fields carried in its
 * message (`logFields`). For a logger of your own (see README, Logging).
 */
export const fieldsOf = (options: Pick<Logger.Logger.Options<unknown>, "annotations" | "message">): Record<string, unknown> => {
  const fields: Record<string, unknown> = {}
  if (HashMap.size(options.annotations) > 0) {
    for (const [key, value] of options.annotations) {
      if (!RESERVED.has(key)) fields[key] = value
    }
  }
  if (typeof options.message !== "string") {
    for (const part of messageParts(options.message)) {
      if (part instanceof LogFields) {
        for (const key in part.fields) if (!RESERVED.has(key)) fields[key] = part.fields[key]
      }
    }
  }
  return fields
}

/** One log line as the sinks write it: message, level, fields and cause, masked by `masker`. */
export const toEvent = (options: Logger.Logger.Options<unknown>, masker: MaskerService): LogEvent => {
  const fields = fieldsOf(options)
  if (List.isCons(options.spans)) for (const span of options.spans) fields[`${span.label}_ms`] = options.date.getTime() - span.startTime
  return {
    ts: options.date.toISOString(),
    level: options.logLevel,
    msg: masker.text(messageText(options.message)),
    fields: masker.value(fields) as Record<string, unknown>,
    cause: Cause.isEmpty(options.cause) ? undefined : masker.text(Cause.pretty(options.cause, { renderErrorCause: true }))
  }
}

const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`

/** Shows every character a terminal would act on (UnsafeText.ts) as its `\uXXXX` escape: a file name cannot recolour, rewrite or reorder what an operator reads. */
export const escapeForTerminal = (text: string): string => text.replace(UNSAFE_CHAR, unicodeEscape)

/**
 * One JSON object on one line. JSON.stringify escapes C0 controls; the C1
 * controls, bidirectional and separator characters it leaves are escaped too
 * (inside a JSON string `\uXXXX` is the same character), so the line is safe
 * on a console and to `tail -f`, and still parses to the same values.
 */
export const jsonLine = (event: LogEvent, withCause: boolean): string =>
  jsonText({
    ts: event.ts,
    level: event.level.label,
    msg: event.msg,
    ...event.fields,
    ...(withCause && event.cause !== undefined ? { cause: event.cause } : {})
  }) + "\n"

/** A value as one line of JSON, safe on a console in the same way as `jsonLine` (for a command's own JSON Lines). */
export const jsonText = (value: unknown): string => safeJson(value).replace(UNSAFE_BEYOND_C0, unicodeEscape)

const COLORS: Record<string, string> = { FATAL: "35", ERROR: "31", WARN: "33", INFO: "32", DEBUG: "90", TRACE: "90" }

/** A value quoted (as JSON) when it has spaces, quotes, `=`, `\\` or unsafe characters, so it shows where it ends. */
const formatField = (value: unknown): string => {
  const text = typeof value === "string" ? value : safeJson(value)
  const shown = text === "" || /[\s"=\\]/.test(text) || HAS_UNSAFE.test(text) ? JSON.stringify(text) : text
  return escapeForTerminal(shown)
}

/** A non-empty plain object or array (the masker gives no other kind): shown on lines of its own. */
const isNested = (value: unknown): value is Readonly<Record<string, unknown>> | ReadonlyArray<unknown> =>
  typeof value === "object" && value !== null && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)

/** Deeper than this, a value is shown as one quoted JSON text (the masker stops deeper still). */
const MAX_NESTING = 4

/** A nested object this wide or less, all of whose values are plain, is shown on one line. */
const COMPACT_WIDTH = 100

/**
 * A nested field on indented lines: `name:`, then each entry as `key=value`
 * (an array's items as `- value`), nested ones further in; an object of plain
 * values that fits COMPACT_WIDTH on one line, `name: key=value key=value`.
 * Keys and values are shown as on the first line (formatField), so nothing can
 * end a line.
 */
const nestedLines = (
  label: string,
  value: Readonly<Record<string, unknown>> | ReadonlyArray<unknown>,
  indent: string,
  depth: number
): Array<string> => {
  const head = label === "-" ? `${indent}-` : `${indent}${label}:`
  if (!Array.isArray(value) && Object.values(value).every((v) => !isNested(v))) {
    const compact = `${head} ${Object.entries(value).map(([k, v]) => `${escapeForTerminal(k)}=${formatField(v)}`).join(" ")}`
    if (compact.length <= COMPACT_WIDTH) return [compact]
  }
  const lines = [head]
  const inner = `${indent}  `
  const isList = Array.isArray(value)
  const entries: ReadonlyArray<readonly [string, unknown]> = isList ? value.map((v) => ["-", v] as const) : Object.entries(value)
  for (const [key, v] of entries) {
    const name = isList ? "-" : escapeForTerminal(key)
    if (isNested(v) && depth < MAX_NESTING) lines.push(...nestedLines(name, v, inner, depth + 1))
    else lines.push(isList ? `${inner}- ${formatField(v)}` : `${inner}${name}=${formatField(v)}`)
  }
  return lines
}

/**
 * The console's human line: time, level, message, then `key=value` fields;
 * a nested field (the start-up line's `folders`) follows on indented lines of
 * `key=value`, never as escaped JSON. Everything but the
 * line's own colour codes is escaped (escapeForTerminal): no message, key or
 * value can end a line, colour it or reorder it.
 */
export const prettyLine = (event: LogEvent, color: boolean): string => {
  const label = event.level.label.padEnd(5)
  let line = `${event.ts} ${color ? `\u001b[${COLORS[event.level.label] ?? "0"}m${label}\u001b[0m` : label} ${escapeForTerminal(event.msg)}`
  const nested: Array<string> = []
  for (const [key, value] of Object.entries(event.fields)) {
    if (isNested(value)) nested.push(...nestedLines(escapeForTerminal(key), value, "    ", 1))
    else line += ` ${escapeForTerminal(key)}=${formatField(value)}`
  }
  for (const l of nested) line += `\n${l}`
  if (event.cause !== undefined) line += `\n${event.cause.replace(UNSAFE_CHAR_BUT_LF, unicodeEscape).replace(/^/gm, "    ")}`
  return line + "\n"
}

/**
 * Queues console output and writes it in batches; errors go to stderr. The
 * lines keep the order they were logged in across the two streams (each run
 * of lines for one stream is one write): on a terminal, where both show, an
 * ERROR is never printed after an INFO line logged later.
 */
export class ConsoleSink {
  private lines: Array<string> = []
  private toError: Array<boolean> = []
  constructor(
    private readonly write: (error: boolean, text: string) => void = (error, text) =>
      void (error ? process.stderr : process.stdout).write(text)
  ) {}
  append(line: string, error: boolean): void {
    this.lines.push(line)
    this.toError.push(error)
  }
  flush(): void {
    const { lines, toError } = this
    this.lines = []
    this.toError = []
    let start = 0
    for (let i = 1; i <= lines.length; i++) {
      if (i === lines.length || toError[i] !== toError[start]) {
        this.write(toError[start]!, lines.slice(start, i).join(""))
        start = i
      }
    }
  }
}

/**
 * The logging layer. Replaces effect's default logger (runMain's pretty logger
 * must be disabled, or every line prints twice) and sets the minimum level.
 */
export const layer = (options: LoggingOptions): Layer.Layer<LogSync, never, Masker> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const masker = yield* Masker
    const consoleSink = new ConsoleSink()
    // Called from LogFile's callbacks, outside any fiber: the clock the layer was built with.
    const clock = yield* Effect.clock
    const reportOnce = (message: string) =>
      consoleSink.append(`${new Date(clock.unsafeCurrentTimeMillis()).toISOString()} WARN  ${escapeForTerminal(message)}\n`, true)
    try {
      // Private to the daemon's user and group (the logs name files and their errors).
      NFS.mkdirSync(options.logDir, { recursive: true, mode: 0o750 })
    } catch {
      // LogFile reports the failure once, when it cannot open its file
    }
    const file = (name: string) =>
      new LogFile({ path: Path.join(options.logDir, name), maxBytes: options.maxBytes, maxFiles: options.maxFiles, onError: reportOnce })
    const app = file("app.log")
    const errors = file("error.log")
    const debug = options.debug ? file("debug.log") : undefined
    const files = [app, errors, ...(debug ? [debug] : [])]
    const color = options.console === "pretty" && !options.noColor && process.stdout.isTTY === true

    // Only files with queued lines cost a write.
    const flushAll = Effect.promise(() => Promise.all(files.filter((f) => f.pending > 0).map((f) => f.flush()))).pipe(
      Effect.zipRight(Effect.sync(() => consoleSink.flush()))
    )
    // The flusher sleeps until a line is logged, then writes within flushEveryMs: an idle
    // daemon has no timer of its own here (each wake-up costs CPU on a virtual machine).
    const logged = yield* Queue.sliding<void>(1)
    // (closes wait for a write in flight; they never reject, see LogFile)
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all(files.map((f) => f.close()))).pipe(Effect.zipRight(Effect.sync(() => consoleSink.flush())))
    )
    yield* Queue.take(logged).pipe(
      Effect.zipRight(Effect.sleep(options.flushEveryMs ?? 1000)),
      Effect.zipRight(flushAll),
      Effect.forever,
      Effect.forkScoped
    )

    const onHangup = () => {
      for (const f of files) void f.reopen()
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => process.on("SIGHUP", onHangup)),
      () => Effect.sync(() => process.off("SIGHUP", onHangup))
    )

    const logger = Logger.make<unknown, void>((entry) => {
      logged.unsafeOffer(undefined)
      const event = toEvent(entry, masker)
      const level = entry.logLevel
      if (debug !== undefined) debug.append(jsonLine(event, true))
      if (LogLevel.greaterThanEqual(level, LogLevel.Info)) app.append(jsonLine(event, false))
      if (LogLevel.greaterThanEqual(level, LogLevel.Error)) errors.append(jsonLine(event, true))
      if (options.console !== "off" && (options.debug || LogLevel.greaterThanEqual(level, LogLevel.Info))) {
        const isError = LogLevel.greaterThanEqual(level, LogLevel.Error)
        consoleSink.append(options.console === "json" ? jsonLine(event, isError) : prettyLine(event, color), isError)
      }
    })
    // A flush chains after the one in progress and writes whatever is queued by then:
    // concurrent callers share a write, and one with nothing left to write costs none.
    const written = Effect.promise(() => Promise.all([app.flush(), ...(debug ? [debug.flush()] : [])]))
    return Layer.mergeAll(
      Layer.succeed(LogSync, { written: Effect.asVoid(written) }),
      // Whichever logger was installed before (effect's default, or the start-up console logger) goes.
      Logger.remove(startupConsoleLogger),
      Logger.replace(Logger.defaultLogger, logger),
      Logger.minimumLogLevel(options.debug ? LogLevel.Debug : LogLevel.Info)
    )
  }))

/** Console lines only, masked, in `format` (with `off`, errors only): for a process without log files. */
const consoleOnlyLogger = (format: ConsoleFormat) =>
  Logger.make<unknown, void>((entry) => {
    const isError = LogLevel.greaterThanEqual(entry.logLevel, LogLevel.Error)
    if (format === "off" && !isError) return
    const event = toEvent(entry, Masker.live)
    const line = format === "json" ? jsonLine(event, isError) : prettyLine(event, false)
    if (isError) process.stderr.write(line)
    else process.stdout.write(line)
  })

const startupConsoleLogger = consoleOnlyLogger("pretty")

/** Console only, masked, before the configuration is known (config errors, `validate`, `schema`). */
export const layerConsole: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, startupConsoleLogger)

/**
 * The console of the INSTANCES supervisor, which has no log files of its own:
 * in LOG_CONSOLE's format, and with `off` its errors only (an instance that
 * fails must still be said somewhere).
 */
export const layerSupervisorConsole = (format: ConsoleFormat): Layer.Layer<never> =>
  Logger.replace(startupConsoleLogger, consoleOnlyLogger(format))
