/**
 * The command line: `customer-json-processor [--once]` runs the daemon;
 * `validate FILE...` checks files without moving them; `schema [--draft D]` prints the
 * contract's JSON Schema; `requeue NAME... | --all` sends returned files through again;
 * `--print-settings` prints the settings. Each command's help (DOCS) is the text
 * `--help` prints; its options are read by @effect/cli, after CommandLine has
 * turned away any it does not take.
 */
import * as Args from "@effect/cli/Args"
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "node:path"
import * as App from "./App.js"
import { AppConfig, describeSettings, loadSettings } from "./Config.js"
import { logName } from "./files/Naming.js"
import type { Settings } from "./Config.js"
import { makeDecoders, todayUtc, validateDocument } from "./contract/Contract.js"
import type { Validation } from "./contract/Contract.js"
import type { FileRule } from "./contract/Rules.js"
import { runDaemon } from "./daemon/Daemon.js"
import { runInstancePool, untilParentGone } from "./daemon/InstancePool.js"
import * as FileStore from "./files/FileStore.js"
import type { DiskSpaceLow, FilesystemUnsupported, FolderUnusable } from "./files/FolderChecks.js"
import type { DuplicateDestinationRole } from "./destinations/Destinations.js"
import type { PartnersRefused } from "./partners/Partners.js"
import { parsePartners, PartnersFileInvalid } from "./partners/PartnersFile.js"
import { settingsForPartner } from "./partners/PartnerSettings.js"
import * as SyscallMode from "./files/SyscallMode.js"
import { CONTRACT_VERSION, contractJsonSchema, JSON_SCHEMA_DRAFTS } from "./contract/ContractSchema.js"
import { parseFailureError, parseJsonBytes } from "./contract/ParseJson.js"
import * as Logging from "./logging/Logging.js"
import { jsonText } from "./logging/Logging.js"
import * as Masker from "./masking/Masker.js"
import { MAX_REPORTED_ERRORS } from "./contract/ErrorReport.js"
import { helpText, optionsOf, readArguments, usageError } from "./cli/CommandLine.js"
import type { CommandDoc, Grammar } from "./cli/CommandLine.js"
import * as Requeue from "./requeue/Requeue.js"
import { makeAgeFilter, parseTimeBound } from "./requeue/Requeue.js"
import type { RequeueEvent, TimeBound } from "./requeue/Requeue.js"
import { VERSION } from "./Version.js"

/** The process should exit with this code; the reason has been reported already. */
export class ExitCode extends Data.TaggedError("ExitCode")<{ readonly code: number }> {}

/** sysexits.h codes a supervisor can tell apart. */
export const EXIT = { invalid: 1, usage: 64, cantCreate: 73, tempFail: 75, config: 78 } as const

export const PROGRAM = "customer-json-processor"

