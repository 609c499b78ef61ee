/**
 * The two filesystem operations the daemon needs that @effect/platform's
 * `FileSystem` does not offer: `lstat` (contract §1 forbids following
 * symbolic links) and free disk space (`statfs`, for the start-up check).
 * The in-memory layer (MemoryFileSystem) provides its own implementation.
 */
import type { PlatformError, SystemErrorReason } from "@effect/platform/Error"
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as NFS from "node:fs"

/** What `readRegular` found. */
export type RegularRead =
  | { readonly _tag: "NotRegular"; readonly type: FileSystem.File.Type }
  | { readonly _tag: "TooLarge"; readonly info: FileSystem.File.Info }
  | { readonly _tag: "Read"; readonly info: FileSystem.File.Info; readonly bytes: Uint8Array }

export interface FsExtraService {
  /** Like `stat`, but a symbolic link is described, never followed. */
  readonly lstat: (path: string) => Effect.Effect<FileSystem.File.Info, PlatformError>
  /**
   * Reads a regular file without following a symbolic link, in the fewest
   * system calls (open with O_NOFOLLOW, fstat, read, close): anything but a
   * regular file, and a file over `maxBytes`, is described and not read.
   */
  readonly readRegular: (path: string, maxBytes: number) => Effect.Effect<RegularRead, PlatformError>
  /** Removes one file (a single `unlink`; the platform's `remove` also stats it first). */
  readonly unlink: (path: string) => Effect.Effect<void, PlatformError>
  /** Bytes available to this (unprivileged) process on the filesystem holding `path`. */
  readonly freeBytes: (path: string) => Effect.Effect<number, PlatformError>
}

export class FsExtra extends Context.Tag("customer-json/FsExtra")<FsExtra, FsExtraService>() {}

const reasonOf = (code: string | undefined): SystemErrorReason => {
  switch (code) {
    case "ENOENT":
      return "NotFound"
    case "EACCES":
    case "EPERM":
      return "PermissionDenied"
    case "EEXIST":
    case "ENOTEMPTY":
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
 * The errno code behind a platform error (`EXDEV`, `ENOSPC`, …): the platform
 * maps several codes to reason `Unknown`, so the code is read from the cause.
 */
export const errnoCode = (error: PlatformError): string | undefined => {
  if (error._tag !== "SystemError") return undefined
  const cause = error.cause
  if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string") {
    return cause.code
  }
  return undefined
}

export const isNotFound = (error: PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "NotFound"

export const isAlreadyExists = (error: PlatformError): boolean =>
  error._tag === "SystemError" && (error.reason === "AlreadyExists" || errnoCode(error) === "EEXIST")

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
  readonly dev: number
  readonly rdev: number
  readonly ino: number
  readonly mode: number
  readonly nlink: number
  readonly uid: number
  readonly gid: number
  readonly size: number
  readonly blksize: number
  readonly blocks: number
}

/** The same `File.Info` the platform builds from Node's `Stats`. */
export const fileInfo = (s: StatsLike): FileSystem.File.Info => ({
  type: s.isFile()
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
    : "Unknown",
  mtime: Option.fromNullable(s.mtime),
  atime: Option.fromNullable(s.atime),
  birthtime: Option.fromNullable(s.birthtime),
  dev: s.dev,
  rdev: Option.fromNullable(s.rdev),
  ino: Option.fromNullable(s.ino),
  mode: s.mode,
  nlink: Option.fromNullable(s.nlink),
  uid: Option.fromNullable(s.uid),
  gid: Option.fromNullable(s.gid),
  size: FileSystem.Size(s.size),
  blksize: Option.map(Option.fromNullable(s.blksize), FileSystem.Size),
  blocks: Option.fromNullable(s.blocks)
})

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = NFS.constants

/** What opening a non-regular entry with O_NOFOLLOW | O_NONBLOCK tells about it, if anything. */
const notRegularOnOpen = (code: unknown): RegularRead | undefined =>
  code === "ELOOP"
    ? { _tag: "NotRegular", type: "SymbolicLink" }
    : code === "ENXIO"
    ? { _tag: "NotRegular", type: "Socket" }
    : undefined

const errorCode = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "code" in error ? error.code : undefined

const readRegularNode = (path: string, maxBytes: number) =>
  Effect.async<RegularRead, PlatformError>((resume) => {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    NFS.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, (openError, fd) => {
      if (openError) {
        const described = notRegularOnOpen(openError.code)
        return resume(described ? Effect.succeed(described) : Effect.fail(systemError("open", path, openError)))
      }
      const done = (result: Effect.Effect<RegularRead, PlatformError>) => NFS.close(fd, () => resume(result))
      NFS.fstat(fd, (statError, stats) => {
        if (statError) return done(Effect.fail(systemError("fstat", path, statError)))
        const info = fileInfo(stats)
        if (!stats.isFile()) return done(Effect.succeed({ _tag: "NotRegular", type: info.type }))
        if (stats.size > maxBytes) return done(Effect.succeed({ _tag: "TooLarge", info }))
        // One read of size + 1 bytes also tells whether the file grew since fstat.
        const first = Buffer.allocUnsafe(stats.size + 1)
        NFS.read(fd, first, 0, first.length, 0, (readError, n) => {
          if (readError) return done(Effect.fail(systemError("read", path, readError)))
          if (n <= stats.size) return done(Effect.succeed({ _tag: "Read", info, bytes: first.subarray(0, n) }))
          // It grew meanwhile (a writer is still at work): read on to its end.
          const chunks: Array<Buffer> = [first]
          let total = n
          const readMore = () => {
            const chunk = Buffer.allocUnsafe(65536)
            NFS.read(fd, chunk, 0, chunk.length, total, (moreError, m) => {
              if (moreError) return done(Effect.fail(systemError("read", path, moreError)))
              if (m === 0) return done(Effect.succeed({ _tag: "Read", info: { ...info, size: FileSystem.Size(total) }, bytes: Buffer.concat(chunks) }))
              chunks.push(chunk.subarray(0, m))
              total += m
              if (total > maxBytes) return done(Effect.succeed({ _tag: "TooLarge", info: { ...info, size: FileSystem.Size(total) } }))
              readMore()
            })
          }
          readMore()
        })
      })
    })
  })

