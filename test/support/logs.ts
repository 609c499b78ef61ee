/** Capturing the app's log lines (annotations included, masked fields as the loggers see them) instead of printing them. */
import { Layer, Logger, LogLevel } from "effect"
import { fieldsOf } from "../../src/logging/Logging.js"

export interface LogLine {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
}

/** `lines` fills as the program logs, from DEBUG up; provide `layer` to the program under test. */
export const captureLogs = () => {
  const lines: Array<LogLine> = []
  const layer = Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ annotations, logLevel, message }) => {
        const record = fieldsOf({ annotations, message })
        lines.push({ level: logLevel.label, message: String(Array.isArray(message) ? message[0] : message), annotations: record })
      })
    ),
    Logger.minimumLogLevel(LogLevel.Debug)
  )
  return { lines, layer }
}