/** What `--help` says, command by command; the options' texts are also their @effect/cli descriptions. */
export const DOCS = {
  daemon: {
    usage: [
      "[--once]",
      "validate [--json] [--] FILE...",
      "schema [--draft draft-07|2020-12]",
      "requeue [--dry-run] NAME... | --all [OPTIONS]",
      "--print-settings | --help | --version"
    ],
    about: "Watch DATA_DIR for customer JSON files, validate each against the contract and move it to VALIDATED_DIR, " +
      "or to RETURNS_DIR with an error report. Settings come from the environment and ./.env (README: Configuration).",
    options: [
      ["--once", "finish the files in processing/ and data/, then exit instead of watching (75 when some could not be routed)"],
      ["--print-settings", "print every setting as it applies (secrets hidden), then exit"],
      ["-h, --help", "show this help; COMMAND --help shows a command's"],
      ["--version", "print the version"]
    ],
    commands: [
      ["validate", "check files against the contract without moving them"],
      ["schema", "print the contract as JSON Schema"],
      ["requeue", "move returned files back into DATA_DIR"]
    ],
    notes: ["Exit codes: 0 done, or stopped by a signal; 64 bad command line; 73 a folder is unusable; 75 too little disk space, or --once left files; 78 bad settings (or a filesystem without the guarantees routing needs)."]
  },
  validate: {
    usage: ["validate [--json] [--] FILE..."],
    about: "Check files against the contract without moving anything: one line per file, with its path, valid or invalid, " +
      "the number of errors and the first. Exit 0 when every file is valid, 1 when any is not (or cannot be read).",
    options: [
      ["--json", `one JSON object per line instead: file, valid, contract_version, error_count and errors (the first ${MAX_REPORTED_ERRORS})`],
      ["-h, --help", "show this help"]
    ],
    notes: ["Put -- before a FILE whose name starts with -."]
  },
  schema: {
    usage: ["schema [--draft draft-07|2020-12]"],
    about: "Print the customer file contract as JSON Schema, for producers to check their files with (MAX_RECORDS from the settings).",
    options: [
      ["--draft D", "the JSON Schema dialect: draft-07 (the default) or 2020-12"],
      ["-h, --help", "show this help"]
    ]
  },
  requeue: {
    usage: ["requeue [--dry-run] [--partner ID] [--] NAME...", "requeue [--partner ID] --all [--older-than WHEN] [--newer-than WHEN]"],
    about: "Move returned files (NAME as in RETURNS_DIR, or returns/NAME) back into DATA_DIR under the names they were " +
      "received with, and remove their reports; a running daemon takes them as new files. Exit 1 if some could not be moved.",
    options: [
      ["--all", "every returned file (or those the time filters select)"],
      ["--older-than WHEN", "with --all: only files returned before WHEN: a time back from now (30m, 2h, 3d, 1w) or an ISO time with its zone"],
      ["--newer-than WHEN", "with --all: only files returned after WHEN"],
      ["--dry-run", "print what the run would do, name for name; move nothing"],
      ["--partner ID", "with PARTNERS_FILE (required then): partner ID's returned files, back into its inbox"],
      ["-h, --help", "show this help"]
    ]
  }
} as const satisfies Record<string, CommandDoc>

/** The text of an option's row in DOCS, for its @effect/cli description. */
const describe = (doc: CommandDoc, names: string): string => doc.options.find(([n]) => n === names)?.[1] ?? ""

const once = Options.boolean("once").pipe(Options.withDescription(describe(DOCS.daemon, "--once")))

const printSettings = Options.boolean("print-settings").pipe(Options.withDescription(describe(DOCS.daemon, "--print-settings")))

// Not in --help: how INSTANCES starts its instances.
const stopWithParent = Options.integer("stop-with-parent").pipe(
  Options.withDescription("stop when process PID, the pool that started this one, is gone (how INSTANCES starts its instances)"),
  Options.optional
)

const settingsOrExit = loadSettings.pipe(
  Effect.tapError((e) => Effect.logError(e.message)),
  Effect.mapError(() => new ExitCode({ code: EXIT.config }))
)

