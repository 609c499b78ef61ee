/**
 * The file store: the one module that moves customer files. Producers may
 * write `data/` and `returns/` and must reach nothing else through them, so:
 *  - a file is claimed first (one atomic rename of its name into this
 *    instance's private `processing/<id>/`), then read there without
 *    following links, and only a regular file with one link is taken;
 *  - what is stored is a new file the daemon owns, holding exactly the bytes
 *    that were judged: written into a private stage (`processing/<id>/.<h>.data`,
 *    created exclusively), then hard-linked into place — `link` never
 *    replaces an existing name and never follows a link, so no stored name
 *    is ever overwritten or redirected;
 *  - a report is staged the same way and linked into place before its data file;
 *  - across filesystems (EXDEV) the stage is created in the destination folder
 *    under a random name (O_EXCL, so never through a planted link), its name
 *    first written to a private journal for crash recovery, and the placed
 *    name is checked to be that very file;
 *  - a stored file's claimed name and stages stay until `releaseClaim`: a
 *    crash in between leaves the stage linked twice (nlink > 1), which
 *    recovery recognises as "stored already" (so a filesystem without link
 *    counts is refused at start, see FolderChecks' `probeFilesystems`).
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Crypto from "node:crypto"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import type { StoreMode } from "../Config.js"
import { mayHaveReport } from "../Folders.js"
import type { StoredIn } from "../Folders.js"
import { errnoCode, FileOps, isAlreadyExists, isNotFound, unlinkIfThere as removeIfThere } from "./FileOps.js"
import type { DirectFileOps, Entry, Listing, Meta, RegularRead } from "./FileOps.js"
import { makeFolderChecks, PRIVATE_FILE_MODE, PROCESSING_MODE, randomName } from "./FolderChecks.js"
import type { DiskSpaceLow, FilesystemUnsupported, Folders, FolderUnusable, Guarantees } from "./FolderChecks.js"
import { describeIoError } from "./IoRetry.js"
import { sayOncePerCause } from "../logging/SayOnce.js"
import { fairListing, inboxesStamp } from "./FairListing.js"
import type { InboxToList } from "./FairListing.js"
import { partnerOfClaim, splitName } from "./PartnerNames.js"
import { PartnerRoutes } from "./PartnerRoutes.js"
import { claimSidecarName, literalName, parseProcessingName, reportName, returnedNameCandidate, storedNameCandidate, MAX_NAME_ATTEMPTS } from "./Naming.js"

// The folder checks' errors and modes, where callers of the store found them before.
export { DiskSpaceLow, FilesystemUnsupported, FolderUnusable, PROCESSING_MODE } from "./FolderChecks.js"
export type { Folders, Guarantees } from "./FolderChecks.js"

/** A name in a producer's folder changed under the daemon while it placed a file (a race by a hostile producer). */
export class PlacementRaced extends Data.TaggedError("PlacementRaced")<{
  readonly path: string
}> {
  override get message(): string {
    return `the staged file in ${this.path} was replaced while it was being placed; nothing was stored there`
  }
}

/** Every candidate name for a file was taken (a safety valve: something else is filling the folder with them). */
export class NoFreeName extends Data.TaggedError("NoFreeName")<{
  readonly name: string
  readonly dir: string
  readonly attempts: number
}> {
  override get message(): string {
    return `no free name for ${this.name} in ${this.dir} after ${this.attempts} attempts (are names being planted there?)`
  }
}

/**
 * A sparse file too large to read, to be returned to a folder on another
 * filesystem: it cannot be moved there, and copying it would read its holes
 * (a 15 TB file of no disk space takes hours). It stays claimed, and is said.
 */
export class SparseAcrossFilesystems extends Data.TaggedError("SparseAcrossFilesystems")<{
  readonly size: number
  readonly allocated: number
  readonly dir: string
}> {
  override get message(): string {
    return `a sparse file of ${this.size} bytes (${this.allocated} bytes on disk), larger than MAX_FILE_SIZE_MB, cannot be returned to ${this.dir} on another filesystem without reading its holes; move it out of processing/ by hand (or put returns/ on the filesystem of processing/, where it is moved, not copied)`
  }
}

/** A claimed file of a partner the partners file no longer names (since a restart): it stays claimed until the partner is back. */
export class UnknownPartner extends Data.TaggedError("UnknownPartner")<{
  readonly partner: string
}> {
  override get message(): string {
    return `its partner ${this.partner} is not in the partners file (PARTNERS_FILE) any more, so where it goes is not known; put the partner back and reload (SIGHUP), or move the file by hand`
  }
}

/** Why storing a file failed, beyond a failing system call. */
export type StoreFailure = PlacementRaced | NoFreeName | SparseAcrossFilesystems | UnknownPartner

/**
 * What is stored:
 *  - `Bytes`: the bytes judged, read from the claimed file; `meta`, the
 *    claimed file's as read, lets STORE_MODE place the file itself (it holds
 *    those bytes) rather than a copy, by its owner: without it, a copy;
 *  - `Original`: a file too large to read (contract §2), returned as it is,
 *    never read: moved into place (a link, or a rename over a name reserved
 *    first), copied only across filesystems and only if not sparse.
 */
export type Content =
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array; readonly meta?: Meta | undefined }
  | { readonly _tag: "Original"; readonly meta: Meta }

/**
 * Whether a claimed file is stored as itself (linked into place) under a
 * STORE_MODE (pure): `link` for every file, `auto` for files owned by the
 * daemon's own user — the only case where a copy protects nothing, as that
 * user may write the destination folders anyway — and `copy` never.
 */
export const placesItself = (mode: StoreMode, owner: number | undefined, euid: number): boolean =>
  mode === "link" || (mode === "auto" && owner !== undefined && euid >= 0 && owner === euid)

/** What a STORE_MODE does for this process, in words (the start-up line). */
export const describeStoreMode = (mode: StoreMode, euid: number): string =>
  mode === "copy"
    ? "every file copied into a file of the daemon's own"
    : mode === "link"
    ? "every file linked into place as it is (copied where the kernel refuses the link)"
    : `files of uid ${euid} (the daemon's user) linked into place; files of every other user copied into a file of the daemon's own`

/** A file copied across filesystems may read at most this many times the bytes it occupies (a sparse file is not read). */
const MAX_SPARSENESS = 16

/** Whether copying `meta`'s file reads in proportion to what it occupies on disk (pure). */
export const denseEnough = (meta: Pick<Meta, "size" | "blocks">): boolean => meta.size <= MAX_SPARSENESS * 512 * Math.max(1, meta.blocks)

/**
 * Modes of what the daemon creates (before the umask, which cannot widen
 * them): stored files and reports readable by the folder's group, stages and
 * `processing/` private to the daemon's user and group.
 */
export const STORED_FILE_MODE = 0o640

/** A placement raced this often in a row is given up (and tried again later). */
const MAX_RACED = 3

