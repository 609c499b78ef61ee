/**
 * The Notifier: how administrators hear about rejected files and critical
 * errors. The pipeline only talks to this Tag; the email and webhook layers
 * plug in here. Notifying never fails and never blocks the caller for long.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ClearedEvent, CriticalEvent, RejectedFile } from "../events/Notifications.js"

export type { ClearedEvent, CriticalEvent, RejectedFile } from "../events/Notifications.js"

/**
 * How the daemon tells administrators: called once per returned file and per
 * critical error. It must not fail and must not hold the caller for long
 * (queue, then send in a fiber of its own), as `BatchingNotifier.layer` does.
 */
export interface NotifierService {
  readonly fileRejected: (event: RejectedFile) => Effect.Effect<void>
  readonly critical: (event: CriticalEvent) => Effect.Effect<void>
  /**
   * Sends what is queued now, without waiting out a batch window (within
   * SHUTDOWN_TIMEOUT_MS; what cannot be sent is kept as at shutdown). The
   * daemon calls it as it stops, so that its notifications are said before
   * its last line. Optional: a notifier that queues nothing needs none.
   */
  readonly flush?: Effect.Effect<void>
  /**
   * A critical condition cleared: an all-clear goes to whoever was told of it
   * (none for a condition whose critical was never sent). Optional, so that a
   * notifier of one's own written before it still plugs in (it hears none).
   */
  readonly cleared?: ((event: ClearedEvent) => Effect.Effect<void>) | undefined
}

/** Tells `notifier` that a critical condition cleared, if it listens for that. */
export const notifyCleared = (notifier: NotifierService, event: ClearedEvent): Effect.Effect<void> =>
  notifier.cleared === undefined ? Effect.void : notifier.cleared(event)

/**
 * How administrators hear about rejected files and critical errors.
 *
 * A Notifier of your own receives the events **unmasked** (file names, error
 * paths, details as they are): masking is then its job. Mask every text it
 * writes out with the `Masker` service (`(yield* Masker.Masker).text(event.file)`),
 * as `BatchingNotifier.layer` does, or log it through Effect's logger (which the daemon's
 * logging layer masks). To add a channel only, provide a `Delivery` under
 * `BatchingNotifier.layer` instead: its messages arrive masked.
 */
export class Notifier extends Context.Tag("customer-json/Notifier")<Notifier, NotifierService>() {}

/** Records notifications in the log only: the default until a mail transport is configured. */
export const layerLogOnly: Layer.Layer<Notifier> = Layer.succeed(Notifier, {
  fileRejected: (event) =>
    Effect.logInfo("notification: file rejected").pipe(
      Effect.annotateLogs({ file: event.file, stored_as: event.storedAs, error_count: event.errorCount })
    ),
  critical: (event) =>
    Effect.logError(`notification: CRITICAL: ${event.summary}`).pipe(Effect.annotateLogs({ detail: event.detail })),
  cleared: (event) =>
    Effect.logInfo(`notification: all clear: ${event.summary}`).pipe(Effect.annotateLogs({ detail: event.detail }))
})
