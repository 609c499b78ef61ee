/**
 * A Delivery carries one composed notification somewhere: SMTP, the outbox
 * folder, a webhook. The batching Notifier (BatchingNotifier.ts) decides what and
 * when; a Delivery only says whether a failure is worth retrying.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type { Outgoing } from "./NotificationMessage.js"

export class DeliveryError extends Data.TaggedError("DeliveryError")<{
  /** a 5xx reply or an authentication failure: retrying will not help */
  readonly permanent: boolean
  readonly reason: string
}> {
  override get message(): string {
    return `${this.permanent ? "permanent" : "transient"} delivery failure: ${this.reason}`
  }
}

export interface DeliveryService {
  /** where messages go, for the logs: "smtp mail.example.com:587", "outbox logs/outbox", … */
  readonly target: string
  readonly deliver: (message: Outgoing) => Effect.Effect<void, DeliveryError>
  /** checks the connection at start; a failure is only a warning */
  readonly verify: Effect.Effect<void, DeliveryError>
}

export class Delivery extends Context.Tag("customer-json/Delivery")<Delivery, DeliveryService>() {}
