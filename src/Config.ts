/**
 * Every setting of the daemon, declared once in `SETTINGS` (variable name,
 * default, meaning, rule, how it shows in the start-up line) and read at start
 * through effect's `Config` (environment first, then `.env` in the working
 * directory). The rest of the program reads the parsed `Settings` from the
 * `AppConfig` service; nothing else looks at the environment. README's settings
 * table and `.env.example` are generated from `SETTINGS` (`npm run docs:settings`,
 * src/SettingsDocs.ts); a test fails when they are out of date.
 *
 * @module
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as OS from "node:os"
import { parseHostList, showHost } from "./http/HostCheck.js"
import type { HostEntry } from "./http/HostCheck.js"
// The folders (DATA_DIR … LOG_DIR), with their roles, are the folder list's (Folders.ts).
import type { FolderSettings } from "./Folders.js"

/** How new files are noticed (WATCH_MODE): `native` filesystem events, or `poll` by listing only. */
export type WatchMode = "native" | "poll"
/** What the console shows (LOG_CONSOLE): `pretty` lines, `json` lines, or `off` (errors only). */
export type ConsoleFormat = "pretty" | "json" | "off"
/** `auto`: link files owned by the daemon's own user, copy everyone else's; `copy`: copy all; `link`: link all the kernel allows */
export type StoreMode = "auto" | "copy" | "link"

/** The notification settings (EMAIL_*, SMTP_*, NOTIFY_WEBHOOK_URL), parsed. */
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

/**
 * The daemon's settings, parsed and checked: what the `AppConfig` service holds.
 * Each field is one variable of `SETTINGS` (README's settings table).
 */
export interface Settings extends FolderSettings {
  /** PARTNERS_FILE: the partners served (see partners/PartnersFile); none: one implicit partner, DATA_DIR and RETURNS_DIR */
  readonly partnersFile: Option.Option<string>
  readonly debug: boolean
  readonly concurrency: number
  /** daemon processes on these folders under this one; 1 runs the daemon in this process */
  readonly instances: number
  readonly maxFileSizeBytes: number
  readonly maxRecords: number
  readonly quietPeriodMs: number
  readonly rescanIntervalMs: number
  readonly watchMode: WatchMode
  /** how the calls on a file's path are made (see SyscallMode) */
  readonly fsCalls: "auto" | "sync" | "async"
  /** how a judged file is stored: the file itself linked into place, or a copy the daemon owns (see FileStore) */
  readonly storeMode: StoreMode
  readonly pollIntervalMs: number
  readonly shutdownTimeoutMs: number
  readonly minFreeDiskBytes: number
  readonly heartbeatMs: number
  readonly healthCheckIntervalMs: number
  /** the health and metrics endpoint: off when METRICS_PORT is not set */
  readonly metricsPort: Option.Option<number>
  readonly metricsHost: string
  /** further Host names the status page, /status.json and /metrics answer to (see HostCheck) */
  readonly statusHosts: ReadonlyArray<HostEntry>
  readonly logConsole: ConsoleFormat
  readonly logMaxBytes: number
  readonly logMaxFiles: number
  /** NO_COLOR is set: never colour the console */
  readonly noColor: boolean
  readonly email: EmailSettings
}

/**
 * A setting with a bad value: the message names the variable, what it must be
 * and the value given (never a secret's).
 */
export class InvalidConfig extends Data.TaggedError("InvalidConfig")<{
  readonly variable: string
  readonly expected: string
  /** the text given, when there is one and it may be shown */
  readonly given: Option.Option<string>
}> {
  override get message(): string {
    const given = Option.match(this.given, { onNone: () => "", onSome: (text) => `, not ${quoteGiven(text)}` })
    return `invalid configuration: ${this.variable} must be ${this.expected}${given}`
  }
}

/** At most 80 characters of a bad value, as a JSON string: it shows where it ends (the logger escapes and masks the rest). */
const quoteGiven = (text: string): string => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)

