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
import * as OffThreadJudge from "./contract/OffThreadJudge.js"
import * as Contract from "./contract/Contract.js"
import * as FileStore from "./files/FileStore.js"
import * as FolderChecks from "./files/FolderChecks.js"
import * as Instance from "./instances/Instance.js"
import * as Masker from "./masking/Masker.js"
import * as Activity from "./status/Activity.js"
import * as SyscallMode from "./files/SyscallMode.js"
import type { FileOps } from "./files/FileOps.js"
import type { MemoryFileSystem } from "./files/adapters/MemoryFileSystem.js"
import * as HealthServer from "./http/HealthServer.js"
import * as Status from "./status/Status.js"
import type { Notifier } from "./notify/Notifier.js"
import * as BatchingNotifier from "./notify/adapters/BatchingNotifier.js"
import * as Outbox from "./notify/adapters/Outbox.js"
import type { Delivery } from "./notify/Delivery.js"
import * as SmtpDelivery from "./notify/adapters/SmtpDelivery.js"
import * as WebhookDelivery from "./notify/adapters/WebhookDelivery.js"
import * as Pipeline from "./daemon/Pipeline.js"
import * as ClaimReleaser from "./instances/ClaimReleaser.js"
import * as Watcher from "./daemon/Watcher.js"
import * as Destinations from "./destinations/Destinations.js"
import * as PartnerRouting from "./partners/Routing.js"
import type { Destination } from "./destinations/Destination.js"


/**
 * Start-up checks that must pass before the first file: folders usable, disk
 * space, and filesystems that keep the guarantees routing relies on (logged).
 */
