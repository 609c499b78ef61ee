/**
 * Every operation of the `FileOps` port, written once over a set of
 * primitives (`makeFileOps`), so that the Node backends and the in-memory one
 * run the same algorithms. Where a backend's primitives are synchronous
 * anyway (`FsPrims.direct`), a file's read and a new file's write also exist
 * as straight-line code, the same steps without an Effect per call (hot path
 * 5, see WorkerPool); the tests run both.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { errnoCode, isAlreadyExists, isNotFound } from "../FileOps.js"
import type { DirectFileOps, Entry, FileOpsService, Listing, Meta, RegularRead } from "../FileOps.js"
import { isPlainName, nameFromBytes } from "../Naming.js"
import { systemError } from "./Errno.js"
import type { DirectPrims, FsPrims, RawDir } from "./Prims.js"
import { fileInfo, metaOf } from "./Stats.js"

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

  /** `readRegular` in direct calls (see `DirectPrims`): the same steps and answers, a failure as a value. */
  const readRegularNow = (d: DirectPrims, path: string, maxBytes: number): Either.Either<RegularRead, PlatformError> => {
    let fd: number
    try {
      fd = d.open(path, OPEN_EXISTING, 0)
    } catch (error) {
      const failure = systemError("open", path, error)
      const described = notRegularOnOpen(failure)
      return described ? Either.right(described) : Either.left(failure)
    }
    let method = "fstat"
    try {
      const meta = metaOf(d.fstat(fd))
      if (meta.type !== "File") return Either.right({ _tag: "NotRegular", type: meta.type })
      if (meta.size > maxBytes) return Either.right({ _tag: "TooLarge", meta })
      method = "read"
      const { bytes, total } = readAllDirect(d, fd, meta.size, maxBytes)
      if (total > maxBytes) return Either.right({ _tag: "TooLarge", meta: { ...meta, size: total } })
      return Either.right({ _tag: "Read", meta: total === meta.size ? meta : { ...meta, size: total }, bytes })
    } catch (error) {
      return Either.left(systemError(method, path, error))
    } finally {
      d.close(fd)
    }
  }

  /** One direct call, its errno error as a value (`method` names it as the Effect twin does). */
  const now = <A>(method: string, path: string, run: () => A): Either.Either<A, PlatformError> => {
    try {
      return Either.right(run())
    } catch (error) {
      return Either.left(systemError(method, path, error))
    }
  }

  /** The hot path's calls in direct calls (hot path 11, see WorkerPool), as their Effect twins answer. */
  const directOps = (d: DirectPrims): DirectFileOps => ({
    readRegular: (path, maxBytes) => readRegularNow(d, path, maxBytes),
    writeNew: (path, bytes, mode) => writeNewNow(d, path, bytes, mode),
    identify: (path) => now("lstat", path, () => metaOf(d.lstat(path))),
    link: (from, to) => now("link", to, () => d.link(from, to)),
    rename: (from, to) => now("rename", from, () => d.rename(from, to))
  })

  /** `writeNew` without a flush, in direct calls (see `DirectPrims`): the same steps, and nothing half-written stays. */
  const writeNewNow = (d: DirectPrims, path: string, bytes: Uint8Array, mode: number): Either.Either<Meta, PlatformError> => {
    let fd: number
    try {
      fd = d.open(path, CREATE_NEW, mode)
    } catch (error) {
      return Either.left(systemError("open", path, error))
    }
    let method = "write"
    try {
      for (let written = 0; written < bytes.length;) written += d.write(fd, bytes, written, bytes.length - written, written)
      method = "fstat"
      const meta = metaOf(d.fstat(fd))
      d.close(fd)
      return Either.right(meta)
    } catch (error) {
      d.close(fd)
      try {
        d.unlink(path)
      } catch {
        // The name is ours (O_EXCL); if it cannot go, the next attempt's exclusive create says so.
      }
      return Either.left(systemError(method, path, error))
    }
  }

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
      ? Effect.suspend(() => writeNewNow(direct, path, bytes, mode))
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
    readRegular: direct !== undefined ? (path, maxBytes) => Effect.suspend(() => readRegularNow(direct, path, maxBytes)) : readRegular,
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
    freeBytes: p.freeBytes,
    direct: direct === undefined ? undefined : directOps(direct)
  }
}
