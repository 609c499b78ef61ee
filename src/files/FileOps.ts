/**
 * The file operations the daemon makes on customer files, in one place.
 *
 * @effect/platform's `FileSystem` takes string paths, follows links and
 * offers no exclusive create, no `fstat` by descriptor and no `lstat`; the
 * folders the daemon works in may be writable by producers it must not trust
 * (issue: hostile producers), and names may be any bytes but `/` and NUL. So
 * every call on a file's path goes through this service, which is built once
 * (`makeFileOps`) over a small set of primitive calls (`FsPrims`) that exist
 * three times: synchronous Node calls (local filesystems), Node calls through
 * the thread pool (network filesystems, see SyscallMode) and memfs (the
 * in-memory filesystem for tests).
 *
 * The rules every operation here keeps:
 *  - an existing entry is opened with O_NOFOLLOW | O_NONBLOCK and judged by
 *    `fstat` on the descriptor (a link is never followed, a FIFO never blocks);
 *  - a new file is created with O_CREAT | O_EXCL | O_NOFOLLOW (never through
 *    a link, never over an existing name), with an explicit mode, and then
 *    written through its descriptor only;
 *  - identity (device and inode) is compared as `bigint` (GlusterFS inode
 *    numbers exceed 2^53).
 *
 * Names: a name that is not valid UTF-8 (or holds `%`) is carried as text
 * with `%XX` escapes (see Naming's `nameFromBytes`): the last component of
 * every path given here is such an escaped name and is turned back into its
 * bytes at the call (`nativePath`).
 *
 * @module
 */
import type { PlatformError, SystemErrorReason } from "@effect/platform/Error"
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { bytesFromName, isPlainName, nameFromBytes } from "./Naming.js"

/** What an `lstat`/`fstat` says, normalised (sizes as numbers, identity as bigint text). */
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
  /** `dev:ino` from bigint stats: equal only for the same file */
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
  /** `lstat` as `Meta` (bigint identity). */
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
}

/**
 * Every system call on a customer file's path, as a service. Provided by
 * `FileOpsLive` (Node, see SyscallMode) or by `MemoryFileSystem.make(…).layer`
 * in tests; wrap it to count calls or inject faults.
 */
export class FileOps extends Context.Tag("customer-json/FileOps")<FileOps, FileOpsService>() {}

// ------------------------------------------------------------------ errors

/** Node's errno codes as @effect/platform-node labels them (its `handleErrnoException`). */
const reasonOf = (code: string | undefined): SystemErrorReason => {
  switch (code) {
    case "ENOENT":
      return "NotFound"
    case "EACCES":
      return "PermissionDenied"
    case "EEXIST":
      return "AlreadyExists"
    case "EISDIR":
    case "ENOTDIR":
    case "ELOOP":
      return "BadResource"
    case "EBUSY":
      return "Busy"
    default:
      return "Unknown"
  }
}

interface ErrnoLike {
  readonly code?: unknown
  readonly syscall?: unknown
  readonly message?: unknown
}

/** Maps a Node errno error the way @effect/platform-node does, keeping the errno in `cause`. */
export const systemError = (method: string, path: string, error: unknown): SystemError => {
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrnoLike
  const code = typeof e.code === "string" ? e.code : undefined
  return new SystemError({
    reason: reasonOf(code),
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    ...(typeof e.syscall === "string" ? { syscall: e.syscall } : {}),
    ...(typeof e.message === "string" ? { description: e.message } : {}),
    cause: error
    // The fields are well-typed here; validating them again costs ~50 µs per error.
  }, { disableValidation: true })
}

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

/** A synchronous call as an Effect, its errno error mapped as the platform maps it. */
export const syncCall = <A>(method: string, path: string, run: () => A): Effect.Effect<A, PlatformError> =>
  Effect.try({ try: run, catch: (error) => systemError(method, path, error) })

// ------------------------------------------------------------------ stats

/** What `metaOf` needs of a stat result: Node's `fs.Stats`, `fs.BigIntStats` and memfs's alike. */
export interface StatsLike {
  isFile(): boolean
  isDirectory(): boolean
  isSymbolicLink(): boolean
  isBlockDevice(): boolean
  isCharacterDevice(): boolean
  isFIFO(): boolean
  isSocket(): boolean
  readonly mtime: Date
  readonly atime: Date
  readonly birthtime: Date
  readonly dev: number | bigint
  readonly rdev: number | bigint
  readonly ino: number | bigint
  readonly mode: number | bigint
  readonly nlink: number | bigint
  readonly uid: number | bigint
  readonly gid: number | bigint
  readonly size: number | bigint
  readonly blksize: number | bigint
  readonly blocks: number | bigint
}

