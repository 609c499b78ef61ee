/**
 * A Delivery carries one composed notification somewhere: SMTP, the outbox
 * folder, a webhook. The batching Notifier (BatchingNotifier.ts) decides what and
 * when; a Delivery only says whether a failure is worth retrying.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type { Outgoing } from "./NotificationMessage.js"

/** A notification that could not be delivered; `permanent` says whether retrying can help. */
export class DeliveryError extends Data.TaggedError("DeliveryError")<{
  /** a 5xx reply or an authentication failure: retrying will not help */
  readonly permanent: boolean
  readonly reason: string
}> {
  override get message(): string {
    return `${this.permanent ? "permanent" : "transient"} delivery failure: ${this.reason}`
  }
}

/**
 * One channel's delivery of a composed message. The message it is given is
 * masked already (by `BatchingNotifier.layer`); it need not mask again.
 */
export interface DeliveryService {
  /** where messages go, for the logs: "smtp mail.example.com:587", "outbox logs/outbox", … */
  readonly target: string
  /**
   * Delivers one message; where a copy of it is kept (a file of the outbox), that path, for the
   * "notification sent" line and the status page.
   */
  readonly deliver: (message: Outgoing) => Effect.Effect<string | void, DeliveryError>
  /** checks the connection at start; a failure is only a warning */
  readonly verify: Effect.Effect<void, DeliveryError>
}

/**
 * Where composed notifications go (SMTP, the outbox, a webhook, or a channel
 * of your own): provide one under `BatchingNotifier.layer`, which batches, rate-limits,
 * retries and masks for every Delivery alike.
 */
export class Delivery extends Context.Tag("customer-json/Delivery")<Delivery, DeliveryService>() {}