/** How a setting shows in the start-up line. */
export type Shown = string | number | boolean

/** Where a setting is listed in README and `.env.example`. */
export type SettingGroup = "folders" | "processing" | "http" | "logs" | "notifications"

/** One setting: everything about it, in one place. */
export interface Setting<A> {
  readonly group: SettingGroup
  /** the value as written in `.env`; "" is unset */
  readonly default: string
  /** the default as README says it, when it depends on another setting */
  readonly defaultText?: string
  /** what it does, in one line (README and `.env.example`) */
  readonly meaning: string
  /** what a value must be, completing "NAME must be …" */
  readonly rule: string
  /** read through `Config.redacted`, never echoed in an error, shown redacted */
  readonly secret: boolean
  /** the value from its trimmed text (the default when unset or blank); None when the text breaks the rule */
  readonly parse: (text: string) => Option.Option<A>
  /** the value in the start-up line */
  readonly show: (settings: Settings) => Shown
}

const setting = <A>(spec: Omit<Setting<A>, "secret"> & { readonly secret?: boolean }): Setting<A> => ({ secret: false, ...spec })

// ------------------------------------------------------------------ rules (pure)

const MB = 1024 * 1024

/** The same address rule as the contract's email field, minus the length nuance. */
const ADDRESS = /^[^\s@]+@[^\s@.-][^\s@]*\.[^\s@]*[^\s@.-]$/

/** Digits only: no sign, no decimals, no `0x`, no exponent (which `Number` would all take). */
export const wholeNumber = (min: number, max: number) => (text: string): Option.Option<number> =>
  /^\d+$/.test(text) ? Option.filter(Option.some(Number(text)), (n) => n >= min && n <= max) : Option.none()

const wholeRule = (min: number, max: number) => `a whole number from ${min} to ${max}`

/** A number above 0 and at most `max`, decimals allowed (no sign, no exponent). */
export const positiveNumber = (max: number) => (text: string): Option.Option<number> =>
  /^\d+(\.\d+)?$/.test(text) ? Option.filter(Option.some(Number(text)), (n) => n > 0 && n <= max) : Option.none()

/** A yes/no setting: `true`, `1`, `yes`, `on` or `false`, `0`, `no`, `off`, in any case. */
export const flag = (text: string): Option.Option<boolean> => {
  const value = text.toLowerCase()
  if (["true", "1", "yes", "on"].includes(value)) return Option.some(true)
  if (["false", "0", "no", "off"].includes(value)) return Option.some(false)
  return Option.none()
}

/** One of a few words, in any case. */
export const oneOf = <const W extends string>(...words: ReadonlyArray<W>) => (text: string): Option.Option<W> =>
  Option.fromNullable(words.find((w) => w === text.toLowerCase()))

/** Empty is None; anything else must pass `parse`. */
export const optional = <A>(parse: (text: string) => Option.Option<A>) => (text: string): Option.Option<Option.Option<A>> =>
  text === "" ? Option.some(Option.none()) : Option.map(parse(text), Option.some)

const folder = (text: string): Option.Option<string> => (text.includes("\0") ? Option.none() : Option.some(text))
const anyText = (text: string): Option.Option<string> => Option.some(text)
const address = (text: string): Option.Option<string> => (ADDRESS.test(text) ? Option.some(text) : Option.none())

/** A comma-separated list of email addresses (blanks between them ignored); each must look like one. */
export const addressList = (text: string): Option.Option<ReadonlyArray<string>> => {
  const list = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  return list.every((a) => ADDRESS.test(a)) ? Option.some(list) : Option.none()
}

const hostName = (text: string): Option.Option<string> => (/[\s/@:]/.test(text) ? Option.none() : Option.some(text))
const httpUrl = (text: string): Option.Option<string> => (/^https?:\/\/[^\s/]+/i.test(text) ? Option.some(text) : Option.none())