const typeOf = (s: Pick<StatsLike, "isFile" | "isDirectory" | "isSymbolicLink" | "isBlockDevice" | "isCharacterDevice" | "isFIFO" | "isSocket">): FileSystem.File.Type =>
  s.isFile()
    ? "File"
    : s.isDirectory()
    ? "Directory"
    : s.isSymbolicLink()
    ? "SymbolicLink"
    : s.isBlockDevice()
    ? "BlockDevice"
    : s.isCharacterDevice()
    ? "CharacterDevice"
    : s.isFIFO()
    ? "FIFO"
    : s.isSocket()
    ? "Socket"
    : "Unknown"

/** The same `File.Info` the platform builds from Node's `Stats` (bigint stats too). */
export const fileInfo = (s: StatsLike): FileSystem.File.Info => ({
  type: typeOf(s),
  mtime: Option.fromNullable(s.mtime),
  atime: Option.fromNullable(s.atime),
  birthtime: Option.fromNullable(s.birthtime),
  dev: Number(s.dev),
  rdev: Option.some(Number(s.rdev)),
  ino: Option.some(Number(s.ino)),
  mode: Number(s.mode),
  nlink: Option.some(Number(s.nlink)),
  uid: Option.some(Number(s.uid)),
  gid: Option.some(Number(s.gid)),
  size: FileSystem.Size(s.size),
  blksize: Option.some(FileSystem.Size(s.blksize)),
  blocks: Option.some(Number(s.blocks))
})

/** A stat result as `Meta`: type, links, owner, size, mtime and a `bigint` identity. */
export const metaOf = (s: StatsLike): Meta => ({
  type: typeOf(s),
  nlink: Number(s.nlink),
  uid: Number(s.uid),
  gid: Number(s.gid),
  mode: Number(s.mode),
  size: Number(s.size),
  mtimeMs: s.mtime.getTime(),
  blocks: Number(s.blocks),
  id: `${String(s.dev)}:${String(s.ino)}`
})

// ------------------------------------------------------------------ names

/**
 * The path as the kernel must see it: the last component is an escaped name
 * (Naming's `nameFromBytes`); only one holding `%` can differ from its bytes.
 */
export const nativePath = (path: string): string | Buffer => {
  const base = Path.basename(path)
  if (!base.includes("%")) return path
  const dir = path.slice(0, path.length - base.length)
  return Buffer.concat([Buffer.from(dir), bytesFromName(base)])
}

// ------------------------------------------------------------------ primitives

/** The system calls everything above is made of; each implementation maps errors with `systemError`. */
export interface FsPrims {
  readonly open: (path: string, flags: number, mode: number) => Effect.Effect<number, PlatformError>
  readonly close: (fd: number) => Effect.Effect<void>
  readonly fstat: (fd: number, path: string) => Effect.Effect<StatsLike, PlatformError>
  readonly lstat: (path: string) => Effect.Effect<StatsLike, PlatformError>
  /** `lstat`, `undefined` when nothing has that name: the expected absence builds no error (hot path 10, see WorkerPool). */
  readonly lstatIfThere: (path: string) => Effect.Effect<StatsLike | undefined, PlatformError>
  readonly read: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number, path: string) => Effect.Effect<number, PlatformError>
  readonly write: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number, path: string) => Effect.Effect<number, PlatformError>
  readonly datasync: (fd: number, path: string) => Effect.Effect<void, PlatformError>
  readonly ftruncate: (fd: number, length: number, path: string) => Effect.Effect<void, PlatformError>
  readonly link: (from: string, to: string) => Effect.Effect<void, PlatformError>
  readonly rename: (from: string, to: string) => Effect.Effect<void, PlatformError>
  readonly unlink: (path: string) => Effect.Effect<void, PlatformError>
  readonly readdir: (dir: string, raw: boolean) => Effect.Effect<ReadonlyArray<{ readonly name: string | Buffer; readonly type: FileSystem.File.Type }>, PlatformError>
  /** opendir(3), names as text or (`raw`) as bytes: `read(max)` gives up to `max` entries, none at the end. */
  readonly opendir: (dir: string, raw: boolean) => Effect.Effect<RawDir, PlatformError>
  readonly mkdir: (path: string, mode: number) => Effect.Effect<void, PlatformError>
  readonly rmdir: (path: string) => Effect.Effect<void, PlatformError>
  /** lchown(path, -1, gid): the owner stays, a link is not followed */
  readonly chgrp: (path: string, gid: number) => Effect.Effect<void, PlatformError>
  readonly freeBytes: (path: string) => Effect.Effect<number, PlatformError>
  /** The same calls as plain functions, where they are synchronous anyway (see `DirectPrims`). */
  readonly direct?: DirectPrims
}

