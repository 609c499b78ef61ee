/**
 * An in-memory implementation of @effect/platform's `FileSystem` (and of the
 * daemon's `FileOps`), built on memfs, for tests of the daemon and of users'
 * own pipelines. Errors carry the same reasons as Node's (`NotFound`,
 * `AlreadyExists`, …) and the errno in their cause; `watch` emits the events
 * of the in-memory volume.
 *
 *   const { layer, volume } = MemoryFileSystem.make({ "/data/a.json": "{}" })
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Volume } from "memfs"
import * as Path from "node:path"
import * as NFS from "node:fs"
import { FileOps } from "../FileOps.js"
import type { FileOpsService } from "../FileOps.js"
import { syncCall, systemError } from "../internal/Errno.js"
import { nativePath } from "../internal/NativePath.js"
import { makeFileOps as makeFileOpsFrom } from "../internal/Operations.js"
import { syncRawDir } from "../internal/Prims.js"
import type { FsPrims } from "../internal/Prims.js"
import { fileInfo } from "../internal/Stats.js"
import type { StatsLike } from "../internal/Stats.js"
import { SyscallMode } from "../SyscallMode.js"

/** A memfs volume: inspect or change the in-memory files directly (`volume.readdirSync`, `writeFileSync`, …). */
export type MemoryVolume = InstanceType<typeof Volume>

type NodeCallback<A> = (err: unknown, value?: A) => void

/** Runs a callback-style memfs call as an Effect, mapping errno errors like Node's FileSystem. */
const call = <A>(method: string, path: string, run: (cb: NodeCallback<A>) => void): Effect.Effect<A, PlatformError> =>
  Effect.async<A, PlatformError>((resume) => {
    try {
      run((err, value) => resume(err ? Effect.fail(systemError(method, path, err)) : Effect.succeed(value as A)))
    } catch (err) {
      resume(Effect.fail(systemError(method, path, err)))
    }
  })

const toNumber = (size: FileSystem.SizeInput): number => Number(size)

const makeFile = (volume: MemoryVolume, path: string, fd: number, append: boolean): FileSystem.File => {
  let position = 0
  const file: FileSystem.File = {
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    fd: FileSystem.FileDescriptor(fd),
    stat: syncCall("stat", path, () => fileInfo(volume.fstatSync(fd) as unknown as StatsLike)),
    seek: (offset, from) =>
      Effect.sync(() => {
        position = from === "start" ? toNumber(offset) : position + toNumber(offset)
      }),
    sync: syncCall("sync", path, () => volume.fsyncSync(fd)),
    read: (buffer) =>
      syncCall("read", path, () => {
        const n = volume.readSync(fd, buffer, 0, buffer.length, position)
        position += n
        return FileSystem.Size(n)
      }),
    readAlloc: (size) =>
      syncCall("readAlloc", path, () => {
        const buffer = new Uint8Array(toNumber(size))
        const n = volume.readSync(fd, buffer, 0, buffer.length, position)
        position += n
        return n === 0 ? Option.none() : Option.some(n === buffer.length ? buffer : buffer.subarray(0, n))
      }),
    truncate: (length) => syncCall("truncate", path, () => volume.ftruncateSync(fd, length === undefined ? 0 : toNumber(length))),
    write: (buffer) =>
      syncCall("write", path, () => {
        const at = append ? volume.fstatSync(fd).size : position
        const n = volume.writeSync(fd, buffer, 0, buffer.length, Number(at))
        position = Number(at) + n
        return FileSystem.Size(n)
      }),
    writeAll: (buffer) => Effect.flatMap(file.write(buffer), () => Effect.void)
  }
  return file
}