const orEmpty = (value: Option.Option<string | number>): string => Option.match(value, { onNone: () => "", onSome: String })

// ------------------------------------------------------------------ the table

/**
 * Every variable the daemon reads, in the order README, `.env.example` and the
 * start-up line list them. To add a setting: add it here and to `Settings` and
 * `toSettings`, then run `npm run docs:settings`.
 */
export const SETTINGS = Object.freeze({
  DATA_DIR: setting({
    group: "folders",
    default: "data",
    meaning: "input folder",
    rule: "a folder path",
    parse: folder,
    show: (s) => s.dataDir
  }),
  PROCESSING_DIR: setting({
    group: "folders",
    default: "processing",
    meaning: "claimed files, one subfolder per instance",
    rule: "a folder path",
    parse: folder,
    show: (s) => s.processingDir
  }),
  VALIDATED_DIR: setting({
    group: "folders",
    default: "validated",
    meaning: "valid files",
    rule: "a folder path",
    parse: folder,
    show: (s) => s.validatedDir
  }),
  RETURNS_DIR: setting({
    group: "folders",
    default: "returns",
    meaning: "invalid files and their `.error.json` reports",
    rule: "a folder path",
    parse: folder,
    show: (s) => s.returnsDir
  }),
  LOG_DIR: setting({
    group: "folders",
    default: "logs",
    meaning: "log files",
    rule: "a folder path",
    parse: folder,
    show: (s) => s.logDir
  }),
  PARTNERS_FILE: setting({
    group: "processing",
    default: "",
    meaning: "the partners file (YAML or JSON, README: Partners): each partner's inbox, returns folder, validated folder and who is told about its returned files, instead of `DATA_DIR` and `RETURNS_DIR`; read again on SIGHUP. Empty: one implicit partner, `DATA_DIR` and `RETURNS_DIR`",
    rule: "a file path",
    parse: optional(folder),
    show: (s) => orEmpty(s.partnersFile)
  }),
  DEBUG: setting({
    group: "processing",
    default: "false",
    meaning: "also log claims, retries and quiet-period waits",
    rule: "true or false",
    parse: flag,
    show: (s) => s.debug
  }),
  CONCURRENCY: setting({
    group: "processing",
    default: "8",
    meaning: "files processed at the same time",
    rule: wholeRule(1, 256),
    parse: wholeNumber(1, 256),
    show: (s) => s.concurrency
  }),
  INSTANCES: setting({
    group: "processing",
    default: "1",
    meaning: "daemon processes on these folders, started and restarted by this one (every core of one host: `auto`)",
    rule: "a whole number from 1 to 64, or auto (one per core)",
    parse: (text) => (text.toLowerCase() === "auto" ? Option.some(OS.availableParallelism()) : wholeNumber(1, 64)(text)),
    show: (s) => s.instances
  }),
  MAX_FILE_SIZE_MB: setting({
    group: "processing",
    default: "50",
    meaning: "larger files are returned unread, as a file-level error",
    rule: wholeRule(1, 1024 * 1024),
    parse: wholeNumber(1, 1024 * 1024),
    show: (s) => s.maxFileSizeBytes / MB
  }),
  MAX_RECORDS: setting({
    group: "processing",
    default: "100000",
    meaning: "most records one file may hold",
    rule: wholeRule(1, 100_000_000),
    parse: wholeNumber(1, 100_000_000),
    show: (s) => s.maxRecords
  }),
  QUIET_PERIOD_MS: setting({
    group: "processing",
    default: "2000",
    meaning: "a file that does not parse as JSON yet is returned as malformed only after it stayed unmodified this long (its writer may still be writing)",
    rule: wholeRule(0, 86_400_000),
    parse: wholeNumber(0, 86_400_000),
    show: (s) => s.quietPeriodMs
  }),
  RESCAN_INTERVAL_MS: setting({
    group: "processing",
    default: "10000",
    meaning: "a full listing of `DATA_DIR` this often, whatever the watcher reports",
    rule: wholeRule(100, 86_400_000),
    parse: wholeNumber(100, 86_400_000),
    show: (s) => s.rescanIntervalMs
  }),
  WATCH_MODE: setting({
    group: "processing",
    default: "native",
    meaning: "`native` (filesystem events) or `poll` (list `DATA_DIR` every `POLL_INTERVAL_MS`: for network filesystems, which deliver no events)",
    rule: "native or poll",
    parse: oneOf("native", "poll"),
    show: (s) => s.watchMode
  }),
  POLL_INTERVAL_MS: setting({
    group: "processing",
    default: "1000",
    meaning: "listing interval in `poll` mode",
    rule: wholeRule(10, 86_400_000),
    parse: wholeNumber(10, 86_400_000),
    show: (s) => s.pollIntervalMs
  }),
  FS_CALLS: setting({
    group: "processing",
    default: "auto",
    meaning: "how the calls on a file's path are made: `auto` (synchronous when all five folders are on a local filesystem, through the thread pool otherwise), `sync` or `async`",
    rule: "auto, sync or async",
    parse: oneOf("auto", "sync", "async"),
    show: (s) => s.fsCalls
  }),
  STORE_MODE: setting({
    group: "processing",
    default: "auto",
    meaning: "how a judged file is stored: `auto` links a file owned by the daemon's own user into place and stores a copy the daemon owns of exactly the bytes it judged for a file of any other user (the trust boundary); `copy` copies every file; `link` links every file the kernel allows (only for producers you trust not to rewrite a file they still hold open). A file too large to read is never copied where it can be moved",
    rule: "auto, copy or link",
    parse: oneOf("auto", "copy", "link"),
    show: (s) => s.storeMode
  }),
  SHUTDOWN_TIMEOUT_MS: setting({
    group: "processing",
    default: "10000",
    meaning: "on SIGTERM or SIGINT, files in flight get this long to finish",
    rule: wholeRule(0, 3_600_000),
    parse: wholeNumber(0, 3_600_000),
    show: (s) => s.shutdownTimeoutMs
  }),
  MIN_FREE_DISK_MB: setting({
    group: "processing",
    default: "100",
    meaning: "the start fails with less free space on an output folder",
    rule: wholeRule(0, 1024 * 1024 * 1024),
    parse: wholeNumber(0, 1024 * 1024 * 1024),
    show: (s) => s.minFreeDiskBytes / MB
  }),
  HEARTBEAT_MS: setting({
    group: "processing",
    default: "5000",
    meaning: "each instance touches its heartbeat this often; one silent for three beats is taken for dead and its claimed files are recovered by the others",
    rule: wholeRule(100, 3_600_000),
    parse: wholeNumber(100, 3_600_000),
    show: (s) => s.heartbeatMs
  }),
  HEALTH_CHECK_INTERVAL_MS: setting({
    group: "processing",
    default: "60000",
    meaning: "while running, folders are probed and free space checked this often; a failure is logged and notified as critical",
    rule: wholeRule(100, 86_400_000),
    parse: wholeNumber(100, 86_400_000),
    show: (s) => s.healthCheckIntervalMs
  }),
  METRICS_PORT: setting({
    group: "http",
    default: "",
    meaning: "serve the status page, `/status.json`, `/healthz` and `/metrics` on this port (off when empty)",
    rule: `${wholeRule(1, 65535)}, or empty`,
    parse: optional(wholeNumber(1, 65535)),
    show: (s) => orEmpty(s.metricsPort)
  }),
  METRICS_HOST: setting({
    group: "http",
    default: "127.0.0.1",
    meaning: "address the endpoint binds to",
    rule: "an address",
    parse: anyText,
    show: (s) => s.metricsHost
  }),
  STATUS_HOSTS: setting({
    group: "http",
    default: "",
    meaning: "host names (comma-separated, `name` or `name:port`) under which the status page, `/status.json` and `/metrics` are reached besides the address they listen on (`METRICS_HOST`, and `localhost` on a loopback address): a reverse proxy's name, a Prometheus target given by name. Any other `Host` gets 421 (against DNS rebinding); `/healthz` answers any",
    rule: "a comma-separated list of host names or addresses, each maybe with :port",
    parse: (text) => Option.fromNullable(parseHostList(text)),
    show: (s) => s.statusHosts.map(showHost).join(",")
  }),
  LOG_CONSOLE: setting({
    group: "logs",
    default: "pretty",
    meaning: "console output: `pretty` (a human line per event, its nested fields on indented lines), `json`, or `off`",
    rule: "pretty, json or off",
    parse: oneOf("pretty", "json", "off"),
    show: (s) => s.logConsole
  }),
  LOG_MAX_SIZE_MB: setting({
    group: "logs",
    default: "10",
    meaning: "a log file is rotated when it would grow beyond this (decimals allowed)",
    rule: `a number above 0 and at most ${1024 * 1024}`,
    parse: positiveNumber(1024 * 1024),
    show: (s) => s.logMaxBytes / MB
  }),
  LOG_MAX_FILES: setting({
    group: "logs",
    default: "5",
    meaning: "rotated files kept per log (`app.log.1` … `app.log.5`)",
    rule: wholeRule(0, 1000),
    parse: wholeNumber(0, 1000),
    show: (s) => s.logMaxFiles
  }),
  NO_COLOR: setting({
    group: "logs",
    default: "",
    meaning: "any non-empty value turns console colours off (https://no-color.org)",
    rule: "empty or any text",
    parse: (text) => Option.some(text !== ""),
    show: (s) => s.noColor
  }),
  EMAIL_SENDER: setting({
    group: "notifications",
    default: "",
    meaning: "sender address of notifications; required with `SMTP_SERVER`",
    // (no example address: every message is masked, and one would show as n***@example.com)
    rule: "an email address (a local part, @ and a domain)",
    parse: optional(address),
    show: (s) => orEmpty(s.email.sender)
  }),
  EMAIL_RECEIVER: setting({
    group: "notifications",
    default: "",
    meaning: "one address or a comma-separated list; required with `SMTP_SERVER`",
    rule: "an email address or a comma-separated list of them",
    parse: addressList,
    show: (s) => s.email.receivers.join(",")
  }),
  EMAIL_PASSWORD: setting({
    group: "notifications",
    default: "",
    meaning: "SMTP password (kept `Redacted`, never logged)",
    rule: "any text",
    secret: true,
    parse: (text) => Option.some(text === "" ? Option.none() : Option.some(Redacted.make(text))),
    show: (s) => (Option.isSome(s.email.password) ? "<redacted>" : "")
  }),
  SMTP_SERVER: setting({
    group: "notifications",
    default: "",
    meaning: "SMTP host; with it empty, each message is written as an `.eml` file to `LOG_DIR/outbox/` instead",
    rule: "a host name or address, without scheme or port",
    parse: optional(hostName),
    show: (s) => orEmpty(s.email.smtpServer)
  }),
  SMTP_PORT: setting({
    group: "notifications",
    default: "587",
    meaning: "SMTP port",
    rule: wholeRule(1, 65535),
    parse: wholeNumber(1, 65535),
    show: (s) => s.email.smtpPort
  }),
  SMTP_USER: setting({
    group: "notifications",
    default: "",
    defaultText: "`EMAIL_SENDER`",
    meaning: "SMTP login name; `EMAIL_SENDER` when empty",
    rule: "any text",
    parse: optional(anyText),
    show: (s) => orEmpty(s.email.smtpUser)
  }),
  SMTP_SECURE: setting({
    group: "notifications",
    default: "",
    defaultText: "true on port 465",
    meaning: "`true`: TLS from the first byte; empty: true on port 465, otherwise STARTTLS when the server offers it",
    rule: "true or false",
    parse: optional(flag),
    show: (s) => s.email.smtpSecure
  }),
  EMAIL_BATCH_WINDOW_MS: setting({
    group: "notifications",
    default: "10000",
    meaning: "failures within this window of the first one go out as one message",
    rule: wholeRule(0, 3_600_000),
    parse: wholeNumber(0, 3_600_000),
    show: (s) => s.email.batchWindowMs
  }),
  EMAIL_MAX_PER_HOUR: setting({
    group: "notifications",
    default: "30",
    meaning: "at most this many messages an hour; the excess rolls into the next one",
    rule: wholeRule(1, 100_000),
    parse: wholeNumber(1, 100_000),
    show: (s) => s.email.maxPerHour
  }),
  NOTIFY_WEBHOOK_URL: setting({
    group: "notifications",
    default: "",
    meaning: "post notifications as JSON to this URL instead of emailing them (`user:password@` in it is sent as Basic auth; logged as `scheme://host[:port]/…` only)",
    rule: "an http:// or https:// URL",
    secret: true,
    parse: optional(httpUrl),
    show: (s) => Option.match(s.email.webhookUrl, { onNone: () => "", onSome: urlForLog })
  })
})