/**
 * The same calls as plain functions, for Node's synchronous calls: a file's
 * read and a new file's write as straight-line code (hot path 5, see
 * WorkerPool). Steps and rules are those of `readRegular` and `createWith`
 * below, which the thread pool and memfs use; the tests run both. These throw
 * Node's errno errors, mapped with `systemError` where they are caught.
 */
export interface DirectPrims {
  readonly open: (path: string, flags: number, mode: number) => number
  /** never fails: a failing close of a file only read, or already written whole, changes nothing */
  readonly close: (fd: number) => void
  readonly fstat: (fd: number) => StatsLike
  readonly read: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => number
  readonly write: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => number
  readonly unlink: (path: string) => void
}

/** An open folder as the primitives give it. */
export interface RawDir {
  readonly read: (max: number) => Effect.Effect<ReadonlyArray<{ readonly name: string | Buffer; readonly type: FileSystem.File.Type }>, PlatformError>
  readonly close: Effect.Effect<void>
}

/**
 * A folder opened synchronously (Node's `Dir` or memfs's) as a RawDir: up to
 * `max` entries per read, each turned into a name and type by `entry`.
 */
export const syncRawDir = <D>(
  dir: string,
  handle: { readonly readSync: () => D | null; readonly closeSync: () => void },
  entry: (d: D) => { readonly name: string | Buffer; readonly type: FileSystem.File.Type }
): RawDir => ({
  read: (max) =>
    syncCall("readdir", dir, () => {
      const out: Array<{ readonly name: string | Buffer; readonly type: FileSystem.File.Type }> = []
      while (out.length < max) {
        const d = handle.readSync()
        if (d === null) break
        out.push(entry(d))
      }
      return out
    }),
  close: Effect.sync(() => {
    try {
      handle.closeSync()
    } catch {
      // closed already: nothing to release
    }
  })
})

/** Entries the kernel hands over per getdents call when a folder is read in pieces. */
export const DIR_BUFFER_ENTRIES = 256
// Node gives a Dir's names as Buffers with encoding "buffer", which its types do not list.
const RAW_DIR_OPTIONS: NFS.OpenDirOptions = { encoding: "buffer" as unknown as BufferEncoding, bufferSize: DIR_BUFFER_ENTRIES }
const TEXT_DIR_OPTIONS: NFS.OpenDirOptions = { bufferSize: DIR_BUFFER_ENTRIES }

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = NFS.constants
const OPEN_EXISTING = O_RDONLY | O_NOFOLLOW | O_NONBLOCK
const CREATE_NEW = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
const COPY_CHUNK = 1024 * 1024

/** What opening a non-regular entry with O_NOFOLLOW | O_NONBLOCK tells about it, if anything. */
const notRegularOnOpen = (error: PlatformError): RegularRead | undefined => {
  const code = errnoCode(error)
  return code === "ELOOP"
    ? { _tag: "NotRegular", type: "SymbolicLink" }
    : code === "ENXIO"
    ? { _tag: "NotRegular", type: "Socket" }
    : undefined
}

const isAllZero = (buffer: Uint8Array, length: number): boolean => {
  for (let i = 0; i < length; i++) if (buffer[i] !== 0) return false
  return true
}