/** A `FileSystem` over the given memfs volume. */
export const makeFileSystem = (volume: MemoryVolume): FileSystem.FileSystem => {
  // Per filesystem, not per module: names of temporary files unique within this volume.
  let tempCounter = 0
  const ensureTmp = () => volume.mkdirSync("/tmp", { recursive: true })
  const makeTempDirectory = (options?: FileSystem.MakeTempDirectoryOptions) =>
    syncCall("makeTempDirectory", options?.directory ?? "/tmp", () => {
      ensureTmp()
      return volume.mkdtempSync(Path.join(options?.directory ?? "/tmp", options?.prefix ?? "tmp-")) as string
    })
  const makeTempFile = (options?: FileSystem.MakeTempFileOptions) =>
    Effect.flatMap(makeTempDirectory(options), (dir) => {
      const file = Path.join(dir, `${options?.prefix ?? ""}file${++tempCounter}${options?.suffix ?? ""}`)
      return syncCall("makeTempFile", file, () => {
        volume.writeFileSync(file, "")
        return file
      })
    })
  return FileSystem.make({
    access: (path, options) =>
      call("access", path, (cb) =>
        volume.access(path, (options?.readable ? 4 : 0) | (options?.writable ? 2 : 0), (err) => cb(err))
      ),
    copy: (from, to, options) =>
      call("copy", from, (cb) =>
        volume.cp(from, to, { recursive: true, force: options?.overwrite ?? false, errorOnExist: !(options?.overwrite ?? false) }, (err) => cb(err))
      ),
    copyFile: (from, to) => call("copyFile", from, (cb) => volume.copyFile(from, to, (err) => cb(err))),
    chmod: (path, mode) => call("chmod", path, (cb) => volume.chmod(path, mode, (err) => cb(err))),
    chown: (path, uid, gid) => call("chown", path, (cb) => volume.chown(path, uid, gid, (err) => cb(err))),
    link: (from, to) => call("link", to, (cb) => volume.link(from, to, (err) => cb(err))),
    makeDirectory: (path, options) =>
      call("makeDirectory", path, (cb) =>
        volume.mkdir(path, { recursive: options?.recursive ?? false, ...(options?.mode !== undefined ? { mode: options.mode } : {}) }, (err) => cb(err))
      ),
    makeTempDirectory,
    makeTempDirectoryScoped: (options) =>
      Effect.acquireRelease(makeTempDirectory(options), (dir) =>
        Effect.orDie(syncCall("remove", dir, () => volume.rmSync(dir, { recursive: true, force: true })))
      ),
    makeTempFile,
    makeTempFileScoped: (options) =>
      Effect.acquireRelease(makeTempFile(options), (file) =>
        Effect.orDie(syncCall("remove", file, () => volume.rmSync(Path.dirname(file), { recursive: true, force: true })))
      ),
    open: (path, options) => {
      const flag = options?.flag ?? "r"
      return Effect.acquireRelease(
        syncCall("open", path, () => volume.openSync(path, flag, options?.mode)),
        (fd) => Effect.orDie(syncCall("close", path, () => volume.closeSync(fd)))
      ).pipe(Effect.map((fd) => makeFile(volume, path, fd, flag.startsWith("a"))))
    },
    readDirectory: (path, options) =>
      call<Array<string>>("readDirectory", path, (cb) =>
        volume.readdir(path, { recursive: options?.recursive ?? false }, (err, names) =>
          cb(err, (names ?? []).map((n) => String(n)))
        )
      ),
    readFile: (path) =>
      call<Uint8Array>("readFile", path, (cb) =>
        volume.readFile(path, (err, data) => cb(err, data === undefined ? undefined : new Uint8Array(data as Buffer)))
      ),
    readLink: (path) => call<string>("readLink", path, (cb) => volume.readlink(path, (err, target) => cb(err, String(target)))),
    realPath: (path) => call<string>("realPath", path, (cb) => volume.realpath(path, (err, target) => cb(err, String(target)))),
    remove: (path, options) =>
      call("remove", path, (cb) =>
        volume.rm(path, { recursive: options?.recursive ?? false, force: options?.force ?? false }, (err) => cb(err))
      ),
    rename: (from, to) => call("rename", from, (cb) => volume.rename(from, to, (err) => cb(err))),
    stat: (path) =>
      call<FileSystem.File.Info>("stat", path, (cb) => volume.stat(path, (err, s) => cb(err, s === undefined ? undefined : fileInfo(s as unknown as StatsLike)))),
    symlink: (target, path) => call("symlink", path, (cb) => volume.symlink(target, path, (err) => cb(err))),
    truncate: (path, length) =>
      call("truncate", path, (cb) => volume.truncate(path, length === undefined ? 0 : toNumber(length), (err) => cb(err))),
    utimes: (path, atime, mtime) => call("utimes", path, (cb) => volume.utimes(path, atime, mtime, (err) => cb(err))),
    watch: (path, options) =>
      Stream.asyncScoped<FileSystem.WatchEvent, PlatformError>((emit) =>
        Effect.acquireRelease(
          syncCall("watch", path, () =>
            volume.watch(path, { recursive: options?.recursive ?? false }, (event, filename) => {
              const full = Path.join(path, String(filename))
              // memfs announces a removal before it happens: look once the operation is done.
              setImmediate(() => {
                if (event === "change") emit.single(FileSystem.WatchEventUpdate({ path: full }))
                else if (volume.existsSync(full)) emit.single(FileSystem.WatchEventCreate({ path: full }))
                else emit.single(FileSystem.WatchEventRemove({ path: full }))
              })
            })
          ),
          (watcher) => Effect.sync(() => watcher.close())
        )
      ),
    writeFile: (path, data, options) =>
      call("writeFile", path, (cb) =>
        volume.writeFile(path, data, { flag: options?.flag ?? "w", ...(options?.mode !== undefined ? { mode: options.mode } : {}) }, (err) => cb(err))
      )
  })
}