/** A setting's value as a line of `.env` shows it: quoted (as JSON) when it is empty or holds spaces, quotes, `#` or `=`. */
const envValue = (value: string | number | boolean): string => {
  const text = String(value)
  return text === "" || /[\s"'#=\\]/.test(text) ? JSON.stringify(text) : text
}

/** `--print-settings`: every setting, `NAME=value`, in the table's order (secrets as the start-up log shows them). */
export const settingsText = (settings: Settings): string =>
  Object.entries(describeSettings(settings)).map(([name, value]) => `${name}=${envValue(value)}\n`).join("")

/** A failure that stops the daemon before its first file: bad settings, folders or filesystems, a composition mistake. */
export type StartupFailure = FolderUnusable | FilesystemUnsupported | DiskSpaceLow | DuplicateDestinationRole | PartnersRefused

/**
 * The exit code of a failure at start (sysexits.h): 73 a folder that cannot
 * be made or used, 75 too little disk space (try again later), 78 anything
 * to fix in the configuration (a filesystem that cannot be used, two
 * destinations with one role).
 */
export const startupExitCode = (e: StartupFailure): number => {
  switch (e._tag) {
    case "FolderUnusable":
      return EXIT.cantCreate
    case "DiskSpaceLow":
      return EXIT.tempFail
    case "FilesystemUnsupported":
    case "DuplicateDestinationRole":
    // a partners file with a mistake, a partner's folder or account missing, or another partner reaching its folders
    case "PartnersFileInvalid":
    case "PartnerMissing":
    case "PartnersNotSealed":
      return EXIT.config
  }
}

/** Said in the log, then the process exits with its code. */
const startupFailed = (e: StartupFailure) => Effect.zipRight(Effect.logError(e.message), new ExitCode({ code: startupExitCode(e) }))

/** INSTANCES above 1: this process runs that many daemons on the same folders (see InstancePool). */
const runPool = (settings: Settings, once: boolean) =>
  Effect.gen(function*() {
    const script = process.argv[1] ?? "dist/main.js"
    const code = yield* runInstancePool({
      count: settings.instances,
      once,
      command: [process.execPath, ...process.execArgv, script],
      // Each instance runs the daemon itself; only the first serves METRICS_PORT.
      envFor: (index) => ({ INSTANCES: "1", ...(index > 0 ? { METRICS_PORT: "" } : {}) })
    }).pipe(Effect.scoped, Effect.provide(Logging.layerSupervisorConsole(settings.logConsole)))
    if (code !== 0) return yield* new ExitCode({ code })
  })

const daemon = Command.make(PROGRAM, { once, printSettings, stopWithParent }, ({ once, printSettings, stopWithParent }) =>
  Effect.gen(function*() {
    const settings = yield* settingsOrExit
    if (printSettings) return yield* Console.log(settingsText(settings).trimEnd())
    if (settings.instances > 1 && Option.isNone(stopWithParent)) return yield* runPool(settings, once)
    // The application, as App.ts composes it, over these settings.
    const layer = App.layer.pipe(Layer.provideMerge(Layer.succeed(AppConfig, settings)))
    // An instance of a pool stops, as on SIGTERM, when the pool's process is gone.
    const run = Option.isSome(stopWithParent) ? untilParentGone(stopWithParent.value)(runDaemon({ once })) : runDaemon({ once })
    const summary = yield* run.pipe(
      Effect.provide(layer),
      Effect.catchTags({
        FolderUnusable: startupFailed,
        FilesystemUnsupported: startupFailed,
        DiskSpaceLow: startupFailed,
        DuplicateDestinationRole: startupFailed,
        PartnersFileInvalid: startupFailed,
        PartnerMissing: startupFailed,
        PartnersNotSealed: startupFailed
      }),
      // Anything unexpected is logged here, masked and flushed, before the process exits 1.
      Effect.catchAllDefect((defect) =>
        Effect.zipRight(Effect.logFatal("unexpected failure; stopping", Cause.die(defect)), new ExitCode({ code: EXIT.invalid }))
      ),
      // The logging layer is outermost: it closes (and flushes) after the shutdown summary.
      Effect.provide(
        Logging.layer({
          logDir: settings.logDir,
          debug: settings.debug,
          console: settings.logConsole,
          noColor: settings.noColor,
          maxBytes: settings.logMaxBytes,
          maxFiles: settings.logMaxFiles
        }).pipe(Layer.provide(Masker.layer))
      )
    )
    // `--once`: 0 only when every eligible file was routed; 75 (try again later) when some stay.
    if (summary.leftBehind > 0) return yield* new ExitCode({ code: EXIT.tempFail })
  })).pipe(Command.withDescription(DOCS.daemon.about))

const files = Args.text({ name: "FILE" }).pipe(Args.atLeast(1))
const json = Options.boolean("json").pipe(Options.withDescription(describe(DOCS.validate, "--json")))

/** One file's verdict, as `validate` prints it. */
export interface Verdict {
  /** the path as given on the command line */
  readonly file: string
  readonly errorCount: number
  /** the first errors (at most the report's MAX_REPORTED_ERRORS) */
  readonly errors: Validation["errors"]
}

/** A text as the terminal may show it: masked, and with its control and bidi characters as %XX. */
const shown = (text: string): string => logName(Masker.Masker.live.text(text))

/**
 * `validate`'s line for a file: `PATH: valid`, or `PATH: invalid, N errors; first: $[2].email: …`
 * (a file-level error has no path of its own). Masked and safe on a terminal.
 */
export const verdictLine = (v: Verdict): string => {
  if (v.errorCount === 0) return `${shown(v.file)}: valid`
  const first = v.errors[0]
  const where = first === undefined || first.record === null ? "" : `${shown(first.path)}: `
  const what = first === undefined ? "" : `${where}${shown(first.message)}`
  return v.errorCount === 1 ? `${shown(v.file)}: invalid, 1 error: ${what}` : `${shown(v.file)}: invalid, ${v.errorCount} errors; first: ${what}`
}

/** `validate --json`'s line for a file: one JSON object, masked (contract §6's fields that mean something here). */
export const verdictJson = (v: Verdict): string =>
  jsonText(Masker.Masker.live.value({
    file: v.file,
    valid: v.errorCount === 0,
    contract_version: CONTRACT_VERSION,
    error_count: v.errorCount,
    errors: v.errors.slice(0, MAX_REPORTED_ERRORS)
  }))

const validate = Command.make("validate", { json, files }, ({ files, json }) =>
  Effect.gen(function*() {
    const settings = yield* settingsOrExit
    const fs = yield* FileSystem.FileSystem
    const now = new Date(yield* Clock.currentTimeMillis)
    let invalid = 0
    const decoders = makeDecoders()
    for (const file of files) {
      const fileLevel = (rule: FileRule, message: string): Pick<Validation, "errors" | "errorCount"> => ({
        errors: [{ record: null, path: "$", rule, message }],
        errorCount: 1
      })
      const { errorCount, errors } = yield* fs.stat(file).pipe(
        Effect.flatMap((info) => {
          if (info.type !== "File") return Effect.succeed(fileLevel("not-a-regular-file", "not a regular file"))
          if (Number(info.size) > settings.maxFileSizeBytes) {
            return Effect.succeed(fileLevel("file-too-large", `file is larger than MAX_FILE_SIZE_MB (${settings.maxFileSizeBytes / 1024 / 1024} MB)`))
          }
          return Effect.map(fs.readFile(file), (bytes) => {
            const parsed = parseJsonBytes(bytes)
            return parsed._tag === "Parsed"
              ? validateDocument(parsed.value, { maxRecords: settings.maxRecords, today: todayUtc(now), decoders })
              : { errors: [parseFailureError(parsed)], errorCount: 1 }
          })
        }),
        Effect.catchAll((e) =>
          Effect.succeed(
            e._tag === "SystemError" && e.reason === "NotFound"
              ? fileLevel("file-not-found", "file not found")
              : fileLevel("unreadable-file", `cannot read the file (${e._tag === "SystemError" ? e.reason : "bad argument"})`)
          )
        )
      )
      if (errorCount > 0) invalid++
      const verdict: Verdict = { file, errorCount, errors }
      yield* Console.log(json ? verdictJson(verdict) : verdictLine(verdict))
    }
    if (invalid > 0) return yield* new ExitCode({ code: EXIT.invalid })
  })).pipe(Command.withDescription(DOCS.validate.about))

// Anything but these is a usage error (exit 64), from @effect/cli's own check.
const draft = Options.choice("draft", JSON_SCHEMA_DRAFTS).pipe(
  Options.withDefault("draft-07"),
  Options.withDescription(describe(DOCS.schema, "--draft D"))
)

const schema = Command.make("schema", { draft }, ({ draft }) =>
  Effect.gen(function*() {
    const settings = yield* settingsOrExit
    yield* Console.log(JSON.stringify(contractJsonSchema({ maxRecords: settings.maxRecords, draft }), null, 2))
  })).pipe(Command.withDescription(DOCS.schema.about))

const requeueNames = Args.text({ name: "NAME" }).pipe(
  Args.repeated,
  Args.withDescription("a returned file, by its name in RETURNS_DIR (as `ls` shows it)")
)
const requeueAll = Options.boolean("all").pipe(Options.withDescription(describe(DOCS.requeue, "--all")))
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription(describe(DOCS.requeue, "--dry-run")))
const olderThan = Options.text("older-than").pipe(
  Options.optional,
  Options.withDescription(describe(DOCS.requeue, "--older-than WHEN"))
)
const newerThan = Options.text("newer-than").pipe(
  Options.optional,
  Options.withDescription(describe(DOCS.requeue, "--newer-than WHEN"))
)
const partnerOption = Options.text("partner").pipe(
  Options.optional,
  Options.withDescription(describe(DOCS.requeue, "--partner ID"))
)
/** A usage error of `requeue`: said on stderr with its usage, exit 64. */
const usage = (message: string) =>
  Effect.zipRight(Console.error(usageError(PROGRAM, "requeue", message, DOCS.requeue).trimEnd()), new ExitCode({ code: EXIT.usage }))