/** The FileStore's operations: claim, read, store, report, release and recover customer files. */
export interface FileStoreService {
  readonly folders: Folders
  /** Creates the five folders if missing and checks each is usable (a probe file under an unpredictable name). */
  readonly prepareFolders: Effect.Effect<void, FolderUnusable>
  /** Fails if an output folder has less than MIN_FREE_DISK_MB free. */
  readonly checkDiskSpace: Effect.Effect<void, DiskSpaceLow | FolderUnusable>
  /** What the filesystems of processing/, validated/ and returns/ guarantee; fails where crash recovery would not hold. */
  readonly probeFilesystems: Effect.Effect<ReadonlyArray<Guarantees>, FilesystemUnsupported | FolderUnusable>
  /** Entries of the input folder. */
  readonly listInput: Effect.Effect<ReadonlyArray<Entry>, PlatformError>
  /** The input folder, to be read a piece at a time (the caller closes it). */
  readonly listInputPieces: Effect.Effect<Listing, PlatformError>
  /** lstat of an input entry (links described, not followed). */
  readonly inspectInput: (name: string) => Effect.Effect<Meta, PlatformError>
  /** lstat of the input folder itself (whether anything was added, removed or renamed since a listing) */
  readonly inspectInputFolder: Effect.Effect<Meta, PlatformError>
  /** Reads an input entry where it is, without claiming it (a file that may still be being written). */
  readonly peekInput: (name: string, maxBytes: number) => Effect.Effect<RegularRead, PlatformError>
  /** Atomically moves `data/<name>` to `claimedPath`; `None` when it is gone (claimed elsewhere). */
  readonly claim: (name: string, claimedPath: string) => Effect.Effect<Option.Option<void>, PlatformError>
  /** lstat of a claimed entry (links described, not followed). */
  readonly inspectClaimed: (claimedPath: string) => Effect.Effect<Meta, PlatformError>
  /** Reads a claimed file (links not followed, FIFOs not waited for). */
  readonly readClaimed: (claimedPath: string, maxBytes: number) => Effect.Effect<RegularRead, PlatformError>
  /** Gives back a claimed entry the daemon does not take (not a regular file, or hard-linked): `false` if its name was taken meanwhile. */
  readonly putBack: (claimedPath: string, name: string) => Effect.Effect<boolean, PlatformError>
  /** Stores `content` in the validated folder under a free name (contract §5); returns that name. */
  readonly storeValid: (claimedPath: string, name: string, now: Date, content: Content) => Effect.Effect<string, PlatformError | StoreFailure>
  /** Places the report for the stored name, then `content` beside it in the returns folder; returns the stored name. */
  readonly storeReturned: (
    claimedPath: string,
    name: string,
    now: Date,
    content: Content,
    report: (storedName: string) => string
  ) => Effect.Effect<string, PlatformError | StoreFailure>
  /**
   * Recovery: whether a claimed file was stored already by an attempt that did
   * not finish (a crash); `claimed` is its look as read now, `tooLarge` when it
   * is too large to read (placed as itself).
   */
  readonly storedAlready: (claimedPath: string, claimed: Meta, tooLarge: boolean) => Effect.Effect<boolean, PlatformError>
  /** Recovery: withdraws what an unfinished attempt placed (an orphan report) and removes its stages. */
  readonly clearAttempt: (claimedPath: string) => Effect.Effect<void, PlatformError | UnknownPartner>
  /** Keeps the full original name of a claim whose name had to be shortened (written before the claim). */
  readonly noteOriginal: (claimedPath: string, original: string) => Effect.Effect<void, PlatformError>
  /** The original name of a claimed file: from its name, or from its note when the name was shortened. */
  readonly originalOf: (claimedPath: string) => Effect.Effect<string | undefined, PlatformError>
  /**
   * Flushes a stored file's data to disk before its claimed name goes (the
   * ClaimReleaser does it for a whole batch: one journal commit serves them all).
   */
  readonly flushStored: (claimedPath: string) => Effect.Effect<void, PlatformError>
  /** Whether `flushStored` has anything to do for this claim: a stage this process wrote (hot path 8, see WorkerPool). */
  readonly needsFlush: (claimedPath: string) => boolean
  /**
   * Removes the claimed name of a stored file, then its stages: its data
   * stage, and the report's when it is stored where reports go (`returns`),
   * or not known where (`unknown`: a file recovery found stored already).
   */
  readonly releaseClaim: (claimedPath: string, storedIn: StoredIn) => Effect.Effect<void, PlatformError>
  /**
   * Stage files in `dir` that belong to no claimed file there (left by a crash
   * after the claimed name was removed). `inUse` gives the claimed names being
   * worked on, asked after the listing: their stages stay even when the
   * listing missed the name (a listing read while files come and go, as one
   * through the thread pool is, may show a new stage but not its claim).
   */
  readonly sweepStages: (dir: string, inUse: () => Iterable<string>) => Effect.Effect<void, PlatformError>
  /**
   * A fresh file's common steps as plain functions (hot path 11, see
   * WorkerPool), where the file calls are synchronous (`FileOps.direct`):
   * `undefined` otherwise.
   */
  readonly direct: DirectStore | undefined
}

/**
 * `peekInput`, `claim`, `inspectClaimed` and the validated folder's store of
 * a file linked as itself, as plain functions with the same steps, each
 * failure a value (`Left`). Where one answers `undefined` or a failure, the
 * Effect operation of the same name takes over from there (with its retries,
 * its fallbacks and its messages): these cover the common case only.
 */
export interface DirectStore {
  readonly peekInput: (name: string, maxBytes: number) => Either.Either<RegularRead, PlatformError>
  /** `true`: claimed; `false`: gone from the input folder (claimed elsewhere). A failure: `claim` looks again (our own folder may be missing). */
  readonly claim: (name: string, claimedPath: string) => Either.Either<boolean, PlatformError>
  readonly inspectClaimed: (claimedPath: string) => Either.Either<Meta, PlatformError>
  /**
   * `storeValid` of the `bytes` judged of a claimed file (its look `meta`):
   * placed as itself, or copied into a private stage first (as `storeValid`
   * decides), then linked. The name it is stored under, or `undefined` where
   * that takes more (a group to give, another filesystem, no free name among
   * the first few): then `storeValid`, which replaces a stage left here.
   */
  readonly storeValid: (claimedPath: string, name: string, now: Date, meta: Meta, bytes: Uint8Array) => Either.Either<string | undefined, PlatformError>
  /** `storeReturned` so, its report placed first (`report` renders it for the stored name); `undefined` where it takes more. */
  readonly storeReturned: (
    claimedPath: string,
    name: string,
    now: Date,
    meta: Meta,
    bytes: Uint8Array,
    report: (storedName: string) => string
  ) => Either.Either<string | undefined, PlatformError>
  /**
   * `releaseClaim` where nothing of the claim is on another filesystem: `true`
   * when released, `false` when it is for `releaseClaim`, a failure when a
   * removal failed (the claim is then `releaseClaim`'s to retry).
   */
  readonly releaseClaim: (claimedPath: string, storedIn: StoredIn) => Either.Either<boolean, PlatformError>
}