/**
 * `FileOps` over the same volume, from the same operations as on Node (see
 * `makeFileOps` in files/internal/Operations.ts) over memfs's synchronous
 * calls. memfs reports no real free space, so it can be set. memfs follows a link even with
 * O_NOFOLLOW when opening for reading: the open checks first.
 */
export const makeFileOps = (volume: MemoryVolume, freeBytes: () => number): FileOpsService => {
  const native = (path: string) => nativePath(path) as string
  const typeOfDirent = (d: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): FileSystem.File.Type =>
    d.isFile() ? "File" : d.isDirectory() ? "Directory" : d.isSymbolicLink() ? "SymbolicLink" : "Unknown"
  // (existsSync follows links: a link to nothing is there all the same)
  const isDanglingLink = (path: string) => {
    try {
      return volume.lstatSync(path).isSymbolicLink()
    } catch {
      return false
    }
  }
  const prims: FsPrims = {
    open: (path, flags, mode) =>
      Effect.flatMap(
        (flags & NFS.constants.O_NOFOLLOW) !== 0 && (flags & NFS.constants.O_CREAT) === 0
          ? syncCall("open", path, () => volume.lstatSync(native(path)).isSymbolicLink())
          : Effect.succeed(false),
        (isLink) =>
          isLink
            ? Effect.fail(systemError("open", path, { code: "ELOOP", message: `ELOOP: too many symbolic links, open '${path}'` }))
            : syncCall("open", path, () => volume.openSync(native(path), flags, mode))
      ),
    close: (fd) => Effect.sync(() => {
      try {
        volume.closeSync(fd)
      } catch {
        // as on Node: a failing close changes nothing
      }
    }),
    fstat: (fd, path) => syncCall("fstat", path, () => volume.fstatSync(fd, { bigint: true }) as unknown as StatsLike),
    lstat: (path) => syncCall("lstat", path, () => volume.lstatSync(native(path), { bigint: true }) as unknown as StatsLike),
    lstatIfThere: (path) =>
      syncCall("lstat", path, () => (volume.existsSync(native(path)) || isDanglingLink(native(path)) ? (volume.lstatSync(native(path), { bigint: true }) as unknown as StatsLike) : undefined)),
    read: (fd, buffer, offset, length, position, path) => syncCall("read", path, () => volume.readSync(fd, buffer, offset, length, position)),
    write: (fd, buffer, offset, length, position, path) => syncCall("write", path, () => volume.writeSync(fd, buffer, offset, length, position)),
    datasync: (fd, path) => syncCall("fdatasync", path, () => volume.fdatasyncSync(fd)),
    ftruncate: (fd, length, path) => syncCall("ftruncate", path, () => volume.ftruncateSync(fd, length)),
    link: (from, to) => syncCall("link", to, () => volume.linkSync(native(from), native(to))),
    rename: (from, to) => syncCall("rename", from, () => volume.renameSync(native(from), native(to))),
    unlink: (path) => syncCall("unlink", path, () => volume.unlinkSync(native(path))),
    readdir: (dir, raw) =>
      syncCall("readdir", dir, () =>
        (volume.readdirSync(dir, { withFileTypes: true, ...(raw ? { encoding: "buffer" as const } : {}) }) as Array<{ name: string | Buffer; isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }>)
          .map((d) => ({ name: raw ? Buffer.from(d.name) : String(d.name), type: typeOfDirent(d) }))),
    opendir: (dir, raw) =>
      syncCall("opendir", dir, () =>
        syncRawDir(dir, volume.opendirSync(dir, raw ? { encoding: "buffer" } : {}), (d) => ({
          name: raw ? Buffer.from(d.name as unknown as Uint8Array) : String(d.name),
          type: typeOfDirent(d)
        }))),
    mkdir: (path, mode) => syncCall("mkdir", path, () => void volume.mkdirSync(path, { mode })),
    // memfs miscounts a folder's entries after a rename over an existing name (its rmdir then
    // says ENOTEMPTY for a folder that lists nothing): an empty listing is taken at its word.
    rmdir: (path) =>
      syncCall("rmdir", path, () => (volume.readdirSync(path).length === 0 ? volume.rmSync(path, { recursive: true }) : volume.rmdirSync(path))),
    // (memfs takes -1 for an owner literally: the owner is given back as it is)
    chgrp: (path, gid) => syncCall("lchown", path, () => volume.lchownSync(native(path), Number(volume.lstatSync(native(path)).uid), gid)),
    freeBytes: (path) =>
      syncCall("statfs", path, () => {
        volume.statSync(path)
        return freeBytes()
      })
  }
  return makeFileOpsFrom(prims)
}