/** The name of a setting's environment variable (`DATA_DIR`, `MAX_RECORDS`, …). */
export type VariableName = keyof typeof SETTINGS
/** Settings as text by variable name, as in the environment or `.env`: what `layerFixed` takes. */
export type RawSettings = Partial<Record<VariableName, string>>

/** Each variable's value once parsed, before `toSettings` shapes them. */
type Values = { readonly [K in VariableName]: (typeof SETTINGS)[K] extends Setting<infer A> ? A : never }

/** Every setting by name (typed keys; `Object.entries` would lose them). */
export const settingEntries: ReadonlyArray<readonly [VariableName, Setting<unknown>]> = Object.entries(SETTINGS) as Array<
  [VariableName, Setting<unknown>]
>

/** Every variable's default, as written in `.env` ("" is unset). */
export const DEFAULTS = Object.freeze(Object.fromEntries(settingEntries.map(([name, s]) => [name, s.default]))) as {
  readonly [K in VariableName]: string
}

// ------------------------------------------------------------------ reading

/**
 * One variable through `Config`: trimmed, blank taken as unset (so `NAME=` in
 * `.env` means the default), the default, then its rule. The error is the rule
 * itself, at the variable's path; a secret goes through `Config.redacted`.
 */
const settingConfig = <A>(name: string, spec: Setting<A>): Config.Config<A> => {
  const text: Config.Config<string> = spec.secret ? Config.map(Config.redacted(Config.string()), Redacted.value) : Config.string()
  return text.pipe(
    Config.map((t) => t.trim()),
    Config.mapOrFail((t) => (t === "" ? Either.left(ConfigError.MissingData([], "blank")) : Either.right(t))),
    Config.withDefault(spec.default),
    Config.mapOrFail((t) => Either.fromOption(spec.parse(t), () => ConfigError.InvalidData([], spec.rule))),
    Config.nested(name)
  )
}