const parseBound = (flag: string, text: Option.Option<string>): Effect.Effect<TimeBound | undefined, ExitCode> => {
  if (Option.isNone(text)) return Effect.succeed(undefined)
  const bound = parseTimeBound(text.value)
  return bound === undefined
    ? usage(`--${flag} takes a duration (30s, 15m, 2h, 3d, 1w) or an ISO time with its zone (2026-11-28T10:00:00Z), not "${Masker.Masker.live.text(text.value)}"`)
    : Effect.succeed(bound)
}

/**
 * With PARTNERS_FILE, `requeue` works on one partner's folders (`--partner`,
 * required): its returns folder, back into its inbox. A partners file with a
 * mistake is said as the daemon says it (exit 78); an unknown id or a missing
 * `--partner` is a usage error (exit 64).
 */
const partnerSettingsOrExit = (settings: Settings, partner: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isNone(settings.partnersFile)) {
      return Option.isNone(partner) ? settings : yield* usage("--partner needs PARTNERS_FILE (the partners file) to be set")
    }
    const path = settings.partnersFile.value
    if (Option.isNone(partner)) return yield* usage(`PARTNERS_FILE is set (${path}): say whose returned files with --partner ID`)
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((e) => new PartnersFileInvalid({ path, line: 0, column: 0, problem: `it cannot be read (${e.message})` }))
    )
    const partners = yield* Either.match(parsePartners(text, path, process.cwd()), { onLeft: Effect.fail, onRight: Effect.succeed })
    return yield* Either.match(settingsForPartner(settings, partners, partner.value), { onLeft: usage, onRight: Effect.succeed })
  }).pipe(Effect.catchTag("PartnersFileInvalid", (e) => Effect.zipRight(Console.error(e.message), new ExitCode({ code: EXIT.config }))))