/**
 * An in-memory filesystem: its volume, and the layer that provides both
 * `FileSystem` and `FileOps` over it (what the daemon needs in place of Node's).
 */
export interface MemoryFileSystem {
  readonly volume: MemoryVolume
  /** The filesystem as the daemon uses it: FileSystem, FileOps, and its SyscallMode (in memory, synchronous) */
  readonly layer: Layer.Layer<FileSystem.FileSystem | FileOps | SyscallMode>
  /** Sets the free space `FileOps.freeBytes` reports (default 1 TiB). */
  readonly setFreeBytes: (bytes: number) => void
}

/**
 * A fresh in-memory volume, optionally seeded with files (path → content).
 *
 * Under `it.effect` (effect's TestClock) the daemon's "today" is 1970-01-01,
 * so every record with a `date_of_birth` is returned as born after the
 * processing day, unless the test first sets the clock
 * (`TestClock.setTime(Date.parse("2026-11-28T00:00:00Z"))`, before the daemon's
 * layer starts: moving the clock decades later afterwards replays every
 * heartbeat in between). The files get the wall clock's modification times.
 */
export const make = (files: Record<string, string | Uint8Array> = {}): MemoryFileSystem => {
  const volume = new Volume()
  for (const [path, content] of Object.entries(files)) {
    // memfs has no umask: folders and files get the modes a umask of 022 would give.
    volume.mkdirSync(Path.dirname(path), { recursive: true, mode: 0o755 })
    volume.writeFileSync(path, content, { mode: 0o644 })
  }
  let free = 1024 ** 4
  return {
    volume,
    layer: Layer.mergeAll(
      Layer.succeed(FileSystem.FileSystem, makeFileSystem(volume)),
      Layer.succeed(FileOps, makeFileOps(volume, () => free)),
      Layer.succeed(SyscallMode, { mode: "sync", reason: "the in-memory filesystem" })
    ),
    setFreeBytes: (bytes) => {
      free = bytes
    }
  }
}
