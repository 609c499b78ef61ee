/**
 * How the daemon makes the system calls on a file's path (read, claim, link,
 * unlink, report). On a local filesystem each of them takes microseconds,
 * less than the round trip through libuv's thread pool and the fiber
 * suspension around it, so they are made synchronously: the 10,000-file
 * backlog ran in two thirds of the time (docs/PERFORMANCE.md). On a network
 * filesystem one call is a network round trip, which must never stall the
 * event loop (nor serialise the CONCURRENCY files in flight), so they go
 * through the thread pool. `FS_CALLS=auto` (the default) decides from the
 * filesystem type of every folder of the folder list (Folders); `sync` and `async` force a choice.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import type { Settings } from "../Config.js"
import { folderList } from "../Folders.js"
import { errnoCode, FileOps } from "./FileOps.js"
import { syncCall, systemError } from "./internal/Errno.js"
import { statfs } from "./internal/Node.js"
import { layerAsync } from "./adapters/NodeAsync.js"
import { layerSync } from "./adapters/NodeSync.js"

/** statfs(2) `f_type` of the filesystems known to be local (linux/magic.h). */
const LOCAL_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0xef53, "ext4"],
  [0x58465342, "xfs"],
  [0x9123683e, "btrfs"],
  [0x01021994, "tmpfs"],
  [0x858458f6, "ramfs"],
  [0x794c7630, "overlayfs"],
  [0x2fc12fc1, "zfs"],
  [0xf2f52010, "f2fs"],
  [0x52654973, "reiserfs"],
  [0x3153464a, "jfs"],
  [0xca451a4e, "bcachefs"],
  [0x4d44, "vfat"],
  [0x2011bab0, "exfat"]
])

/** A few network filesystems by name, for the start-up line; anything unknown is treated as remote. */
const NETWORK_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x6969, "nfs"],
  [0xff534d42, "cifs"],
  [0xfe534d42, "smb2"],
  [0x517b, "smb"],
  [0x00c36400, "ceph"],
  [0x65735546, "fuse"],
  [0x01021997, "9p"],
  [0x0bd00bd0, "lustre"]
])

export interface FilesystemKind {
  readonly local: boolean
  readonly name: string
}

/** Pure: what a statfs type says. Only the filesystems listed as local count as local. */
export const classifyFilesystem = (type: number): FilesystemKind => {
  const local = LOCAL_FILESYSTEMS.get(type)
  if (local !== undefined) return { local: true, name: local }
  return { local: false, name: NETWORK_FILESYSTEMS.get(type) ?? `unknown (0x${type.toString(16)})` }
}

export type SyscallModeKind = "sync" | "async"

export interface SyscallModeChoice {
  readonly mode: SyscallModeKind
  /** the filesystem of each folder, or why the choice was forced */
  readonly reason: string
}

/**
 * How the calls on a file's path are made, for the start-up line: provided
 * with the filesystem itself (`layer` on Node, the in-memory
 * filesystem's own layer in tests).
 */
export class SyscallMode extends Context.Tag("customer-json/SyscallMode")<SyscallMode, SyscallModeChoice>() {}

/** Pure: synchronous calls only if every folder is local (or when forced). */
export const chooseMode = (setting: Settings["fsCalls"], kinds: ReadonlyArray<FilesystemKind>): SyscallModeChoice => {
  if (setting !== "auto") return { mode: setting, reason: `FS_CALLS=${setting}` }
  const names = [...new Set(kinds.map((k) => k.name))].join(", ")
  return kinds.length > 0 && kinds.every((k) => k.local)
    ? { mode: "sync", reason: `local filesystem: ${names}` }
    : { mode: "async", reason: `not all folders on a local filesystem: ${names}` }
}

/** The statfs type of the filesystem that holds (or will hold, once created) `path`. */
const filesystemType = (path: string): Effect.Effect<number, PlatformError> => {
  const attempt = (candidate: string): Effect.Effect<number, PlatformError> =>
    statfs(candidate).pipe(
      Effect.map((stats) => stats.type),
      Effect.catchIf(
        (e) => errnoCode(e) === "ENOENT" && Path.dirname(candidate) !== candidate,
        () => attempt(Path.dirname(candidate))
      )
    )
  return attempt(Path.resolve(path))
}

export const detectSyscallMode = (config: Settings): Effect.Effect<SyscallModeChoice> =>
  config.fsCalls !== "auto"
    ? Effect.succeed(chooseMode(config.fsCalls, []))
    : Effect.forEach(
      folderList(config),
      ({ dir }) => Effect.map(filesystemType(dir), classifyFilesystem)
    ).pipe(
      Effect.map((kinds) => chooseMode("auto", kinds)),
      // Not knowing is no reason to risk stalling the event loop.
      Effect.orElseSucceed((): SyscallModeChoice => ({ mode: "async", reason: "filesystem type unknown (statfs failed)" }))
    )

/** Node's FileSystem with the calls on a file's path made synchronously; the rest as it was. */
export const syncFileSystem = (fs: FileSystem.FileSystem): FileSystem.FileSystem => ({
  ...fs,
  rename: (from, to) => syncCall("rename", from, () => NFS.renameSync(from, to)),
  link: (from, to) => syncCall("link", from, () => NFS.linkSync(from, to)),
  exists: (path) =>
    Effect.suspend(() => {
      try {
        NFS.accessSync(path, NFS.constants.F_OK)
        return Effect.succeed(true)
      } catch (error) {
        const notFound = typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT"
        return notFound ? Effect.succeed(false) : Effect.fail(systemError("exists", path, error))
      }
    })
})

/**
 * `FileSystem` and `FileOps` for the daemon on Node, over the platform's
 * `FileSystem`, with the calls made as FS_CALLS and the folders' filesystems say.
 */
export const layer: Layer.Layer<FileSystem.FileSystem | FileOps | SyscallMode, never, AppConfig | FileSystem.FileSystem> =
  Layer.unwrapEffect(Effect.gen(function*() {
    const config = yield* AppConfig
    const fs = yield* FileSystem.FileSystem
    const choice = yield* detectSyscallMode(config)
    return Layer.mergeAll(
      Layer.succeed(SyscallMode, choice),
      choice.mode === "sync"
        ? Layer.merge(Layer.succeed(FileSystem.FileSystem, syncFileSystem(fs)), layerSync)
        : Layer.merge(Layer.succeed(FileSystem.FileSystem, fs), layerAsync)
    )
  }))
