/**
 * The file operations the daemon makes on customer files, in one place: the
 * port (`FileOps`, `FileOpsService` and the types they speak), with helpers
 * for the errors its operations fail with.
 *
 * @effect/platform's `FileSystem` takes string paths, follows links and
 * offers no exclusive create, no `fstat` by descriptor and no `lstat`; the
 * folders the daemon works in may be writable by producers it must not trust
 * (issue: hostile producers), and names may be any bytes but `/` and NUL. So
 * every call on a file's path goes through this service. Its operations are
 * written once (`files/internal/Operations.ts`) over a small set of primitive
 * calls (`files/internal/Prims.ts`), and its adapters (`files/adapters/`)
 * give those primitives three times: synchronous Node calls (NodeSync, local
 * filesystems), Node calls through the thread pool (NodeAsync, network
 * filesystems, see SyscallMode) and memfs (MemoryFileSystem, for tests).
 *
 * The rules every operation keeps:
 *  - an existing entry is opened with O_NOFOLLOW | O_NONBLOCK and judged by
 *    `fstat` on the descriptor (a link is never followed, a FIFO never blocks);
 *  - a new file is created with O_CREAT | O_EXCL | O_NOFOLLOW (never through
 *    a link, never over an existing name), with an explicit mode, and then
 *    written through its descriptor only;
 *  - identity (device and inode) is compared exactly: GlusterFS inode numbers
 *    exceed 2^53, where a double would round them, so such a file's stat is
 *    read with bigint fields.
 *
 * Names: a name that is not valid UTF-8 (or holds `%`) is carried as text
 * with `%XX` escapes (see Naming's `nameFromBytes`): the last component of
 * every path given here is such an escaped name and is turned back into its
 * bytes at the call.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type * as Option from "effect/Option"
import * as OS from "node:os"

/** What an `lstat`/`fstat` says, normalised (sizes as numbers, identity as exact text). */
export interface Meta {
  readonly type: FileSystem.File.Type
  readonly nlink: number
  readonly uid: number
  readonly gid: number
  readonly mode: number
  readonly size: number
  readonly mtimeMs: number
  /** 512-byte blocks it occupies: far fewer than its size says for a sparse file */
  readonly blocks: number
  /** `dev:ino`, exact (bigint stats beyond 2^53): equal only for the same file */
  readonly id: string
}

/** What `readRegular` found. */
export type RegularRead =
  | { readonly _tag: "NotRegular"; readonly type: FileSystem.File.Type }
  | { readonly _tag: "TooLarge"; readonly meta: Meta }
  | { readonly _tag: "Read"; readonly meta: Meta; readonly bytes: Uint8Array }

/** A folder entry: its (escaped) name and its type as the folder says (`Unknown` when it does not). */
export interface Entry {
  readonly name: string
  readonly type: FileSystem.File.Type
}

/** A folder being read in pieces (`FileOps.listPieces`): memory for one piece, not for the folder. */
export interface Listing {
  /** Up to `max` more entries (at least one while any are left); empty at the end. */
  readonly next: (max: number) => Effect.Effect<ReadonlyArray<Entry>, PlatformError>
  /** Releases the folder handle; later `next` calls return nothing. */
  readonly close: Effect.Effect<void>
}

/**
 * Runs `f` on each piece (up to `size` entries) of the folder `open` opens, to
 * the end, and closes it whatever happens: memory for a piece, not the folder.
 */
export const forEachPiece = <E, E2, R>(
  open: Effect.Effect<Listing, E>,
  size: number,
  f: (piece: ReadonlyArray<Entry>) => Effect.Effect<void, E2, R>
): Effect.Effect<void, E | E2 | PlatformError, R> =>
  Effect.acquireUseRelease(
    open,
    (listing) =>
      Effect.gen(function*() {
        while (true) {
          const piece = yield* listing.next(size)
          if (piece.length === 0) return
          yield* f(piece)
        }
      }),
    (listing) => listing.close
  )