/** Every operation of `FileOpsService`, written once over a set of primitives. */
export const makeFileOps = (p: FsPrims): FileOpsService => {
  /** Runs `use` on `path` opened for reading without following a link or blocking; closes it. */
  const withExisting = <A>(path: string, use: (fd: number) => Effect.Effect<A, PlatformError>) =>
    Effect.acquireUseRelease(p.open(path, OPEN_EXISTING, 0), use, p.close)

  const readAll = (fd: number, path: string, size: number, maxBytes: number) =>
    Effect.gen(function*() {
      // One read of size + 1 bytes also tells whether the file grew since fstat.
      const first = Buffer.allocUnsafe(size + 1)
      const n = yield* p.read(fd, first, 0, first.length, 0, path)
      if (n <= size) return { bytes: first.subarray(0, n), total: n }
      // It grew meanwhile (a writer is still at work): read on to its end, up to the limit.
      const chunks: Array<Buffer> = [first]
      let total = n
      while (total <= maxBytes) {
        const chunk = Buffer.allocUnsafe(65536)
        const m = yield* p.read(fd, chunk, 0, chunk.length, total, path)
        if (m === 0) break
        chunks.push(chunk.subarray(0, m))
        total += m
      }
      return { bytes: Buffer.concat(chunks), total }
    })

  // Opened as a scoped resource (the open itself uninterruptible): an interruption at any point,
  // a shutdown's timeout say, never leaves a descriptor open.
  const readRegular = (path: string, maxBytes: number): Effect.Effect<RegularRead, PlatformError> =>
    Effect.acquireUseRelease(
      Effect.either(p.open(path, OPEN_EXISTING, 0)),
      (opened): Effect.Effect<RegularRead, PlatformError> => {
        if (Either.isLeft(opened)) {
          const described = notRegularOnOpen(opened.left)
          return described ? Effect.succeed(described) : Effect.fail(opened.left)
        }
        const fd = opened.right
        return Effect.gen(function*() {
          const meta = metaOf(yield* p.fstat(fd, path))
          if (meta.type !== "File") return { _tag: "NotRegular", type: meta.type } satisfies RegularRead
          if (meta.size > maxBytes) return { _tag: "TooLarge", meta } satisfies RegularRead
          const { bytes, total } = yield* readAll(fd, path, meta.size, maxBytes)
          if (total > maxBytes) return { _tag: "TooLarge", meta: { ...meta, size: total } } satisfies RegularRead
          return { _tag: "Read", meta: total === meta.size ? meta : { ...meta, size: total }, bytes } satisfies RegularRead
        })
      },
      (opened) => (Either.isRight(opened) ? p.close(opened.right) : Effect.void)
    )

  /** `readAll` in direct calls. */
  const readAllDirect = (d: DirectPrims, fd: number, size: number, maxBytes: number) => {
    const first = Buffer.allocUnsafe(size + 1)
    const n = d.read(fd, first, 0, first.length, 0)
    if (n <= size) return { bytes: first.subarray(0, n), total: n }
    const chunks: Array<Buffer> = [first]
    let total = n
    while (total <= maxBytes) {
      const chunk = Buffer.allocUnsafe(65536)
      const m = d.read(fd, chunk, 0, chunk.length, total)
      if (m === 0) break
      chunks.push(chunk.subarray(0, m))
      total += m
    }
    return { bytes: Buffer.concat(chunks), total }
  }

  /** `readRegular` in direct calls (see `DirectPrims`): the same steps and answers. */
  const readRegularDirect = (d: DirectPrims, path: string, maxBytes: number): Effect.Effect<RegularRead, PlatformError> =>
    Effect.suspend(() => {
      let fd: number
      try {
        fd = d.open(path, OPEN_EXISTING, 0)
      } catch (error) {
        const failure = systemError("open", path, error)
        const described = notRegularOnOpen(failure)
        return described ? Effect.succeed(described) : Effect.fail(failure)
      }
      let method = "fstat"
      try {
        const meta = metaOf(d.fstat(fd))
        if (meta.type !== "File") return Effect.succeed<RegularRead>({ _tag: "NotRegular", type: meta.type })
        if (meta.size > maxBytes) return Effect.succeed<RegularRead>({ _tag: "TooLarge", meta })
        method = "read"
        const { bytes, total } = readAllDirect(d, fd, meta.size, maxBytes)
        if (total > maxBytes) return Effect.succeed<RegularRead>({ _tag: "TooLarge", meta: { ...meta, size: total } })
        return Effect.succeed<RegularRead>({ _tag: "Read", meta: total === meta.size ? meta : { ...meta, size: total }, bytes })
      } catch (error) {
        return Effect.fail(systemError(method, path, error))
      } finally {
        d.close(fd)
      }
    })

  /** `writeNew` without a flush, in direct calls (see `DirectPrims`): the same steps, and nothing half-written stays. */
  const writeNewDirect = (d: DirectPrims, path: string, bytes: Uint8Array, mode: number): Effect.Effect<Meta, PlatformError> =>
    Effect.suspend(() => {
      let fd: number
      try {
        fd = d.open(path, CREATE_NEW, mode)
      } catch (error) {
        return Effect.fail(systemError("open", path, error))
      }
      let method = "write"
      try {
        for (let written = 0; written < bytes.length;) written += d.write(fd, bytes, written, bytes.length - written, written)
        method = "fstat"
        const meta = metaOf(d.fstat(fd))
        d.close(fd)
        return Effect.succeed(meta)
      } catch (error) {
        d.close(fd)
        try {
          d.unlink(path)
        } catch {
          // The name is ours (O_EXCL); if it cannot go, the next attempt's exclusive create says so.
        }
        return Effect.fail(systemError(method, path, error))
      }
    })

  /** Creates `path` exclusively, runs `fill` on its descriptor, flushes; removes it again on failure (and never leaves it open). */
  const createWith = (path: string, mode: number, sync: boolean, fill: (fd: number) => Effect.Effect<void, PlatformError>) =>
    Effect.acquireUseRelease(
      p.open(path, CREATE_NEW, mode),
      (fd) =>
        Effect.gen(function*() {
          yield* fill(fd)
          if (sync) yield* p.datasync(fd, path)
          return metaOf(yield* p.fstat(fd, path))
        }).pipe(
          // The name is ours (O_EXCL): nothing half-written stays behind.
          Effect.tapError(() => Effect.ignore(p.unlink(path)))
        ),
      p.close
    )

  const writeFully = (fd: number, bytes: Uint8Array, position: number, path: string): Effect.Effect<void, PlatformError> =>
    Effect.flatMap(p.write(fd, bytes, 0, bytes.length, position, path), (n) =>
      n >= bytes.length ? Effect.void : writeFully(fd, bytes.subarray(n), position + n, path))

  const direct = p.direct
  const writeNew = (path: string, bytes: Uint8Array, mode: number, sync = false) =>
    direct !== undefined && !sync
      ? writeNewDirect(direct, path, bytes, mode)
      : createWith(path, mode, sync, (fd) => (bytes.length === 0 ? Effect.void : writeFully(fd, bytes, 0, path)))

  const copyNew = (source: string, size: number, path: string, mode: number, sync = false) =>
    withExisting(source, (from) =>
      Effect.flatMap(p.fstat(from, source), (stats) =>
        stats.isFile()
          ? createWith(path, mode, sync, (to) =>
            Effect.gen(function*() {
              const chunk = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(1, size)))
              let position = 0
              while (position < size) {
                const n = yield* p.read(from, chunk, 0, Math.min(chunk.length, size - position), position, source)
                if (n === 0) break
                // A run of zeros is left as a hole: a sparse file stays sparse.
                if (!isAllZero(chunk, n)) yield* writeFully(to, chunk.subarray(0, n), position, path)
                position += n
              }
              yield* p.ftruncate(to, position, path)
            }))
          : Effect.fail(systemError("copy", source, { code: "EINVAL", message: "not a regular file" }))))

  const list = (dir: string) =>
    Effect.flatMap(p.readdir(dir, false), (entries) => {
      // Names that are not UTF-8 decode to U+FFFD and name no file; `%` is the escape character,
      // and control characters are escaped too: only then is the folder listed again as bytes.
      const plain = entries.every((e) => typeof e.name === "string" && isPlainName(e.name))
      if (plain) return Effect.succeed(entries as ReadonlyArray<Entry>)
      return Effect.map(p.readdir(dir, true), (raw) =>
        raw.map((e): Entry => ({
          name: typeof e.name === "string" ? e.name : nameFromBytes(e.name).text,
          type: e.type
        })))
    })

  /**
   * Names are read as text, three times cheaper than as bytes. Text that holds
   * U+FFFD may stand for bytes that are not UTF-8, which it cannot name: such
   * names are held back, and only then is the folder read a second time, as
   * bytes, for the names whose bytes do not decode cleanly. So every entry
   * comes once, and a folder of plain names is read once, as text.
   */
  const listPieces = (dir: string): Effect.Effect<Listing, PlatformError> =>
    Effect.map(p.opendir(dir, false), (text): Listing => {
      let current: RawDir | undefined = text
      let raw = false
      let withheld = false
      const close = Effect.suspend(() => {
        const open = current
        current = undefined
        return open === undefined ? Effect.void : open.close
      })
      const entryOf = (name: string | Buffer, type: FileSystem.File.Type): Entry | undefined => {
        if (typeof name !== "string") {
          const decoded = name.toString("utf8")
          // As bytes: only the names the text reading held back.
          return decoded.includes("\uFFFD") ? { name: nameFromBytes(name).text, type } : undefined
        }
        if (name.includes("\uFFFD")) {
          withheld = true
          return undefined
        }
        return { name: isPlainName(name) ? name : nameFromBytes(Buffer.from(name, "utf8")).text, type }
      }
      const next = (max: number): Effect.Effect<ReadonlyArray<Entry>, PlatformError> =>
        Effect.suspend(() => {
          const open = current
          if (open === undefined) return Effect.succeed([])
          return Effect.flatMap(open.read(Math.max(1, max)), (entries) => {
            if (entries.length === 0) {
              current = undefined
              return Effect.zipRight(
                open.close,
                !raw && withheld
                  ? Effect.flatMap(p.opendir(dir, true), (bytes) => {
                    raw = true
                    current = bytes
                    return next(max)
                  })
                  : Effect.succeed([])
              )
            }
            const out: Array<Entry> = []
            for (const e of entries) {
              const entry = entryOf(e.name, e.type)
              if (entry !== undefined) out.push(entry)
            }
            // A piece of only withheld names: read on (an empty piece means the end).
            return out.length > 0 ? Effect.succeed(out) : next(max)
          })
        })
      return { next, close }
    })

  const makeFolder = (path: string, mode: number): Effect.Effect<void, PlatformError> =>
    p.lstat(path).pipe(
      Effect.asVoid,
      Effect.catchIf(isNotFound, () =>
        Effect.gen(function*() {
          const parent = Path.dirname(path)
          if (parent !== path) yield* makeFolder(parent, 0o755)
          // The mode asked for, less what the umask takes (UMask=0027: nothing for others, no group
          // write), and never widened by a chmod after; a setgid bit inherited from the parent stays.
          // (One another instance made at the same moment is already there: it keeps its mode.)
          yield* p.mkdir(path, mode).pipe(Effect.catchIf(isAlreadyExists, () => Effect.void))
        }))
    )

  return {
    lstat: (path) => Effect.map(p.lstat(path), fileInfo),
    identify: (path) => Effect.map(p.lstat(path), metaOf),
    lookup: (path) => Effect.map(p.lstatIfThere(path), (s) => (s === undefined ? Option.none() : Option.some(metaOf(s)))),
    readRegular: direct !== undefined ? (path, maxBytes) => readRegularDirect(direct, path, maxBytes) : readRegular,
    writeNew,
    copyNew,
    flush: (path) => withExisting(path, (fd) => p.datasync(fd, path)),
    setGroup: p.chgrp,
    link: p.link,
    rename: p.rename,
    unlink: p.unlink,
    list,
    listPieces,
    makeFolder,
    removeFolder: p.rmdir,
    freeBytes: p.freeBytes
  }
}

