/**
 * The console logger: one human-readable line per event, the event's
 * annotations as `key=value` fields. Installed in place of effect's default
 * logger (runMain's pretty logger is disabled in main.ts, or lines would print twice).
 */
import { Cause, HashMap, Layer, List, Logger, LogLevel } from "effect"

const formatValue = (value: unknown): string => {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value)
  return /[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text
}

const formatMessage = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((m) => (typeof m === "string" ? m : formatValue(m))).join(" ")

export const consoleLine = (options: Logger.Logger.Options<unknown>): string => {
  let line = `${options.date.toISOString()} ${options.logLevel.label.padEnd(5)} ${formatMessage(options.message)}`
  for (const span of List.toArray(options.spans)) line += ` ${span.label}=${options.date.getTime() - span.startTime}ms`
  for (const [key, value] of HashMap.toEntries(options.annotations)) line += ` ${key}=${formatValue(value)}`
  if (!Cause.isEmpty(options.cause)) line += ` cause=${formatValue(Cause.pretty(options.cause))}`
  return line
}

/** Writes to stdout; errors go to stderr too, so a supervisor's journal marks them. */
export const consoleLogger = Logger.make<unknown, void>((options) => {
  const line = consoleLine(options) + "\n"
  if (LogLevel.greaterThanEqual(options.logLevel, LogLevel.Error)) process.stderr.write(line)
  else process.stdout.write(line)
})

export const ConsoleLoggerLive = (debug: boolean): Layer.Layer<never> =>
  Layer.merge(
    Logger.replace(Logger.defaultLogger, consoleLogger),
    Logger.minimumLogLevel(debug ? LogLevel.Debug : LogLevel.Info)
  )
