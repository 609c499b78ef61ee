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
  unlink: (path) => NFS.unlinkSync(nativePath(path)),
  lstat: (path) => exactStat(NFS.lstatSync(nativePath(path)), () => NFS.lstatSync(nativePath(path), { bigint: true }))!,
  link: (from, to) => NFS.linkSync(nativePath(from), nativePath(to)),
  rename: (from, to) => NFS.renameSync(nativePath(from), nativePath(to))
}

/** Node's calls, synchronous: for folders on a local filesystem (see SyscallMode). */
export const nodeSyncPrims: FsPrims = {
  direct: nodeDirect,
  open: (path, flags, mode) => syncCall("open", path, () => nodeDirect.open(path, flags, mode)),
  close: (fd) => Effect.sync(() => nodeDirect.close(fd)),
  fstat: (fd, path) => syncCall("fstat", path, () => nodeDirect.fstat(fd)),
  lstat: (path) => syncCall("lstat", path, () => nodeDirect.lstat(path)),
  lstatIfThere: (path) =>
    syncCall("lstat", path, () =>
      exactStat(NFS.lstatSync(nativePath(path), { throwIfNoEntry: false }), () => NFS.lstatSync(nativePath(path), { bigint: true, throwIfNoEntry: false }))),
  read: (fd, buffer, offset, length, position, path) => syncCall("read", path, () => nodeDirect.read(fd, buffer, offset, length, position)),
  write: (fd, buffer, offset, length, position, path) => syncCall("write", path, () => nodeDirect.write(fd, buffer, offset, length, position)),
  // A flush waits for the disk (milliseconds, not microseconds): never on the event loop.
  datasync: (fd, path) => Effect.async<void, PlatformError>((resume) => {
    NFS.fdatasync(fd, (err) => resume(err ? Effect.fail(systemError("fdatasync", path, err)) : Effect.void))
  }),
  ftruncate: (fd, length, path) => syncCall("ftruncate", path, () => NFS.ftruncateSync(fd, length)),
  link: (from, to) => syncCall("link", to, () => nodeDirect.link(from, to)),
  rename: (from, to) => syncCall("rename", from, () => nodeDirect.rename(from, to)),
  unlink: (path) => syncCall("unlink", path, () => nodeDirect.unlink(path)),
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
