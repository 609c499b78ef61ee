/**
 * Requeue: returned files go back into the input folder, to be processed
 * again (after a producer's fix, or a change of contract).
 *
 * Each file is moved with one atomic step that never replaces a name in
 * `data/`: `link(returns/x, data/name)` (a taken name gets the next collision
 * name of contract §5), then `unlink(returns/x)`; only then is its report
 * removed. A crash leaves one of two states, both finished by the next run:
 *  - the file linked into `data/` and still in `returns/` (2 links, the other
 *    one found in `data/`): its `returns/` name is removed, then its report;
 *  - a report whose file has gone (an orphan): removed when it has one link.
 *    A report the daemon is still placing has two (its private stage holds
 *    the other until the file beside it is placed), so it is never taken for
 *    an orphan.
 * A running daemon takes the moved file from `data/` as a new one.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { isUtf8 } from "node:buffer"
import * as Path from "node:path"
import { FileStore } from "../files/FileStore.js"
import { errnoCode, FileOps, forEachPiece, isAlreadyExists, isNotFound, unlinkIfThere as removeIfThere } from "../files/FileOps.js"
import type { Entry, Meta } from "../files/FileOps.js"
import { logFields, LogSync } from "../logging/Logging.js"
import { filesRequeued } from "../status/Metrics.js"
import { bytesFromName, literalName, receivedNameOf, isRequeueableName, reportName, requeueNameCandidate, MAX_NAME_ATTEMPTS } from "../files/Naming.js"

// ------------------------------------------------------------------ pure rules

/** A time bound of `--older-than`/`--newer-than`: a duration back from now, or a point in time. */
export type TimeBound =
  | { readonly _tag: "Ago"; readonly ms: number }
  | { readonly _tag: "At"; readonly ms: number }

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
const DURATION = /^(\d{1,9})(s|m|h|d|w)$/
// A date alone is midnight UTC; a time needs its zone (`Z` or `+02:00`): no guessing the machine's.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/

/** `30s`, `15m`, `2h`, `3d`, `1w`, or an ISO 8601 date or time with zone; `undefined` for anything else. */
export const parseTimeBound = (text: string): TimeBound | undefined => {
  const duration = DURATION.exec(text.trim())
  if (duration !== null) return { _tag: "Ago", ms: Number(duration[1]) * UNIT_MS[duration[2]!]! }
  if (!ISO_TIME.test(text.trim())) return undefined
  const ms = Date.parse(text.trim())
  // Date.parse rolls 30 February over into March: the calendar date must be itself.
  const [y, m, d] = text.trim().slice(0, 10).split("-").map(Number) as [number, number, number]
  const calendar = new Date(Date.UTC(y, m - 1, d))
  const real = calendar.getUTCFullYear() === y && calendar.getUTCMonth() === m - 1 && calendar.getUTCDate() === d
  return real && Number.isFinite(ms) ? { _tag: "At", ms } : undefined
}

/** The instant a bound stands for, at `nowMs`. */
export const boundAt = (bound: TimeBound, nowMs: number): number => (bound._tag === "Ago" ? nowMs - bound.ms : bound.ms)

/** Which returned files `--all` takes, by when they were returned (cut-offs as instants, ms). */
export interface AgeFilter {
  /** only files returned before this instant */
  readonly before?: number | undefined
  /** only files returned after this instant */
  readonly after?: number | undefined
}

/** The cut-offs of `--older-than` and `--newer-than` as instants, relative to `nowMs` (effect's Clock). */
export const makeAgeFilter = (olderThan: TimeBound | undefined, newerThan: TimeBound | undefined, nowMs: number): AgeFilter => ({
  before: olderThan === undefined ? undefined : boundAt(olderThan, nowMs),
  after: newerThan === undefined ? undefined : boundAt(newerThan, nowMs)
})

