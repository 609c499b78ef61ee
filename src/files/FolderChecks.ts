/**
 * The checks a folder must pass before the daemon uses it, and again at each
 * health check: the five folders exist (created if missing) and are folders,
 * with modes that keep producers out of what is private (no sticky `data/`,
 * no world-writable `processing/`), writable (a probe file under a name no
 * producer can predict), with free space above MIN_FREE_DISK_MB, on
 * filesystems that keep the guarantees crash recovery relies on (link counts,
 * `link` that never replaces, stable identity, atomic rename).
 *
 * Used by App's `layerStartupChecks` and, through FileStore's `prepareFolders` and
 * `checkDiskSpace` (which delegate here), by the daemon's health check.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Data from "effect/Data"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Crypto from "node:crypto"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import { FOLDERS, folderList, foldersByRole } from "../Folders.js"
import type { Folder, Folders } from "../Folders.js"
import { errnoCode, FileOps, forEachPiece, isAlreadyExists, isNotFound, unlinkIfThere as removeIfThere } from "./FileOps.js"
import { PartnerRoutes } from "./PartnerRoutes.js"

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

/** A folder's filesystem lacks a guarantee that routing without loss or duplicates relies on. */
export class FilesystemUnsupported extends Data.TaggedError("FilesystemUnsupported")<{
  readonly setting: string
  readonly path: string
  readonly missing: string
}> {
  override get message(): string {
    return `folder ${this.path} (${this.setting}) is on a filesystem that cannot be used: ${this.missing}`
  }
}

/** The five folders, by role (from the folder list, `Folders.FOLDERS`). */
export type { Folders } from "../Folders.js"

/** What a folder's filesystem was found to guarantee at start. */
export interface Guarantees {
  readonly setting: string
  readonly path: string
  readonly linkCounts: boolean
  readonly linkRefusesExisting: boolean
  readonly stableIdentity: boolean
  readonly atomicRename: boolean
}

/** `processing/` (and each instance's folder in it): private to the daemon's user and group. */
export const PROCESSING_MODE = 0o750
/** Files only the daemon reads (probes, journals, notes): private to its user. */
export const PRIVATE_FILE_MODE = 0o600

/** A name for a file of the daemon's own that no producer can predict: a planted name cannot get in its way. */
export const randomName = (prefix: string) => `.cjp-${prefix}-${Crypto.randomBytes(16).toString("hex")}.tmp`
/** Names read at a time when a folder is swept for left-over probes. */
const SWEEP_PIECE = 1024
const PROBE_NAME = /^\.cjp-(probe|fsprobe)-[0-9a-f]{32}\.tmp$/
/** A probe older than this is left over from an instance killed mid-probe. */
const STALE_PROBE_MS = 60_000

/** The folders as pairs of setting and path, in the order they are checked (the folder list's). */
export const folderSettings = (folders: Folders): ReadonlyArray<readonly [string, string]> =>
  FOLDERS.map((spec) => [spec.setting, folders[spec.role]] as const)

/** The folder checks: prepare the five folders, check free space, probe the filesystems. */
export interface FolderChecksService {
  readonly folders: Folders
  /** Creates the five folders if missing and checks each is usable (a probe file under an unpredictable name). */
  readonly prepareFolders: Effect.Effect<void, FolderUnusable>
  /** Fails if an output folder has less than MIN_FREE_DISK_MB free. */
  readonly checkDiskSpace: Effect.Effect<void, DiskSpaceLow | FolderUnusable>
  /** What the filesystems of processing/, validated/ and returns/ guarantee; fails where crash recovery would not hold. */
  readonly probeFilesystems: Effect.Effect<ReadonlyArray<Guarantees>, FilesystemUnsupported | FolderUnusable>
}

