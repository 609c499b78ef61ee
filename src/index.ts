/**
 * customer-json-processor as a library: the daemon's judge for a document in
 * hand (`validateText`, `validateBytes`), and every service Tag and layer of
 * the daemon, for embedding it, extending it with layers of your own, and
 * testing pipelines over the in-memory filesystem (README: "Using it as a
 * library").
 *
 * Each module is a namespace (`Contract.Contract`, `Notifier.Notifier`, …);
 * its members carry their own documentation.
 *
 * @packageDocumentation
 */

/** What the daemon has done lately (the status page's record): a port of the application (App.Swaps). */
export * as Activity from "./status/Activity.js"
/** The one composition of the application: `layer` (as `node dist/main.js` runs it), `layerWith(swaps)` over Node's filesystem, `layerMemory(memory, swaps)` for tests, `layerOver`, `layerDaemon`. */
export * as App from "./App.js"
/** The settings: `AppConfig` (the service), `layer` (from the environment and `.env`), `layerFixed` (fixed settings for tests), `SETTINGS` (the table). */
export * as Config from "./Config.js"
/** The contract's rules as a service (`Contract`, swappable) and as functions over a parsed document. */
export * as Contract from "./contract/Contract.js"
/** Where composed notifications go: the `Delivery` port under `BatchingNotifier.layer`. */
export * as Delivery from "./notify/Delivery.js"
/** The `Destination` port: where a judged file goes (the validated folder, the returns folder, or one of your own), and its guarantee. */
export * as Destination from "./destinations/Destination.js"
/** Every destination by verdict, as the Pipeline routes through them (`layer(added)`). */
export * as Destinations from "./destinations/Destinations.js"
/** The built-in destinations: the validated folder and the returns folder with its reports, over the FileStore. */
export * as FolderDestination from "./destinations/adapters/FolderDestination.js"
/** The customer record as an effect Schema, its fast check, and the JSON Schema published to producers. */
export * as ContractSchema from "./contract/ContractSchema.js"
/** `runDaemon`: recovery, the backlog, then live watching (or `once`). */
export * as Daemon from "./daemon/Daemon.js"
/** The FileStore: claims customer files and stores what was judged. */
export * as FileStore from "./files/FileStore.js"
/** The folder list with roles (`FOLDERS`): every folder the daemon uses, what it does there, and the storage folders of the built-in destinations. */
export * as Folders from "./Folders.js"
/** The checks a folder must pass before the daemon uses it. */
export * as FolderChecks from "./files/FolderChecks.js"
/** FileOps: every system call on a customer file's path, as a service. */
export * as FileOps from "./files/FileOps.js"
/** This daemon instance among others on the same folders: processing folder, heartbeat, adoption. */
export * as Instance from "./instances/Instance.js"
/** The masked logger and its sinks (`layer`). */
export * as Logging from "./logging/Logging.js"
/** The masking policy as a service (`Masker`): what any extension that writes things out uses. */
export * as Masker from "./masking/Masker.js"
/** The masking policy of contract §7 as pure functions. */
export * as Masking from "./masking/Masking.js"
/** An in-memory `FileSystem` and `FileOps` (memfs) for tests of the daemon and of your own pipelines. */
export * as MemoryFileSystem from "./files/adapters/MemoryFileSystem.js"
/** The texts of notifications, as pure functions. */
export * as NotificationMessage from "./notify/NotificationMessage.js"
/** The `Notifier` port: how administrators hear about rejected files (its events are unmasked). */
export * as Notifier from "./notify/Notifier.js"
/** `layer`: batching, rate limits, retries and masking over a `Delivery`. */
export * as BatchingNotifier from "./notify/adapters/BatchingNotifier.js"
/** The outbox: notifications as `.eml` files in LOG_DIR/outbox/ (and its `Delivery`). */
export * as Outbox from "./notify/adapters/Outbox.js"
/** Delivery by SMTP (nodemailer). */
export * as SmtpDelivery from "./notify/adapters/SmtpDelivery.js"
/** Delivery as JSON POSTs to a webhook: the worked example of a Delivery of one's own. */
export * as WebhookDelivery from "./notify/adapters/WebhookDelivery.js"
/** The Pipeline: what happens to one file. */
export * as Pipeline from "./daemon/Pipeline.js"
/** Requeue: returned files back into the input folder. */
export * as Requeue from "./requeue/Requeue.js"
/** What the daemon is doing now, read-only: `Status` (its `snapshot`, the health endpoint's source), and `layerView` to show one of your own. */
export * as Status from "./status/Status.js"
/** The Watcher: hints that something changed in the input folder. */
export * as Watcher from "./daemon/Watcher.js"
/** The stable codes of the contract's rules (`ValidationError.rule`, docs/CONTRACT.md §6). */
export * as Rules from "./contract/Rules.js"
export { validateBytes, validateText } from "./contract/Validate.js"
export type { ValidateInputOptions, Verdict } from "./contract/Validate.js"
export type { Validation, ValidationError } from "./contract/Contract.js"
export type { ContractRule, RuleCode } from "./contract/Rules.js"