// ------------------------------------------------------------------ Node

const direntType = (d: NFS.Dirent): FileSystem.File.Type =>
  d.isFile() || d.isDirectory() || d.isSymbolicLink() || d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice()
    ? typeOf(d)
    : "Unknown"

/**
 * statfs(2) on the filesystem holding `path` (free space here, the filesystem
 * type in SyscallMode): through the thread pool, as it may wait on a network
 * filesystem.
 */
export const statfs = (path: string): Effect.Effect<NFS.StatsFs, PlatformError> =>
  Effect.async<NFS.StatsFs, PlatformError>((resume) => {
    NFS.statfs(path, (err, stats) => resume(err ? Effect.fail(systemError("statfs", path, err)) : Effect.succeed(stats)))
  })

/** Node's synchronous calls as `DirectPrims`. */
const nodeDirect: DirectPrims = {
  open: (path, flags, mode) => NFS.openSync(nativePath(path), flags, mode),
  close: (fd) => {
    try {
      NFS.closeSync(fd)
    } catch {
      // A failing close of a file only read, or already written whole, changes nothing.
    }
  },
  fstat: (fd) => NFS.fstatSync(fd, { bigint: true }),
  read: (fd, buffer, offset, length, position) => NFS.readSync(fd, buffer, offset, length, position),
  write: (fd, buffer, offset, length, position) => NFS.writeSync(fd, buffer, offset, length, position),
  unlink: (path) => NFS.unlinkSync(nativePath(path))
}

