/**
 * A worked example of extending the daemon with a layer of one's own:
 * notifications as JSON POSTs to NOTIFY_WEBHOOK_URL, through @effect/platform's
 * HttpClient. It is only a Delivery: batching, rate limits, retries, masking
 * and the outbox fallback come from the same `BatchingNotifier.layer` as email.
 *
 * The body: `{ kind, subject, text, files: [{ file, stored_as, error_count }], more, sent_at }`.
 * 2xx is delivered; 408, 429 and 5xx are retried; other 4xx are permanent.
 *
 * The URL's path, query and userinfo are often its credential: no target,
 * failure reason or log line ever shows more than `scheme://host[:port]/…`.
 *
 * @module
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { AppConfig, urlForLog } from "../../Config.js"
import { Delivery, DeliveryError } from "../Delivery.js"
import type { Outgoing } from "../NotificationMessage.js"

const decodeComponent = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text // a stray `%`: the characters as written
  }
}

/**
 * The URL to post to and its Authorization header. `fetch` refuses a URL with
 * userinfo (`https://user:pass@host/…`), so the userinfo goes into a Basic
 * Authorization header instead (a header the HTTP client redacts in its
 * traces), and the URL is posted without it.
 */
export const webhookRequestTarget = (text: string): { readonly url: string; readonly authorization: string | undefined } => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { url: text, authorization: undefined } // the client reports it as an InvalidUrl failure
  }
  if (url.username === "" && url.password === "") return { url: text, authorization: undefined }
  const credentials = `${decodeComponent(url.username)}:${decodeComponent(url.password)}`
  url.username = ""
  url.password = ""
  return { url: url.href, authorization: `Basic ${Buffer.from(credentials, "utf8").toString("base64")}` }
}

/** A system error code (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`) somewhere down a cause chain. */
const errorCode = (cause: unknown, depth = 0): string | undefined => {
  if (typeof cause !== "object" || cause === null || depth > 4) return undefined
  const code = "code" in cause ? cause.code : undefined
  if (typeof code === "string" && /^[A-Z][A-Z0-9_]*$/.test(code)) return code
  return errorCode("cause" in cause ? cause.cause : undefined, depth + 1)
}

/**
 * Why a request failed, for a person: the kind of failure and the system error
 * code. Never the error's message, which names the method and the full URL.
 */
export const requestFailure = (error: HttpClientError.HttpClientError): string => {
  const code = errorCode(error.cause)
  return `request failed (${error.reason}${code !== undefined ? ` ${code}` : ""})`
}

/** Delivery as JSON POSTs to NOTIFY_WEBHOOK_URL through @effect/platform's `HttpClient` (provide one, e.g. `FetchHttpClient.layer`). */
export const layer = (timeoutMs = 30_000): Layer.Layer<Delivery, never, AppConfig | HttpClient.HttpClient> =>
  Layer.effect(
    Delivery,
    Effect.gen(function*() {
      const settings = yield* AppConfig
      const client = yield* HttpClient.HttpClient
      const url = Option.getOrElse(settings.email.webhookUrl, () => "http://localhost/")

      const target = webhookRequestTarget(url)
      const request = target.authorization === undefined
        ? HttpClientRequest.post(target.url)
        : HttpClientRequest.post(target.url).pipe(HttpClientRequest.setHeader("Authorization", target.authorization))

      const post = (body: unknown) =>
        client.execute(request.pipe(HttpClientRequest.bodyUnsafeJson(body))).pipe(
          Effect.scoped,
          Effect.mapError((e) => new DeliveryError({ permanent: false, reason: requestFailure(e) })),
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
        Effect.flatMap(Clock.currentTimeMillis, (now) => post({
          kind: message.kind,
          subject: message.subject,
          text: message.text,
          files: message.files.map((f) => ({ file: f.file, stored_as: f.storedAs, error_count: f.errorCount })),
          more: message.more,
          ...(message.partner === undefined ? {} : { partner: message.partner, to: message.to ?? [] }),
          sent_at: new Date(now).toISOString()
        }))

      return Delivery.of({ target: `webhook ${urlForLog(url)}`, deliver, verify: Effect.void })
    })
  )
