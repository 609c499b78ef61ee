/**
 * The command line: `customer-json-processor [--once]` runs the daemon;
 * `validate FILE...` checks files without moving them; `schema [--draft D]` prints the
 * contract's JSON Schema; `requeue NAME... | --all` sends returned files through again.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "node:path"
import { ActivityLive } from "./status/Activity.js"
import { DaemonServices, NotifierFromConfig } from "./App.js"
import { AppConfig, loadSettings } from "./Config.js"
import { logName } from "./files/Naming.js"
import type { Settings } from "./Config.js"
import { makeDecoders, todayUtc, validateDocument } from "./contract/Contract.js"
import type { Validation } from "./contract/Contract.js"
import type { FileRule } from "./contract/Rules.js"
import { runDaemon } from "./daemon/Daemon.js"
import { runInstancePool, untilParentGone } from "./daemon/InstancePool.js"
import { FileStoreLive } from "./files/FileStore.js"
import { SyscallModeLive } from "./files/SyscallMode.js"
import { contractJsonSchema, JSON_SCHEMA_DRAFTS } from "./contract/ContractSchema.js"
import { parseFailureError, parseJsonBytes } from "./contract/ParseJson.js"
import { LoggingLive, SupervisorConsoleLive } from "./logging/Logging.js"
import { Masker, MaskerLive } from "./masking/Masker.js"
import { makeReport } from "./contract/ErrorReport.js"
import { makeAgeFilter, parseTimeBound, Requeue, RequeueLive } from "./requeue/Requeue.js"
import type { RequeueEvent, TimeBound } from "./requeue/Requeue.js"
import { VERSION } from "./Version.js"

/** The process should exit with this code; the reason has been reported already. */
export class ExitCode extends Data.TaggedError("ExitCode")<{ readonly code: number }> {}

/** sysexits.h codes a supervisor can tell apart. */
export const EXIT = { invalid: 1, usage: 64, cantCreate: 73, tempFail: 75, config: 78 } as const

const once = Options.boolean("once").pipe(
  Options.withDescription("finish the files in processing/ and data/, then exit instead of watching")
)

const stopWithParent = Options.integer("stop-with-parent").pipe(
  Options.withDescription("stop when process PID, the pool that started this one, is gone (how INSTANCES starts its instances)"),
  Options.optional
)

const settingsOrExit = loadSettings.pipe(
  Effect.tapError((e) => Effect.logError(e.message)),
  Effect.mapError(() => new ExitCode({ code: EXIT.config }))
)

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
    }).pipe(Effect.scoped, Effect.provide(SupervisorConsoleLive(settings.logConsole)))
    if (code !== 0) return yield* new ExitCode({ code })
  })

const daemon = Command.make("customer-json-processor", { once, stopWithParent }, ({ once, stopWithParent }) =>
  Effect.gen(function*() {
    const settings = yield* settingsOrExit
    if (settings.instances > 1 && Option.isNone(stopWithParent)) return yield* runPool(settings, once)
    const config = Layer.succeed(AppConfig, settings)
    // One Activity for the Daemon, the Notifier and the status page.
    const base = Layer.mergeAll(config, MaskerLive, ActivityLive, SyscallModeLive.pipe(Layer.provide(config)))
    const layer = DaemonServices.pipe(
      // The notifier is built before the daemon and closed after it: its last batch goes out at shutdown.
      Layer.provideMerge(NotifierFromConfig.pipe(Layer.provide(base))),
      Layer.provideMerge(base)
    )
    // An instance of a pool stops, as on SIGTERM, when the pool's process is gone.
    const run = Option.isSome(stopWithParent) ? untilParentGone(stopWithParent.value)(runDaemon({ once })) : runDaemon({ once })
    const summary = yield* run.pipe(
      Effect.provide(layer),
      Effect.catchTags({
        FolderUnusable: (e) => Effect.zipRight(Effect.logError(e.message), new ExitCode({ code: EXIT.cantCreate })),
        FilesystemUnsupported: (e) => Effect.zipRight(Effect.logError(e.message), new ExitCode({ code: EXIT.config })),
        DiskSpaceLow: (e) => Effect.zipRight(Effect.logError(e.message), new ExitCode({ code: EXIT.tempFail }))
      }),
      // Anything unexpected is logged here, masked and flushed, before the process exits 1.
      Effect.catchAllDefect((defect) =>
        Effect.zipRight(Effect.logFatal("unexpected failure; stopping", Cause.die(defect)), new ExitCode({ code: EXIT.invalid }))
      ),
      // The logging layer is outermost: it closes (and flushes) after the shutdown summary.
      Effect.provide(
        LoggingLive({
          logDir: settings.logDir,
          debug: settings.debug,
          console: settings.logConsole,
          noColor: settings.noColor,
          maxBytes: settings.logMaxBytes,
          maxFiles: settings.logMaxFiles
        }).pipe(Layer.provide(MaskerLive))
      )
    )
    // `--once`: 0 only when every eligible file was routed; 75 (try again later) when some stay.
    if (summary.leftBehind > 0) return yield* new ExitCode({ code: EXIT.tempFail })
  })).pipe(Command.withDescription("Validate customer JSON files dropped into DATA_DIR and route them"))

const files = Args.text({ name: "FILE" }).pipe(Args.atLeast(1))

