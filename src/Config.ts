/**
 * Every setting of the daemon, read once at start through effect's `Config`
 * (environment first, then `.env` in the working directory). The rest of the
 * program reads the parsed `Settings` from the `AppConfig` service; nothing
 * else looks at the environment.
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

export type WatchMode = "native" | "poll"
export type ConsoleFormat = "pretty" | "json" | "off"

export interface EmailSettings {
  readonly sender: Option.Option<string>
  readonly receivers: ReadonlyArray<string>
  readonly password: Option.Option<Redacted.Redacted<string>>
  readonly smtpServer: Option.Option<string>
  readonly smtpPort: number
  /** login name; EMAIL_SENDER when not set */
  readonly smtpUser: Option.Option<string>
  /** TLS from the first byte; default: on port 465 only (otherwise STARTTLS when offered) */
  readonly smtpSecure: boolean
  readonly batchWindowMs: number
  readonly maxPerHour: number
  /** notifications as JSON POSTs to this URL instead of email */
  readonly webhookUrl: Option.Option<string>
}

export interface Settings {
  readonly dataDir: string
  readonly processingDir: string
  readonly validatedDir: string
  readonly returnsDir: string
  readonly logDir: string
  readonly debug: boolean
  readonly concurrency: number
  readonly maxFileSizeBytes: number
  readonly maxRecords: number
  readonly quietPeriodMs: number
  readonly rescanIntervalMs: number
  readonly watchMode: WatchMode
  /** how the calls on a file's path are made (see SyscallMode) */
  readonly fsCalls: "auto" | "sync" | "async"
  /** store a producer's own file (linked into place) rather than a copy the daemon owns */
  readonly trustedProducers: boolean
  readonly pollIntervalMs: number
  readonly shutdownTimeoutMs: number
  readonly minFreeDiskBytes: number
  readonly heartbeatMs: number
  readonly healthCheckIntervalMs: number
  /** the health and metrics endpoint: off when METRICS_PORT is not set */
  readonly metricsPort: Option.Option<number>
  readonly metricsHost: string
  readonly logConsole: ConsoleFormat
  readonly logMaxBytes: number
  readonly logMaxFiles: number
  /** NO_COLOR is set: never colour the console */
  readonly noColor: boolean
  readonly email: EmailSettings
}

/** A setting with a bad value; the message names the variable and what it expects. */
export class InvalidConfig extends Data.TaggedError("InvalidConfig")<{
  readonly variable: string
  readonly expected: string
}> {
  override get message(): string {
    return `invalid configuration: ${this.variable} must be ${this.expected}`
  }
}

/** Every variable the daemon reads, with its default (documented in README and .env.example). */
export const DEFAULTS = {
  DATA_DIR: "data",
  PROCESSING_DIR: "processing",
  VALIDATED_DIR: "validated",
  RETURNS_DIR: "returns",
  LOG_DIR: "logs",
  DEBUG: "false",
  CONCURRENCY: "8",
  MAX_FILE_SIZE_MB: "50",
  MAX_RECORDS: "100000",
  QUIET_PERIOD_MS: "2000",
  RESCAN_INTERVAL_MS: "10000",
  WATCH_MODE: "native",
  FS_CALLS: "auto",
  TRUSTED_PRODUCERS: "false",
  POLL_INTERVAL_MS: "1000",
  SHUTDOWN_TIMEOUT_MS: "10000",
  MIN_FREE_DISK_MB: "100",
  HEARTBEAT_MS: "5000",
  HEALTH_CHECK_INTERVAL_MS: "60000",
  METRICS_PORT: "",
  METRICS_HOST: "127.0.0.1",
  LOG_CONSOLE: "pretty",
  LOG_MAX_SIZE_MB: "10",
  LOG_MAX_FILES: "5",
  NO_COLOR: "",
  EMAIL_SENDER: "",
  EMAIL_RECEIVER: "",
  SMTP_SERVER: "",
  SMTP_PORT: "587",
  SMTP_USER: "",
  SMTP_SECURE: "",
  EMAIL_BATCH_WINDOW_MS: "10000",
  EMAIL_MAX_PER_HOUR: "30",
  NOTIFY_WEBHOOK_URL: ""
} as const

