/**
 * The library surface: every service Tag and live layer, for embedding the
 * daemon, extending it with layers of your own, and testing pipelines over the
 * in-memory filesystem.
 */
export * as App from "./App.js"
export * as Config from "./Config.js"
export * as Contract from "./Contract.js"
export * as ContractSchema from "./ContractSchema.js"
export * as Daemon from "./Daemon.js"
export * as FileStore from "./FileStore.js"
export * as FsExtra from "./FsExtra.js"
export * as Instance from "./Instance.js"
export * as Logging from "./Logging.js"
export * as Masker from "./Masker.js"
export * as Masking from "./Masking.js"
export * as MemoryFileSystem from "./MemoryFileSystem.js"
export * as Notifier from "./Notifier.js"
export * as Pipeline from "./Pipeline.js"
export * as Watcher from "./Watcher.js"