/** The same read in synchronous calls (see FileCalls: for local filesystems). */
const readRegularSync = (path: string, maxBytes: number): Effect.Effect<RegularRead, PlatformError> =>
  Effect.suspend(() => {
    let fd: number
    try {
      fd = NFS.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
    } catch (openError) {
      const described = notRegularOnOpen(errorCode(openError))
      return described ? Effect.succeed(described) : Effect.fail(systemError("open", path, openError))
    }
    let method = "fstat"
    try {
      const stats = NFS.fstatSync(fd)
      const info = fileInfo(stats)
      if (!stats.isFile()) return Effect.succeed<RegularRead>({ _tag: "NotRegular", type: info.type })
      if (stats.size > maxBytes) return Effect.succeed<RegularRead>({ _tag: "TooLarge", info })
      method = "read"
      const first = Buffer.allocUnsafe(stats.size + 1)
      const n = NFS.readSync(fd, first, 0, first.length, 0)
      if (n <= stats.size) return Effect.succeed<RegularRead>({ _tag: "Read", info, bytes: first.subarray(0, n) })
      const chunks: Array<Buffer> = [first]
      let total = n
      while (true) {
        const chunk = Buffer.allocUnsafe(65536)
        const m = NFS.readSync(fd, chunk, 0, chunk.length, total)
        if (m === 0) return Effect.succeed<RegularRead>({ _tag: "Read", info: { ...info, size: FileSystem.Size(total) }, bytes: Buffer.concat(chunks) })
        chunks.push(chunk.subarray(0, m))
        total += m
        if (total > maxBytes) return Effect.succeed<RegularRead>({ _tag: "TooLarge", info: { ...info, size: FileSystem.Size(total) } })
      }
    } catch (error) {
      return Effect.fail(systemError(method, path, error))
    } finally {
      // As in the asynchronous read, a failing close of a file only read changes nothing.
      try {
        NFS.closeSync(fd)
      } catch {
        // ignored
      }
    }
  })

/** A synchronous filesystem call as an Effect, its errno error mapped as the platform maps it. */
export const syncCall = <A>(method: string, path: string, run: () => A): Effect.Effect<A, PlatformError> =>
  Effect.try({ try: run, catch: (error) => systemError(method, path, error) })

const freeBytesNode = (path: string) =>
  Effect.async<number, PlatformError>((resume) => {
    NFS.statfs(path, (err, stats) =>
      resume(err ? Effect.fail(systemError("statfs", path, err)) : Effect.succeed(stats.bavail * stats.bsize))
    )
  })

/**
 * FsExtra in synchronous calls, for folders on a local filesystem (see
 * FileCalls); `freeBytes` stays asynchronous (it is not on a file's path).
 */
export const FsExtraNodeSync: Layer.Layer<FsExtra> = Layer.succeed(FsExtra, {
  readRegular: readRegularSync,
  unlink: (path) => syncCall("unlink", path, () => NFS.unlinkSync(path)),
  lstat: (path) => syncCall("lstat", path, () => fileInfo(NFS.lstatSync(path))),
  freeBytes: freeBytesNode
})

export const FsExtraNode: Layer.Layer<FsExtra> = Layer.succeed(FsExtra, {
  readRegular: readRegularNode,
  unlink: (path) =>
    Effect.async<void, PlatformError>((resume) => {
      NFS.unlink(path, (err) => resume(err ? Effect.fail(systemError("unlink", path, err)) : Effect.void))
    }),
  lstat: (path) =>
    Effect.async<FileSystem.File.Info, PlatformError>((resume) => {
      NFS.lstat(path, (err, stats) =>
        resume(err ? Effect.fail(systemError("lstat", path, err)) : Effect.succeed(fileInfo(stats)))
      )
    }),
  freeBytes: freeBytesNode
})