const requeue = Command.make(
  "requeue",
  { names: requeueNames, all: requeueAll, dryRun, olderThan, newerThan, partner: partnerOption },
  ({ all, dryRun, names, newerThan, olderThan, partner }) =>
    Effect.gen(function*() {
      if (names.length === 0 && !all) return yield* usage("give the names of returned files, or --all")
      if (names.length > 0 && all) return yield* usage("give either names or --all, not both")
      if (!all && (Option.isSome(olderThan) || Option.isSome(newerThan))) return yield* usage("--older-than and --newer-than select among all returned files: use them with --all")
      const older = yield* parseBound("older-than", olderThan)
      const newer = yield* parseBound("newer-than", newerThan)
      const settings = yield* partnerSettingsOrExit(yield* settingsOrExit, partner)
      const config = Layer.succeed(AppConfig, settings)
      const layer = Requeue.layer.pipe(
        Layer.provide(FileStore.layer),
        Layer.provideMerge(SyscallMode.layer.pipe(Layer.provide(config))),
        Layer.provide(config)
      )
      // A name on the terminal is masked and shows its control and bidi characters escaped (%XX): a
      // producer's name must not move the cursor, retitle the window or clear the admin's screen.
      const mask = (text: string) => logName(Masker.Masker.live.text(text))
      const inData = (target: string) => Path.join(settings.dataDir, mask(target))
      const print = (event: RequeueEvent) =>
        Console.log(
          event._tag === "Requeued"
            ? `${event.dryRun ? "would requeue" : "requeued"} ${mask(event.name)} -> ${inData(event.target)}${event.finished ? " (finishing an interrupted requeue)" : ""}`
            : event._tag === "Skipped"
            ? `skipped ${mask(event.name)}: ${mask(event.reason)}`
            : `${event.dryRun ? "would remove" : "removed"} orphan report ${mask(event.report)} (its file was moved already)`
        )
      const now = yield* Clock.currentTimeMillis
      const totals = yield* Effect.flatMap(Requeue.Requeue, (r) =>
        r.run({ names, all, dryRun, filter: makeAgeFilter(older, newer, now) }, print)).pipe(
          Effect.provide(layer),
          Effect.catchTag("ReturnsUnreadable", (e) => Effect.zipRight(Console.error(e.message), new ExitCode({ code: EXIT.invalid }))),
          // Each move is logged to app.log like the daemon's lines (masked); the console is kept for the summary.
          Effect.provide(
            Logging.layer({
              logDir: settings.logDir,
              debug: settings.debug,
              console: "off",
              noColor: settings.noColor,
              maxBytes: settings.logMaxBytes,
              maxFiles: settings.logMaxFiles
            }).pipe(Layer.provide(Masker.layer))
          )
        )
      yield* Console.log(
        `${dryRun ? "would requeue" : "requeued"} ${totals.requeued}, skipped ${totals.skipped}, ` +
          `orphan reports ${dryRun ? "to remove" : "removed"} ${totals.orphansRemoved}`
      )
      if (totals.skipped > 0) return yield* new ExitCode({ code: EXIT.invalid })
    })
).pipe(Command.withDescription(DOCS.requeue.about))