const valuesConfig = Config.all(
  Object.fromEntries(settingEntries.map(([name, spec]) => [name, settingConfig(name, spec)]))
) as Config.Config<Values>

/** The rules that join two settings; a problem is named by the variable to change. */
export const toSettings = (v: Values): Either.Either<Settings, { readonly variable: VariableName; readonly expected: string }> => {
  if (Option.isSome(v.SMTP_SERVER)) {
    if (Option.isNone(v.EMAIL_SENDER)) return Either.left({ variable: "EMAIL_SENDER", expected: "set when SMTP_SERVER is set" })
    if (v.EMAIL_RECEIVER.length === 0) return Either.left({ variable: "EMAIL_RECEIVER", expected: "set when SMTP_SERVER is set" })
  }
  return Either.right({
    dataDir: v.DATA_DIR,
    processingDir: v.PROCESSING_DIR,
    validatedDir: v.VALIDATED_DIR,
    returnsDir: v.RETURNS_DIR,
    logDir: v.LOG_DIR,
    partnersFile: v.PARTNERS_FILE,
    debug: v.DEBUG,
    concurrency: v.CONCURRENCY,
    instances: v.INSTANCES,
    maxFileSizeBytes: v.MAX_FILE_SIZE_MB * MB,
    maxRecords: v.MAX_RECORDS,
    quietPeriodMs: v.QUIET_PERIOD_MS,
    rescanIntervalMs: v.RESCAN_INTERVAL_MS,
    watchMode: v.WATCH_MODE,
    fsCalls: v.FS_CALLS,
    storeMode: v.STORE_MODE,
    pollIntervalMs: v.POLL_INTERVAL_MS,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    minFreeDiskBytes: v.MIN_FREE_DISK_MB * MB,
    heartbeatMs: v.HEARTBEAT_MS,
    healthCheckIntervalMs: v.HEALTH_CHECK_INTERVAL_MS,
    metricsPort: v.METRICS_PORT,
    metricsHost: v.METRICS_HOST,
    statusHosts: v.STATUS_HOSTS,
    logConsole: v.LOG_CONSOLE,
    logMaxBytes: Math.round(v.LOG_MAX_SIZE_MB * MB),
    logMaxFiles: v.LOG_MAX_FILES,
    noColor: v.NO_COLOR,
    email: {
      sender: v.EMAIL_SENDER,
      receivers: v.EMAIL_RECEIVER,
      password: v.EMAIL_PASSWORD,
      smtpServer: v.SMTP_SERVER,
      smtpPort: v.SMTP_PORT,
      smtpUser: v.SMTP_USER,
      smtpSecure: Option.getOrElse(v.SMTP_SECURE, () => v.SMTP_PORT === 465),
      batchWindowMs: v.EMAIL_BATCH_WINDOW_MS,
      maxPerHour: v.EMAIL_MAX_PER_HOUR,
      // Read through Config.redacted like the password; `Settings` keeps it as text for its users (WebhookDelivery, App).
      webhookUrl: v.NOTIFY_WEBHOOK_URL
    }
  })
}

