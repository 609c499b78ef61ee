/**
 * The Pipeline: what happens to one file. For a name in the input folder:
 * read (open without following links, fstat, size check, read) and parse
 * (finished-write check) → atomic claim → validate → route (+ report) → log
 * → the claimed name to the ClaimReleaser → notify. For a file already claimed
 * (crash recovery): the same from "read" on; one found stored already is
 * logged and released.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import { SystemError } from "@effect/platform/Error"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import { Contract, fileError, todayUtc } from "../contract/Contract.js"
import { OFF_THREAD_BYTES, OffThreadJudge } from "../contract/OffThreadJudge.js"
import type { Validation } from "../contract/Contract.js"
import { FileStore } from "../files/FileStore.js"
import type { Content, DirectStore, StoreFailure } from "../files/FileStore.js"
import { errnoCode, isNotFound } from "../files/FileOps.js"
import type { Meta, RegularRead } from "../files/FileOps.js"
import { Instance } from "../instances/Instance.js"
import { isCompleteDocument, parseFailureError, parseJsonBytes } from "../contract/ParseJson.js"
import { isShortenedClaim, parseProcessingName } from "../files/Naming.js"
import { describeIoError, retryIo } from "../files/IoRetry.js"
import { logFields } from "../logging/Logging.js"
import * as Metrics from "../status/Metrics.js"
import { Notifier } from "../notify/Notifier.js"
import { ClaimReleaser } from "../instances/ClaimReleaser.js"
import type { StoredIn } from "../Folders.js"
import { Destinations } from "../destinations/Destinations.js"
import type { DestinationError, DestinationService, JudgedFile, Verdict } from "../destinations/Destination.js"
import type { ValidationError } from "../contract/Contract.js"
import { partnerOfName, splitName } from "../files/PartnerNames.js"
import { PartnerRoutes } from "../files/PartnerRoutes.js"

/** A file in data/ the daemon may not open (its look, for the message). */
class Unreadable extends Data.TaggedError("Unreadable")<{ readonly meta: Meta }> {}

// What became of a file: below daemon/, where the status record (status/Activity) reads it too.
export type { Observation, Outcome, PendingState } from "../events/Outcome.js"
import type { Observation, Outcome, PendingState } from "../events/Outcome.js"

/** A name in DATA_DIR for the Pipeline, with when it was first seen. */
export interface InputJob {
  readonly name: string
  /** when the file was first seen (the report's `received_at`) */
  readonly receivedAt: number
  readonly pending?: PendingState | undefined
  /**
   * `large`: run by the large-file lane, a few workers of their own (one per
   * judge thread), so that small files never wait behind large ones. Any
   * other worker hands a large file over (`Large`) before claiming or reading it.
   */
  readonly lane?: "large" | undefined
}

/** The Pipeline's operations: one file each, never failing (a failure is the `Failed` outcome). */
export interface PipelineService {
  readonly processInput: (job: InputJob) => Effect.Effect<Outcome>
  /** Finishes a file already in this instance's processing folder (crash recovery); `lane` as for `processInput`. */
  readonly processClaimed: (claimedName: string, lane?: "large") => Effect.Effect<Outcome>
}

/**
 * What happens to one file: read, claim, judge by the `Contract`, hand to its
 * `Destinations` (any of one's own, then VALIDATED_DIR or RETURNS_DIR with its
 * report), log, notify the `Notifier`.
 * The daemon's workers call it; wrap it to add a step around each file.
 */
export class Pipeline extends Context.Tag("customer-json/Pipeline")<Pipeline, PipelineService>() {}

const sameObservation = (a: Observation, b: Observation) =>
  a.size === b.size && a.mtimeMs === b.mtimeMs && a.id === b.id

/** A file's content as judged, with its look as read (`meta`: owner, identity, size). */
type Judged =
  | { readonly _tag: "Bytes"; readonly meta: Meta; readonly bytes: Uint8Array; readonly parsed: ReturnType<typeof parseJsonBytes> }
  /** a large file, parsed and validated off the event loop (OffThreadJudge) */
  | { readonly _tag: "Verdict"; readonly meta: Meta; readonly bytes: Uint8Array; readonly complete: boolean; readonly validation: Validation }
  | { readonly _tag: "TooLarge"; readonly meta: Meta }