export const command = daemon.pipe(Command.withSubcommands([validate, schema, requeue]))

/** The options each command takes, as @effect/cli reads them. */
const GRAMMAR: Grammar = {
  root: optionsOf(Command.getUsage(daemon)),
  commands: new Map([
    ["validate", optionsOf(Command.getUsage(validate))],
    ["schema", optionsOf(Command.getUsage(schema))],
    ["requeue", optionsOf(Command.getUsage(requeue))]
  ])
}

const docOf = (command: string | undefined): CommandDoc =>
  command === "validate" ? DOCS.validate : command === "schema" ? DOCS.schema : command === "requeue" ? DOCS.requeue : DOCS.daemon

const run = Command.run(command, { name: PROGRAM, version: VERSION })

/**
 * The whole command line, `process.argv` as given: `--help` and usage errors
 * (exit 64) answered here, everything else run by @effect/cli.
 */
export const cli = (argv: ReadonlyArray<string>) => {
  const reading = readArguments(argv.slice(2), GRAMMAR)
  switch (reading._tag) {
    case "Help":
      return Console.log(helpText(PROGRAM, docOf(reading.command)).trimEnd())
    case "Version":
      return Console.log(VERSION)
    case "Usage":
      return Effect.zipRight(
        Console.error(usageError(PROGRAM, reading.command, reading.problem, docOf(reading.command)).trimEnd()),
        new ExitCode({ code: EXIT.usage })
      )
    case "Run":
      // The built-in options this program does not take stay out of @effect/cli's own messages too.
      return run(argv).pipe(Effect.provide(CliConfig.layer({ showBuiltIns: false })))
  }
}