export type VariableName = keyof typeof DEFAULTS
export type RawSettings = Partial<Record<VariableName, string>>

type Parsed<A> = Either.Either<A, InvalidConfig>

const bad = (variable: string, expected: string) => Either.left(new InvalidConfig({ variable, expected }))

const text = (raw: RawSettings, name: VariableName): string => {
  const value = raw[name]
  return value === undefined || value.trim() === "" ? DEFAULTS[name] : value.trim()
}

const directory = (raw: RawSettings, name: VariableName): Parsed<string> => {
  const value = text(raw, name)
  return value.includes("\0") ? bad(name, "a folder path") : Either.right(value)
}

const integer = (raw: RawSettings, name: VariableName, min: number, max: number): Parsed<number> => {
  const value = text(raw, name)
  if (!/^\d+$/.test(value)) return bad(name, `a whole number from ${min} to ${max}`)
  const n = Number(value)
  return n < min || n > max ? bad(name, `a whole number from ${min} to ${max}`) : Either.right(n)
}

const positiveNumber = (raw: RawSettings, name: VariableName, max: number): Parsed<number> => {
  const value = text(raw, name)
  const n = Number(value)
  return /^\d+(\.\d+)?$/.test(value) && n > 0 && n <= max ? Either.right(n) : bad(name, `a number above 0 and at most ${max}`)
}

const boolean = (raw: RawSettings, name: VariableName): Parsed<boolean> => {
  const value = text(raw, name).toLowerCase()
  if (["true", "1", "yes", "on"].includes(value)) return Either.right(true)
  if (["false", "0", "no", "off"].includes(value)) return Either.right(false)
  return bad(name, "true or false")
}

/** The same address rule as the contract's email field, minus the length nuance. */
const ADDRESS = /^[^\s@]+@[^\s@.-][^\s@]*\.[^\s@]*[^\s@.-]$/

const optionalAddress = (raw: RawSettings, name: VariableName): Parsed<Option.Option<string>> => {
  const value = text(raw, name)
  if (value === "") return Either.right(Option.none())
  return ADDRESS.test(value) ? Either.right(Option.some(value)) : bad(name, "an email address (name@example.com)")
}

const addressList = (raw: RawSettings, name: VariableName): Parsed<ReadonlyArray<string>> => {
  const value = text(raw, name)
  if (value === "") return Either.right([])
  const list = value.split(",").map((s) => s.trim()).filter((s) => s !== "")
  return list.every((a) => ADDRESS.test(a))
    ? Either.right(list)
    : bad(name, "an email address or a comma-separated list of them")
}

const MB = 1024 * 1024

