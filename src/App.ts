/**
 * The application as one composition of layers. Tests build the same graph
 * over the in-memory filesystem by providing their own `FileSystem`/`FsExtra`
 * (see MemoryFileSystem) and, if they like, their own Notifier.
 */
import { Effect, Layer } from "effect"
import { AppConfig } from "./Config.js"
import { Contract } from "./Contract.js"
import { FileStore, FileStoreLive } from "./FileStore.js"
import { InstanceLive } from "./Instance.js"
import { Masker } from "./Masker.js"
import { NotifierLog } from "./Notifier.js"
import { PipelineLive } from "./Pipeline.js"
import { WatcherLive } from "./Watcher.js"

export const ContractLive = Layer.effect(Contract, Effect.map(AppConfig, (c) => Contract.make(c.maxRecords)))

/** Start-up checks that must pass before the first file: folders usable, disk space. */
export const StartupChecks = Layer.effectDiscard(
  Effect.gen(function*() {
    const store = yield* FileStore
    yield* store.prepareFolders
    yield* store.checkDiskSpace
  })
)

/**
 * Everything the daemon runs on, given `AppConfig`, `FileSystem`, `FsExtra`
 * and a `Notifier` (swap any of them in a test).
 */
export const DaemonServices = Layer.mergeAll(PipelineLive, WatcherLive).pipe(
  Layer.provideMerge(InstanceLive),
  Layer.provideMerge(StartupChecks),
  Layer.provideMerge(Layer.mergeAll(FileStoreLive, ContractLive, Masker.layer))
)

/** The default notification layer of this release. */
export const NotifierDefault = NotifierLog
