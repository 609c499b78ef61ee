/**
 * The Node backend in synchronous calls, for folders on a local filesystem
 * (see SyscallMode), where a call takes microseconds.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NFS from "node:fs"
import { FileOps } from "../FileOps.js"
import { syncCall, systemError } from "../internal/Errno.js"
import { nativePath } from "../internal/NativePath.js"
import { direntType, exactStat, RAW_DIR_OPTIONS, statfs, TEXT_DIR_OPTIONS } from "../internal/Node.js"
import { makeFileOps } from "../internal/Operations.js"
import { syncRawDir } from "../internal/Prims.js"
import type { DirectPrims, FsPrims } from "../internal/Prims.js"

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
  fstat: (fd) => exactStat(NFS.fstatSync(fd), () => NFS.fstatSync(fd, { bigint: true }))!,
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
  fstat: (fd, path) => syncCall("fstat", path, () => exactStat(NFS.fstatSync(fd), () => NFS.fstatSync(fd, { bigint: true }))!),
  lstat: (path) => syncCall("lstat", path, () => exactStat(NFS.lstatSync(nativePath(path)), () => NFS.lstatSync(nativePath(path), { bigint: true }))!),
  lstatIfThere: (path) =>
    syncCall("lstat", path, () =>
      exactStat(NFS.lstatSync(nativePath(path), { throwIfNoEntry: false }), () => NFS.lstatSync(nativePath(path), { bigint: true, throwIfNoEntry: false }))),
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

/** FileOps in synchronous calls, for folders on a local filesystem (see SyscallMode). */
export const layerSync: Layer.Layer<FileOps> = Layer.succeed(FileOps, makeFileOps(nodeSyncPrims))