/**
 * A judged file as its destinations get it. What only a destination of one's
 * own asks for (its key, its document, its received time) is worked out when
 * asked: the built-in folders, all there is by default, never ask (hot path).
 */
class JudgedFileOf implements JudgedFile {
  /** the document of a file judged in a worker thread, once parsed here */
  private parsedHere: { readonly value: unknown } | undefined = undefined
  constructor(
    private readonly judged: Judged,
    readonly name: string,
    readonly claimedPath: string,
    readonly verdict: Verdict,
    readonly records: number,
    readonly errors: ReadonlyArray<ValidationError>,
    readonly errorCount: number,
    readonly content: Content,
    private readonly receivedAtMs: number,
    readonly processedAt: Date,
    readonly partner: string | undefined
  ) {}
  get key(): string {
    return Path.basename(this.claimedPath)
  }
  get document(): unknown {
    const judged = this.judged
    if (judged._tag === "TooLarge") return undefined
    if (judged._tag === "Bytes") return judged.parsed._tag === "Parsed" ? judged.parsed.value : undefined
    // A large file judged in a worker thread: parsed here, once, when a destination first asks.
    if (this.parsedHere === undefined) {
      const parsed = parseJsonBytes(judged.bytes)
      this.parsedHere = { value: parsed._tag === "Parsed" ? parsed.value : undefined }
    }
    return this.parsedHere.value
  }
  get bytes(): Uint8Array | undefined {
    return this.judged._tag === "TooLarge" ? undefined : this.judged.bytes
  }
  get receivedAt(): Date {
    return new Date(this.receivedAtMs)
  }
}

/** A fresh file read in the input folder and found complete, before its claim. */
interface Peeked {
  readonly judged: Judged
  readonly meta: Meta
}

/** The claimed entry is the file read before the claim: same inode, size and mtime, a regular file with one link. */
export const sameFileUnchanged = (before: Meta, claimed: Meta): boolean =>
  claimed.type === "File" && claimed.nlink === 1 && claimed.id === before.id && claimed.size === before.size &&
  claimed.mtimeMs === before.mtimeMs

/** What a claimed entry that is not taken is, for the log. */
const refusedKind = (read: RegularRead): string | undefined =>
  read._tag === "NotRegular"
    ? read.type
    : read.meta.nlink > 1
    ? "hard-linked file"
    : undefined

/**
 * A hard-linked file is refused before its claim, not only after it: putting a
 * claimed file back takes a `link`, which the kernel refuses a service user
 * for another user's file (fs.protected_hardlinks), and it would stay claimed.
 */
export const HARD_LINKED_KIND = "hard-linked file"
const HARD_LINKED: Outcome = { _tag: "Ignored", kind: HARD_LINKED_KIND }
const LARGE: Outcome = { _tag: "Large" }

/** Batches larger than this are validated in slices (see `judge`). */
const SLICED_ABOVE_RECORDS = 1000