const validate = Command.make("validate", { files }, ({ files }) =>
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
      const name = Path.basename(file)
      yield* Console.log(JSON.stringify(Masker.live.value({
        valid: errorCount === 0,
        ...makeReport({ file: name, storedAs: name, receivedAt: now, processedAt: now, errors, errorCount })
      }), null, 2))
    }
    if (invalid > 0) return yield* new ExitCode({ code: EXIT.invalid })
  })).pipe(Command.withDescription("Check files against the contract without moving them; exit 1 if any is invalid"))

// Anything but these is a usage error (exit 64), from @effect/cli's own check.
const draft = Options.choice("draft", JSON_SCHEMA_DRAFTS).pipe(
  Options.withDefault("draft-07"),
  Options.withDescription("the JSON Schema dialect: draft-07 (the default) or 2020-12")
)

const schema = Command.make("schema", { draft }, ({ draft }) =>
  Effect.gen(function*() {
    const settings = yield* settingsOrExit
    yield* Console.log(JSON.stringify(contractJsonSchema({ maxRecords: settings.maxRecords, draft }), null, 2))
  })).pipe(Command.withDescription("Print the customer file contract as JSON Schema (MAX_RECORDS from the settings)"))

const requeueNames = Args.text({ name: "NAME" }).pipe(
  Args.repeated,
  Args.withDescription("a returned file, by its name in RETURNS_DIR (as `ls` shows it)")
)
const requeueAll = Options.boolean("all").pipe(Options.withDescription("every returned file (or those the time filters select)"))
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("print what would move; move nothing"))
const olderThan = Options.text("older-than").pipe(
  Options.optional,
  Options.withDescription("with --all: only files returned before this long ago (30m, 2h, 3d, 1w) or this ISO time")
)
const newerThan = Options.text("newer-than").pipe(
  Options.optional,
  Options.withDescription("with --all: only files returned after this long ago (30m, 2h, 3d, 1w) or this ISO time")
)

/** A usage error of `requeue`: said on stderr, exit 64. */
const usage = (message: string) =>
  Effect.zipRight(Console.error(`requeue: ${message} (see requeue --help)`), new ExitCode({ code: EXIT.usage }))

const parseBound = (flag: string, text: Option.Option<string>): Effect.Effect<TimeBound | undefined, ExitCode> => {
  if (Option.isNone(text)) return Effect.succeed(undefined)
  const bound = parseTimeBound(text.value)
  return bound === undefined
    ? usage(`--${flag} takes a duration (30s, 15m, 2h, 3d, 1w) or an ISO time with its zone (2026-11-28T10:00:00Z), not "${Masker.live.text(text.value)}"`)
    : Effect.succeed(bound)
}

const requeue = Command.make(
  "requeue",
  { names: requeueNames, all: requeueAll, dryRun, olderThan, newerThan },
  ({ all, dryRun, names, newerThan, olderThan }) =>
    Effect.gen(function*() {
      if (names.length === 0 && !all) return yield* usage("give the names of returned files, or --all")
      if (names.length > 0 && all) return yield* usage("give either names or --all, not both")
      if (!all && (Option.isSome(olderThan) || Option.isSome(newerThan))) return yield* usage("--older-than and --newer-than select among all returned files: use them with --all")
      const older = yield* parseBound("older-than", olderThan)
      const newer = yield* parseBound("newer-than", newerThan)
      const settings = yield* settingsOrExit
      const config = Layer.succeed(AppConfig, settings)
      const layer = RequeueLive.pipe(
        Layer.provide(FileStoreLive),
        Layer.provideMerge(SyscallModeLive.pipe(Layer.provide(config))),
        Layer.provide(config)
      )
      // A name on the terminal is masked and shows its control and bidi characters escaped (%XX): a
      // producer's name must not move the cursor, retitle the window or clear the admin's screen.
      const mask = (text: string) => logName(Masker.live.text(text))
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
      const totals = yield* Effect.flatMap(Requeue, (r) =>
        r.run({ names, all, dryRun, filter: makeAgeFilter(older, newer, now) }, print)).pipe(
          Effect.provide(layer),
          Effect.catchTag("ReturnsUnreadable", (e) => Effect.zipRight(Console.error(e.message), new ExitCode({ code: EXIT.invalid }))),
          // Each move is logged to app.log like the daemon's lines (masked); the console is kept for the summary.
          Effect.provide(
            LoggingLive({
              logDir: settings.logDir,
              debug: settings.debug,
              console: "off",
              noColor: settings.noColor,
              maxBytes: settings.logMaxBytes,
              maxFiles: settings.logMaxFiles
            }).pipe(Layer.provide(MaskerLive))
          )
        )
      yield* Console.log(
        `${dryRun ? "would requeue" : "requeued"} ${totals.requeued}, skipped ${totals.skipped}, ` +
          `orphan reports ${dryRun ? "to remove" : "removed"} ${totals.orphansRemoved}`
      )
      if (totals.skipped > 0) return yield* new ExitCode({ code: EXIT.invalid })
    })
).pipe(Command.withDescription(
  "Move returned files back into DATA_DIR under the names they were received with, removing their reports; exit 1 if some could not be moved"
))

export const command = daemon.pipe(Command.withSubcommands([validate, schema, requeue]))

export const cli = Command.run(command, { name: "customer-json-processor", version: VERSION })
