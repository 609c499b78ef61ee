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
 *    (repeats are counted in the next report of it).
 *  - Sending runs in its own fiber: `fileRejected` and `critical` only queue.
 *  - Transient failures are retried with jittered exponential backoff for up
 *    to 15 minutes; a message that finally cannot be delivered is written to
 *    the outbox and logged at ERROR.
 *  - At shutdown what is queued is sent within SHUTDOWN_TIMEOUT_MS; what
 *    cannot be goes to the outbox.
 */
import type * as Duration from "effect/Duration"
import { Activity } from "../status/Activity.js" // status page
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import { AppConfig } from "../Config.js"
import { Delivery } from "./Delivery.js"
import type { DeliveryError } from "./Delivery.js"
import { Masker } from "../masking/Masker.js"
import { criticalMessage, FILES_PER_MESSAGE, rejectedMessage } from "./NotificationMessage.js"
import type { Outgoing } from "./NotificationMessage.js"
import type { CriticalEvent, RejectedFile } from "./Notifier.js"
import { Notifier } from "./Notifier.js"
import { Outbox } from "./Outbox.js"
import * as Metrics from "../status/Metrics.js"
import * as Metric from "effect/Metric"

const HOUR = 3_600_000
/** Rejected files kept to be named; beyond this they are only counted. */
const MAX_QUEUED_FILES = 100_000

export interface NotifierOptions {
  /** first retry delay (doubles each time, jittered) */
  readonly retryBase: Duration.DurationInput
  /** give up retrying after this long */
  readonly retryFor: Duration.DurationInput
}

export const DEFAULT_NOTIFIER_OPTIONS: NotifierOptions = { retryBase: "2 seconds", retryFor: "15 minutes" }