/** Names the direct store tries before leaving a crowded name to `storeValid` (which tries up to MAX_NAME_ATTEMPTS). */
const DIRECT_NAME_ATTEMPTS = 16

/** The stages of a claimed file are named after a hash of its claimed name: short, whatever the name's length. */
const stageKey = (claimedName: string) => Crypto.createHash("sha256").update(claimedName).digest("hex").slice(0, 32)
/** More claims than are ever stored and not yet released at once (see ClaimReleaser's MAX_PENDING). */
const MAX_KNOWN_STAGES = 4096
const STAGE_NAME = /^\.([0-9a-f]{32})\.(data|report|xdata|xreport|rtarget|ptarget)$/
const NOTE_NAME = /^\.(\d+-\d+)\.name$/

/** The hidden names beside a claimed file that storing it uses (its stages and journals). */
export interface Stages {
  readonly data: string
  readonly report: string
  /** journals of stages made in a destination folder on another filesystem */
  readonly xdata: string
  readonly xreport: string
  /** the name the report is being linked at, written before it is (to withdraw an orphan report) */
  readonly rtarget: string
  /** the name reserved for a file moved into place by rename, written before it is (to withdraw the reservation) */
  readonly ptarget: string
}

/** Where the stages of a claimed file live (exported for tests that build a crash's leftovers). */
export const stagesOf = (claimedPath: string): Stages => {
  const dir = Path.dirname(claimedPath)
  // (`dir` is a folder's path already normalised: plain concatenation, five times cheaper than Path.join)
  const prefix = `${dir}${dir.endsWith("/") ? "" : "/"}.${stageKey(Path.basename(claimedPath))}`
  return {
    data: `${prefix}.data`,
    report: `${prefix}.report`,
    xdata: `${prefix}.xdata`,
    xreport: `${prefix}.xreport`,
    rtarget: `${prefix}.rtarget`,
    ptarget: `${prefix}.ptarget`
  }
}

/** A stage ready to be placed. */
interface Staged {
  readonly path: string
  readonly meta: Meta
  /** made in the destination folder (another filesystem): the placed name must be checked */
  readonly remote: boolean
  /**
   * `link` (never replaces a name), or `rename` for a producer's file the
   * kernel will not link (protected_hardlinks) and that is not copied (too
   * large): renamed over an empty file of the daemon's, made exclusively.
   */
  readonly by: "link" | "rename"
  /** the claimed file itself (not a stage of the daemon's) */
  readonly itself: boolean
}

const journalOf = (text: string): { readonly dir: string; readonly name: string } | undefined => {
  const [dir, name, extra] = text.split("\n")
  return dir !== undefined && name !== undefined && extra === "" && STAGED_REMOTE.test(name) ? { dir, name } : undefined
}
const STAGED_REMOTE = /^\.cjp-stage-[0-9a-f]{32}\.tmp$/