/** Builds the Pipeline from the services it uses (AppConfig, FileStore, Destinations, Contract, Notifier, Instance, …). */
export const makePipeline = Effect.gen(function*() {
  const config = yield* AppConfig
  const store = yield* FileStore
  const contract = yield* Contract
  const notifier = yield* Notifier
  const instance = yield* Instance
  const releaser = yield* ClaimReleaser
  const offThread = yield* OffThreadJudge
  const destinations = yield* Destinations
  // Every destination's counter by role, built once (in /metrics from the start, at 0, as every series is).
  const counters = new Map(destinations.roles.map((role) => [role, Metrics.destinationCounter(role)]))
  const counterOf = (role: string) => counters.get(role)!
  // Each added destination with its counter.
  const addedFor = (verdict: Verdict) => destinations.added[verdict].map((destination) => ({ destination, counter: counterOf(destination.role) }))
  const added = { validated: addedFor("validated"), returned: addedFor("returned") }
  const storedIn = { validated: counterOf(destinations.storing.validated.role), returned: counterOf(destinations.storing.returned.role) }
  // The roles of each verdict's added destinations (for outcomes and the log), none when there are none.
  const rolesFor = (verdict: Verdict) => (added[verdict].length === 0 ? undefined : added[verdict].map((d) => d.destination.role))
  const deliveredTo = { validated: rolesFor("validated"), returned: rolesFor("returned") }
  // A Contract of one's own cannot be handed to the judge threads (they apply the built-in rules).
  if (contract.builtIn === undefined) {
    yield* Effect.logWarning(
      "a Contract of the application's own judges every file: files of 1 MiB and more are judged on the event loop (large batches in slices), not by the judge threads"
    )
  }
  const maxMb = config.maxFileSizeBytes / 1024 / 1024
  /** What a file outside the large-file lane is read up to (see `processInputComposed`). */
  const smallLimit = Math.min(config.maxFileSizeBytes, OFF_THREAD_BYTES - 1)
  // `cjp_files_processed_total{outcome,partner}` of partners' files (PARTNERS_FILE): label sets made once each.
  const partnerLabels = Metrics.partnerOutcomeLabels()
  // Read directly (hot path 7, see WorkerPool): the clock the layer was built with (a TestClock in tests).
  const clock = yield* Effect.clock


  /** The contract's verdict on bytes parsed here, in one go (a batch of at most SLICED_ABOVE_RECORDS). */
  const judgeNow = (parsed: ReturnType<typeof parseJsonBytes>, now: Date): Validation =>
    parsed._tag !== "Parsed" ? { records: 0, errors: [parseFailureError(parsed)], errorCount: 1 } : contract.validate(parsed.value, now)

  /** A batch validated in slices (see `judge`). */
  const isLongBatch = (parsed: ReturnType<typeof parseJsonBytes>): parsed is Extract<ReturnType<typeof parseJsonBytes>, { _tag: "Parsed" }> =>
    parsed._tag === "Parsed" && Array.isArray(parsed.value) && parsed.value.length > SLICED_ABOVE_RECORDS

  /**
   * The contract's verdict on a file's content. A large batch is validated in
   * slices that hand the event loop back between them (`validateEffect`), so
   * one file never holds it for long; small ones, nearly all, in one go.
   */
  const judge = (content: Judged, now: Date): Effect.Effect<Validation> => {
    if (content._tag === "TooLarge") {
      return Effect.succeed({
        records: 0,
        errors: [fileError("file-too-large", `file is ${(content.meta.size / 1024 / 1024).toFixed(1)} MB; larger than MAX_FILE_SIZE_MB (${maxMb} MB): it was not read, and is returned as it is`)],
        errorCount: 1
      })
    }
    if (content._tag === "Verdict") return Effect.succeed(content.validation)
    return isLongBatch(content.parsed) ? contract.validateEffect(content.parsed.value, now) : Effect.succeed(judgeNow(content.parsed, now))
  }

  /** Parsed here, or (a large file, the built-in contract) parsed and validated in a worker thread. */
  const judgedOf = (read: Extract<RegularRead, { readonly _tag: "Read" | "TooLarge" }>): Effect.Effect<Judged> => {
    if (read._tag === "TooLarge") return Effect.succeed({ _tag: "TooLarge", meta: read.meta })
    const bytes = read.bytes
    if (bytes.length < OFF_THREAD_BYTES || contract.builtIn === undefined) {
      return Effect.succeed({ _tag: "Bytes", meta: read.meta, bytes, parsed: parseJsonBytes(bytes) })
    }
    const today = todayUtc(new Date(clock.unsafeCurrentTimeMillis()))
    return Effect.map(
      offThread.judge({ bytes, maxRecords: contract.builtIn.maxRecords, today }),
      ({ complete, validation }): Judged => ({ _tag: "Verdict", meta: read.meta, bytes, complete, validation })
    )
  }

  /** A complete JSON document (its writer is done with it, whatever its verdict). */
  const isComplete = (judged: Judged): boolean =>
    judged._tag === "Verdict" ? judged.complete : judged._tag === "Bytes" && isCompleteDocument(judged.parsed)

  /** What is stored is what was judged: the bytes read, or (too large to read) as many bytes as were judged too large. */
  const contentOf = (judged: Judged): Content =>
    judged._tag === "TooLarge" ? { _tag: "Original", meta: judged.meta } : { _tag: "Bytes", bytes: judged.bytes, meta: judged.meta }

  /**
   * The file's outcome line, then its claimed name to the ClaimReleaser, which
   * removes it after the log write that holds the line (so the line survives
   * kill -9: see ClaimReleaser).
   */
  const logAndRelease = (claimedPath: string, storedIn: StoredIn, fields: Record<string, unknown>) =>
    Effect.zipRight(Effect.logInfo("file processed", logFields(fields)), releaser.release(claimedPath, storedIn))

  /** The added destinations of a verdict, in order, each counted once it has the file. */
  const deliver = (to: ReadonlyArray<{ readonly destination: DestinationService; readonly counter: Metrics.DestinationCounter }>, file: JudgedFile) =>
    Effect.forEach(to, ({ counter, destination }) => Effect.map(retryIo(destination.store(file)), counter.add), { discard: true })

  /** Validates, routes, logs and notifies: the part shared by new and recovered files. */
  const finish = (claimedPath: string, name: string, receivedAt: number, judged: Judged, startedAt: number) =>
    Effect.suspend(() => {
      const now = new Date(clock.unsafeCurrentTimeMillis())
      return Effect.flatMap(judge(judged, now), (validation) => finishJudged(claimedPath, name, receivedAt, judged, startedAt, validation, now))
    })

  /** A judged file: to its destinations, then stored, logged and (returned) notified. */
  const finishJudged = (
    claimedPath: string,
    name: string,
    receivedAt: number,
    judged: Judged,
    startedAt: number,
    { errorCount, errors, records }: Validation,
    now: Date
  ) =>
    Effect.gen(function*() {
      const verdict: Verdict = errorCount === 0 ? "validated" : "returned"
      // A partner's file (`<partner>/<name>`, files/PartnerNames): stored, logged and told under its own name.
      const { name: own, partner } = splitName(name)
      const file = new JudgedFileOf(judged, own, claimedPath, verdict, records, errors, errorCount, contentOf(judged), receivedAt, now, partner)
      // Destinations of one's own first, while the file is claimed and stored nowhere: a crash
      // or a failure before the store delivers it again (same key), never after.
      const ofOwn = added[verdict]
      if (ofOwn.length > 0) yield* deliver(ofOwn, file)
      // A store is a handful of system calls: let it complete rather than stop half-way.
      const storedAs = yield* Effect.uninterruptible(retryIo(destinations.storing[verdict].store(file)))
      return yield* stored(file, storedAs, startedAt)
    })

  /** A stored file: counted, its outcome line logged and its claim handed to the ClaimReleaser, its producer told (returned). */
  const stored = (file: JudgedFileOf, storedAs: string, startedAt: number): Effect.Effect<Outcome> => {
    const { errorCount, errors, name, partner, records, verdict } = file
    const to = deliveredTo[verdict]
    const outcome: Outcome = verdict === "validated"
      ? { _tag: "Validated", storedAs, records, deliveredTo: to }
      : { _tag: "Returned", storedAs, records, errorCount, deliveredTo: to }
    const finishedAt = clock.unsafeCurrentTimeMillis()
    const durationMs = finishedAt - startedAt
    if (partner === undefined) Metrics.recordRouted(verdict, records, durationMs / 1000, finishedAt)
    else Metrics.recordRoutedAs(partnerLabels(partner, verdict), records, durationMs / 1000, finishedAt)
    storedIn[verdict].add()
    const fields: Record<string, unknown> = {
      file: name,
      outcome: verdict,
      records,
      duration_ms: durationMs,
      error_count: errorCount,
      stored_as: storedAs
    }
    if (to !== undefined) fields["delivered_to"] = to
    if (partner !== undefined) fields["partner"] = partner
    const logged = logAndRelease(file.claimedPath, destinations.storing[verdict].role, fields)
    if (verdict === "validated") return Effect.as(logged, outcome)
    return logged.pipe(
      Effect.zipRight(notifier.fileRejected({
        file: name,
        storedAs,
        receivedAt: file.receivedAt,
        processedAt: file.processedAt,
        errorCount,
        errors: errors.slice(0, 20),
        partner
      })),
      Effect.as(outcome)
    )
  }

  /** A routed file's claimed name is the ClaimReleaser's to release; any other outcome ends the claim here. */
  const routed = (outcome: Outcome) =>
    outcome._tag === "Validated" || outcome._tag === "Returned" || outcome._tag === "AlreadyStored"
  const releasedByReleaser = (exit: Exit.Exit<Outcome, unknown>) => exit._tag === "Success" && routed(exit.value)

  /**
   * An I/O failure that outlived its retries. The Daemon decides what is logged
   * and notified (once per file and cause, see Daemon's `recordOutcome`).
   */
  const failed = (where: string) => (e: PlatformError | StoreFailure | DestinationError): Effect.Effect<Outcome> =>
    Effect.succeed({
      _tag: "Failed",
      reason: `${
        e._tag === "PlacementRaced" || e._tag === "NoFreeName" || e._tag === "SparseAcrossFilesystems" || e._tag === "DestinationError" ||
          e._tag === "UnknownPartner"
          ? e.message
          : describeIoError(e)
      }; the file stays in ${where} and is tried again later`,
      cause: e._tag === "DestinationError"
        ? `destination ${e.role}`
        : e._tag === "PlacementRaced"
        ? "placement raced"
        : e._tag === "NoFreeName"
        ? "no free name"
        : e._tag === "SparseAcrossFilesystems"
        ? "sparse file across filesystems"
        : e._tag === "UnknownPartner"
        ? "unknown partner"
        : (errnoCode(e) ?? (e._tag === "SystemError" ? e.reason : e._tag))
    })

  const processIds = {
    uid: typeof process.getuid === "function" ? process.getuid() : -1,
    gids: typeof process.getgroups === "function" ? [...process.getgroups(), ...(typeof process.getgid === "function" ? [process.getgid()] : [])] : []
  }

  // A partner's file (`<partner>/<name>`) is in its partner's inbox: failures say so (files/PartnerRoutes).
  const routes = yield* PartnerRoutes
  /** The folder a name of the input is in: DATA_DIR, or its partner's inbox. */
  const inputDirOf = (name: string): string => {
    const partner = partnerOfName(name)
    return partner === undefined ? config.dataDir : (routes.partner(partner)?.inbox ?? config.dataDir)
  }

  /** A file this process may not read: not claimed, so that its producer can still fix it in data/. */
  const unreadable = (meta: Meta, name: string): Outcome => ({
    _tag: "Failed",
    reason: `permission denied: the daemon (uid ${processIds.uid}) may not read it (owner ${meta.uid}, group ${meta.gid}, mode ${
      (meta.mode & 0o7777).toString(8).padStart(4, "0")
    }); make it readable by the daemon's group (see README: Producers in other accounts); it stays in ${inputDirOf(name)} and is tried again later`,
    cause: "EACCES"
  })

  /** An unreadable file put back into data/: the failure reads as where the file is now. */
  const placedBack = (e: PlatformError, name: string): PlatformError =>
    e._tag === "SystemError" ? new SystemError({ ...e, pathOrDescriptor: Path.join(inputDirOf(name), splitName(name).name) }) : e

  /** A claimed entry the daemon does not take: back into data/ (or, if its name was taken meanwhile, left claimed and said so). */
  const refuse = (claimedPath: string, name: string, kind: string): Effect.Effect<Outcome, PlatformError> =>
    Effect.flatMap(store.putBack(claimedPath, name), (back) =>
      back
        ? Effect.succeed<Outcome>({ _tag: "Ignored", kind })
        : Effect.succeed<Outcome>({
          _tag: "Failed",
          reason: `a ${kind} was claimed but cannot be put back: its name was taken meanwhile; it stays in ${instance.dir}`,
          cause: "not regular"
        }))

  /**
   * Whether a fresh file its writer may still be at is left to wait: finished
   * when unchanged for the quiet period as seen here, when its mtime is that
   * old, or when it is a complete document. `undefined`: it may be claimed.
   */
  const waiting = (job: InputJob, meta: Meta, complete: boolean, startedAt: number): Outcome | undefined => {
    if (complete || config.quietPeriodMs === 0 || startedAt - meta.mtimeMs >= config.quietPeriodMs) return undefined
    const observation: Observation = { size: meta.size, mtimeMs: meta.mtimeMs, id: meta.id }
    const pending = job.pending !== undefined && sameObservation(job.pending.observation, observation) ? job.pending : undefined
    if (pending !== undefined && startedAt - pending.since >= config.quietPeriodMs) return undefined
    return { _tag: "Pending", state: pending ?? { observation, since: startedAt } }
  }

  /** Where a file is, for a failure's message: data/ until claimed, processing/ after (unless put back). */
  interface Whereabouts {
    where: string
  }

  /** The claim ends with the file's steps (its outcome a failure where they fail) unless the ClaimReleaser has it (routed). */
  const whileClaimed = (claimedPath: string, at: Whereabouts, steps: Effect.Effect<Outcome, PlatformError | StoreFailure | DestinationError>) =>
    steps.pipe(
      Effect.catchAll((e) =>
        Effect.map(failed(at.where)(e), (outcome) =>
          at.where === instance.dir && outcome._tag === "Failed" ? { ...outcome, claimed: Path.basename(claimedPath) } : outcome)
      ),
      Effect.onExit((exit) => Effect.sync(() => releasedByReleaser(exit) || instance.release(claimedPath)))
    )

  /** A file read and found finished in the input folder: claimed (at `claimedPath`), then judged and stored. */
  const claimAndFinish = (job: InputJob, peeked: Peeked, startedAt: number, claimedPath: string) => {
    const at: Whereabouts = { where: inputDirOf(job.name) }
    return whileClaimed(claimedPath, at, claimThenFinish(job, peeked, startedAt, claimedPath, at))
  }

  /** `claimAndFinish`'s steps, within the claim's handling. */
  const claimThenFinish = (job: InputJob, peeked: Peeked, startedAt: number, claimedPath: string, at: Whereabouts) =>
    Effect.gen(function*() {
      // A name too long for the claim prefix is shortened; its full text is noted first.
      if (isShortenedClaim(Path.basename(claimedPath))) yield* retryIo(store.noteOriginal(claimedPath, job.name))
      const claimed = yield* retryIo(store.claim(job.name, claimedPath))
      if (Option.isNone(claimed)) return { _tag: "Gone" } satisfies Outcome
      at.where = instance.dir
      // Built only when it will be written: annotating a line costs even when the level drops it.
      if (config.debug) yield* Effect.logDebug("file claimed").pipe(Effect.annotateLogs({ file: job.name, claimed_as: claimedPath }))
      return yield* afterClaim(job, peeked, startedAt, claimedPath, at)
    })

  /** A file just claimed: judged from its read before the claim when it is that very file, unchanged; otherwise read again here. */
  const afterClaim = (job: InputJob, peeked: Peeked, startedAt: number, claimedPath: string, at: Whereabouts) =>
    Effect.gen(function*() {
      // Read before the claim, and the claimed entry is that very file, unchanged and with one
      // link: the bytes judged are those read (and those stored), so a second read adds nothing.
      const meta = yield* retryIo(store.inspectClaimed(claimedPath))
      if (sameFileUnchanged(peeked.meta, meta)) {
        return yield* finish(claimedPath, job.name, job.receivedAt, peeked.judged, startedAt)
      }
      // Judged where no producer can reach it: open (links not followed, FIFOs not waited
      // for) + fstat + read + close, and only a regular file with one link.
      const read = yield* retryIo(store.readClaimed(claimedPath, config.maxFileSizeBytes)).pipe(
        // A file the daemon may not read goes back where it was: it stays the producer's to fix.
        // (if it cannot be put back, it stays claimed, and the failure says so)
        Effect.tapError((e) =>
          e._tag === "SystemError" && e.reason === "PermissionDenied"
            ? store.putBack(claimedPath, job.name).pipe(
              Effect.map((back) => {
                if (back) at.where = inputDirOf(job.name)
              }),
              Effect.orElse(() => Effect.void)
            )
            : Effect.void
        ),
        Effect.mapError((e) => (at.where === inputDirOf(job.name) ? placedBack(e, job.name) : e))
      )
      const refused = refusedKind(read)
      if (refused !== undefined || read._tag === "NotRegular") return yield* refuse(claimedPath, job.name, refused ?? "entry")
      return yield* finish(claimedPath, job.name, job.receivedAt, yield* judgedOf(read), startedAt)
    })

  /** What a file that cannot be read, or is gone, ends as before its claim. */
  const beforeClaim = (name: string, steps: Effect.Effect<Outcome, PlatformError | Unreadable>) =>
    Effect.catchAll(steps, (e) =>
      e._tag === "Unreadable"
        ? Effect.succeed<Outcome>(unreadable(e.meta, name))
        : isNotFound(e)
        ? Effect.succeed<Outcome>({ _tag: "Gone" })
        : failed(inputDirOf(name))(e))

  /** The composed steps for a name in the input folder (the direct ones leave to these whatever is not their common case). */
  const processInputComposed = (job: InputJob): Effect.Effect<Outcome> =>
    beforeClaim(job.name, Effect.gen(function*() {
      const startedAt = clock.unsafeCurrentTimeMillis()
      // Looked at where it is first, read whole (never followed, never blocking): only a regular file
      // with one link, complete or quiet long enough, is claimed. Outside the large-file lane, a
      // file of OFF_THREAD_BYTES or more is only looked at (fstat), and handed to the lane.
      const limit = job.lane === "large" ? config.maxFileSizeBytes : smallLimit
      const peek = yield* retryIo(store.peekInput(job.name, limit)).pipe(
        // One the daemon may not read: said with its owner and mode, and not claimed, so that its
        // producer can still fix it in data/.
        Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "PermissionDenied", (e) =>
          Effect.flatMap(Effect.orElseFail(store.inspectInput(job.name), () => e), (meta) => Effect.fail(new Unreadable({ meta }))))
      )
      if (peek._tag === "NotRegular") return { _tag: "Ignored", kind: peek.type } satisfies Outcome
      if (peek.meta.nlink > 1) return HARD_LINKED
      if (peek._tag === "TooLarge" && peek.meta.size <= config.maxFileSizeBytes) return LARGE
      // Read whole and complete before its claim: judged from that read (see `afterClaim`). A file too
      // large to read is judged by its size; it too waits for its writer while it is fresh.
      const judged = yield* judgedOf(peek)
      const wait = waiting(job, peek.meta, isComplete(judged), startedAt)
      if (wait !== undefined) return wait
      return yield* claimAndFinish(job, { judged, meta: peek.meta }, startedAt, instance.claimPath(job.name, job.receivedAt))
    }))

  const GONE: Effect.Effect<Outcome> = Effect.succeed({ _tag: "Gone" })

  /**
   * The composed steps of a fresh small file in straight-line code (hot path
   * 11, see WorkerPool): look (read whole), judge, claim, check the claimed
   * entry and store (its report first, if returned), each a direct call.
   * What is not that common case (a failure, anything but a regular file with
   * one link, a batch validated in slices, a file given a group, destinations
   * of one's own, DEBUG) goes on in the composed steps from where it is, so
   * every rule, retry and message stays theirs.
   */
  const processInputDirect = (job: InputJob, direct: DirectStore): Effect.Effect<Outcome> => {
    const startedAt = clock.unsafeCurrentTimeMillis()
    const peek = direct.peekInput(job.name, smallLimit)
    if (Either.isLeft(peek)) return isNotFound(peek.left) ? GONE : processInputComposed(job)
    const read = peek.right
    if (read._tag !== "Read" || read.meta.nlink > 1) return processInputComposed(job)
    const judged: Extract<Judged, { _tag: "Bytes" }> = { _tag: "Bytes", meta: read.meta, bytes: read.bytes, parsed: parseJsonBytes(read.bytes) }
    const wait = waiting(job, read.meta, isCompleteDocument(judged.parsed), startedAt)
    if (wait !== undefined) return Effect.succeed(wait)
    const peeked: Peeked = { judged, meta: read.meta }
    const claimedPath = instance.claimPath(job.name, job.receivedAt)
    if (config.debug || isShortenedClaim(Path.basename(claimedPath))) return claimAndFinish(job, peeked, startedAt, claimedPath)
    const at: Whereabouts = { where: inputDirOf(job.name) }
    // The claim is made within its handling, as the composed steps make it.
    return whileClaimed(
      claimedPath,
      at,
      Effect.suspend(() => {
        const claimed = direct.claim(job.name, claimedPath)
        // (a failure: the composed claim tries again, and says why if it fails)
        if (Either.isLeft(claimed)) return claimThenFinish(job, peeked, startedAt, claimedPath, at)
        if (!claimed.right) return GONE
        at.where = instance.dir
        const inspected = direct.inspectClaimed(claimedPath)
        if (Either.isLeft(inspected) || !sameFileUnchanged(read.meta, inspected.right) || isLongBatch(judged.parsed)) {
          return afterClaim(job, peeked, startedAt, claimedPath, at)
        }
        const now = new Date(clock.unsafeCurrentTimeMillis())
        const validation = judgeNow(judged.parsed, now)
        const { errorCount, errors, records } = validation
        const verdict: Verdict = errorCount === 0 ? "validated" : "returned"
        const storeNow = destinations.storing[verdict].storeNow
        if (added[verdict].length === 0 && storeNow !== undefined) {
          const { name: own, partner } = splitName(job.name)
          const file = new JudgedFileOf(judged, own, claimedPath, verdict, records, errors, errorCount, contentOf(judged), job.receivedAt, now, partner)
          const placed = storeNow(file)
          if (Either.isRight(placed) && placed.right !== undefined) return stored(file, placed.right, startedAt)
        }
        return finishJudged(claimedPath, job.name, job.receivedAt, judged, startedAt, validation, now)
      })
    )
  }

  const processInput = (job: InputJob): Effect.Effect<Outcome> => {
    const direct = store.direct
    return direct !== undefined && job.lane !== "large" ? Effect.suspend(() => processInputDirect(job, direct)) : processInputComposed(job)
  }

  /** Whether a claimed name is still there (unknown counts as there: the file is not taken for gone). */
  const claimedIsThere = (claimedPath: string): Effect.Effect<boolean> =>
    store.inspectClaimed(claimedPath).pipe(
      Effect.as(true),
      Effect.catchAll((e) => Effect.succeed(!isNotFound(e)))
    )

  const processClaimed = (claimedName: string, lane?: "large"): Effect.Effect<Outcome> => {
    const claimedPath = Path.join(instance.dir, claimedName)
    const parsedName = parseProcessingName(claimedName)
    return Effect.gen(function*() {
      if (lane !== "large") {
        const look = yield* retryIo(store.inspectClaimed(claimedPath))
        if (look.type === "File" && look.size >= OFF_THREAD_BYTES) return LARGE
      }
      instance.hold(claimedName)
      const name = (yield* store.originalOf(claimedPath)) ?? claimedName
      const startedAt = yield* Clock.currentTimeMillis
      const read = yield* retryIo(store.readClaimed(claimedPath, config.maxFileSizeBytes))
      // Not a file (swapped in for one between its look and its claim, or a producer's folder claimed by an
      // instance that died before putting it back): back into data/, or said where it stays.
      if (read._tag === "NotRegular") return yield* refuse(claimedPath, name, read.type)
      const judged = yield* judgedOf(read)
      // Linked into its destination before the crash: only its outcome line (perhaps) and
      // the unlinks were missing. The verdict is the contract's again, as the file is the same.
      if (yield* retryIo(store.storedAlready(claimedPath, read.meta, read._tag === "TooLarge"))) {
        const { errorCount, records } = yield* judge(judged, new Date(startedAt))
        const outcome = errorCount === 0 ? "validated" : "returned"
        // `already_stored`: the instance that stored it may have written this line before it died.
        // (a partner's file under its own name, with its partner, as `stored` logs it)
        const { name: own, partner } = splitName(name)
        const fields: Record<string, unknown> = { file: own, outcome, records, error_count: errorCount, already_stored: true }
        if (partner !== undefined) fields["partner"] = partner
        yield* logAndRelease(claimedPath, "unknown", fields)
        return { _tag: "AlreadyStored", as: outcome } satisfies Outcome
      }
      // An attempt that did not finish: its orphan report withdrawn, its stages removed.
      yield* retryIo(store.clearAttempt(claimedPath))
      if (read.meta.nlink > 1) {
        yield* Effect.logWarning("a recovered claimed file is hard-linked elsewhere; it is not taken").pipe(Effect.annotateLogs({ file: name }))
        return { _tag: "Failed", reason: `hard-linked file; it stays in ${instance.dir}`, cause: "hard-linked" } satisfies Outcome
      }
      yield* Effect.logDebug("recovering claimed file").pipe(Effect.annotateLogs({ file: name }))
      return yield* finish(claimedPath, name, parsedName?.receivedAtMs ?? startedAt, judged, startedAt)
    }).pipe(
      // Gone only when the claimed name itself is: a name missing elsewhere (a stage a producer
      // deleted in a folder it may write) is a failure like any other, and keeps the file failing.
      Effect.catchAll((e) =>
        e._tag === "SystemError" && isNotFound(e)
          ? Effect.flatMap(claimedIsThere(claimedPath), (there) => (there ? failed(instance.dir)(e) : Effect.succeed<Outcome>({ _tag: "Gone" })))
          : failed(instance.dir)(e)
      ),
      Effect.onExit((exit) => Effect.sync(() => releasedByReleaser(exit) || instance.release(claimedName)))
    )
  }

  return Pipeline.of({ processInput, processClaimed })
})

/** The Pipeline as a layer, over the services `makePipeline` uses. */
export const layer = Layer.effect(Pipeline, makePipeline)
