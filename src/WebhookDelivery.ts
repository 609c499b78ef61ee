/**
 * A worked example of extending the daemon with a layer of one's own:
 * notifications as JSON POSTs to NOTIFY_WEBHOOK_URL, through @effect/platform's
 * HttpClient. It is only a Delivery: batching, rate limits, retries, masking
 * and the outbox fallback come from the same NotifierLive as email.
 *
 * The body: `{ kind, subject, text, files: [{ file, stored_as, error_count }], more, sent_at }`.
 * 2xx is delivered; 408, 429 and 5xx are retried; other 4xx are permanent.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { AppConfig } from "./Config.js"
import { Delivery, DeliveryError } from "./Delivery.js"
import type { Outgoing } from "./NotificationMessage.js"

export const WebhookDelivery = (timeoutMs = 30_000): Layer.Layer<Delivery, never, AppConfig | HttpClient.HttpClient> =>
  Layer.effect(
    Delivery,
    Effect.gen(function*() {
      const settings = yield* AppConfig
      const client = yield* HttpClient.HttpClient
      const url = Option.getOrElse(settings.email.webhookUrl, () => "http://localhost/")
      const origin = (() => {
        try {
          return new URL(url).origin
        } catch {
          return "webhook"
        }
      })()

      const post = (body: unknown) =>
        client.execute(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson(body))).pipe(
          Effect.scoped,
          Effect.mapError((e) => new DeliveryError({ permanent: false, reason: `request failed: ${e._tag}` })),
          Effect.flatMap((response) => {
            const status = response.status
            if (status >= 200 && status < 300) return Effect.void
            const transient = status === 408 || status === 429 || status >= 500
            return Effect.fail(new DeliveryError({ permanent: !transient, reason: `HTTP ${status}` }))
          }),
          Effect.timeoutFail({
            duration: timeoutMs,
            onTimeout: () => new DeliveryError({ permanent: false, reason: `no answer within ${timeoutMs} ms` })
          })
        )

      const deliver = (message: Outgoing) =>
        post({
          kind: message.kind,
          subject: message.subject,
          text: message.text,
          files: message.files.map((f) => ({ file: f.file, stored_as: f.storedAs, error_count: f.errorCount })),
          more: message.more,
          sent_at: new Date().toISOString()
        })

      return Delivery.of({ target: `webhook ${origin}`, deliver, verify: Effect.void })
    })
  )
