/**
 * The live Notifier: batches rejected files, rate-limits messages, retries
 * transient delivery failures, and never blocks or fails the caller.
 *
 *  - Rejected files arriving within EMAIL_BATCH_WINDOW_MS of the first go out
 *    together, up to 100 named per message.
 *  - At most EMAIL_MAX_PER_HOUR messages an hour; what exceeds it is counted
 *    in the last allowed message and named in the next one. Nothing is
 *    silently dropped: a failure is named in some message or counted in one.
 *  - A critical error goes out at once, the same one at most once an hour
 *    (repeats are counted in the next report of it); when it clears, an
 *    all-clear follows (see Batching). Both name the host and the instance.
 *  - Sending runs in its own fiber: `fileRejected` and `critical` only queue.
 *  - Transient failures are retried with jittered exponential backoff for up
 *    to 15 minutes; a message that finally cannot be delivered is written to
 *    the outbox and logged at ERROR.
 *  - At shutdown what is queued is sent within SHUTDOWN_TIMEOUT_MS; what
 *    cannot be goes to the outbox. `flush` does the same at once (the daemon
 *    calls it before its last line), and sending goes on after it.
 *
 * @module
 */
import type * as Duration from "effect/Duration"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as OS from "node:os"
import { AppConfig } from "../../Config.js"
import { Masker } from "../../masking/Masker.js"
import { Activity } from "../../status/Activity.js" // status page
import * as Metrics from "../../status/Metrics.js"
import * as Batching from "../Batching.js"
import { Delivery } from "../Delivery.js"
import { clearedMessage, criticalMessage, rejectedMessage } from "../NotificationMessage.js"
import type { Outgoing } from "../NotificationMessage.js"
import { Notifier } from "../Notifier.js"
import type { ClearedEvent } from "../Notifier.js"
import { Outbox } from "./Outbox.js"
import { PartnerRoutes } from "../../files/PartnerRoutes.js"
import { recipientsOf } from "../../partners/Routing.js"

/** How `layer` retries a transient delivery failure. */
export interface NotifierOptions {
  /** first retry delay (doubles each time, jittered) */
  readonly retryBase: Duration.DurationInput
  /** give up retrying after this long */
  readonly retryFor: Duration.DurationInput
}

/** The daemon's retries: from 2 seconds, doubling, for up to 15 minutes. */
export const DEFAULT_NOTIFIER_OPTIONS: NotifierOptions = { retryBase: "2 seconds", retryFor: "15 minutes" }

/** How one message is sent: retried while running; at shutdown one attempt within what is left of the deadline. */
type SendPolicy = { readonly _tag: "Retrying" } | { readonly _tag: "Within"; readonly millis: number }

/**
 * The live Notifier over a `Delivery`: batches rejected files, rate-limits
 * (EMAIL_MAX_PER_HOUR), retries, falls back to the `Outbox`, and masks every
 * text of a message with the `Masker` before the Delivery sees it.
 */
