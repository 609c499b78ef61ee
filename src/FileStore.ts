/**
 * The file store: the one module that moves customer files. It guarantees
 *  - no move ever replaces an existing file (link + unlink, never a bare rename onto a name);
 *  - a claim is one atomic rename into this instance's processing folder;
 *  - stored names follow contract §5;
 *  - a report appears whole (written under a hidden temporary name, then linked
 *    into place) and before the data file arrives in the returns folder;
 *  - across filesystems (EXDEV) a move copies, fsyncs, links into place, then unlinks.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "node:path"
import { AppConfig } from "./Config.js"
import { errnoCode, FsExtra, isAlreadyExists, isNotFound } from "./FsExtra.js"
import type { RegularRead } from "./FsExtra.js"
import { reportName, storedNameCandidate } from "./Naming.js"

/** A folder the daemon needs is missing and cannot be created, or is not writable. */
export class FolderUnusable extends Data.TaggedError("FolderUnusable")<{
  readonly setting: string
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `folder ${this.path} (${this.setting}) is not usable: ${this.reason}`
  }
}

/** Too little free space on a folder the daemon writes to. */
export class DiskSpaceLow extends Data.TaggedError("DiskSpaceLow")<{
  readonly setting: string
  readonly path: string
  readonly freeMb: number
  readonly requiredMb: number
}> {
  override get message(): string {
    return `only ${this.freeMb} MB free on ${this.path} (${this.setting}); MIN_FREE_DISK_MB requires ${this.requiredMb} MB`
  }
}

export interface Folders {
  readonly data: string
  readonly processing: string
  readonly validated: string
  readonly returns: string
  readonly logs: string
}

/** Safety valve: a name taken this many times in a row means something is wrong. */
const MAX_NAME_ATTEMPTS = 10_000

let tempSeq = 0
const tempName = (target: string) => `.${target}.${process.pid}-${++tempSeq}.tmp`

export interface FileStoreService {
  readonly folders: Folders
  /** Creates the five folders if missing and checks each is writable by writing a probe file. */
  readonly prepareFolders: Effect.Effect<void, FolderUnusable>
  /** Fails if an output folder has less than MIN_FREE_DISK_MB free. */
  readonly checkDiskSpace: Effect.Effect<void, DiskSpaceLow | FolderUnusable>
  /** Names in the input folder. */
  readonly listInput: Effect.Effect<ReadonlyArray<string>, PlatformError>
  /** lstat of an input entry (symbolic links are described, not followed). */
  readonly inspectInput: (name: string) => Effect.Effect<FileSystem.File.Info, PlatformError>
  /** Reads an input entry if it is a regular file of at most `maxBytes` (links never followed). */
  readonly readInput: (name: string, maxBytes: number) => Effect.Effect<RegularRead, PlatformError>
  /**
   * Atomically moves `data/<name>` to `processingPath`. `None` when the file is
   * gone (another instance claimed it first).
   */
  readonly claim: (name: string, processingPath: string) => Effect.Effect<Option.Option<void>, PlatformError>
  /**
   * Places a claimed file in the validated folder under a free name (contract
   * §5); returns that name. The claimed name stays (the file is linked twice)
   * until `releaseClaim`: a crash in between leaves it with nlink > 1, which
   * recovery recognises as "stored already".
   */
  readonly storeValid: (claimedPath: string, name: string, now: Date) => Effect.Effect<string, PlatformError>
  /**
   * Writes the report for the stored name, then places the claimed file beside
   * it in the returns folder; returns the stored name. As for `storeValid`, the
   * claimed name (and the report's stage name) stay until `releaseClaim`.
   */
  readonly storeReturned: (
    claimedPath: string,
    name: string,
    now: Date,
    report: (storedName: string) => string
  ) => Effect.Effect<string, PlatformError>
  /** Removes the claimed name of a stored file (and the stage name of its report, if it has one). */
  readonly releaseClaim: (claimedPath: string, withReport: boolean) => Effect.Effect<void, PlatformError>
  /** Forgets the staged report of a claimed file that turned out to be stored already. */
  readonly discardReportStage: (claimedPath: string) => Effect.Effect<void, PlatformError>
}

export class FileStore extends Context.Tag("customer-json/FileStore")<FileStore, FileStoreService>() {}