/** Parses the raw variables; pure, so each rule is tested directly. */
export const parseSettings = (
  raw: RawSettings,
  password: Option.Option<Redacted.Redacted<string>> = Option.none()
): Either.Either<Settings, InvalidConfig> =>
  Either.gen(function*() {
    const watchMode = text(raw, "WATCH_MODE").toLowerCase()
    if (watchMode !== "native" && watchMode !== "poll") return yield* bad("WATCH_MODE", "native or poll")
    const fsCalls = text(raw, "FS_CALLS").toLowerCase()
    if (fsCalls !== "auto" && fsCalls !== "sync" && fsCalls !== "async") return yield* bad("FS_CALLS", "auto, sync or async")
    const logConsole = text(raw, "LOG_CONSOLE").toLowerCase()
    if (logConsole !== "pretty" && logConsole !== "json" && logConsole !== "off") {
      return yield* bad("LOG_CONSOLE", "pretty, json or off")
    }
    const smtpServer = text(raw, "SMTP_SERVER")
    const smtpPort = yield* integer(raw, "SMTP_PORT", 1, 65535)
    const secureText = text(raw, "SMTP_SECURE")
    const webhook = text(raw, "NOTIFY_WEBHOOK_URL")
    if (webhook !== "" && !/^https?:\/\/[^\s/]+/i.test(webhook)) {
      return yield* bad("NOTIFY_WEBHOOK_URL", "an http:// or https:// URL")
    }
    if (/[\s/@:]/.test(smtpServer)) return yield* bad("SMTP_SERVER", "a host name or address, without scheme or port")
    const smtpUser = text(raw, "SMTP_USER")
    const email: EmailSettings = {
      sender: yield* optionalAddress(raw, "EMAIL_SENDER"),
      receivers: yield* addressList(raw, "EMAIL_RECEIVER"),
      password,
      smtpServer: smtpServer === "" ? Option.none() : Option.some(smtpServer),
      smtpPort,
      smtpUser: smtpUser === "" ? Option.none() : Option.some(smtpUser),
      smtpSecure: secureText === "" ? smtpPort === 465 : yield* boolean(raw, "SMTP_SECURE"),
      batchWindowMs: yield* integer(raw, "EMAIL_BATCH_WINDOW_MS", 0, 3_600_000),
      maxPerHour: yield* integer(raw, "EMAIL_MAX_PER_HOUR", 1, 100_000),
      webhookUrl: webhook === "" ? Option.none() : Option.some(webhook)
    }
    if (Option.isSome(email.smtpServer)) {
      if (Option.isNone(email.sender)) return yield* bad("EMAIL_SENDER", "set when SMTP_SERVER is set")
      if (email.receivers.length === 0) return yield* bad("EMAIL_RECEIVER", "set when SMTP_SERVER is set")
    }
    return {
      dataDir: yield* directory(raw, "DATA_DIR"),
      processingDir: yield* directory(raw, "PROCESSING_DIR"),
      validatedDir: yield* directory(raw, "VALIDATED_DIR"),
      returnsDir: yield* directory(raw, "RETURNS_DIR"),
      logDir: yield* directory(raw, "LOG_DIR"),
      debug: yield* boolean(raw, "DEBUG"),
      concurrency: yield* integer(raw, "CONCURRENCY", 1, 256),
      maxFileSizeBytes: (yield* integer(raw, "MAX_FILE_SIZE_MB", 1, 1024 * 1024)) * MB,
      maxRecords: yield* integer(raw, "MAX_RECORDS", 1, 100_000_000),
      quietPeriodMs: yield* integer(raw, "QUIET_PERIOD_MS", 0, 86_400_000),
      rescanIntervalMs: yield* integer(raw, "RESCAN_INTERVAL_MS", 100, 86_400_000),
      watchMode,
      fsCalls,
      trustedProducers: yield* boolean(raw, "TRUSTED_PRODUCERS"),
      pollIntervalMs: yield* integer(raw, "POLL_INTERVAL_MS", 10, 86_400_000),
      shutdownTimeoutMs: yield* integer(raw, "SHUTDOWN_TIMEOUT_MS", 0, 3_600_000),
      minFreeDiskBytes: (yield* integer(raw, "MIN_FREE_DISK_MB", 0, 1024 * 1024 * 1024)) * MB,
      heartbeatMs: yield* integer(raw, "HEARTBEAT_MS", 100, 3_600_000),
      healthCheckIntervalMs: yield* integer(raw, "HEALTH_CHECK_INTERVAL_MS", 100, 86_400_000),
      metricsPort: text(raw, "METRICS_PORT") === "" ? Option.none() : Option.some(yield* integer(raw, "METRICS_PORT", 1, 65535)),
      metricsHost: text(raw, "METRICS_HOST"),
      logConsole,
      logMaxBytes: Math.round((yield* positiveNumber(raw, "LOG_MAX_SIZE_MB", 1024 * 1024)) * MB),
      logMaxFiles: yield* integer(raw, "LOG_MAX_FILES", 0, 1000),
      // https://no-color.org: set to a non-empty value
      noColor: (raw.NO_COLOR ?? "") !== "",
      email
    } satisfies Settings
  })

