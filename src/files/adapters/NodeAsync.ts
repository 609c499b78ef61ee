/**
 * The Node backend through libuv's thread pool, for network filesystems,
 * where one call is a round trip.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NFS from "node:fs"
import { FileOps } from "../FileOps.js"
import { systemError } from "../internal/Errno.js"
import { nativePath } from "../internal/NativePath.js"
import { direntType, RAW_DIR_OPTIONS, TEXT_DIR_OPTIONS } from "../internal/Node.js"
import { nodeSyncPrims } from "./NodeSync.js"
import { makeFileOps } from "../internal/Operations.js"
import type { FsPrims, RawDir } from "../internal/Prims.js"

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

/** FileOps through the thread pool (network filesystems). */
export const layerAsync: Layer.Layer<FileOps> = Layer.succeed(FileOps, makeFileOps(nodeAsyncPrims))