/** All settings as one `Config`: each variable by its rule, then the rules that join two of them. */
export const settingsConfig: Config.Config<Settings> = Config.mapOrFail(valuesConfig, (v) =>
  Either.mapLeft(toSettings(v), (p) => ConfigError.InvalidData([p.variable], p.expected)))

/** The first problem in a `ConfigError` (a bad value is reported alone, on one line). */
const firstProblem = (error: ConfigError.ConfigError): { readonly variable: string; readonly expected: string } => {
  switch (error._op) {
    case "And":
    case "Or":
      return firstProblem(error.left)
    case "InvalidData":
      return { variable: error.path.join("."), expected: error.message }
    case "MissingData":
      return { variable: error.path.join("."), expected: "set" }
    case "SourceUnavailable":
    case "Unsupported":
      return { variable: error.path.join(".") || "the configuration", expected: `readable (${error.message})` }
  }
}

const isVariable = (name: string): name is VariableName => Object.hasOwn(SETTINGS, name)

/** The text a variable was given, for the error line: never a secret's, nothing when blank. */
const givenText = (variable: string): Effect.Effect<Option.Option<string>> =>
  isVariable(variable) && !SETTINGS[variable].secret
    ? Config.option(Config.string(variable)).pipe(
      Effect.map(Option.filter((t) => t.trim() !== "")),
      Effect.orElseSucceed(() => Option.none<string>())
    )
    : Effect.succeed(Option.none())