export const layerStartupChecks = Layer.effectDiscard(
  Effect.gen(function*() {
    const checks = yield* FolderChecks.FolderChecks
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

/** What an added destination may use: the settings, the filesystem and the Masker. */
export type DestinationNeeds = AppConfig | FileSystem.FileSystem | FileOps | Masker.Masker

/**
 * The daemon's own machinery (the Pipeline, its Watcher and status server,
 * the file store and its destinations, instances, start-up checks) with the
 * `added` destinations beside the built-in folders, over the services an
 * application may swap — its ports: `AppConfig`, the filesystem
 * (`FileSystem`, `FileOps`, `SyscallMode`), `Notifier`, `Contract`, `Masker`
 * and `Activity`. Each port is required, never built here: whatever layer
 * provides it is the one every part uses.
 */
export const layerDaemonWith = (added: ReadonlyArray<Layer.Layer<Destination, never, DestinationNeeds>>) =>
  Layer.mergeAll(Pipeline.layer, Watcher.layer, HealthServer.layer).pipe(
    Layer.provideMerge(ClaimReleaser.layer),
    Layer.provideMerge(Instance.layer),
    Layer.provideMerge(layerStartupChecks),
    Layer.provideMerge(FolderChecks.layer),
    Layer.provideMerge(Destinations.layer(added)),
    Layer.provideMerge(Layer.mergeAll(FileStore.layer, OffThreadJudge.layer, Status.layer))
  )

/**
 * The daemon's own machinery with the built-in destinations only
 * (`layerDaemonWith([])`). `layerWith` and `layerMemory` below provide its ports,
 * with any of them swapped.
 */
export const layerDaemon = layerDaemonWith([])

/**
 * Notifications as configured: a webhook when NOTIFY_WEBHOOK_URL is set, SMTP
 * when SMTP_SERVER is set, otherwise `.eml` files in LOG_DIR/outbox/ — or
 * `delivery` when given. All of them batched, rate-limited and masked by
 * `BatchingNotifier.layer`.
 */
const notifierFromConfig = (
  delivery?: Layer.Layer<Delivery, never, AppConfig | Outbox.Outbox | FileSystem.FileSystem | Masker.Masker>
): Layer.Layer<Notifier, never, AppConfig | FileSystem.FileSystem | Masker.Masker | Activity.Activity> =>
  Layer.unwrapEffect(
    Effect.map(AppConfig, (settings) => {
      const configured: Layer.Layer<Delivery, never, AppConfig | Outbox.Outbox | FileSystem.FileSystem | Masker.Masker> = delivery ??
        (Option.isSome(settings.email.webhookUrl)
          ? WebhookDelivery.layer().pipe(Layer.provide(FetchHttpClient.layer))
          : Option.isSome(settings.email.smtpServer)
          ? SmtpDelivery.layer()
          : Outbox.layerDelivery)
      return BatchingNotifier.layer().pipe(Layer.provide(configured), Layer.provideMerge(Outbox.layer))
    })
  )

/**
 * Ports to swap, each a layer (any left out is the built-in one). A swapped
 * port is the one every part of the daemon uses: a `masker` masks the logs'
 * callers, the reports, the status page and the notifications alike; a
 * `delivery` is a channel under the built-in Notifier (batched, rate-limited,
 * masked, with the outbox as its fallback), while a `notifier` replaces it
 * (its events come unmasked: see Notifier). `destinations` are added beside
 * the validated and returns folders: each gets every judged file of the
 * verdicts it receives, before the file is stored (see Destination).
 */
export interface Swaps {
  readonly contract?: Layer.Layer<Contract.Contract, never, AppConfig>
  readonly masker?: Layer.Layer<Masker.Masker>
  readonly notifier?: Layer.Layer<Notifier, never, AppConfig | FileSystem.FileSystem | Masker.Masker | Activity.Activity>
  readonly delivery?: Layer.Layer<Delivery, never, AppConfig | Outbox.Outbox | FileSystem.FileSystem | Masker.Masker>
  readonly activity?: Layer.Layer<Activity.Activity>
  readonly destinations?: ReadonlyArray<Layer.Layer<Destination, never, DestinationNeeds>>
}

/**
 * The daemon over `filesystem` (FileSystem, FileOps and its SyscallMode), its
 * ports in dependency order (the Notifier over the Masker and Activity, all
 * of them over the filesystem), each the swapped one if given. `layerWith` and
 * `layerMemory` are this over Node's filesystem and over an in-memory one.
 */
export const layerOver = <R>(filesystem: Layer.Layer<FileSystem.FileSystem | FileOps | SyscallMode.SyscallMode, never, R>, swaps: Swaps) => {
  const masking = Layer.mergeAll(swaps.masker ?? Masker.layer, swaps.activity ?? Activity.layer)
  const notifier = swaps.notifier ?? notifierFromConfig(swaps.delivery)
  return (swaps.destinations === undefined ? layerDaemon : layerDaemonWith(swaps.destinations)).pipe(
    // The notifier is built before the daemon and closed after it: its last batch goes out at shutdown.
    Layer.provideMerge(notifier),
    Layer.provideMerge(Layer.mergeAll(swaps.contract ?? Contract.layer, masking)),
    // The partners (PARTNERS_FILE): where files come from and go; none set, DATA_DIR and RETURNS_DIR.
    Layer.provideMerge(PartnerRouting.layerFromConfig),
    Layer.provideMerge(filesystem)
  )
}

/**
 * The daemon as `node dist/main.js` runs it: Node's filesystem, its calls
 * made as FS_CALLS and the folders' filesystems say, notifications as
 * configured; given `AppConfig` and the platform's `FileSystem` (NodeContext).
 */
export const layerWith = (swaps: Swaps = {}) => layerOver(SyscallMode.layer, swaps)

/** The daemon as `node dist/main.js` runs it, nothing swapped: `layerWith()`. */
export const layer = layerWith()

/**
 * The daemon over an in-memory filesystem (MemoryFileSystem.make), for tests
 * of one's own pipeline: given `AppConfig` (Config.layerFixed). Under
 * effect's TestClock "today" is 1970-01-01 until the test sets the clock (see
 * MemoryFileSystem.make).
 */
export const layerMemory = (memory: MemoryFileSystem, swaps: Swaps = {}) => layerOver(memory.layer, swaps)

/** Notifications as configured (see `Swaps`' `delivery` to add a channel of one's own). */
export const layerNotifier = notifierFromConfig()
