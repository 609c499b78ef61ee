import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Layer } from "effect"
import * as App from "../../src/App.js"
import { SyscallMode } from "../../src/files/SyscallMode.js"
import * as Config from "../../src/Config.js"
import type { RawSettings } from "../../src/Config.js"
import * as MemoryFileSystem from "../../src/files/adapters/MemoryFileSystem.js"
import type { ClearedEvent, CriticalEvent, NotifierService, RejectedFile } from "../../src/notify/Notifier.js"
import { Notifier } from "../../src/notify/Notifier.js"
import { FileOps } from "../../src/files/FileOps.js"
import type { FileOpsService } from "../../src/files/FileOps.js"

export const FOLDERS = {
  DATA_DIR: "/srv/data",
  PROCESSING_DIR: "/srv/processing",
  VALIDATED_DIR: "/srv/validated",
  RETURNS_DIR: "/srv/returns",
  LOG_DIR: "/srv/logs"
} as const

export interface Recorded {
  readonly rejected: Array<RejectedFile>
  readonly critical: Array<CriticalEvent>
  readonly cleared: Array<ClearedEvent>
}

export const recordingNotifier = (wrap: (notifier: NotifierService) => NotifierService = (n) => n) => {
  const recorded: Recorded = { rejected: [], critical: [], cleared: [] }
  const layer = Layer.succeed(
    Notifier,
    wrap({
      fileRejected: (e) => Effect.sync(() => void recorded.rejected.push(e)),
      critical: (e) => Effect.sync(() => void recorded.critical.push(e)),
      cleared: (e) => Effect.sync(() => void recorded.cleared.push(e))
    })
  )
  return { recorded, layer }
}

/**
 * The daemon's services over an in-memory filesystem with a recording notifier.
 * Under the TestClock "today" is 1970-01-01: run with `provideToday(layer)`
 * (support/today.ts), or every record with a date of birth is returned.
 */
export const makeTestApp = (
  options: {
    readonly files?: Record<string, string | Uint8Array>
    readonly settings?: RawSettings
    readonly memory?: MemoryFileSystem.MemoryFileSystem
    /** wraps the FileSystem, e.g. to inject faults */
    readonly wrapFs?: (fs: FileSystem.FileSystem) => FileSystem.FileSystem
    /** wraps FileOps (lstat, readRegular, unlink, free space) */
    readonly wrapExtra?: (extra: FileOpsService) => FileOpsService
    /** wraps the recording notifier, e.g. to inject a defect */
    readonly wrapNotifier?: (notifier: NotifierService) => NotifierService
    /** ports of the test's own (a Contract, a Masker, …): the recording notifier unless one is given */
    readonly swaps?: App.Swaps
  } = {}
) => {
  const memory = options.memory ?? MemoryFileSystem.make(options.files ?? {})
  const notifier = recordingNotifier(options.wrapNotifier)
  const wrapFs = options.wrapFs ?? ((fs) => fs)
  const wrapExtra = options.wrapExtra ?? ((e) => e)
  const fsLayer = Layer.mergeAll(
    Layer.effect(FileSystem.FileSystem, Effect.map(FileSystem.FileSystem, wrapFs)),
    Layer.effect(FileOps, Effect.map(FileOps, wrapExtra)),
    Layer.effect(SyscallMode, SyscallMode)
  ).pipe(Layer.provide(memory.layer))
  const config = Config.layerFixed({ ...FOLDERS, ...options.settings })
  // The application as App.ts composes it, over the (wrapped) in-memory filesystem, with a recording notifier.
  const layer = App.layerOver(fsLayer, { notifier: notifier.layer, ...options.swaps }).pipe(Layer.provideMerge(config))
  return { memory, volume: memory.volume, recorded: notifier.recorded, layer }
}

/** Lists a folder of the volume, hidden files left out, sorted. */
export const listing = (volume: MemoryFileSystem.MemoryVolume, dir: string): Array<string> =>
  volume.existsSync(dir)
    ? (volume.readdirSync(dir) as Array<string>).map(String).filter((n) => !n.startsWith(".")).sort()
    : []
