/**
 * The library surface: every service Tag and live layer, for embedding the
 * daemon, extending it with layers of your own, and testing pipelines over the
 * in-memory filesystem.
 */
export * as App from "./App.js"
export * as Config from "./Config.js"
export * as Contract from "./contract/Contract.js"
export * as Delivery from "./notify/Delivery.js"
export * as ContractSchema from "./contract/ContractSchema.js"
export * as Daemon from "./daemon/Daemon.js"
export * as FileStore from "./files/FileStore.js"
export * as FolderChecks from "./files/FolderChecks.js"
export * as FileOps from "./files/FileOps.js"
export * as Instance from "./instances/Instance.js"
export * as Logging from "./logging/Logging.js"
export * as Masker from "./masking/Masker.js"
export * as Masking from "./masking/Masking.js"
export * as MemoryFileSystem from "./testing/MemoryFileSystem.js"
export * as NotificationMessage from "./notify/NotificationMessage.js"
export * as Notifier from "./notify/Notifier.js"
export * as BatchingNotifier from "./notify/BatchingNotifier.js"
export * as Outbox from "./notify/Outbox.js"
export * as SmtpDelivery from "./notify/SmtpDelivery.js"
export * as WebhookDelivery from "./notify/WebhookDelivery.js"
export * as Pipeline from "./daemon/Pipeline.js"
export * as Requeue from "./requeue/Requeue.js"
export * as Watcher from "./daemon/Watcher.js"