/** Whether a file returned at `returnedMs` passes the filter (both ends exclusive). */
export const passesAgeFilter = (filter: AgeFilter, returnedMs: number): boolean =>
  (filter.before === undefined || returnedMs < filter.before) && (filter.after === undefined || returnedMs > filter.after)

/** What a report says that requeue needs; `undefined` for anything that is not a report. */
export interface ReportFacts {
  readonly file: string | undefined
  readonly processedAtMs: number | undefined
}

/** Reads the facts of a report's text; `undefined` when the text is not a report (contract §6). */
export const reportFacts = (text: string): ReportFacts | undefined => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  if (typeof record["stored_as"] !== "string" || !Array.isArray(record["errors"])) return undefined
  const processedAt = typeof record["processed_at"] === "string" ? Date.parse(record["processed_at"]) : Number.NaN
  return {
    file: typeof record["file"] === "string" ? record["file"] : undefined,
    processedAtMs: Number.isFinite(processedAt) ? processedAt : undefined
  }
}

const REPORT_SUFFIX = ".error.json"

// ------------------------------------------------------------------ the service

/** Which returned files to move back into DATA_DIR: by name, or `all` within `filter`; `dryRun` moves nothing. */
export interface RequeueRequest {
  /** names (or paths) of files in the returns folder; empty with `all` */
  readonly names: ReadonlyArray<string>
  readonly all: boolean
  readonly filter: AgeFilter
  readonly dryRun: boolean
}

/** One line of the outcome, as it happens. Names are as stored (escaped text, contract §5), not yet masked. */
export type RequeueEvent =
  | { readonly _tag: "Requeued"; readonly name: string; readonly target: string; readonly finished: boolean; readonly dryRun: boolean }
  | { readonly _tag: "Skipped"; readonly name: string; readonly reason: string }
  | { readonly _tag: "OrphanRemoved"; readonly report: string; readonly dryRun: boolean }

/** What a requeue did, counted. */
export interface RequeueTotals {
  readonly requeued: number
  readonly skipped: number
  readonly orphansRemoved: number
}

/** The returns folder could not be listed (or, read in pieces, read to its end): nothing after that point was moved. */
export class ReturnsUnreadable extends Data.TaggedError("ReturnsUnreadable")<{ readonly path: string; readonly reason: string }> {
  override get message(): string {
    return `cannot list the returns folder ${this.path}: ${this.reason}${
      this.reason.startsWith("ENOENT")
        ? " (requeue reads the daemon's settings: run it in the daemon's working folder, with its environment or .env, or set RETURNS_DIR and DATA_DIR)"
        : ""
    }`
  }
}

const MAX_REPORT_BYTES = 4 * 1024 * 1024

const describeError = (e: PlatformError): string =>
  errnoCode(e) === "EXDEV"
    ? "EXDEV: RETURNS_DIR and DATA_DIR are on different filesystems, and requeue moves only by hard link (never a copy that a crash could leave twice)"
    : e._tag === "SystemError"
    ? `${errnoCode(e) ?? e.reason}${e.syscall ? ` in ${e.syscall}` : ""}${
      errnoCode(e) === "EPERM" && e.syscall === "link"
        ? " (the kernel links only a file this user owns or may write, fs.protected_hardlinks: the file belongs to someone else; run requeue as its owner or as root)"
        : e.reason === "PermissionDenied" || errnoCode(e) === "EPERM"
        ? " (this user may not move it: run as the daemon's user)"
        : ""
    }`
    : e.message

/** The text a listed (escaped) name stands for on disk: the stored name, as reports and logs show it. */
const storedTextOf = (component: string): string => {
  const bytes = bytesFromName(component)
  return isUtf8(bytes) ? bytes.toString("utf8") : component
}

/** Entries read at a time from a folder. */
const PIECE = 1024