/** Variables of earlier versions that are gone: set, they stop the start with what replaced them (never silently ignored). */
const REPLACED: ReadonlyArray<readonly [name: string, expected: string]> = [
  ["TRUSTED_PRODUCERS", "unset: it was replaced by STORE_MODE (STORE_MODE=link does what TRUSTED_PRODUCERS=true did; the default, auto, links files of the daemon's own user)"]
]

const replacedVariables: Effect.Effect<void, InvalidConfig> = Effect.forEach(REPLACED, ([variable, expected]) =>
  Config.option(Config.string(variable)).pipe(
    Effect.orElseSucceed(() => Option.none<string>()),
    Effect.flatMap((given) =>
      Option.isSome(given) && given.value.trim() !== ""
        ? Effect.fail(new InvalidConfig({ variable, expected, given: Option.some(given.value.trim()) }))
        : Effect.void
    )
  ), { discard: true })

/** Reads every variable from the current `ConfigProvider` and parses them. */
export const loadSettings: Effect.Effect<Settings, InvalidConfig> = Effect.zipRight(
  replacedVariables,
  Effect.catchAll(settingsConfig, (error) => {
    const { expected, variable } = firstProblem(error)
    return Effect.flatMap(givenText(variable), (given) => new InvalidConfig({ variable, expected, given }))
  })
)