/** Builds the FileStore over `FileOps` and `AppConfig`. */
export const makeFileStore: Effect.Effect<FileStoreService, never, AppConfig | FileOps> = Effect.gen(function*() {
  const extra = yield* FileOps
  const config = yield* AppConfig
  const checks = yield* makeFolderChecks
  const folders = checks.folders
  const uid = typeof process.getuid === "function" ? process.getuid() : -1
  const euid = typeof process.geteuid === "function" ? process.geteuid() : -1
  const mode = config.storeMode
  /** Destination folders found to be on another filesystem than processing/ (EXDEV once). */
  const remoteFolders = new Set<string>()

  // Partners (PARTNERS_FILE): names are `<partner>/<name>` and each partner has its folders (see
  // files/PartnerRoutes); without them, DATA_DIR, VALIDATED_DIR and RETURNS_DIR at no cost.
  const routes = yield* PartnerRoutes
  const partnered = routes.inboxes() !== undefined
  const implicitFolders = { validated: folders.validated, returns: folders.returns }

  const inputPath = (name: string) => {
    if (!partnered) return Path.join(folders.data, name)
    const split = splitName(name)
    const partner = split.partner === undefined ? undefined : routes.partner(split.partner)
    // (names of partners never served are never listed: DATA_DIR is what such a name could mean)
    return partner === undefined ? Path.join(folders.data, name) : Path.join(partner.inbox, split.name)
  }

  const clock = yield* Effect.clock
  const inboxFailure = sayOncePerCause()
  /** Every partner's inbox as one listing, fair between them (files/FairListing). */
  const partnersListing = (inboxes: ReadonlyArray<InboxToList>) =>
    fairListing(inboxes, extra.listPieces, {
      relookMs: config.pollIntervalMs,
      now: () => clock.unsafeCurrentTimeMillis(),
      onFailure: (inbox, e) =>
        inboxFailure.say(
          `${inbox.partner} ${describeIoError(e)}`,
          Effect.logWarning(`listing partner ${inbox.partner}'s inbox failed; its files wait until it can be listed (the other partners' are taken meanwhile)`).pipe(
            Effect.annotateLogs({ partner: inbox.partner, folder: inbox.dir, error: describeIoError(e) })
          )
        )
    })

  /** The folders a claimed file goes to: its partner's (recorded in its claimed name), or the settings'; `undefined`: a partner not served. */
  const foldersOfClaim = (claimedPath: string): { readonly validated: string; readonly returns: string } | undefined => {
    if (!partnered) return implicitFolders
    const id = partnerOfClaim(Path.basename(claimedPath))
    if (id === undefined) return implicitFolders
    const partner = routes.partner(id)
    return partner === undefined ? undefined : { validated: routes.validatedDir(partner), returns: partner.returns }
  }
  const unknownPartner = (claimedPath: string) => Effect.fail(new UnknownPartner({ partner: partnerOfClaim(Path.basename(claimedPath)) ?? "" }))
  const foldersOf = (claimedPath: string): Effect.Effect<{ readonly validated: string; readonly returns: string }, UnknownPartner> => {
    const into = foldersOfClaim(claimedPath)
    return into !== undefined ? Effect.succeed(into) : unknownPartner(claimedPath)
  }

  const claim = (name: string, claimedPath: string): Effect.Effect<Option.Option<void>, PlatformError> =>
    extra.rename(inputPath(name), claimedPath).pipe(
      Effect.as(Option.some<void>(undefined)),
      Effect.catchIf(isNotFound, () =>
        // Gone from data/ (claimed elsewhere), or our own processing folder is missing
        // (removed by hand, or adopted by an instance that took us for dead): recreate it once.
        Effect.flatMap(extra.identify(Path.dirname(claimedPath)).pipe(Effect.option), (dir) =>
          Option.isSome(dir)
            ? Effect.succeed(Option.none<void>())
            : Effect.zipRight(
              extra.makeFolder(Path.dirname(claimedPath), PROCESSING_MODE),
              extra.rename(inputPath(name), claimedPath).pipe(
                Effect.as(Option.some<void>(undefined)),
                Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<void>()))
              )
            )))
    )

  // link(2) does not follow a symbolic link it is given, and works for FIFOs and sockets;
  // a folder cannot be linked, and rename onto a taken name could only replace an empty folder.
  const putBack = (claimedPath: string, name: string) =>
    Effect.flatMap(extra.identify(claimedPath), (meta): Effect.Effect<boolean, PlatformError> =>
      meta.type === "Directory"
        ? extra.identify(inputPath(name)).pipe(
          Effect.as(false),
          Effect.catchIf(isNotFound, () => Effect.as(extra.rename(claimedPath, inputPath(name)), true))
        )
        : extra.link(claimedPath, inputPath(name)).pipe(
          Effect.zipRight(extra.unlink(claimedPath)),
          Effect.zipRight(dropNote(claimedPath)),
          Effect.as(true),
          Effect.catchIf(isAlreadyExists, () => Effect.succeed(false))
        ))

  const unlinkIfThere = (path: string) => removeIfThere(extra, path)

  /** A private note in processing/ (created exclusively; one left by an earlier attempt is replaced). */
  const writePrivately = (path: string, text: string) => {
    const write = extra.writeNew(path, Buffer.from(text), PRIVATE_FILE_MODE)
    return Effect.asVoid(write.pipe(Effect.catchIf(isAlreadyExists, () => Effect.zipRight(unlinkIfThere(path), write))))
  }

  const write = (path: string, content: Content, claimedPath: string, sync = false) =>
    content._tag === "Bytes"
      ? extra.writeNew(path, content.bytes, STORED_FILE_MODE, sync)
      // (only across filesystems, and only dense: see `withStage`) interruptible, so a stop
      // does not wait for it: its stage is named in a journal, and a later attempt drops it.
      : Effect.interruptible(extra.copyNew(claimedPath, content.meta.size, path, STORED_FILE_MODE, sync))

  /** Claimed files stored as themselves (linked into place), until released: they have no data stage. */
  const placedItself = new Set<string>()
  /** Claimed files moved into place by rename over a reserved name, until released: their `ptarget` note goes too. */
  const reserved = new Set<string>()

  /** Claimed files whose private data stage this process made, until released (hot path 8, see WorkerPool). */
  const staged = new Set<string>()

  /**
   * A claim's stages, worked out once while it is stored, flushed and released
   * (hot path 8, see WorkerPool). Past MAX_KNOWN_STAGES claims the memo starts
   * again (claims that fail keep theirs).
   */
  const knownStages = new Map<string, Stages>()
  const stagesFor = (claimedPath: string): Stages => {
    const known = knownStages.get(claimedPath)
    if (known !== undefined) return known
    if (knownStages.size >= MAX_KNOWN_STAGES) knownStages.clear()
    const stages = stagesOf(claimedPath)
    knownStages.set(claimedPath, stages)
    return stages
  }

  /**
   * A stored file takes the group of the folder it is stored in, as a file made
   * there would in a setgid folder: the README's `returns/` belongs to the
   * producers' group, who read their returned files and reports, while a stage
   * made in processing/ has the daemon's group. Each folder's group is read once.
   */
  const folderGroups = new Map<string, number>()
  const groupFailure = sayOncePerCause()
  const folderGroup = (dir: string): Effect.Effect<number, PlatformError> => {
    const known = folderGroups.get(dir)
    return known !== undefined ? Effect.succeed(known) : Effect.tap(Effect.map(extra.identify(dir), (meta) => meta.gid), (gid) => folderGroups.set(dir, gid))
  }
  const inFolderGroup = (stage: string, meta: Meta, dir: string): Effect.Effect<Meta, PlatformError> =>
    Effect.flatMap(folderGroup(dir), (gid) =>
      gid === meta.gid
        ? Effect.succeed(meta)
        : extra.setGroup(stage, gid).pipe(
          Effect.as({ ...meta, gid }),
          // Not a member of that group (and not root): stored all the same, and said once.
          Effect.catchIf((e) => e._tag === "SystemError" && errnoCode(e) === "EPERM", (e) =>
            Effect.as(
              groupFailure.say(
                dir,
                Effect.logWarning(
                  `files stored in ${dir} keep the daemon's group ${meta.gid}: it may not give them the folder's group ${gid}, so that group cannot read them; add the daemon's user to group ${gid} (README: Producers in other accounts)`
                ).pipe(Effect.annotateLogs({ error: describeIoError(e) }))
              ),
              meta
            ))
        ))

  /** A fresh private stage for a file stored in `dir` (one left by an earlier failed attempt is replaced). */
  const stagePrivately = (stage: string, content: Content, claimedPath: string, dir: string): Effect.Effect<Staged, PlatformError> =>
    write(stage, content, claimedPath).pipe(
      Effect.catchIf(isAlreadyExists, () => Effect.zipRight(unlinkIfThere(stage), write(stage, content, claimedPath))),
      Effect.flatMap((meta) => inFolderGroup(stage, meta, dir)),
      Effect.map((meta): Staged => {
        if (stage.endsWith(".data")) staged.add(claimedPath)
        return { path: stage, meta, remote: false, by: "link", itself: false }
      })
    )

  /** Reads a journal of a remote stage; `undefined` when there is none or it is not ours. */
  const readJournal = (journal: string) =>
    extra.readRegular(journal, 4096).pipe(
      Effect.map((read) => (read._tag === "Read" ? journalOf(Buffer.from(read.bytes).toString("utf8")) : undefined)),
      Effect.catchIf(isNotFound, () => Effect.succeed(undefined))
    )

  /** Removes a remote stage named by a journal, then the journal. */
  const dropRemote = (journal: string) =>
    Effect.flatMap(readJournal(journal), (entry) =>
      Effect.zipRight(
        entry === undefined ? Effect.void : unlinkIfThere(Path.join(entry.dir, entry.name)),
        unlinkIfThere(journal)
      ))

  /** A stage in the destination folder itself (another filesystem), its name journaled first. */
  const stageRemotely = (dir: string, journal: string, content: Content, claimedPath: string) =>
    Effect.gen(function*() {
      yield* dropRemote(journal)
      const name = randomName("stage")
      yield* extra.writeNew(journal, Buffer.from(`${dir}\n${name}\n`), PRIVATE_FILE_MODE)
      // Flushed at once: the ClaimReleaser's flush knows private stages only.
      const meta = yield* write(Path.join(dir, name), content, claimedPath, true)
      return { path: Path.join(dir, name), meta, remote: true, by: "link", itself: false } satisfies Staged
    })

  /**
   * Links `staged` at `target`: `true` when placed, `false` when the name is
   * taken. A remote stage sits in a folder a producer may write: the placed
   * name must turn out to be the very file written, or it is withdrawn.
   */
  const linkInto = (staged: Staged, target: string): Effect.Effect<boolean, PlatformError | StoreFailure> =>
    staged.by === "rename" ? renameInto(staged, target) : extra.link(staged.path, target).pipe(
      Effect.zipRight(
        staged.remote
          ? Effect.flatMap(extra.identify(target), (placed) =>
            placed.id === staged.meta.id
              ? Effect.succeed(true)
              : Effect.zipRight(unlinkIfThere(target), Effect.fail(new PlacementRaced({ path: Path.dirname(target) }))))
          : Effect.succeed(true)
      ),
      Effect.catchIf((e) => e._tag === "SystemError" && isAlreadyExists(e), () => Effect.succeed(false))
    )

  /**
   * Moves a claimed file the kernel will not link into place by rename, which
   * would replace a name: the name is first reserved by an empty file of the
   * daemon's, created exclusively (its name noted, for recovery to withdraw),
   * and only that file is replaced. Another worker or instance placing a file
   * at the same name meets the reservation (EEXIST) and takes the next name.
   */
  const renameInto = (staged: Staged, target: string): Effect.Effect<boolean, PlatformError> => {
    const note = stagesFor(staged.path).ptarget
    return Effect.gen(function*() {
      yield* writePrivately(note, Path.basename(target))
      reserved.add(staged.path)
      const free = yield* extra.writeNew(target, new Uint8Array(0), STORED_FILE_MODE).pipe(
        Effect.as(true),
        Effect.catchIf(isAlreadyExists, () => Effect.succeed(false))
      )
      if (!free) return false
      yield* extra.rename(staged.path, target)
      return true
    })
  }

  const isCrossDevice = (e: PlatformError | StoreFailure) => e._tag === "SystemError" && errnoCode(e) === "EXDEV"
  const isNotPermitted = (e: PlatformError | StoreFailure) => e._tag === "SystemError" && errnoCode(e) === "EPERM"

  /** The claimed file itself, to be placed: linked, or renamed where the kernel will not link it and no copy is made. */
  const itself = (claimedPath: string, meta: Meta, by: Staged["by"]): Staged => ({ path: claimedPath, meta, remote: false, by, itself: true })

  /**
   * Stages `content` for `dir` (privately, or in `dir` when it is on another
   * filesystem) and runs `place` with it; a raced remote stage is made again.
   */
  /**
   * Stages `content` for `dir` (privately, or in `dir` when it is on another
   * filesystem) and runs `place` with it; a raced remote stage is made again.
   * The claimed file's data may be placed as itself (STORE_MODE, or too large
   * to read): then no stage is made, nor its paths worked out.
   */
  const withStage = <A>(
    dir: string,
    which: "data" | "report",
    content: Content,
    claimedPath: string,
    place: (staged: Staged) => Effect.Effect<A, PlatformError | StoreFailure>
  ): Effect.Effect<A, PlatformError | StoreFailure> => {
    const privateStage = () => (which === "data" ? stagesFor(claimedPath).data : stagesFor(claimedPath).report)
    const journal = () => (which === "data" ? stagesFor(claimedPath).xdata : stagesFor(claimedPath).xreport)
    const remote = (raced: number): Effect.Effect<A, PlatformError | StoreFailure> =>
      content._tag === "Original" && !denseEnough(content.meta)
        ? Effect.fail(new SparseAcrossFilesystems({ size: content.meta.size, allocated: content.meta.blocks * 512, dir }))
        : Effect.flatMap(stageRemotely(dir, journal(), content, claimedPath), place).pipe(
          Effect.catchTag("PlacementRaced", (e) => (raced + 1 < MAX_RACED ? remote(raced + 1) : Effect.fail(e)))
        )
    if (remoteFolders.has(dir)) return remote(0)
    let staging = false
    const copied = Effect.suspend(() => {
      staging = true
      return Effect.flatMap(stagePrivately(privateStage(), content, claimedPath, dir), place)
    })
    const asItself = (meta: Meta, fallback: Effect.Effect<A, PlatformError | StoreFailure>) => {
      // Where the kernel refuses the link (protected_hardlinks: another user's file, the daemon not root): the fallback.
      const placed = (grouped: Meta) =>
        Effect.map(place(itself(claimedPath, grouped, "link")).pipe(Effect.catchIf(isNotPermitted, () => fallback)), (a) => {
          placedItself.add(claimedPath)
          return a
        })
      // The folder's group, as a copy gets (where the daemon may give it: its own file, or as root); known
      // already nearly always (hot path 8, see WorkerPool).
      return folderGroups.get(dir) === meta.gid || !(meta.uid === euid || euid === 0)
        ? placed(meta)
        : Effect.flatMap(inFolderGroup(claimedPath, meta, dir), placed)
    }
    const local = which === "report"
      ? copied
      : content._tag === "Original"
      // Too large to read: the file itself, linked, or else renamed over a reserved name; never read.
      ? asItself(content.meta, place(itself(claimedPath, content.meta, "rename")))
      : content.meta !== undefined && placesItself(mode, content.meta.uid, euid)
      ? asItself(content.meta, copied)
      : content.meta === undefined && mode === "link"
      ? Effect.flatMap(extra.identify(claimedPath), (meta) => asItself(meta, copied))
      : copied
    return local.pipe(
      Effect.catchIf(isCrossDevice, () =>
        Effect.zipRight(
          Effect.zipRight(Effect.sync(() => remoteFolders.add(dir)), staging ? unlinkIfThere(privateStage()) : Effect.void),
          remote(0)
        ))
    )
  }

  const noFreeName = (name: string, dir: string) => Effect.fail(new NoFreeName({ name, dir, attempts: MAX_NAME_ATTEMPTS }))

  const storeValid = (claimedPath: string, name: string, now: Date, content: Content): Effect.Effect<string, PlatformError | StoreFailure> => {
    // (resolved as a plain call: no step of its own on the path of every file)
    const validated = foldersOfClaim(claimedPath)?.validated
    if (validated === undefined) return unknownPartner(claimedPath)
    return withStage(validated, "data", content, claimedPath, (staged) => {
      const attempt = (n: number): Effect.Effect<string, PlatformError | StoreFailure> => {
        if (n >= MAX_NAME_ATTEMPTS) return noFreeName(name, validated)
        const stored = storedNameCandidate(name, n, now)
        return Effect.flatMap(linkInto(staged, Path.join(validated, literalName(stored))), (placed) => (placed ? Effect.succeed(stored) : attempt(n + 1)))
      }
      return attempt(0)
    })
  }

  const isFree = (path: string) => Effect.map(extra.lookup(path), Option.isNone)

  /** Removes a placed name if it is still the given file (never someone else's file). */
  const withdraw = (path: string, id: string) =>
    extra.identify(path).pipe(
      Effect.flatMap((placed) => (placed.id === id ? extra.unlink(path) : Effect.void)),
      Effect.catchIf(isNotFound, () => Effect.void)
    )

  const storeReturned = (
    claimedPath: string,
    name: string,
    now: Date,
    content: Content,
    report: (storedName: string) => string
  ): Effect.Effect<string, PlatformError | StoreFailure> => {
    const returns = foldersOfClaim(claimedPath)?.returns
    if (returns === undefined) return unknownPartner(claimedPath)
    return withStage(returns, "data", content, claimedPath, (data) =>
      Effect.gen(function*() {
        const stages = stagesFor(claimedPath)
        for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
          // Names fit NAME_MAX with room for the report's suffix (contract §5).
          const stored = returnedNameCandidate(name, attempt, now)
          const dataPath = Path.join(returns, literalName(stored))
          const reportPath = Path.join(returns, literalName(reportName(stored)))
          // Both names must be free; taken ones are skipped without writing anything.
          if (!(yield* isFree(dataPath)) || !(yield* isFree(reportPath))) continue
          // 1. The report, written whole into its stage, then linked into place (its name noted
          // first, so that after a crash before the data file follows, the report can be withdrawn).
          yield* writePrivately(stages.rtarget, literalName(reportName(stored)))
          const reportBytes = Buffer.from(report(stored))
          const placedReport = yield* withStage(
            returns,
            "report",
            { _tag: "Bytes", bytes: reportBytes },
            claimedPath,
            (staged) => Effect.map(linkInto(staged, reportPath), (placed) => (placed ? staged.meta.id : undefined))
          )
          if (placedReport === undefined) continue
          // 2. Then the data file beside it; if its name was taken meanwhile, withdraw the report.
          // Any failure here (a raced stage, an I/O error) withdraws the report too: a retry starts clean.
          const placedData = yield* linkInto(data, dataPath).pipe(Effect.tapError(() => withdraw(reportPath, placedReport)))
          if (!placedData) {
            yield* withdraw(reportPath, placedReport)
            continue
          }
          return stored
        }
        return yield* noFreeName(name, returns)
      }))
  }

  /** A remote stage named by a journal that is linked into place (a file the daemon made, linked twice). */
  const remoteStagePlaced = (journal: string) =>
    Effect.flatMap(readJournal(journal), (entry) =>
      entry === undefined
        ? Effect.succeed(false)
        : extra.identify(Path.join(entry.dir, entry.name)).pipe(
          Effect.map((meta) => meta.type === "File" && meta.nlink > 1 && (uid < 0 || meta.uid === uid)),
          Effect.catchIf(isNotFound, () => Effect.succeed(false))
        ))

  const linkedTwice = (path: string) =>
    extra.identify(path).pipe(
      Effect.map((meta) => meta.type === "File" && meta.nlink > 1),
      Effect.catchIf(isNotFound, () => Effect.succeed(false))
    )

  /**
   * A claimed file is stored already when its data stage is linked twice, or
   * its remote stage is placed, or (`itself`: a file STORE_MODE places as it
   * is, or one too large to read) it is linked twice itself: a claimed file
   * with another link is never taken otherwise. (A producer's own extra link
   * made in data/ between its look and its claim would read as stored too:
   * the claimed name goes, and the file stays under the producer's name.)
   */
  const storedAlready = (claimedPath: string, claimed: Meta, tooLarge: boolean) => {
    const stages = stagesOf(claimedPath)
    const itself = tooLarge || placesItself(mode, claimed.uid, euid)
    return Effect.flatMap(linkedTwice(stages.data), (placed) =>
      placed
        ? Effect.succeed(true)
        : Effect.flatMap(itself ? Effect.succeed(claimed.type === "File" && claimed.nlink > 1) : Effect.succeed(false), (linked) =>
          linked ? Effect.succeed(true) : remoteStagePlaced(stages.xdata)))
  }

  /** The report name an attempt was placing, from its private note; `undefined` if none. */
  const reportTarget = (note: string) =>
    extra.readRegular(note, 4096).pipe(
      Effect.map((read) => {
        if (read._tag !== "Read") return undefined
        const name = Buffer.from(read.bytes).toString("utf8")
        return name.length > 0 && !name.includes("/") && name !== "." && name !== ".." ? name : undefined
      }),
      Effect.catchIf(isNotFound, () => Effect.succeed(undefined))
    )

  /** A report linked into place whose data file never followed (a crash between the two): withdrawn. */
  const withdrawOrphanReport = (stage: string, note: string, returns: string) =>
    Effect.gen(function*() {
      const meta = yield* extra.identify(stage).pipe(Effect.option)
      if (Option.isNone(meta) || meta.value.type !== "File" || meta.value.nlink < 2) return
      const target = yield* reportTarget(note)
      if (target !== undefined) yield* withdraw(Path.join(returns, target), meta.value.id)
    }).pipe(Effect.catchIf(isNotFound, () => Effect.void))

  /**
   * A name reserved for a rename that never came (a crash between the two):
   * withdrawn while it is still the empty file the daemon made.
   */
  const withdrawReservation = (note: string, into: { readonly validated: string; readonly returns: string }) =>
    Effect.gen(function*() {
      const target = yield* reportTarget(note)
      if (target === undefined) return
      for (const dir of [into.returns, into.validated]) {
        const path = Path.join(dir, target)
        const meta = yield* extra.identify(path).pipe(Effect.option)
        if (Option.isSome(meta) && meta.value.type === "File" && meta.value.size === 0 && meta.value.nlink === 1 && (uid < 0 || meta.value.uid === uid)) {
          yield* unlinkIfThere(path)
        }
      }
    }).pipe(Effect.catchIf(isNotFound, () => Effect.void))

  const clearAttempt = (claimedPath: string) => {
    const stages = stagesOf(claimedPath)
    return Effect.gen(function*() {
      const into = yield* foldersOf(claimedPath)
      yield* withdrawOrphanReport(stages.report, stages.rtarget, into.returns)
      const remote = yield* readJournal(stages.xreport)
      if (remote !== undefined) yield* withdrawOrphanReport(Path.join(remote.dir, remote.name), stages.rtarget, into.returns)
      yield* withdrawReservation(stages.ptarget, into)
      yield* Effect.forEach([stages.data, stages.report, stages.rtarget, stages.ptarget], unlinkIfThere, { discard: true })
      yield* Effect.forEach([stages.xdata, stages.xreport], dropRemote, { discard: true })
    })
  }

  /** The note beside a shortened claim, if its name says there is one. */
  const noteOf = (claimedPath: string) => {
    const parsed = parseProcessingName(Path.basename(claimedPath))
    return parsed?.shortened === true ? Path.join(Path.dirname(claimedPath), claimSidecarName(parsed.receivedAtMs, parsed.seq)) : undefined
  }

  const noteOriginal = (claimedPath: string, original: string) => {
    const note = noteOf(claimedPath)
    return note === undefined ? Effect.void : Effect.asVoid(extra.writeNew(note, Buffer.from(original), PRIVATE_FILE_MODE))
  }

  const originalOf = (claimedPath: string) =>
    Effect.gen(function*() {
      const parsed = parseProcessingName(Path.basename(claimedPath))
      const note = noteOf(claimedPath)
      if (note === undefined) return parsed?.original
      const read = yield* extra.readRegular(note, 4096).pipe(Effect.catchIf(isNotFound, () => Effect.succeed(undefined)))
      return read?._tag === "Read" ? Buffer.from(read.bytes).toString("utf8") : parsed?.original
    })

  const dropNote = (claimedPath: string) => {
    const note = noteOf(claimedPath)
    return note === undefined ? Effect.void : unlinkIfThere(note)
  }

  /**
   * What releasing a claim removes, in order: its claimed name first (a crash
   * after it leaves only stages, swept later, never a claimed file without the
   * stage that says it is stored already), then its stages and its note.
   * `remote`: stages in a destination folder on another filesystem may be left
   * too (their journals say where). `forget` drops what is known of the claim
   * once it is released.
   */
  const releasing = (claimedPath: string, storedIn: StoredIn): { readonly paths: ReadonlyArray<string>; readonly remote: Stages | undefined } => {
    const withReport = mayHaveReport(storedIn)
    const stagedHere = staged.has(claimedPath)
    const asItself = placedItself.has(claimedPath)
    const renamed = reserved.has(claimedPath)
    const note = noteOf(claimedPath)
    const notes = note === undefined ? [] : [note]
    // A file placed as itself, with no report and nothing across filesystems, has no stage: none is looked for.
    if (!stagedHere && asItself && !withReport && remoteFolders.size === 0) return { paths: [claimedPath, ...notes], remote: undefined }
    const stages = stagesFor(claimedPath)
    // A stage made here, or (recovery, an earlier process) perhaps one made elsewhere; none for a file placed as itself.
    const data = stagedHere || !asItself ? [stages.data] : []
    const report = withReport ? [stages.report, stages.rtarget, ...(renamed ? [stages.ptarget] : [])] : []
    return { paths: [claimedPath, ...data, ...report, ...notes], remote: remoteFolders.size === 0 ? undefined : stages }
  }

  const forget = (claimedPath: string) => {
    staged.delete(claimedPath)
    placedItself.delete(claimedPath)
    reserved.delete(claimedPath)
    knownStages.delete(claimedPath)
  }

  const releaseClaim = (claimedPath: string, storedIn: StoredIn) => {
    const { paths, remote } = releasing(claimedPath, storedIn)
    forget(claimedPath)
    const removed = Effect.forEach(paths, unlinkIfThere, { discard: true })
    return remote === undefined ? removed : Effect.zipRight(removed, Effect.forEach([remote.xdata, remote.xreport], dropRemote, { discard: true }))
  }


  const sweepStages = (dir: string, inUse: () => Iterable<string>) =>
    Effect.gen(function*() {
      const entries = yield* extra.list(dir)
      const claims = [...entries.filter((e) => !e.name.startsWith(".")).map((e) => e.name), ...inUse()]
      const keys = new Set(claims.map(stageKey))
      const noted = new Set(claims.map((name) => /^\d+-\d+/.exec(name)?.[0]))
      for (const entry of entries) {
        const note = NOTE_NAME.exec(entry.name)
        if (note !== null && !noted.has(note[1])) yield* unlinkIfThere(Path.join(dir, entry.name))
        const match = STAGE_NAME.exec(entry.name)
        if (match === null || keys.has(match[1]!)) continue
        const path = Path.join(dir, entry.name)
        yield* match[2] === "xdata" || match[2] === "xreport" ? dropRemote(path) : unlinkIfThere(path)
      }
    })

  const directOps = extra.direct
  /** Folders whose group a private stage does not have (the direct store leaves their copies to the composed one). */
  const stagesInOtherGroup = new Set<string>()

  /** An error the direct store leaves to the composed one (which has a way for it): EPERM (protected_hardlinks), EXDEV. */
  const composedWay = (e: PlatformError) => {
    const code = errnoCode(e)
    return code === "EPERM" || code === "EXDEV"
  }

  /**
   * As `stagePrivately`, by direct calls: `bytes` in the private stage `stage`
   * (one left by an earlier attempt replaced), which must have `dir`'s group
   * already; `undefined` when it has not (the composed store replaces it and
   * gives it the group).
   */
  const stageNow = (d: DirectFileOps, stage: string, bytes: Uint8Array, dir: string): Either.Either<Meta | undefined, PlatformError> => {
    if (stagesInOtherGroup.has(dir)) return Either.right(undefined)
    let written = d.writeNew(stage, bytes, STORED_FILE_MODE)
    if (Either.isLeft(written) && isAlreadyExists(written.left)) {
      const removed = d.unlink(stage)
      if (Either.isLeft(removed)) return Either.left(removed.left)
      written = d.writeNew(stage, bytes, STORED_FILE_MODE)
    }
    if (Either.isLeft(written)) return Either.left(written.left)
    if (folderGroups.get(dir) === written.right.gid) return written
    // (a group to give, or the folder's not known yet: the composed store sees to it)
    if (folderGroups.has(dir)) stagesInOtherGroup.add(dir)
    return Either.right(undefined)
  }

  /**
   * Where a claimed file's data is linked from into `dir`, as `withStage`
   * decides: the claimed file itself (placed as itself, with the folder's
   * group already or not the daemon's to give), or its private copy;
   * `undefined` where that takes more (the composed store).
   */
  const dataNow = (d: DirectFileOps, claimedPath: string, meta: Meta, bytes: Uint8Array, dir: string): Either.Either<string | undefined, PlatformError> => {
    if (remoteFolders.has(dir)) return Either.right(undefined)
    if (placesItself(mode, meta.uid, euid)) {
      return Either.right(folderGroups.get(dir) === meta.gid || !(meta.uid === euid || euid === 0) ? claimedPath : undefined)
    }
    const stage = stagesFor(claimedPath).data
    const copy = stageNow(d, stage, bytes, dir)
    if (Either.isLeft(copy)) return Either.left(copy.left)
    if (copy.right === undefined) return Either.right(undefined)
    staged.add(claimedPath)
    return Either.right(stage)
  }

  /** A placed name withdrawn if it is still the file `id` (never someone else's), by direct calls. */
  const withdrawNow = (d: DirectFileOps, path: string, id: string) => {
    const placed = d.identify(path)
    if (Either.isRight(placed) && placed.right.id === id) d.unlink(path)
  }

  const direct: DirectStore | undefined = directOps === undefined ? undefined : {
    peekInput: (name, maxBytes) => directOps.readRegular(inputPath(name), maxBytes),
    claim: (name, claimedPath) => {
      const moved = directOps.rename(inputPath(name), claimedPath)
      if (Either.isRight(moved)) return Either.right(true)
      // Gone (claimed elsewhere) while our own folder is there; if it is not, `claim` makes it again.
      return isNotFound(moved.left) && Either.isRight(directOps.identify(Path.dirname(claimedPath))) ? Either.right(false) : Either.left(moved.left)
    },
    inspectClaimed: (claimedPath) => directOps.identify(claimedPath),
    storeValid: (claimedPath, name, now, meta, bytes) => {
      // (a partner's file: its partner's folder; a partner not served: `storeValid` says so)
      const dir = foldersOfClaim(claimedPath)?.validated
      if (dir === undefined) return Either.right(undefined)
      const from = dataNow(directOps, claimedPath, meta, bytes, dir)
      if (Either.isLeft(from) || from.right === undefined) return from
      for (let attempt = 0; attempt < DIRECT_NAME_ATTEMPTS; attempt++) {
        const stored = storedNameCandidate(name, attempt, now)
        const linked = directOps.link(from.right, Path.join(dir, literalName(stored)))
        if (Either.isRight(linked)) {
          if (from.right === claimedPath) placedItself.add(claimedPath)
          return Either.right(stored)
        }
        // Taken: the next name.
        if (!isAlreadyExists(linked.left)) return composedWay(linked.left) ? Either.right(undefined) : Either.left(linked.left)
      }
      return Either.right(undefined)
    },
    storeReturned: (claimedPath, name, now, meta, bytes, report) => {
      const dir = foldersOfClaim(claimedPath)?.returns
      if (dir === undefined) return Either.right(undefined)
      const from = dataNow(directOps, claimedPath, meta, bytes, dir)
      if (Either.isLeft(from) || from.right === undefined) return from
      const stages = stagesFor(claimedPath)
      for (let attempt = 0; attempt < DIRECT_NAME_ATTEMPTS; attempt++) {
        // As `storeReturned`: both names free, the report's name noted, the report placed, then the data beside it.
        const stored = returnedNameCandidate(name, attempt, now)
        const dataPath = Path.join(dir, literalName(stored))
        const reportPath = Path.join(dir, literalName(reportName(stored)))
        const dataLook = directOps.lookup(dataPath)
        if (Either.isLeft(dataLook)) return Either.left(dataLook.left)
        if (dataLook.right !== undefined) continue
        const reportLook = directOps.lookup(reportPath)
        if (Either.isLeft(reportLook)) return Either.left(reportLook.left)
        if (reportLook.right !== undefined) continue
        let noted = directOps.writeNew(stages.rtarget, Buffer.from(literalName(reportName(stored))), PRIVATE_FILE_MODE)
        if (Either.isLeft(noted) && isAlreadyExists(noted.left)) {
          const removed = directOps.unlink(stages.rtarget)
          if (Either.isLeft(removed)) return Either.left(removed.left)
          noted = directOps.writeNew(stages.rtarget, Buffer.from(literalName(reportName(stored))), PRIVATE_FILE_MODE)
        }
        if (Either.isLeft(noted)) return Either.left(noted.left)
        const reportStage = stageNow(directOps, stages.report, Buffer.from(report(stored)), dir)
        if (Either.isLeft(reportStage)) return Either.left(reportStage.left)
        if (reportStage.right === undefined) return Either.right(undefined)
        const placedReport = directOps.link(stages.report, reportPath)
        if (Either.isLeft(placedReport)) {
          if (isAlreadyExists(placedReport.left)) continue
          return composedWay(placedReport.left) ? Either.right(undefined) : Either.left(placedReport.left)
        }
        const placedData = directOps.link(from.right, dataPath)
        if (Either.isRight(placedData)) {
          if (from.right === claimedPath) placedItself.add(claimedPath)
          return Either.right(stored)
        }
        // Its name taken meanwhile, or a failure: the report withdrawn, so that a retry starts clean.
        withdrawNow(directOps, reportPath, reportStage.right.id)
        if (!isAlreadyExists(placedData.left)) return composedWay(placedData.left) ? Either.right(undefined) : Either.left(placedData.left)
      }
      return Either.right(undefined)
    },
    releaseClaim: (claimedPath, storedIn) => {
      if (remoteFolders.size > 0) return Either.right(false)
      for (const path of releasing(claimedPath, storedIn).paths) {
        const removed = directOps.unlink(path)
        // (what is known of the claim stays for `releaseClaim`, which tries again)
        if (Either.isLeft(removed) && !isNotFound(removed.left)) return Either.left(removed.left)
      }
      forget(claimedPath)
      return Either.right(true)
    }
  }

  return {
    folders,
    direct,
    // The folder checks have their own module (FolderChecks); kept here for callers of the store.
    prepareFolders: checks.prepareFolders,
    checkDiskSpace: checks.checkDiskSpace,
    probeFilesystems: checks.probeFilesystems,
    listInput: extra.list(folders.data),
    listInputPieces: Effect.suspend(() => {
      const inboxes = routes.inboxes()
      return inboxes === undefined ? extra.listPieces(folders.data) : Effect.succeed(partnersListing(inboxes))
    }),
    inspectInput: (name) => extra.identify(inputPath(name)),
    inspectInputFolder: Effect.suspend(() => {
      const inboxes = routes.inboxes()
      return inboxes === undefined ? extra.identify(folders.data) : inboxesStamp(inboxes, extra.identify)
    }),
    peekInput: (name, maxBytes) => extra.readRegular(inputPath(name), maxBytes),
    claim,
    inspectClaimed: (claimedPath) => extra.identify(claimedPath),
    readClaimed: (claimedPath, maxBytes) => extra.readRegular(claimedPath, maxBytes),
    putBack,
    noteOriginal,
    originalOf,
    storeValid,
    storeReturned,
    storedAlready,
    clearAttempt,
    // (TRUSTED_PRODUCERS: the producer's own file was placed, and its durability is the producer's)
    needsFlush: (claimedPath) => staged.has(claimedPath),
    flushStored: (claimedPath) =>
      staged.has(claimedPath) ? extra.flush(stagesFor(claimedPath).data).pipe(Effect.catchIf(isNotFound, () => Effect.void)) : Effect.void,
    releaseClaim,
    sweepStages
  }
})

/**
 * The one module that moves customer files: claims them into this instance's
 * processing folder, stores what was judged into VALIDATED_DIR or RETURNS_DIR
 * (never over an existing name) and recognises what a crash left stored.
 */
export class FileStore extends Effect.Service<FileStore>()("customer-json/FileStore", { effect: makeFileStore }) {}

/** The FileStore as a layer, over `FileOps` and `AppConfig`, `FileStore.Default`. */
export const layer: Layer.Layer<FileStore, never, AppConfig | FileOps> = FileStore.Default