export const layer = (
  options: NotifierOptions = DEFAULT_NOTIFIER_OPTIONS
): Layer.Layer<Notifier, never, AppConfig | Delivery | Outbox | Masker | Activity> =>
  Layer.scoped(
    Notifier,
    Effect.gen(function*() {
      const settings = yield* AppConfig
      const delivery = yield* Delivery
      const outbox = yield* Outbox
      const masker = yield* Masker
      const activity = yield* Activity // status page
      const { batchWindowMs, maxPerHour } = settings.email
      const now = Clock.currentTimeMillis

      const state = yield* Ref.make(Batching.initial)
      /** The message being sent, if any: sent again at shutdown when its sending is interrupted. */
      const inFlight = yield* Ref.make<Outgoing | undefined>(undefined)
      const wake = yield* Queue.sliding<void>(1)

      // Critical mail and all-clears name the host (and the instance the event came from).
      const host = OS.hostname()
      // A partner's returned files (PARTNERS_FILE): its returns folder, and its recipients.
      const routes = yield* PartnerRoutes
      const rejected = (next: Extract<Batching.Next, { readonly _tag: "Rejected" }>): Outgoing => {
        const partner = next.partner === undefined ? undefined : routes.partner(next.partner)
        if (partner === undefined) return rejectedMessage(next.files, next.more, settings.returnsDir, masker.text)
        const to = recipientsOf(partner, settings.email.receivers)
        return { ...rejectedMessage(next.files, next.more, partner.returns, masker.text), partner: partner.id, ...(to.length > 0 ? { to } : {}) }
      }
      const format = (next: Batching.Next): Outgoing =>
        next._tag === "Critical"
          ? criticalMessage(next.event, next.repeats, masker.text, { host, more: next.more, cleared: next.cleared })
          : next._tag === "Cleared"
          ? clearedMessage(next.events, next.more, masker.text, host)
          : rejected(next)

      const gaugeQueued = Effect.flatMap(Ref.get(state), (s) => Metric.set(Metrics.notificationsQueued, Batching.queued(s)))

      // The reason may quote a server's reply (addresses, names): masked like the message it goes with.
      /**
       * Keeps a message in the outbox: at ERROR when its delivery failed; at WARN when it was
       * only held back (EMAIL_MAX_PER_HOUR) as the daemon stopped, which is the policy working.
       */
      const toOutbox = (message: Outgoing, reason: string, heldBack = false) =>
        outbox.write(message, masker.text(reason)).pipe(
          Effect.tapBoth({ onSuccess: (path) => Effect.sync(() => activity.notification(message, "outbox", path)), onFailure: () => Effect.sync(() => activity.notification(message, "lost", reason)) }), // status page
          Effect.flatMap((path) =>
            (heldBack
              ? Effect.logWarning("notification held back by EMAIL_MAX_PER_HOUR when the daemon stopped; it is kept in the outbox")
              : Effect.logError("notification could not be delivered; it is kept in the outbox")).pipe(
                Effect.annotateLogs({ reason: masker.text(reason), path, subject: message.subject, target: delivery.target })
              )
          ),
          Effect.catchAll((e) =>
            Effect.logError("notification could not be delivered nor kept in the outbox").pipe(
              Effect.annotateLogs({ reason: masker.text(reason), outbox_error: e.reason, subject: message.subject, body: message.text })
            )
          )
        )

      const retrying = Schedule.exponential(options.retryBase, 2).pipe(Schedule.jittered, Schedule.upTo(options.retryFor))

      /** The one send path: deliver, retry or bound it as the policy says, and keep what fails in the outbox. */
      const send = (message: Outgoing, policy: SendPolicy) => {
        const retries = policy._tag === "Retrying"
        const attempt = delivery.deliver(message).pipe(
          Effect.tapBoth({ onSuccess: (kept) => Effect.sync(() => activity.notification(message, "sent", typeof kept === "string" ? kept : undefined)), onFailure: (e) => Effect.sync(() => activity.notification(message, e.permanent || !retries ? "failed" : "retrying", e.reason)) }), // status page
          Effect.tapError((e) =>
            e.permanent || !retries
              ? Effect.void
              : Effect.logWarning("notification not delivered yet; retrying").pipe(
                Effect.annotateLogs({ reason: masker.text(e.reason), target: delivery.target, subject: message.subject })
              )
          )
        )
        const delivered: Effect.Effect<void, { readonly reason: string }> = policy._tag === "Retrying"
          ? Effect.retry(attempt, { schedule: retrying, while: (e) => !e.permanent })
          : Effect.timeoutFail(attempt, { duration: policy.millis, onTimeout: () => ({ reason: "shutdown deadline reached" }) })
        return Effect.sync(() => activity.notification(message, "sending", delivery.target)).pipe( // status page
          Effect.zipRight(delivered),
          Effect.matchEffect({
            onFailure: (e) => Effect.zipRight(Metric.increment(Metrics.notificationsFailed), toOutbox(message, e.reason)),
            // One line per message, with the file it was kept in, if any (the outbox).
            onSuccess: (kept) =>
              Effect.zipRight(Metric.increment(Metrics.notificationsSent), Effect.logInfo("notification sent")).pipe(
                Effect.annotateLogs({
                  target: delivery.target,
                  ...(typeof kept === "string" ? { path: kept } : {}),
                  subject: message.subject,
                  files: message.files.length,
                  more: message.more
                })
              )
          })
        )
      }

      /** Sends what waits, one message at a time, as the hour's allowance lets it. */
      const drain: Effect.Effect<void> = Effect.gen(function*() {
        while (Batching.hasWork(yield* Ref.get(state))) {
          const wait = Batching.allowanceWait(yield* Ref.get(state), maxPerHour, yield* now)
          if (wait > 0) yield* Effect.sleep(wait)
          const t = yield* now
          const message = format(yield* Ref.modify(state, (s) => Batching.takeNext(s, maxPerHour, t)))
          yield* gaugeQueued
          yield* Ref.set(inFlight, message)
          yield* send(message, { _tag: "Retrying" })
          yield* Ref.set(inFlight, undefined)
        }
      })

      // Critical errors go at once; rejected files wait out the batch window from the first.
      const loop = Effect.forever(
        Queue.take(wake).pipe(
          Effect.zipRight(Effect.flatMap(Effect.zip(Ref.get(state), now), ([s, t]) => {
            const wait = Batching.batchWait(s, batchWindowMs, t)
            return wait > 0 ? Effect.sleep(wait) : Effect.void
          })),
          Effect.zipRight(drain)
        )
      )

      yield* delivery.verify.pipe(
        Effect.tap(() => Effect.logDebug("notification target reachable").pipe(Effect.annotateLogs({ target: delivery.target }))),
        Effect.catchAll((e) =>
          Effect.logWarning("notification target not reachable at start; notifications will be retried").pipe(
            Effect.annotateLogs({ target: delivery.target, reason: masker.text(e.reason) })
          )
        ),
        Effect.forkScoped
      )
      const scope = yield* Effect.scope
      const sender = yield* Ref.make(yield* Effect.forkScoped(loop))
      const oneAtATime = yield* Effect.makeSemaphore(1)

      // At shutdown (and on `flush`): what is queued (and the message being sent) within the deadline, the rest to the outbox.
      const sendAllNow = oneAtATime.withPermits(1)(
        Effect.gen(function*() {
          yield* Fiber.interrupt(yield* Ref.get(sender))
          const start = yield* now
          const deadline = start + settings.shutdownTimeoutMs
          const interrupted = yield* Ref.get(inFlight)
          const waiting = yield* Ref.modify(state, (s) => Batching.takeAll(s, maxPerHour, start))
          const messages = [...(interrupted !== undefined ? [interrupted] : []), ...waiting.map(format)]
          for (const message of messages) {
            const t = yield* now
            if (t >= deadline) {
              yield* toOutbox(message, "not sent before shutdown: SHUTDOWN_TIMEOUT_MS ran out")
              continue
            }
            if (Batching.allowanceWait(yield* Ref.get(state), maxPerHour, t) > 0) {
              yield* toOutbox(message, `over EMAIL_MAX_PER_HOUR (${maxPerHour}) at shutdown`, true)
              continue
            }
            yield* Ref.update(state, (s) => Batching.recordSent(s, t))
            yield* send(message, { _tag: "Within", millis: deadline - t })
          }
        })
      )
      yield* Effect.addFinalizer(() => sendAllNow)
      // What is queued after a flush is sent as usual: by a new sender, closed with the layer. Interruptible
      // whatever the caller is (the daemon flushes in a finalizer): an uninterruptible sender would hang the close.
      const flush = Effect.zipRight(sendAllNow, Effect.flatMap(Effect.forkIn(Effect.interruptible(loop), scope), (fiber) => Ref.set(sender, fiber)))

      const fileRejected: Notifier["Type"]["fileRejected"] = (event) =>
        Effect.flatMap(now, (t) => Ref.update(state, (s) => Batching.addRejected(s, event, t))).pipe(
          Effect.zipRight(Queue.offer(wake, undefined)),
          Effect.zipRight(gaugeQueued)
        )

      const critical: Notifier["Type"]["critical"] = (event) =>
        Effect.flatMap(now, (t) => Ref.modify(state, (s) => {
          const { state: next, suppressed } = Batching.addCritical(s, event, t)
          return [suppressed, next]
        })).pipe(
          Effect.tap((suppressed) => Effect.sync(() => activity.critical(event, suppressed))), // status page
          Effect.flatMap((suppressed) =>
            suppressed
              ? Effect.logDebug("critical notification already sent this hour").pipe(Effect.annotateLogs({ summary: event.summary }))
              : Queue.offer(wake, undefined)
          ),
          Effect.zipRight(gaugeQueued),
          Effect.asVoid
        )

      const cleared = (event: ClearedEvent): Effect.Effect<void> =>
        Ref.modify(state, (s) => {
          const { state: next, notify } = Batching.addCleared(s, event)
          return [notify, next]
        }).pipe(
          Effect.tap(() => Effect.sync(() => activity.cleared(event))), // status page
          Effect.flatMap((notify) => (notify ? Queue.offer(wake, undefined) : Effect.void)),
          Effect.zipRight(gaugeQueued),
          Effect.asVoid
        )

      return Notifier.of({ fileRejected, critical, cleared, flush })
    })
  )