/** Parses fixed variables (unspecified ones take their defaults), for tests and embedding. */
export const parseSettings = (
  raw: RawSettings,
  password: Option.Option<Redacted.Redacted<string>> = Option.none()
): Effect.Effect<Settings, InvalidConfig> => {
  const entries = Object.entries(raw).filter((e): e is [string, string] => e[1] !== undefined)
  const secret = Option.match(password, { onNone: () => [], onSome: (p) => [["EMAIL_PASSWORD", Redacted.value(p)] as [string, string]] })
  return Effect.withConfigProvider(loadSettings, ConfigProvider.fromMap(new Map([...entries, ...secret])))
}

/**
 * The settings as a service: every module reads them from here, never from the environment.
 * Provide `layer` (environment and `.env`) or `layerFixed(raw)` (fixed, for tests and embedding).
 */
export class AppConfig extends Context.Tag("customer-json/AppConfig")<AppConfig, Settings>() {}

/** Settings from the environment and `.env` (provide the ConfigProvider around it). */
export const layer: Layer.Layer<AppConfig, InvalidConfig> = Layer.effect(AppConfig, loadSettings)

/** Fixed settings, for tests and embedding: unspecified variables take their defaults. */
export const layerFixed = (
  raw: RawSettings,
  password?: Redacted.Redacted<string>
): Layer.Layer<AppConfig, InvalidConfig> => Layer.effect(AppConfig, parseSettings(raw, Option.fromNullable(password)))

/**
 * Every setting by its variable name, in the table's order, for the start-up
 * log: the password as `<redacted>`, the webhook URL as its scheme, host and
 * port only.
 */
export const describeSettings = (s: Settings): Record<string, Shown> =>
  Object.fromEntries(settingEntries.map(([name, spec]) => [name, spec.show(s)]))

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

/**
 * libuv's thread pool flushes stored files (`fdatasync`, as many at once as it
 * has threads: flushes that wait together share a journal commit) and makes
 * every file call on a network filesystem. Node sizes it from
 * UV_THREADPOOL_SIZE at its first use, which for an ES module entry point is
 * before any of its code runs: so it is set in the environment (the systemd
 * unit sets 16; `.env` is too late), never by the daemon. Node's default is 4.
 */
export const threadPoolSizeOf = (value: string | undefined): number => {
  const given = value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : 0
  return given > 0 ? Math.min(given, 1024) : 4
}

/** The thread pool's size, as libuv took it from the environment. */
export const threadPoolSize = (): number => threadPoolSizeOf(process.env["UV_THREADPOOL_SIZE"])
