/**
 * The application as one composition of layers. Tests build the same graph
 * over the in-memory filesystem by providing their own `FileSystem`/`FsExtra`
 * (see MemoryFileSystem) and, if they like, their own Notifier.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { AppConfig } from "./Config.js"
import { Contract } from "./Contract.js"
import { FileStore, FileStoreLive } from "./FileStore.js"
import { InstanceLive } from "./Instance.js"
import { Masker } from "./Masker.js"
import { HealthServerLive } from "./HealthServer.js"
import { Status } from "./Status.js"
import { Notifier, NotifierLog } from "./Notifier.js"
import { NotifierLive } from "./NotifierLive.js"
import { Outbox, OutboxDelivery, OutboxLive } from "./Outbox.js"
import type { Delivery } from "./Delivery.js"
import { SmtpDelivery } from "./SmtpDelivery.js"
import { WebhookDelivery } from "./WebhookDelivery.js"
import { PipelineLive } from "./Pipeline.js"
import { ReleaserLive } from "./Releaser.js"
import { WatcherLive } from "./Watcher.js"

export const ContractLive = Layer.effect(Contract, Effect.map(AppConfig, (c) => Contract.make(c.maxRecords)))

/**
 * Start-up checks that must pass before the first file: folders usable, disk
 * space, and filesystems that keep the guarantees routing relies on (logged).
 */
export const StartupChecks = Layer.effectDiscard(
  Effect.gen(function*() {
    const store = yield* FileStore
    yield* store.prepareFolders
    yield* store.checkDiskSpace
    const guarantees = yield* store.probeFilesystems
    yield* Effect.logInfo("filesystems checked").pipe(
      Effect.annotateLogs({
        filesystems: Object.fromEntries(guarantees.map((g) => [g.setting, {
          link_counts: g.linkCounts,
          link_refuses_existing_name: g.linkRefusesExisting,
          stable_identity: g.stableIdentity,
          atomic_rename: g.atomicRename
        }]))
      })
    )
  })
)

/**
 * Everything the daemon runs on, given `AppConfig`, `FileSystem`, `FsExtra`
 * and a `Notifier` (swap any of them in a test).
 */
export const DaemonServices = Layer.mergeAll(PipelineLive, WatcherLive, HealthServerLive).pipe(
  Layer.provideMerge(ReleaserLive),
  Layer.provideMerge(InstanceLive),
  Layer.provideMerge(StartupChecks),
  Layer.provideMerge(Layer.mergeAll(FileStoreLive, ContractLive, Masker.layer, Status.layer))
)

/**
 * Notifications as configured: a webhook when NOTIFY_WEBHOOK_URL is set, SMTP
 * when SMTP_SERVER is set, otherwise `.eml` files in LOG_DIR/outbox/. All of
 * them batched, rate-limited and masked by NotifierLive.
 */
export const NotifierFromConfig: Layer.Layer<Notifier, never, AppConfig | FileSystem.FileSystem | Masker> = Layer.unwrapEffect(
  Effect.map(AppConfig, (settings) => {
    const delivery: Layer.Layer<Delivery, never, AppConfig | Outbox> = Option.isSome(settings.email.webhookUrl)
      ? WebhookDelivery().pipe(Layer.provide(FetchHttpClient.layer))
      : Option.isSome(settings.email.smtpServer)
      ? SmtpDelivery()
      : OutboxDelivery
    return NotifierLive().pipe(Layer.provide(delivery), Layer.provideMerge(OutboxLive))
  })
)

/** Notifications only in the log, for embedding without any delivery. */
export const NotifierLogOnly = NotifierLog