/** Node's calls, synchronous: for folders on a local filesystem (see SyscallMode). */
export const nodeSyncPrims: FsPrims = {
  direct: nodeDirect,
  open: (path, flags, mode) => syncCall("open", path, () => NFS.openSync(nativePath(path), flags, mode)),
  close: (fd) => Effect.sync(() => {
    try {
      NFS.closeSync(fd)
    } catch {
      // A failing close of a file only read, or already flushed, changes nothing.
    }
  }),
  fstat: (fd, path) => syncCall("fstat", path, () => NFS.fstatSync(fd, { bigint: true })),
  lstat: (path) => syncCall("lstat", path, () => NFS.lstatSync(nativePath(path), { bigint: true })),
  lstatIfThere: (path) => syncCall("lstat", path, () => NFS.lstatSync(nativePath(path), { bigint: true, throwIfNoEntry: false })),
  read: (fd, buffer, offset, length, position, path) => syncCall("read", path, () => NFS.readSync(fd, buffer, offset, length, position)),
  write: (fd, buffer, offset, length, position, path) => syncCall("write", path, () => NFS.writeSync(fd, buffer, offset, length, position)),
  // A flush waits for the disk (milliseconds, not microseconds): never on the event loop.
  datasync: (fd, path) => Effect.async<void, PlatformError>((resume) => {
    NFS.fdatasync(fd, (err) => resume(err ? Effect.fail(systemError("fdatasync", path, err)) : Effect.void))
  }),
  ftruncate: (fd, length, path) => syncCall("ftruncate", path, () => NFS.ftruncateSync(fd, length)),
  link: (from, to) => syncCall("link", to, () => NFS.linkSync(nativePath(from), nativePath(to))),
  rename: (from, to) => syncCall("rename", from, () => NFS.renameSync(nativePath(from), nativePath(to))),
  unlink: (path) => syncCall("unlink", path, () => NFS.unlinkSync(nativePath(path))),
  readdir: (dir, raw) =>
    syncCall("readdir", dir, () =>
      raw
        ? NFS.readdirSync(dir, { withFileTypes: true, encoding: "buffer" }).map((d) => ({ name: d.name, type: direntType(d as unknown as NFS.Dirent) }))
        : NFS.readdirSync(dir, { withFileTypes: true }).map((d) => ({ name: d.name, type: direntType(d) }))),
  opendir: (dir, raw) =>
    syncCall("opendir", dir, () =>
      syncRawDir(dir, NFS.opendirSync(dir, raw ? RAW_DIR_OPTIONS : TEXT_DIR_OPTIONS), (d) => ({ name: d.name, type: direntType(d) }))),
  mkdir: (path, mode) => syncCall("mkdir", path, () => void NFS.mkdirSync(path, { mode })),
  rmdir: (path) => syncCall("rmdir", path, () => NFS.rmdirSync(path)),
  chgrp: (path, gid) => syncCall("lchown", path, () => NFS.lchownSync(nativePath(path), -1, gid)),
  freeBytes: (path) => Effect.map(statfs(path), (stats) => stats.bavail * stats.bsize)
}

