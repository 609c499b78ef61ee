/**
 * SMTP delivery through one pooled nodemailer transport. Timeouts are
 * seconds, not nodemailer's minutes, and every send has an overall deadline;
 * 5xx replies and authentication failures are permanent, everything else
 * (refused, reset, timed out, 4xx) is transient.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Nodemailer from "nodemailer"
import { AppConfig } from "../Config.js"
import { Delivery, DeliveryError } from "./Delivery.js"
import type { Outgoing } from "./NotificationMessage.js"
import { receiversOf, senderOf } from "./Outbox.js"

export interface SmtpTimeouts {
  readonly connectionMs: number
  readonly greetingMs: number
  readonly socketMs: number
  /** overall deadline for one send */
  readonly sendMs: number
}

export const DEFAULT_TIMEOUTS: SmtpTimeouts = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000, sendMs: 60_000 }

interface MailError {
  readonly code?: unknown
  readonly responseCode?: unknown
  readonly message?: unknown
}

/**
 * The password as it travels: as given, and base64-encoded as AUTH LOGIN and
 * AUTH PLAIN send it. A server's reply may quote any of them.
 */
export const passwordForms = (user: string, password: string): ReadonlyArray<string> =>
  password === ""
    ? []
    : [password, Buffer.from(password, "utf8").toString("base64"), Buffer.from(`\u0000${user}\u0000${password}`, "utf8").toString("base64")]

const withoutSecrets = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((t, secret) => t.split(secret).join("<redacted>"), text)

/**
 * Permanent: a 5xx reply or failed authentication. Anything else may pass on a
 * later try. `secrets` (see passwordForms) never appear in the reason, which
 * is logged and kept in the outbox.
 */
export const classify = (error: unknown, secrets: ReadonlyArray<string> = []): DeliveryError => {
  const e = (typeof error === "object" && error !== null ? error : {}) as MailError
  const responseCode = typeof e.responseCode === "number" ? e.responseCode : undefined
  const code = typeof e.code === "string" ? e.code : undefined
  const permanent = (responseCode !== undefined && responseCode >= 500) || code === "EAUTH"
  const detail = responseCode !== undefined ? `SMTP ${responseCode}` : code ?? "error"
  // The server's reply text may quote addresses: the notifier masks what it logs.
  const text = typeof e.message === "string" ? withoutSecrets(e.message.split("\n")[0]!, secrets).slice(0, 200) : ""
  return new DeliveryError({ permanent, reason: `${detail}${text !== "" ? `: ${text}` : ""}` })
}

export const DeliverySmtp = (timeouts: SmtpTimeouts = DEFAULT_TIMEOUTS): Layer.Layer<Delivery, never, AppConfig> =>
  Layer.scoped(
    Delivery,
    Effect.gen(function*() {
      const settings = yield* AppConfig
      const email = settings.email
      const host = Option.getOrElse(email.smtpServer, () => "localhost")
      const user = Option.getOrElse(email.smtpUser, () => senderOf(settings))
      const transport = yield* Effect.acquireRelease(
        Effect.sync(() =>
          Nodemailer.createTransport({
            pool: true,
            maxConnections: 2,
            host,
            port: email.smtpPort,
            secure: email.smtpSecure,
            connectionTimeout: timeouts.connectionMs,
            greetingTimeout: timeouts.greetingMs,
            socketTimeout: timeouts.socketMs,
            ...(Option.isSome(email.password) ? { auth: { user, pass: Redacted.value(email.password.value) } } : {})
          })
        ),
        // Closing the pool ends idle and busy connections alike, so the process can exit.
        (t) => Effect.sync(() => t.close())
      )
      const secrets = Option.match(email.password, { onNone: () => [], onSome: (p) => passwordForms(user, Redacted.value(p)) })
      const fail = (error: unknown) => classify(error, secrets)
      const from = senderOf(settings)
      const to = receiversOf(settings)
      const deliver = (message: Outgoing) =>
        Effect.tryPromise({
          try: () => transport.sendMail({ from, to, subject: message.subject, text: message.text, headers: { "X-Customer-Json-Kind": message.kind } }),
          catch: fail
        }).pipe(
          Effect.timeoutFail({
            duration: timeouts.sendMs,
            onTimeout: () => new DeliveryError({ permanent: false, reason: `no answer within ${timeouts.sendMs} ms` })
          }),
          Effect.asVoid
        )
      const verify = Effect.tryPromise({ try: () => transport.verify(), catch: fail }).pipe(
        Effect.timeoutFail({
          duration: timeouts.sendMs,
          onTimeout: () => new DeliveryError({ permanent: false, reason: `no answer within ${timeouts.sendMs} ms` })
        }),
        Effect.asVoid
      )
      return Delivery.of({ target: `smtp ${host}:${email.smtpPort}`, deliver, verify })
    })
  )
