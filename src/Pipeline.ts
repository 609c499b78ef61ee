/**
 * The Pipeline: what happens to one file. For a name in the input folder:
 * read (open without following links, fstat, size check, read) and parse
 * (finished-write check) → atomic claim → validate → route (+ report) → log
 * → the claimed name to the Releaser → notify. For a file already claimed
 * (crash recovery): the same from "read" on; one found stored already is
 * logged and released.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "node:path"
import { AppConfig } from "./Config.js"
import { Contract } from "./Contract.js"
import type { Validation, ValidationError } from "./Contract.js"
import { FileStore } from "./FileStore.js"
import { FsExtra, isNotFound } from "./FsExtra.js"
import { Instance } from "./Instance.js"
import { describeParseFailure, parseJsonBytes } from "./JsonText.js"
import { parseProcessingName } from "./Naming.js"
import { describeIoError, retryIo } from "./IoRetry.js"
import { logFields } from "./Logging.js"
import { Masker } from "./Masker.js"
import * as Metrics from "./Metrics.js"
import * as Metric from "effect/Metric"
import { Notifier } from "./Notifier.js"
import { Releaser } from "./Releaser.js"
import { renderReport } from "./Report.js"

/** What was seen of a file that may still be being written. */
export interface Observation {
  readonly size: number
  readonly mtimeMs: number
  readonly ino: number
}

export interface PendingState {
  readonly observation: Observation
  /** when (this instance's clock) the file was first seen in this state */
  readonly since: number
}

export type Outcome =
  /** gone before it could be claimed: another instance took it, or its writer removed it */
  | { readonly _tag: "Gone" }
  /** recovered, but stored already by the instance that claimed it (which died before releasing it) */
  | { readonly _tag: "AlreadyStored" }
  /** not a regular file: stays where it is */
  | { readonly _tag: "Ignored"; readonly kind: string }
  /** does not parse yet and was modified within the quiet period */
  | { readonly _tag: "Pending"; readonly state: PendingState }
  | { readonly _tag: "Validated"; readonly storedAs: string; readonly records: number }
  | { readonly _tag: "Returned"; readonly storedAs: string; readonly records: number; readonly errorCount: number }
  /** an I/O error outlived its retries: the file stays where it is */
  | { readonly _tag: "Failed"; readonly reason: string }

export interface InputJob {
  readonly name: string
  /** when the file was first seen (the report's `received_at`) */
  readonly receivedAt: number
  readonly pending?: PendingState | undefined
}

export interface PipelineService {
  readonly processInput: (job: InputJob) => Effect.Effect<Outcome>
  /** Finishes a file already in this instance's processing folder (crash recovery). */
  readonly processClaimed: (claimedName: string) => Effect.Effect<Outcome>
}

export class Pipeline extends Context.Tag("customer-json/Pipeline")<Pipeline, PipelineService>() {}

const sameObservation = (a: Observation, b: Observation) =>
  a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino

type Content =
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array; readonly parsed: ReturnType<typeof parseJsonBytes> }
  | { readonly _tag: "TooLarge"; readonly size: number }

