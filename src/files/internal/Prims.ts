/**
 * The primitive calls the operations are written over (`FsPrims`), their
 * synchronous twins for the hot path (`DirectPrims`) and open folders
 * (`RawDir`). Each backend (NodeSync, NodeAsync, MemoryFileSystem) provides
 * them, mapping errors with `systemError`.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import { syncCall } from "./Errno.js"
import type { StatsLike } from "./Stats.js"

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
 * in Operations.ts, which the thread pool and memfs use; the tests run both. These throw
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
  readonly lstat: (path: string) => StatsLike
  readonly link: (from: string, to: string) => void
  readonly rename: (from: string, to: string) => void
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