/** A Node callback call as an Effect (through libuv's thread pool). */
const callback = <A>(method: string, path: string, run: (done: (err: NodeJS.ErrnoException | null, value: A) => void) => void) =>
  Effect.async<A, PlatformError>((resume) => {
    run((err, value) => resume(err ? Effect.fail(systemError(method, path, err)) : Effect.succeed(value)))
  })

/** Node's calls through the thread pool: for network filesystems, where one call is a round trip. */
export const nodeAsyncPrims: FsPrims = {
  open: (path, flags, mode) => callback("open", path, (done) => NFS.open(nativePath(path), flags, mode, done)),
  close: (fd) => Effect.async<void>((resume) => NFS.close(fd, () => resume(Effect.void))),
  fstat: (fd, path) => callback("fstat", path, (done) => NFS.fstat(fd, { bigint: true }, done)),
  lstat: (path) => callback("lstat", path, (done) => NFS.lstat(nativePath(path), { bigint: true }, done)),
  lstatIfThere: (path) =>
    callback<NFS.BigIntStats | undefined>("lstat", path, (done) =>
      NFS.lstat(nativePath(path), { bigint: true }, (err, stats) => (err?.code === "ENOENT" ? done(null, undefined) : done(err, stats)))),
  read: (fd, buffer, offset, length, position, path) => callback("read", path, (done) => NFS.read(fd, buffer, offset, length, position, done)),
  write: (fd, buffer, offset, length, position, path) => callback("write", path, (done) => NFS.write(fd, buffer, offset, length, position, done)),
  datasync: (fd, path) => callback("fdatasync", path, (done) => NFS.fdatasync(fd, (err) => done(err, undefined))),
  ftruncate: (fd, length, path) => callback("ftruncate", path, (done) => NFS.ftruncate(fd, length, (err) => done(err, undefined))),
  link: (from, to) => callback("link", to, (done) => NFS.link(nativePath(from), nativePath(to), (err) => done(err, undefined))),
  rename: (from, to) => callback("rename", from, (done) => NFS.rename(nativePath(from), nativePath(to), (err) => done(err, undefined))),
  unlink: (path) => callback("unlink", path, (done) => NFS.unlink(nativePath(path), (err) => done(err, undefined))),
  readdir: (dir, raw) =>
    raw
      ? callback<ReadonlyArray<{ readonly name: Buffer; readonly type: FileSystem.File.Type }>>("readdir", dir, (done) =>
        NFS.readdir(dir, { withFileTypes: true, encoding: "buffer" }, (err, ds) =>
          done(err, err ? [] : ds.map((d) => ({ name: d.name, type: direntType(d as unknown as NFS.Dirent) })))))
      : callback<ReadonlyArray<{ readonly name: string; readonly type: FileSystem.File.Type }>>("readdir", dir, (done) =>
        NFS.readdir(dir, { withFileTypes: true }, (err, ds) => done(err, err ? [] : ds.map((d) => ({ name: d.name, type: direntType(d) }))))),
  opendir: (dir, raw) =>
    Effect.map(
      callback<NFS.Dir>("opendir", dir, (done) => NFS.opendir(dir, raw ? RAW_DIR_OPTIONS : TEXT_DIR_OPTIONS, done)),
      (handle): RawDir => {
        // One entry per callback (served from the handle's buffer of DIR_BUFFER_ENTRIES, so a
        // round trip to the filesystem only every DIR_BUFFER_ENTRIES entries).
        const one = callback<NFS.Dirent | null>("readdir", dir, (done) => handle.read(done))
        return {
          read: (max) =>
            Effect.gen(function*() {
              const out: Array<{ name: string | Buffer; type: FileSystem.File.Type }> = []
              while (out.length < max) {
                const d = yield* one
                if (d === null) break
                out.push({ name: d.name, type: direntType(d) })
              }
              return out
            }),
          close: Effect.async<void>((resume) => {
            handle.close(() => resume(Effect.void))
          })
        }
      }
    ),
  mkdir: (path, mode) => callback("mkdir", path, (done) => NFS.mkdir(path, { mode }, (err) => done(err, undefined))),
  rmdir: (path) => callback("rmdir", path, (done) => NFS.rmdir(path, (err) => done(err, undefined))),
  chgrp: (path, gid) => callback("lchown", path, (done) => NFS.lchown(nativePath(path), -1, gid, (err) => done(err, undefined))),
  freeBytes: nodeSyncPrims.freeBytes
}

/** FileOps in synchronous calls, for folders on a local filesystem (see SyscallMode). */
export const FileOpsSync: Layer.Layer<FileOps> = Layer.succeed(FileOps, makeFileOps(nodeSyncPrims))

/** FileOps through the thread pool (network filesystems). */
export const FileOpsAsync: Layer.Layer<FileOps> = Layer.succeed(FileOps, makeFileOps(nodeAsyncPrims))