export const NotifierLive = (
  options: NotifierOptions = DEFAULT_NOTIFIER_OPTIONS
): Layer.Layer<Notifier, never, AppConfig | Delivery | Outbox | Masker> =>
  Layer.scoped(
    Notifier,
    Effect.gen(function*() {
      const settings = yield* AppConfig
      const delivery = yield* Delivery
      const outbox = yield* Outbox
      const masker = yield* Masker
      const activity = yield* Activity // status page
      const { batchWindowMs, maxPerHour } = settings.email
      const returnsDir = settings.returnsDir

      const pending: Array<RejectedFile> = []
      let overflow = 0
      let firstPendingAt: number | undefined
      const criticals: Array<{ event: CriticalEvent; repeats: number }> = []
      const criticalSentAt = new Map<string, number>()
      const suppressed = new Map<string, number>()
      const sentAt: Array<number> = []
      let sending: Outgoing | undefined
      const wake = yield* Queue.sliding<void>(1)

      const now = Clock.currentTimeMillis

      const allowanceWait = (t: number): number => {
        while (sentAt.length > 0 && sentAt[0]! <= t - HOUR) sentAt.shift()
        return sentAt.length < maxPerHour ? 0 : sentAt[0]! + HOUR - t
      }

      const hasWork = () => criticals.length > 0 || pending.length > 0 || overflow > 0

      /** The next message to send; `allowanceLeft` is how many more may go out this hour after it. */
      const nextMessage = (t: number, allowanceLeft: number): Outgoing => {
        const critical = criticals.shift()
        if (critical !== undefined) {
          criticalSentAt.set(critical.event.summary, t)
          return criticalMessage(critical.event, critical.repeats, masker.text)
        }
        const files = pending.splice(0, FILES_PER_MESSAGE)
        // Counted now, named later: the rest waits for the next allowed message.
        const more = overflow + (allowanceLeft <= 0 ? pending.length : 0)
        overflow = 0
        if (pending.length === 0) firstPendingAt = undefined
        return rejectedMessage(files, more, returnsDir, masker.text)
      }

      // The reason may quote a server's reply (addresses, names): masked like the message it goes with.
      const toOutbox = (message: Outgoing, reason: string) =>
        outbox.write(message, masker.text(reason)).pipe(
          Effect.tapBoth({ onSuccess: (path) => Effect.sync(() => activity.notification(message, "outbox", path)), onFailure: () => Effect.sync(() => activity.notification(message, "lost", reason)) }), // status page
          Effect.flatMap((path) =>
            Effect.logError("notification could not be delivered; it is kept in the outbox").pipe(
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

      const send = (message: Outgoing) =>
        delivery.deliver(message).pipe(
          Effect.tapBoth({ onSuccess: () => Effect.sync(() => activity.notification(message, "sent")), onFailure: (e) => Effect.sync(() => activity.notification(message, e.permanent ? "failed" : "retrying", e.reason)) }), // status page
          Effect.tapError((e: DeliveryError) =>
            e.permanent
              ? Effect.void
              : Effect.logWarning("notification not delivered yet; retrying").pipe(
                Effect.annotateLogs({ reason: masker.text(e.reason), target: delivery.target, subject: message.subject })
              )
          ),
          Effect.retry({ schedule: retrying, while: (e) => !e.permanent }),
          Effect.matchEffect({
            onFailure: (e) => Effect.zipRight(Metric.increment(Metrics.notificationsFailed), toOutbox(message, e.reason)),
            onSuccess: () =>
              Effect.zipRight(Metric.increment(Metrics.notificationsSent), Effect.logInfo("notification sent")).pipe(
                Effect.annotateLogs({ target: delivery.target, subject: message.subject, files: message.files.length, more: message.more })
              )
          })
        )

      const drain = Effect.gen(function*() {
        while (hasWork()) {
          const wait = allowanceWait(yield* now)
          if (wait > 0) yield* Effect.sleep(wait)
          const t = yield* now
          sentAt.push(t)
          const message = nextMessage(t, maxPerHour - sentAt.length)
          yield* Metric.set(Metrics.notificationsQueued, pending.length + overflow)
          sending = message
          activity.notification(message, "sending", delivery.target) // status page
          yield* send(message)
          sending = undefined
        }
      })

      const loop = Effect.forever(
        Effect.gen(function*() {
          yield* Queue.take(wake)
          // Critical errors go at once; rejected files wait out the batch window from the first.
          if (criticals.length === 0 && firstPendingAt !== undefined) {
            const wait = firstPendingAt + batchWindowMs - (yield* now)
            if (wait > 0) yield* Effect.sleep(wait)
          }
          yield* drain
        })
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
      const sender = yield* Effect.forkScoped(loop)

      // At shutdown: what is queued (and the message being sent) within the deadline, the rest to the outbox.
      yield* Effect.addFinalizer(() =>
        Effect.gen(function*() {
          yield* Fiber.interrupt(sender)
          const interrupted = sending
          const deadline = (yield* now) + settings.shutdownTimeoutMs
          const messages: Array<Outgoing> = interrupted !== undefined ? [interrupted] : []
          while (hasWork()) {
            const t = yield* now
            messages.push(nextMessage(t, allowanceWait(t) === 0 ? 1 : 0))
          }
          for (const message of messages) {
            const left = deadline - (yield* now)
            if (left <= 0 || allowanceWait(yield* now) > 0) {
              yield* toOutbox(message, "not sent before shutdown")
              continue
            }
            sentAt.push(yield* now)
            yield* delivery.deliver(message).pipe(
              Effect.timeoutFail({ duration: left, onTimeout: () => ({ reason: "shutdown deadline reached" }) }),
              Effect.matchEffect({
                onFailure: (e) => toOutbox(message, e.reason),
                onSuccess: () => Effect.logInfo("notification sent").pipe(Effect.annotateLogs({ target: delivery.target, subject: message.subject }))
              })
            )
          }
        })
      )

      const fileRejected = (event: RejectedFile) =>
        Effect.flatMap(now, (t) =>
          Effect.zipRight(
            Effect.sync(() => {
              if (pending.length < MAX_QUEUED_FILES) pending.push(event)
              else overflow++
              if (firstPendingAt === undefined) firstPendingAt = t
            }),
            Queue.offer(wake, undefined)
          ).pipe(Effect.zipRight(Metric.set(Metrics.notificationsQueued, pending.length + overflow))))

      const critical = (event: CriticalEvent) =>
        Effect.flatMap(now, (t) => {
          const last = criticalSentAt.get(event.summary)
          activity.critical(event, last !== undefined && t - last < HOUR) // status page
          if (last !== undefined && t - last < HOUR) {
            suppressed.set(event.summary, (suppressed.get(event.summary) ?? 0) + 1)
            return Effect.logDebug("critical notification already sent this hour").pipe(Effect.annotateLogs({ summary: event.summary }))
          }
          const queued = criticals.find((c) => c.event.summary === event.summary)
          if (queued !== undefined) queued.repeats++
          else {
            criticals.push({ event, repeats: suppressed.get(event.summary) ?? 0 })
            suppressed.delete(event.summary)
          }
          return Queue.offer(wake, undefined)
        })

      return Notifier.of({ fileRejected, critical: (e) => Effect.asVoid(critical(e)) })
    })
  )