/** Builds the Requeue service over `FileStore` and `FileOps`. */
export const makeRequeue = Effect.gen(function*() {
  const store = yield* FileStore
  const extra = yield* FileOps
  const { data, returns } = store.folders

  /**
   * Runs `f` on every entry of `dir`, read in pieces, in name order within each
   * piece: a folder of up to PIECE names goes in name order, as the lines of a
   * run are easiest to read.
   */
  const forEachEntry = <E, R>(dir: string, f: (entry: Entry) => Effect.Effect<void, E, R>) =>
    forEachPiece(extra.listPieces(dir), PIECE, (piece) =>
      Effect.forEach([...piece].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), f, { discard: true }))

  const identifyOption = (path: string) =>
    extra.identify(path).pipe(Effect.map(Option.some), Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<Meta>())))
  const unlinkIfThere = (path: string) => removeIfThere(extra, path)

  const readReport = (path: string) =>
    extra.readRegular(path, MAX_REPORT_BYTES).pipe(
      Effect.map((read) => (read._tag === "Read" ? reportFacts(Buffer.from(read.bytes).toString("utf8")) : undefined)),
      Effect.catchIf(isNotFound, () => Effect.succeed(undefined))
    )

  /** A report with no file beside it: removed when the daemon is done with it (one link). */
  const orphanReport = (reportComponent: string) =>
    Effect.gen(function*() {
      const path = Path.join(returns, reportComponent)
      const meta = yield* identifyOption(path)
      if (Option.isNone(meta) || meta.value.type !== "File" || meta.value.nlink !== 1) return false
      return (yield* readReport(path)) !== undefined
    })

  /** What a `*.error.json` name without a file beside it is. */
  const reportAlone = (component: string) =>
    Effect.gen(function*() {
      const path = Path.join(returns, component)
      const meta = yield* identifyOption(path)
      if (Option.isNone(meta) || meta.value.type !== "File") return "data file" as const
      if ((yield* readReport(path)) === undefined) return "data file" as const
      return meta.value.nlink === 1 ? "orphan" as const : "report placed" as const
    })

  /** Moves the files asked for, calling `emit` for each line as it happens. */
  const run = (request: RequeueRequest, emit: (event: RequeueEvent) => Effect.Effect<void>): Effect.Effect<RequeueTotals, ReturnsUnreadable> =>
    Effect.gen(function*() {
      const logSync = yield* LogSync
      // The names the dry run gives (as the real run would link them, one after the other).
      const predicted = new Set<string>()
      let requeued = 0
      let skipped = 0
      let orphansRemoved = 0
      const skip = (name: string, reason: string) => Effect.suspend(() => (skipped++, emit({ _tag: "Skipped", name, reason })))

      const unreadable = (e: PlatformError) => new ReturnsUnreadable({ path: returns, reason: describeError(e) })
      /** Whether `component` is in the returns folder now (its entry, not what a link points to). */
      const inReturns = (component: string) => Effect.map(identifyOption(Path.join(returns, component)), Option.isSome)

      // data/'s entries with more than one link, by identity: read once (in pieces), and only when a
      // file with two links is found.
      let dataIds: Map<string, string> | undefined
      const linkInData = (id: string) =>
        Effect.gen(function*() {
          if (dataIds === undefined) {
            const found = new Map<string, string>()
            yield* forEachEntry(data, (entry) =>
              Effect.map(identifyOption(Path.join(data, entry.name)), (meta) => {
                if (Option.isSome(meta) && meta.value.nlink > 1) found.set(meta.value.id, entry.name)
              }))
            dataIds = found
          }
          return dataIds.get(id)
        })

      const removeOrphan = (reportComponent: string) =>
        Effect.gen(function*() {
          if (!request.dryRun) yield* unlinkIfThere(Path.join(returns, reportComponent))
          orphansRemoved++
          yield* emit({ _tag: "OrphanRemoved", report: storedTextOf(reportComponent), dryRun: request.dryRun })
        }).pipe(Effect.catchAll((e) => skip(storedTextOf(reportComponent), `its file has gone, but the report cannot be removed: ${describeError(e)}`)))

      /** The end of a move (the file is linked into data/ already): logged, then its returns/ name and its report go. */
      const complete = (component: string, reportComponent: string, received: string, target: string, finished: boolean) =>
        Effect.gen(function*() {
          // Logged (and written) while the file still has its returns/ name: a run killed after
          // this leaves the move for the next run, which logs it again; none goes unlogged.
          yield* Effect.logInfo("file requeued", logFields({ file: received, stored_as: storedTextOf(component), requeued_as: target, ...(finished ? { finished_earlier_move: true } : {}) }))
          yield* logSync.written
          yield* unlinkIfThere(Path.join(returns, component))
          // Only now: a report never goes before its file has left.
          yield* unlinkIfThere(Path.join(returns, reportComponent))
          filesRequeued.unsafeUpdate(1, [])
          requeued++
          yield* emit({ _tag: "Requeued", name: storedTextOf(component), target, finished, dryRun: false })
        })

      /** Moves one listed data file of the returns folder. */
      const requeueOne = (component: string, filtered: boolean) =>
        Effect.gen(function*() {
          const stored = storedTextOf(component)
          const dataPath = Path.join(returns, component)
          const reportComponent = literalName(reportName(stored))
          const meta = yield* identifyOption(dataPath)
          if (Option.isNone(meta)) {
            // Moved already by a run that stopped before its report went: the report is an orphan.
            if (yield* orphanReport(reportComponent)) return yield* removeOrphan(reportComponent)
            return yield* skip(stored, "not in the returns folder")
          }
          if (meta.value.type !== "File") return yield* skip(stored, `not a regular file (${meta.value.type})`)
          const report = yield* readReport(Path.join(returns, reportComponent))
          if (filtered && !passesAgeFilter(request.filter, report?.processedAtMs ?? meta.value.mtimeMs)) return
          const received = receivedNameOf(stored, report?.file)
          if (!isRequeueableName(received)) {
            return yield* skip(stored, "the name it was received with cannot be told (no report, and its name is no *.json name the daemon takes)")
          }
          if (meta.value.nlink > 1) {
            const other = yield* linkInData(meta.value.id)
            if (other === undefined) {
              return yield* skip(stored, `it has ${meta.value.nlink} links (a daemon may still be storing it); try again in a moment`)
            }
            // An earlier move linked it into data/ and stopped before its returns/ name went.
            if (request.dryRun) {
              requeued++
              return yield* emit({ _tag: "Requeued", name: stored, target: storedTextOf(other), finished: true, dryRun: true })
            }
            return yield* complete(component, reportComponent, received, storedTextOf(other), true)
          }
          // The dry run and the real one walk the same names (stamped with when the file was returned,
          // not when the run runs), the dry run counting those it gave earlier files as taken.
          const returnedAt = new Date(report?.processedAtMs ?? meta.value.mtimeMs)
          for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
            const target = requeueNameCandidate(received, attempt, returnedAt)
            const targetPath = Path.join(data, target)
            if (request.dryRun) {
              if (predicted.has(target) || Option.isSome(yield* identifyOption(targetPath))) continue
              predicted.add(target)
              requeued++
              return yield* emit({ _tag: "Requeued", name: stored, target, finished: false, dryRun: true })
            }
            const linked = yield* extra.link(dataPath, targetPath).pipe(
              Effect.as("linked" as const),
              Effect.catchIf((e) => isAlreadyExists(e), () => Effect.succeed("taken" as const))
            )
            if (linked === "taken") continue
            // Two requeues of one file at once: a third link, or the returns/ name gone, is the other's
            // move; this one steps back (both may, and the file stays for the next run): never two in data/.
            const after = yield* identifyOption(dataPath)
            if (Option.isNone(after) || after.value.nlink > 2) {
              const placed = yield* identifyOption(targetPath)
              if (Option.isSome(placed) && placed.value.id === meta.value.id) yield* unlinkIfThere(targetPath)
              return yield* skip(stored, "another requeue is moving it at the same time")
            }
            return yield* complete(component, reportComponent, received, target, false)
          }
          return yield* skip(stored, `no free name for it in ${data} after ${MAX_NAME_ATTEMPTS} attempts`)
        }).pipe(
          Effect.catchAll((e) =>
            Effect.flatMap(
              isNotFound(e) ? identifyOption(Path.join(returns, component)).pipe(Effect.orElseSucceed(() => Option.none<Meta>())) : Effect.succeed(Option.none<Meta>()),
              (still) =>
                skip(
                  storedTextOf(component),
                  !isNotFound(e) ? describeError(e) : Option.isNone(still) ? "gone from the returns folder meanwhile" : `the input folder ${data} is missing`
                )
            )
          )
        )

      if (request.all) {
        // The folder is read in pieces while files leave it: memory for a piece, not for the folder.
        // Names looked up beside an entry are looked up on disk, as they are now.
        const one = (entry: Entry) =>
          Effect.gen(function*() {
            const name = entry.name
            if (name.startsWith(".")) return
            const stored = storedTextOf(name)
            if (name.endsWith(REPORT_SUFFIX)) {
              // A report beside its file: handled with the file (before or after this entry).
              if (yield* inReturns(name.slice(0, -REPORT_SUFFIX.length))) return
              // Gone meanwhile (its file was moved earlier in this run, and the listing still had it).
              if (!(yield* inReturns(name))) return
              // A report alone, unless it is a returned file of that name with its own report.
              if (!(yield* inReturns(literalName(reportName(stored))))) {
                const kind = yield* reportAlone(name).pipe(Effect.orElseSucceed(() => "report placed" as const))
                if (kind === "orphan") yield* removeOrphan(name)
                // A report the daemon is placing (its file follows): not ours to touch.
                if (kind !== "data file") return
              }
            }
            // Only names the daemon stores returned files under; anything else in the folder is not ours.
            if (!isRequeueableName(stored)) return
            yield* requeueOne(name, true)
          }).pipe(Effect.catchAll((e) => skip(storedTextOf(entry.name), describeError(e))))
        yield* forEachEntry(returns, one).pipe(Effect.mapError(unreadable))
      } else {
        // (the folder must be there and readable, as with --all)
        yield* extra.listPieces(returns).pipe(Effect.flatMap((listing) => listing.close), Effect.mapError(unreadable))
        // Reports given whose file is beside them, as the folder is before anything moves
        // (a report's file requeued first in this run takes the report with it).
        // (a failing lookup counts as "no file beside it": the move that follows says what failed)
        const reportsOfPresentFiles = new Set<string>()
        for (const given of request.names) {
          const base = Path.basename(given)
          if (base.endsWith(REPORT_SUFFIX) && (yield* inReturns(literalName(base.slice(0, -REPORT_SUFFIX.length))).pipe(Effect.orElseSucceed(() => false)))) {
            reportsOfPresentFiles.add(base)
          }
        }
        for (const given of request.names) {
          const base = Path.basename(given)
          if (given.includes("/") && Path.resolve(Path.dirname(given)) !== Path.resolve(returns)) {
            yield* skip(given, `not in the returns folder ${returns}`)
            continue
          }
          const component = literalName(base)
          if (reportsOfPresentFiles.has(base)) {
            yield* skip(base, `it is a report; give its file's name, ${base.slice(0, -REPORT_SUFFIX.length)}`)
            continue
          }
          yield* requeueOne(component, false)
        }
      }
      return { requeued, skipped, orphansRemoved } satisfies RequeueTotals
    })

  return { run }
})

/** Returned files back into the input folder: `run`. */
export class Requeue extends Effect.Service<Requeue>()("customer-json/Requeue", { effect: makeRequeue }) {}

/** The Requeue service as a layer, over `FileStore` and `FileOps`. */
export const layer: Layer.Layer<Requeue, never, FileStore | FileOps> = Requeue.Default
