/**
 * The library surface: every service Tag and live layer, for embedding the
 * daemon, extending it with layers of your own, and testing pipelines over the
 * in-memory filesystem.
 */
export * as App from "./App.js"
export * as Config from "./Config.js"
export * as Contract from "./Contract.js"
export * as Delivery from "./Delivery.js"
export * as ContractSchema from "./ContractSchema.js"
export * as Daemon from "./Daemon.js"
export * as FileStore from "./FileStore.js"
export * as FsExtra from "./FsExtra.js"
export * as Instance from "./Instance.js"
export * as Logging from "./Logging.js"
export * as Masker from "./Masker.js"
export * as Masking from "./Masking.js"
export * as MemoryFileSystem from "./MemoryFileSystem.js"
export * as NotificationMessage from "./NotificationMessage.js"
export * as Notifier from "./Notifier.js"
export * as NotifierLive from "./NotifierLive.js"
export * as Outbox from "./Outbox.js"
export * as SmtpDelivery from "./SmtpDelivery.js"
export * as WebhookDelivery from "./WebhookDelivery.js"
export * as Pipeline from "./Pipeline.js"
export * as Requeue from "./Requeue.js"
export * as Watcher from "./Watcher.js"