export const makeFileStore = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const extra = yield* FsExtra
  const config = yield* AppConfig
  const folders: Folders = {
    data: config.dataDir,
    processing: config.processingDir,
    validated: config.validatedDir,
    returns: config.returnsDir,
    logs: config.logDir
  }
  const settings: ReadonlyArray<readonly [string, string]> = [
    ["DATA_DIR", folders.data],
    ["PROCESSING_DIR", folders.processing],
    ["VALIDATED_DIR", folders.validated],
    ["RETURNS_DIR", folders.returns],
    ["LOG_DIR", folders.logs]
  ]

  const prepareFolders = Effect.forEach(settings, ([setting, path]) =>
    Effect.gen(function*() {
      yield* fs.makeDirectory(path, { recursive: true })
      const info = yield* fs.stat(path)
      if (info.type !== "Directory") {
        return yield* new FolderUnusable({ setting, path, reason: "it is not a folder" })
      }
      const probe = Path.join(path, tempName("write-probe"))
      yield* fs.writeFileString(probe, "probe", { flag: "wx" })
      yield* fs.remove(probe)
    }).pipe(
      Effect.catchTag("BadArgument", (e) => new FolderUnusable({ setting, path, reason: e.message })),
      Effect.catchTag("SystemError", (e) =>
        new FolderUnusable({
          setting,
          path,
          reason: e.reason === "PermissionDenied"
            ? "permission denied (the daemon must be able to create and write files there)"
            : `${errnoCode(e) ?? e.reason}${e.syscall ? ` in ${e.syscall}` : ""}`
        }))
    ), { discard: true })

  const checkDiskSpace = Effect.forEach(
    settings.filter(([setting]) => setting !== "DATA_DIR"),
    ([setting, path]) =>
      extra.freeBytes(path).pipe(
        Effect.mapError((e) => new FolderUnusable({ setting, path, reason: `cannot read free space: ${e.message}` })),
        Effect.flatMap((free) =>
          free < config.minFreeDiskBytes
            ? Effect.fail(
              new DiskSpaceLow({
                setting,
                path,
                freeMb: Math.floor(free / 1024 / 1024),
                requiredMb: Math.ceil(config.minFreeDiskBytes / 1024 / 1024)
              })
            )
            : Effect.void
        )
      ),
    { discard: true }
  )

  const inputPath = (name: string) => Path.join(folders.data, name)

  const claim = (name: string, processingPath: string): Effect.Effect<Option.Option<void>, PlatformError> =>
    fs.rename(inputPath(name), processingPath).pipe(
      Effect.as(Option.some<void>(undefined)),
      Effect.catchIf(isNotFound, () =>
        // Gone from data/ (claimed elsewhere), or our own processing folder is missing
        // (removed by hand, or adopted by an instance that took us for dead): recreate it once.
        Effect.flatMap(fs.exists(Path.dirname(processingPath)), (dirExists) =>
          dirExists
            ? Effect.succeed(Option.none<void>())
            : Effect.zipRight(
              fs.makeDirectory(Path.dirname(processingPath), { recursive: true }),
              fs.rename(inputPath(name), processingPath).pipe(
                Effect.as(Option.some<void>(undefined)),
                Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<void>()))
              )
            )))
    )

  /** Copies across filesystems under a hidden name beside `target`, fsynced, ready to be linked. */
  const copyBeside = (source: string, target: string) =>
    Effect.gen(function*() {
      const temp = Path.join(Path.dirname(target), tempName(Path.basename(target)))
      yield* fs.copyFile(source, temp)
      yield* Effect.scoped(Effect.flatMap(fs.open(temp, { flag: "r+" }), (file) => file.sync))
      return temp
    })

  /**
   * Puts `source` at `target` unless `target` exists (then `false`): `link`
   * fails on an existing name where `rename` would replace it. Across
   * filesystems the source is first copied beside the target and fsynced.
   * The caller unlinks `source` afterwards.
   */
  const placeNoReplace = (source: string, target: string): Effect.Effect<boolean, PlatformError> =>
    fs.link(source, target).pipe(
      Effect.as(true),
      // Taken, unless by this very file: placed by an earlier attempt whose claim was not yet released.
      Effect.catchIf(isAlreadyExists, () => sameFile(source, target)),
      Effect.catchIf((e) => errnoCode(e) === "EXDEV", () =>
        Effect.acquireUseRelease(
          copyBeside(source, target),
          (temp) =>
            fs.link(temp, target).pipe(
              Effect.as(true),
              Effect.catchIf(isAlreadyExists, () => Effect.succeed(false))
            ),
          (temp) => extra.unlink(temp).pipe(Effect.ignore)
        ))
    )

  /** Whether two names are links to one file (both present, same device and inode). */
  const sameFile = (a: string, b: string): Effect.Effect<boolean, PlatformError> =>
    Effect.zipWith(extra.lstat(a), extra.lstat(b), (x, y) =>
      x.dev === y.dev && Option.isSome(x.ino) && Option.getOrUndefined(x.ino) === Option.getOrUndefined(y.ino)).pipe(
        Effect.catchIf(isNotFound, () => Effect.succeed(false))
      )

  const noFreeName = (name: string, dir: string) =>
    Effect.dieMessage(`no free name for ${name} in ${dir} after ${MAX_NAME_ATTEMPTS} attempts`)

  const storeValid = (claimedPath: string, name: string, now: Date) =>
    Effect.gen(function*() {
      for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
        const stored = storedNameCandidate(name, attempt, now)
        if (yield* placeNoReplace(claimedPath, Path.join(folders.validated, stored))) return stored
      }
      return yield* noFreeName(name, folders.validated)
    })

  /**
   * The report is staged under a name derived from the claimed file, so that
   * after a crash between "report linked" and "data linked" the next attempt
   * finds the stage, sees it is linked (nlink > 1), and withdraws the orphan
   * report it points to before writing a new one.
   */
  const reportStage = (claimedPath: string) => Path.join(folders.returns, `.${Path.basename(claimedPath)}.report.tmp`)

  const withdrawStaleReport = (stage: string, claimedPath: string) =>
    Effect.gen(function*() {
      // Almost always absent (only a crash leaves one): asked cheaply, without an error to build.
      if (!(yield* fs.exists(stage))) return
      const info = yield* extra.lstat(stage)
      // The report is stale only if the data never followed it; when the claimed file is
      // linked too (an attempt failed after placing both), the report stays.
      const reportLinked = Option.getOrElse(info.nlink, () => 1) > 1
      const dataPlaced = reportLinked && Option.getOrElse((yield* extra.lstat(claimedPath)).nlink, () => 1) > 1
      if (reportLinked && !dataPlaced) {
        const storedAs = yield* fs.readFileString(stage).pipe(
          Effect.map((text): unknown => JSON.parse(text)),
          Effect.map((report) =>
            typeof report === "object" && report !== null && "stored_as" in report && typeof report.stored_as === "string"
              ? Path.basename(report.stored_as)
              : undefined
          ),
          Effect.orElseSucceed(() => undefined)
        )
        if (storedAs !== undefined) {
          const placed = Path.join(folders.returns, reportName(storedAs))
          const placedInfo = yield* extra.lstat(placed).pipe(Effect.option)
          if (Option.isSome(placedInfo) && Option.getOrUndefined(placedInfo.value.ino) === Option.getOrUndefined(info.ino)) {
            yield* extra.unlink(placed)
          }
        }
      }
      yield* extra.unlink(stage)
    }).pipe(Effect.catchIf(isNotFound, () => Effect.void))

  const discardReportStage = (claimedPath: string) =>
    extra.unlink(reportStage(claimedPath)).pipe(Effect.catchIf(isNotFound, () => Effect.void))

  const storeReturned = (
    claimedPath: string,
    name: string,
    now: Date,
    report: (storedName: string) => string
  ) =>
    Effect.gen(function*() {
      const stage = reportStage(claimedPath)
      yield* withdrawStaleReport(stage, claimedPath)
      for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
        const stored = storedNameCandidate(name, attempt, now)
        const dataPath = Path.join(folders.returns, stored)
        const reportPath = Path.join(folders.returns, reportName(stored))
        const taken = yield* fs.exists(dataPath)
        // Taken, unless by this file, placed by an earlier attempt (its report is in place too).
        if (taken && !(yield* sameFile(claimedPath, dataPath))) continue
        if (!taken) {
          // 1. The report, written whole under the hidden stage name, then linked into place.
          yield* fs.writeFileString(stage, report(stored))
          if (!(yield* placeNoReplace(stage, reportPath))) continue
          // 2. Then the data file beside it; if its name was taken meanwhile, withdraw the report.
          if (!(yield* placeNoReplace(claimedPath, dataPath))) {
            yield* extra.unlink(reportPath)
            continue
          }
        }
        return stored
      }
      return yield* noFreeName(name, folders.returns)
    })

  return FileStore.of({
    folders,
    prepareFolders,
    checkDiskSpace,
    listInput: fs.readDirectory(folders.data),
    inspectInput: (name) => extra.lstat(inputPath(name)),
    readInput: (name, maxBytes) => extra.readRegular(inputPath(name), maxBytes),
    claim,
    storeValid,
    discardReportStage,
    releaseClaim: (claimedPath, withReport) =>
      (withReport ? Effect.zipRight(discardReportStage(claimedPath), extra.unlink(claimedPath)) : extra.unlink(claimedPath)).pipe(
        Effect.catchIf(isNotFound, () => Effect.void)
      ),
    storeReturned
  })
})

export const FileStoreLive = Layer.effect(FileStore, makeFileStore)