/** The file operations the daemon makes on customer files: none follows a link, none creates over an existing name. */
export interface FileOpsService {
  /** Like `stat`, but a symbolic link is described, never followed. */
  readonly lstat: (path: string) => Effect.Effect<FileSystem.File.Info, PlatformError>
  /** `lstat` as `Meta` (exact identity). */
  readonly identify: (path: string) => Effect.Effect<Meta, PlatformError>
  /** `identify`, `None` when nothing has that name (a name expected to be free, nearly always). */
  readonly lookup: (path: string) => Effect.Effect<Option.Option<Meta>, PlatformError>
  /**
   * Reads a regular file without following a symbolic link, in the fewest
   * system calls (open with O_NOFOLLOW | O_NONBLOCK, fstat, read, close):
   * anything but a regular file, and a file over `maxBytes`, is described and
   * not read.
   */
  readonly readRegular: (path: string, maxBytes: number) => Effect.Effect<RegularRead, PlatformError>
  /**
   * Creates `path` exclusively (never over an existing name, never through a
   * link) with `mode`, writes `bytes` and returns the new file's identity;
   * with `sync`, flushed to disk first. A failed write removes the file again
   * (ENOSPC leaves nothing behind).
   */
  readonly writeNew: (path: string, bytes: Uint8Array, mode: number, sync?: boolean) => Effect.Effect<Meta, PlatformError>
  /**
   * Like `writeNew`, with the first `size` bytes of the regular file `source`
   * (opened without following links): runs of zeros stay holes, so a sparse
   * file does not grow, and nothing past `size` is copied.
   */
  readonly copyNew: (source: string, size: number, path: string, mode: number, sync?: boolean) => Effect.Effect<Meta, PlatformError>
  /** Flushes a file's data to disk (opened without following a link or blocking). */
  readonly flush: (path: string) => Effect.Effect<void, PlatformError>
  /** Gives a file the group `gid` (lchown: a link is changed itself, never followed). */
  readonly setGroup: (path: string, gid: number) => Effect.Effect<void, PlatformError>
  /** Hard link; fails with AlreadyExists when `to` exists (never replaces). */
  readonly link: (from: string, to: string) => Effect.Effect<void, PlatformError>
  /** rename(2): atomic; replaces `to` if it exists, so only for names no one else uses. */
  readonly rename: (from: string, to: string) => Effect.Effect<void, PlatformError>
  /** Removes one name (a single `unlink`). */
  readonly unlink: (path: string) => Effect.Effect<void, PlatformError>
  /** The entries of a folder, names escaped where they are not UTF-8. */
  readonly list: (dir: string) => Effect.Effect<ReadonlyArray<Entry>, PlatformError>
  /**
   * Opens a folder to be read a piece at a time (opendir(3)), names escaped
   * where they are not UTF-8 (names come as bytes): a folder of a million
   * names costs the memory of one piece. The caller closes it.
   */
  readonly listPieces: (dir: string) => Effect.Effect<Listing, PlatformError>
  /** Creates a folder (and its parents, 0755) if missing, with `mode` less the umask (never more). */
  readonly makeFolder: (path: string, mode: number) => Effect.Effect<void, PlatformError>
  /** Removes an empty folder (rmdir: fails on one that holds anything). */
  readonly removeFolder: (path: string) => Effect.Effect<void, PlatformError>
  /** Bytes available to this (unprivileged) process on the filesystem holding `path`. */
  readonly freeBytes: (path: string) => Effect.Effect<number, PlatformError>
  /**
   * The calls of a fresh file's common path as plain functions (hot path 11,
   * see WorkerPool), where the backend's calls are synchronous anyway (Node's,
   * on local filesystems); `undefined` through the thread pool and in memory.
   * A wrapper that counts or fails calls wraps these too, or leaves them out.
   */
  readonly direct?: DirectFileOps | undefined
}

/**
 * `FileOps` calls as plain functions: each does what its Effect twin of the
 * same name does, with the same answer, its failure as a value (`Left`).
 */
export interface DirectFileOps {
  readonly readRegular: (path: string, maxBytes: number) => Either.Either<RegularRead, PlatformError>
  /** `writeNew` without a flush */
  readonly writeNew: (path: string, bytes: Uint8Array, mode: number) => Either.Either<Meta, PlatformError>
  readonly identify: (path: string) => Either.Either<Meta, PlatformError>
  readonly link: (from: string, to: string) => Either.Either<void, PlatformError>
  readonly rename: (from: string, to: string) => Either.Either<void, PlatformError>
}

/**
 * Every system call on a customer file's path, as a service. Provided by
 * `SyscallMode.layer` (Node) or by `MemoryFileSystem.make(…).layer`
 * in tests; wrap it to count calls or inject faults.
 */
export class FileOps extends Context.Tag("customer-json/FileOps")<FileOps, FileOpsService>() {}

// ------------------------------------------------------------------ errors

/**
 * The errno code behind a platform error (`EXDEV`, `ENOSPC`, `EPERM`, …): the
 * platform maps several codes to reason `Unknown`, so the code is read from the cause.
 */
export const errnoCode = (error: PlatformError): string | undefined => {
  if (error._tag !== "SystemError") return undefined
  const cause = error.cause
  if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string") {
    return cause.code
  }
  return undefined
}

/** The error says the path does not exist (ENOENT). */
export const isNotFound = (error: PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "NotFound"

/**
 * The error says a network filesystem's handle went stale (ESTALE: the name was
 * replaced through another client meanwhile; libuv has no name for it, so by number).
 */
export const isStale = (error: PlatformError): boolean => {
  if (error._tag !== "SystemError") return false
  const cause = error.cause
  if (typeof cause !== "object" || cause === null) return false
  return ("code" in cause && cause.code === "ESTALE") || ("errno" in cause && cause.errno === -OS.constants.errno.ESTALE)
}

/** Removes one name if it is there: gone already is done. */
export const unlinkIfThere = (ops: Pick<FileOpsService, "unlink">, path: string): Effect.Effect<void, PlatformError> =>
  ops.unlink(path).pipe(Effect.catchIf(isNotFound, () => Effect.void))

/** The error says the name exists already (EEXIST), as an exclusive create or a link reports it. */
export const isAlreadyExists = (error: PlatformError): boolean =>
  error._tag === "SystemError" && (error.reason === "AlreadyExists" || errnoCode(error) === "EEXIST")