export const makePipeline = Effect.gen(function*() {
  const config = yield* AppConfig
  const store = yield* FileStore
  const contract = yield* Contract
  const notifier = yield* Notifier
  const instance = yield* Instance
  const extra = yield* FsExtra
  const masker = yield* Masker
  const releaser = yield* Releaser
  const maxMb = config.maxFileSizeBytes / 1024 / 1024
  // Read directly, three times per file: `Clock.currentTimeMillis` is a service lookup and a few
  // fiber steps each time. It is the clock the layer was built with (a TestClock in tests).
  const clock = yield* Effect.clock

  const fileLevel = (message: string): ReadonlyArray<ValidationError> => [{ record: null, path: "$", message }]

  /** The contract's verdict on a file's content. */
  const judge = (content: Content, now: Date): Validation => {
    if (content._tag === "TooLarge") {
      return {
        records: 0,
        errors: fileLevel(`file is ${(content.size / 1024 / 1024).toFixed(1)} MB; larger than MAX_FILE_SIZE_MB (${maxMb} MB)`),
        errorCount: 1
      }
    }
    if (content.parsed._tag !== "Parsed") return { records: 0, errors: fileLevel(describeParseFailure(content.parsed)), errorCount: 1 }
    return contract.validate(content.parsed.value, now)
  }

  /**
   * The file's outcome line, then its claimed name to the Releaser, which
   * removes it after the log write that holds the line (so the line survives
   * kill -9: see Releaser).
   */
  const logAndRelease = (claimedPath: string, withReport: boolean, fields: Record<string, unknown>) =>
    Effect.zipRight(Effect.logInfo("file processed", logFields(fields)), releaser.release(claimedPath, withReport))

  /** Validates, routes, logs and notifies: the part shared by new and recovered files. */
  const finish = (claimedPath: string, name: string, receivedAt: number, content: Content, startedAt: number) =>
    Effect.gen(function*() {
      const now = new Date(clock.unsafeCurrentTimeMillis())
      const { errors, errorCount, records } = judge(content, now)
      const route = errorCount === 0
        ? Effect.map(store.storeValid(claimedPath, name, now), (storedAs): Outcome => ({ _tag: "Validated", storedAs, records }))
        : Effect.map(
          store.storeReturned(claimedPath, name, now, (storedAs) =>
            renderReport({ file: name, storedAs, receivedAt: new Date(receivedAt), processedAt: now, errors, errorCount }, masker.text)),
          (storedAs): Outcome => ({ _tag: "Returned", storedAs, records, errorCount })
        )
      // A route is a handful of system calls: let it complete rather than stop half-way.
      const outcome = yield* Effect.uninterruptible(retryIo(route))
      const finishedAt = clock.unsafeCurrentTimeMillis()
      const durationMs = finishedAt - startedAt
      const returned = outcome._tag === "Returned"
      Metrics.recordRouted(returned ? "returned" : "validated", records, durationMs / 1000, finishedAt)
      yield* logAndRelease(claimedPath, returned, {
        file: name,
        outcome: returned ? "returned" : "validated",
        records,
        duration_ms: durationMs,
        error_count: errorCount,
        stored_as: outcome._tag === "Validated" || outcome._tag === "Returned" ? outcome.storedAs : name
      })
      if (outcome._tag === "Returned") {
        yield* notifier.fileRejected({
          file: name,
          storedAs: outcome.storedAs,
          receivedAt: new Date(receivedAt),
          processedAt: now,
          errorCount,
          errors: errors.slice(0, 20)
        })
      }
      return outcome
    })

  /** A routed file's claimed name is the Releaser's to release; any other outcome ends the claim here. */
  const routed = (outcome: Outcome) =>
    outcome._tag === "Validated" || outcome._tag === "Returned" || outcome._tag === "AlreadyStored"
  const releasedByReleaser = (exit: Exit.Exit<Outcome, unknown>) => exit._tag === "Success" && routed(exit.value)

  const failed = (name: string, where: string) => (e: PlatformError) =>
    Effect.gen(function*() {
      const reason = describeIoError(e)
      yield* Metric.increment(Metrics.filesByOutcome("failed"))
      yield* Effect.logError("file could not be processed; it stays where it is").pipe(
        Effect.annotateLogs({ file: name, location: where, error: reason })
      )
      yield* notifier.critical({
        summary: `file ${name} could not be processed`,
        detail: `${reason}; the file stays in ${where} and is tried again later`,
        at: new Date(yield* Clock.currentTimeMillis)
      })
      return { _tag: "Failed", reason } satisfies Outcome as Outcome
    })

  const processInput = (job: InputJob): Effect.Effect<Outcome> =>
    Effect.gen(function*() {
      const startedAt = clock.unsafeCurrentTimeMillis()
      // open (links not followed) + fstat + read + close: the lstat, size check and read in one go.
      const read = yield* retryIo(store.readInput(job.name, config.maxFileSizeBytes))
      if (read._tag === "NotRegular") return { _tag: "Ignored", kind: read.type } satisfies Outcome
      const info = read.info
      const observation: Observation = {
        size: Number(info.size),
        mtimeMs: Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() }),
        ino: Option.getOrElse(info.ino, () => 0)
      }
      // Finished when unchanged for the quiet period as seen here, or when its mtime is that old.
      const settled = config.quietPeriodMs === 0 ||
        startedAt - observation.mtimeMs >= config.quietPeriodMs ||
        (job.pending !== undefined && sameObservation(job.pending.observation, observation) &&
          startedAt - job.pending.since >= config.quietPeriodMs)
      const pending: Outcome = {
        _tag: "Pending",
        state: job.pending !== undefined && sameObservation(job.pending.observation, observation)
          ? job.pending
          : { observation, since: startedAt }
      }
      let content: Content
      if (read._tag === "TooLarge") {
        // Never read into memory; but a file still growing is still being written.
        if (!settled) return pending
        content = { _tag: "TooLarge", size: observation.size }
      } else {
        const parsed = parseJsonBytes(read.bytes)
        // A complete JSON document is a finished write; anything else waits for the quiet period.
        if (parsed._tag !== "Parsed" && !settled) return pending
        content = { _tag: "Bytes", bytes: read.bytes, parsed }
      }
      const claimedPath = instance.claimPath(job.name, job.receivedAt)
      return yield* Effect.gen(function*() {
        const claimed = yield* retryIo(store.claim(job.name, claimedPath))
        if (Option.isNone(claimed)) return { _tag: "Gone" } satisfies Outcome
        // Built only when it will be written: annotating a line costs even when the level drops it.
        if (config.debug) yield* Effect.logDebug("file claimed").pipe(Effect.annotateLogs({ file: job.name, claimed_as: claimedPath }))
        return yield* finish(claimedPath, job.name, job.receivedAt, content, startedAt).pipe(
          Effect.catchAll(failed(job.name, instance.dir))
        )
      }).pipe(
        // One step rather than `onExit`'s several: an interrupted file is only interrupted at shutdown.
        Effect.matchCauseEffect({
          onSuccess: (outcome) => Effect.succeed((routed(outcome) || instance.release(claimedPath), outcome)),
          onFailure: (cause) => Effect.zipRight(Effect.sync(() => instance.release(claimedPath)), Effect.failCause(cause))
        })
      )
    }).pipe(
      Effect.catchAll((e) => (isNotFound(e) ? Effect.succeed<Outcome>({ _tag: "Gone" }) : failed(job.name, config.dataDir)(e)))
    )

  const processClaimed = (claimedName: string): Effect.Effect<Outcome> => {
    const claimedPath = Path.join(instance.dir, claimedName)
    const parsedName = parseProcessingName(claimedName)
    const name = parsedName?.original ?? claimedName
    return Effect.gen(function*() {
      instance.hold(claimedName)
      const startedAt = yield* Clock.currentTimeMillis
      // The same single read as for new files; its fstat also gives the link count.
      const read = yield* retryIo(extra.readRegular(claimedPath, config.maxFileSizeBytes))
      if (read._tag === "NotRegular") return { _tag: "Gone" } satisfies Outcome // not a claimed file: leave it
      const content: Content = read._tag === "TooLarge"
        ? { _tag: "TooLarge", size: Number(read.info.size) }
        : { _tag: "Bytes", bytes: read.bytes, parsed: parseJsonBytes(read.bytes) }
      // Linked into its destination before the crash: only its outcome line (perhaps) and
      // the unlink were missing. The verdict is the contract's again, as the file is the same.
      if (Option.getOrElse(read.info.nlink, () => 1) > 1) {
        const { errorCount, records } = judge(content, new Date(startedAt))
        const outcome = errorCount === 0 ? "validated" : "returned"
        // `already_stored`: the instance that stored it may have written this line before it died.
        // Its report, if any, is in place too: only the stage name is left to clear.
        yield* logAndRelease(claimedPath, true, { file: name, outcome, records, error_count: errorCount, already_stored: true })
        return { _tag: "AlreadyStored" } satisfies Outcome
      }
      yield* Effect.logDebug("recovering claimed file").pipe(Effect.annotateLogs({ file: name }))
      return yield* finish(claimedPath, name, parsedName?.receivedAtMs ?? startedAt, content, startedAt)
    }).pipe(
      Effect.catchIf(isNotFound, () => Effect.succeed<Outcome>({ _tag: "Gone" })),
      Effect.catchAll(failed(name, instance.dir)),
      Effect.onExit((exit) => Effect.sync(() => releasedByReleaser(exit) || instance.release(claimedName)))
    )
  }

  return Pipeline.of({ processInput, processClaimed })
})

export const PipelineLive = Layer.effect(Pipeline, makePipeline)
