/**
 * The application as one composition of layers. Tests build the same graph
 * over the in-memory filesystem by providing their own `FileSystem`/`FileOps`
 * (see MemoryFileSystem) and, if they like, their own Notifier.
 *
 * @module
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { AppConfig } from "./Config.js"
import { OffThreadJudgeLive } from "./contract/OffThreadJudge.js"
import { ContractLive } from "./contract/Contract.js"
import { FileStoreLive } from "./files/FileStore.js"
import { FolderChecks, FolderChecksLive } from "./files/FolderChecks.js"
import { InstanceLive } from "./instances/Instance.js"
import { Masker, MaskerLive } from "./masking/Masker.js"
import { HealthServerLive } from "./http/HealthServer.js"
import { StatusLive } from "./status/Status.js"
import { Notifier } from "./notify/Notifier.js"
import { NotifierLive } from "./notify/BatchingNotifier.js"
import { Outbox, DeliveryOutbox, OutboxLive } from "./notify/Outbox.js"
import type { Delivery } from "./notify/Delivery.js"
import { DeliverySmtp } from "./notify/SmtpDelivery.js"
import { DeliveryWebhook } from "./notify/WebhookDelivery.js"
import { PipelineLive } from "./daemon/Pipeline.js"
import { ClaimReleaserLive } from "./files/ClaimReleaser.js"
import { WatcherLive } from "./daemon/Watcher.js"


/**
 * Start-up checks that must pass before the first file: folders usable, disk
 * space, and filesystems that keep the guarantees routing relies on (logged).
 */
export const StartupChecks = Layer.effectDiscard(
  Effect.gen(function*() {
    const checks = yield* FolderChecks
    yield* checks.prepareFolders
    yield* checks.checkDiskSpace
    const guarantees = yield* checks.probeFilesystems
    // Worth a line at start only when a filesystem lacks something (the daemon copes, and says how).
    const allHeld = guarantees.every((g) => g.linkCounts && g.linkRefusesExisting && g.stableIdentity && g.atomicRename)
    yield* (allHeld ? Effect.logDebug("filesystems checked") : Effect.logInfo("filesystems checked")).pipe(
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
 * Everything the daemon runs on, given `AppConfig`, `FileSystem`, `FileOps`
 * and a `Notifier` (swap any of them in a test).
 */
export const DaemonServices = Layer.mergeAll(PipelineLive, WatcherLive, HealthServerLive).pipe(
  Layer.provideMerge(ClaimReleaserLive),
  Layer.provideMerge(InstanceLive),
  Layer.provideMerge(StartupChecks),
  Layer.provideMerge(FolderChecksLive),
  Layer.provideMerge(Layer.mergeAll(FileStoreLive, ContractLive, OffThreadJudgeLive, MaskerLive, StatusLive))
)

/**
 * Notifications as configured: a webhook when NOTIFY_WEBHOOK_URL is set, SMTP
 * when SMTP_SERVER is set, otherwise `.eml` files in LOG_DIR/outbox/. All of
 * them batched, rate-limited and masked by NotifierLive.
 */
export const NotifierFromConfig: Layer.Layer<Notifier, never, AppConfig | FileSystem.FileSystem | Masker> = Layer.unwrapEffect(
  Effect.map(AppConfig, (settings) => {
    const delivery: Layer.Layer<Delivery, never, AppConfig | Outbox> = Option.isSome(settings.email.webhookUrl)
      ? DeliveryWebhook().pipe(Layer.provide(FetchHttpClient.layer))
      : Option.isSome(settings.email.smtpServer)
      ? DeliverySmtp()
      : DeliveryOutbox
    return NotifierLive().pipe(Layer.provide(delivery), Layer.provideMerge(OutboxLive))
  })
)
