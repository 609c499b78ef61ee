/**
 * What the two Node backends share: folder entry types, statfs and the
 * options folders are opened with.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as NFS from "node:fs"
import { systemError } from "./Errno.js"
import { typeOf } from "./Stats.js"

/** Entries the kernel hands over per getdents call when a folder is read in pieces. */
export const DIR_BUFFER_ENTRIES = 256
/** Options of `opendir`: names as bytes (`RAW_DIR_OPTIONS`) or text, `DIR_BUFFER_ENTRIES` at a time. */
// Node gives a Dir's names as Buffers with encoding "buffer", which its types do not list.
export const RAW_DIR_OPTIONS: NFS.OpenDirOptions = { encoding: "buffer" as unknown as BufferEncoding, bufferSize: DIR_BUFFER_ENTRIES }
export const TEXT_DIR_OPTIONS: NFS.OpenDirOptions = { bufferSize: DIR_BUFFER_ENTRIES }

/** A folder entry's type as the platform names it. */
export const direntType = (d: NFS.Dirent): FileSystem.File.Type =>
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


/**
 * A stat whose identity is exact: Node's number stat (no BigInt per field) when
 * its device and inode numbers are below 2^53, where a double holds them
 * exactly; otherwise (GlusterFS's 64-bit inode numbers) `again`, the same stat
 * with bigint fields.
 */
export const exactStat = (stat: NFS.Stats | undefined, again: () => NFS.BigIntStats | undefined): NFS.Stats | NFS.BigIntStats | undefined =>
  stat === undefined || (stat.ino <= Number.MAX_SAFE_INTEGER && stat.dev <= Number.MAX_SAFE_INTEGER) ? stat : again()