/** Reads every variable from the current `ConfigProvider` and parses them. */
export const loadSettings: Effect.Effect<Settings, InvalidConfig> = Effect.gen(function*() {
  const names = Object.keys(DEFAULTS) as Array<VariableName>
  const raw: RawSettings = {}
  for (const name of names) {
    const value = yield* Config.option(Config.string(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
    if (Option.isSome(value)) raw[name] = value.value
  }
  // Read as Redacted from the start, so no error text can ever carry it.
  const password = yield* Config.option(Config.redacted("EMAIL_PASSWORD")).pipe(
    Effect.orElseSucceed(() => Option.none<Redacted.Redacted<string>>()),
    Effect.map(Option.filter((p) => Redacted.value(p) !== ""))
  )
  return yield* parseSettings(raw, password)
})

export class AppConfig extends Context.Tag("customer-json/AppConfig")<AppConfig, Settings>() {}

/** Settings from the environment and `.env` (provide the ConfigProvider around it). */
export const AppConfigLive: Layer.Layer<AppConfig, InvalidConfig> = Layer.effect(AppConfig, loadSettings)

/** Fixed settings, for tests and embedding: unspecified variables take their defaults. */
export const AppConfigFrom = (
  raw: RawSettings,
  password?: Redacted.Redacted<string>
): Layer.Layer<AppConfig, InvalidConfig> =>
  Layer.effect(AppConfig, parseSettings(raw, password === undefined ? Option.none() : Option.some(password)))

/**
 * Every setting by its variable name, for the start-up log: the password as
 * `<redacted>`, the webhook URL as its scheme, host and port only.
 */
export const describeSettings = (s: Settings): Record<string, string | number | boolean> => ({
  DATA_DIR: s.dataDir,
  PROCESSING_DIR: s.processingDir,
  VALIDATED_DIR: s.validatedDir,
  RETURNS_DIR: s.returnsDir,
  LOG_DIR: s.logDir,
  DEBUG: s.debug,
  CONCURRENCY: s.concurrency,
  MAX_FILE_SIZE_MB: s.maxFileSizeBytes / MB,
  MAX_RECORDS: s.maxRecords,
  QUIET_PERIOD_MS: s.quietPeriodMs,
  RESCAN_INTERVAL_MS: s.rescanIntervalMs,
  WATCH_MODE: s.watchMode,
  FS_CALLS: s.fsCalls,
  TRUSTED_PRODUCERS: s.trustedProducers,
  POLL_INTERVAL_MS: s.pollIntervalMs,
  SHUTDOWN_TIMEOUT_MS: s.shutdownTimeoutMs,
  MIN_FREE_DISK_MB: s.minFreeDiskBytes / MB,
  HEARTBEAT_MS: s.heartbeatMs,
  HEALTH_CHECK_INTERVAL_MS: s.healthCheckIntervalMs,
  METRICS_PORT: Option.getOrElse(Option.map(s.metricsPort, String), () => ""),
  METRICS_HOST: s.metricsHost,
  LOG_CONSOLE: s.logConsole,
  LOG_MAX_SIZE_MB: s.logMaxBytes / MB,
  LOG_MAX_FILES: s.logMaxFiles,
  EMAIL_SENDER: Option.getOrElse(s.email.sender, () => ""),
  EMAIL_RECEIVER: s.email.receivers.join(","),
  EMAIL_PASSWORD: Option.match(s.email.password, { onNone: () => "", onSome: () => "<redacted>" }),
  SMTP_SERVER: Option.getOrElse(s.email.smtpServer, () => ""),
  SMTP_PORT: s.email.smtpPort,
  SMTP_USER: Option.getOrElse(s.email.smtpUser, () => ""),
  SMTP_SECURE: s.email.smtpSecure,
  EMAIL_BATCH_WINDOW_MS: s.email.batchWindowMs,
  EMAIL_MAX_PER_HOUR: s.email.maxPerHour,
  NOTIFY_WEBHOOK_URL: Option.match(s.email.webhookUrl, { onNone: () => "", onSome: urlForLog })
})

/**
 * A URL as it may be logged: `scheme://host[:port]/…`. A webhook's path, query,
 * fragment and userinfo often are its credential (`/services/T0/B1/XYZ`,
 * `?token=`, `user:pass@`), so none of them is ever shown.
 */
export const urlForLog = (text: string): string => {
  try {
    const url = new URL(text)
    return `${url.protocol}//${url.host}/…`
  } catch {
    return "<redacted>"
  }
}