/** Builds the folder checks over `FileOps` and `AppConfig`. */
export const makeFolderChecks: Effect.Effect<FolderChecksService, never, FileOps | AppConfig> = Effect.gen(function*() {
  const extra = yield* FileOps
  const config = yield* AppConfig
  const folders = foldersByRole(config)
  const list = folderList(config)
  const uid = typeof process.getuid === "function" ? process.getuid() : -1
  const unlinkIfThere = (path: string) => removeIfThere(extra, path)

  const describe = (e: PlatformError) =>
    e._tag === "SystemError" && (e.reason === "PermissionDenied" || errnoCode(e) === "EPERM")
      ? `permission denied (user ${uid} must be able to create and remove files there)`
      : `${errnoCode(e) ?? (e._tag === "SystemError" ? e.reason : "bad argument")}${e._tag === "SystemError" && e.syscall ? ` in ${e.syscall}` : ""}`

  /** Writes and removes a probe file under a name no producer can predict: a planted name cannot fail it. */
  const probeWrite = (path: string) =>
    Effect.suspend(() => {
      const probe = Path.join(path, randomName("probe"))
      return Effect.zipRight(extra.writeNew(probe, new Uint8Array(0), PRIVATE_FILE_MODE), unlinkIfThere(probe))
    })

  /**
   * Probes left by an instance killed mid-probe (kill -9): the daemon's own
   * regular files under its probe names, older than any probe in progress.
   */
  const sweepProbes = (path: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      // In pieces: data/ or validated/ may hold a million names, which must never be held at once.
      return forEachPiece(extra.listPieces(path), SWEEP_PIECE, (piece) =>
        Effect.gen(function*() {
          for (const entry of piece) {
            if (!PROBE_NAME.test(entry.name)) continue
            const file = Path.join(path, entry.name)
            const meta = yield* extra.identify(file).pipe(Effect.option)
            if (
              Option.isSome(meta) && meta.value.type === "File" && (uid < 0 || meta.value.uid === uid) && now - meta.value.mtimeMs > STALE_PROBE_MS
            ) {
              yield* unlinkIfThere(file)
            }
          }
        }))
    })

  const prepareFolder = ({ dir: path, role, setting }: Folder) =>
    Effect.gen(function*() {
      yield* extra.makeFolder(path, role === "processing" ? PROCESSING_MODE : 0o755)
      const info = yield* extra.identify(path)
      if (info.type !== "Directory") {
        return yield* new FolderUnusable({ setting, path, reason: "it is not a folder" })
      }
      if (role === "data" && (info.mode & 0o1000) !== 0 && uid !== 0) {
        return yield* new FolderUnusable({
          setting,
          path,
          reason: "it has the sticky bit (mode 1777-style): only a file's owner may move it, so the daemon cannot take " +
            "files other users write; remove it (chmod o-t, and o-w) and give producers a shared group with a setgid folder (see README: Producers in other accounts)"
        })
      }
      if (role === "processing" && (info.mode & 0o002) !== 0) {
        return yield* new FolderUnusable({
          setting,
          path,
          reason: "every user may write it, so a producer could plant files among the claimed ones; make it private to the daemon (chmod 750)"
        })
      }
      yield* probeWrite(path)
      yield* sweepProbes(path)
    }).pipe(Effect.catchTags({
      BadArgument: (e) => Effect.fail(new FolderUnusable({ setting, path, reason: e.message })),
      SystemError: (e) => Effect.fail(new FolderUnusable({ setting, path, reason: describe(e) }))
    }))

  const prepareFolders = Effect.forEach(list, prepareFolder, { discard: true })

  // Partners (PARTNERS_FILE): their returns folders (and validated/<partner>/) are written too.
  const routes = yield* PartnerRoutes
  const partnersWritten = (): ReadonlyArray<{ readonly dir: string; readonly setting: string }> =>
    (routes.inboxes() ?? []).flatMap(({ partner: id }) => {
      const partner = routes.partner(id)
      if (partner === undefined) return []
      const own = partner.validated === "own" ? [{ dir: routes.validatedDir(partner), setting: `PARTNERS_FILE (partner ${id}'s validated folder)` }] : []
      return [{ dir: partner.returns, setting: `PARTNERS_FILE (partner ${id}'s returns)` }, ...own]
    })

  const checkDiskSpace = Effect.suspend(() => Effect.forEach(
    [...list.filter((f) => f.written), ...partnersWritten()],
    ({ dir: path, setting }) =>
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
  ))

  /** Links a probe file twice and looks: link counts, identity, `link` and `rename` semantics. */
  const probeFolder = ({ dir: path, setting }: Folder) =>
    Effect.gen(function*() {
      const a = Path.join(path, randomName("fsprobe"))
      const b = Path.join(path, randomName("fsprobe"))
      const c = Path.join(path, randomName("fsprobe"))
      const cleanUp = Effect.forEach([a, b, c], (p) => Effect.ignore(extra.unlink(p)), { discard: true })
      return yield* Effect.gen(function*() {
        const made = yield* extra.writeNew(a, new Uint8Array([1]), PRIVATE_FILE_MODE)
        yield* extra.link(a, b)
        const [seenA, seenB] = [yield* extra.identify(a), yield* extra.identify(b)]
        const linkRefusesExisting = yield* extra.link(a, b).pipe(
          Effect.as(false),
          Effect.catchIf(isAlreadyExists, () => Effect.succeed(true))
        )
        yield* extra.rename(b, c)
        const renamed = yield* extra.identify(c)
        const gone = yield* extra.identify(b).pipe(Effect.as(false), Effect.catchIf(isNotFound, () => Effect.succeed(true)))
        return {
          setting,
          path,
          linkCounts: seenA.nlink === 2 && seenB.nlink === 2,
          linkRefusesExisting,
          stableIdentity: made.id === seenA.id && seenA.id === seenB.id && renamed.id === made.id,
          atomicRename: gone && renamed.id === made.id
        } satisfies Guarantees
      }).pipe(Effect.ensuring(cleanUp))
    }).pipe(Effect.catchTags({
      BadArgument: (e) => Effect.fail(new FolderUnusable({ setting, path, reason: e.message })),
      SystemError: (e) => Effect.fail(new FolderUnusable({ setting, path, reason: `probing its filesystem failed: ${describe(e)}` }))
    }))

  /**
   * A claim is one rename from data/ into processing/: across filesystems, or
   * across mounts of one (systemd makes each `ReadWritePaths=` entry a mount
   * of its own), it fails with EXDEV for every file. Tried once with a probe.
   */
  const probeClaim = Effect.gen(function*() {
    const from = Path.join(folders.data, randomName("fsprobe"))
    const to = Path.join(folders.processing, randomName("fsprobe"))
    yield* extra.writeNew(from, new Uint8Array(0), PRIVATE_FILE_MODE)
    const moved = yield* extra.rename(from, to).pipe(
      Effect.as(true),
      Effect.catchIf((e) => e._tag === "SystemError" && errnoCode(e) === "EXDEV", () => Effect.succeed(false)),
      Effect.ensuring(Effect.ignore(unlinkIfThere(from)))
    )
    yield* unlinkIfThere(to)
    if (!moved) {
      return yield* new FilesystemUnsupported({
        setting: "DATA_DIR",
        path: folders.data,
        missing: `it is not on the same mount as PROCESSING_DIR (${folders.processing}): a file is claimed with one rename from one into the other, ` +
          "which fails across filesystems and across mounts (EXDEV). Put both on one filesystem; under systemd, give ReadWritePaths= their common parent, " +
          "not each folder (each entry is a mount of its own)"
      })
    }
  }).pipe(Effect.catchTags({
    BadArgument: (e) => Effect.fail(new FolderUnusable({ setting: "DATA_DIR", path: folders.data, reason: e.message })),
    SystemError: (e) => Effect.fail(new FolderUnusable({ setting: "DATA_DIR", path: folders.data, reason: `probing a claim into ${folders.processing} failed: ${describe(e)}` }))
  }))

  const probeFolders = Effect.forEach(
    list.filter((f) => f.linked),
    (folder) =>
      Effect.flatMap(probeFolder(folder), (g) =>
        !g.linkCounts
          ? Effect.fail(new FilesystemUnsupported({
            setting: g.setting,
            path: g.path,
            missing: "it reports no link counts (a file linked twice shows 1 link: sshfs does this), which crash recovery needs to tell a stored file from one " +
              "still to store; refusing to start rather than risk storing files twice. Use a filesystem with link counts (local, NFS, GlusterFS)"
          }))
          : !g.linkRefusesExisting
          ? Effect.fail(new FilesystemUnsupported({ setting: g.setting, path: g.path, missing: "link() replaced an existing name, so stored files could be overwritten" }))
          : !g.stableIdentity
          ? Effect.fail(new FilesystemUnsupported({ setting: g.setting, path: g.path, missing: "a file's identity (device and inode) changed between two looks, so placed files cannot be checked" }))
          : Effect.succeed(g))
  )

  const probeFilesystems = Effect.zipLeft(probeFolders, probeClaim)

  return { folders, prepareFolders, checkDiskSpace, probeFilesystems }
})

/** The checks a folder must pass before the daemon uses it (at start, and at each health check). */
export class FolderChecks extends Effect.Service<FolderChecks>()("customer-json/FolderChecks", { effect: makeFolderChecks }) {}

/** The folder checks as a layer, over `FileOps` and `AppConfig`, `FolderChecks.Default`. */
export const layer: Layer.Layer<FolderChecks, never, FileOps | AppConfig> = FolderChecks.Default
