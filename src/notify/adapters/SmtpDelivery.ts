/**
 * SMTP delivery through one pooled nodemailer transport. Timeouts are
 * seconds, not nodemailer's minutes, and every send has an overall deadline;
 * 5xx replies and authentication failures are permanent, everything else
 * (refused, reset, timed out, 4xx) is transient.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Nodemailer from "nodemailer"
import { AppConfig } from "../../Config.js"
import { Delivery, DeliveryError } from "../Delivery.js"
import type { Outgoing } from "../NotificationMessage.js"
import { receiversOf, senderOf } from "./Outbox.js"

/** The SMTP transport's timeouts, in milliseconds. */
export interface SmtpTimeouts {
  readonly connectionMs: number
  readonly greetingMs: number
  readonly socketMs: number
  /** overall deadline for one send */
  readonly sendMs: number
}

/** The daemon's SMTP timeouts: 10 s to connect and greet, 30 s of socket silence, 60 s a send. */
export const DEFAULT_TIMEOUTS: SmtpTimeouts = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000, sendMs: 60_000 }

interface MailError {
  readonly code?: unknown
  readonly responseCode?: unknown
  readonly message?: unknown
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

/**
 * The base64 characters that encode `secret` wherever it sits in a longer
 * encoded text: one form for each of its three possible offsets, without the
 * characters it shares with its neighbours (the way log maskers find a
 * base64-encoded secret). Empty for a secret too short to give one.
 */
const base64Cores = (secret: string): ReadonlyArray<string> =>
  [0, 1, 2].map((offset) => {
    const encoded = base64(`${"\u0000".repeat(offset)}${secret}`).replace(/=+$/, "")
    const bytes = offset + Buffer.byteLength(secret, "utf8")
    // Leading characters mixing the padding with the secret, and a trailing partial group, differ by neighbour.
    const start = offset === 0 ? 0 : Math.ceil((offset * 4) / 3)
    const end = bytes % 3 === 0 ? encoded.length : Math.floor((bytes * 4) / 3)
    return encoded.slice(start, end)
  }).filter((core) => core.length >= 8)

/**
 * The password in every form a server's reply may quote it: as given,
 * URL-encoded, and base64-encoded as AUTH LOGIN (the password alone) and AUTH
 * PLAIN (`\0user\0password`, or `user\0password` without the leading NUL) send
 * it, each with and without its `=` padding, plus the base64 of the password at
 * any offset of a longer encoded text. Longest first, so that a padded form
 * goes whole before its unpadded prefix.
 */
export const passwordForms = (user: string, password: string): ReadonlyArray<string> => {
  if (password === "") return []
  const urlEncoded = encodeURIComponent(password)
  const encoded = [password, `\u0000${user}\u0000${password}`, `${user}\u0000${password}`].map(base64)
  const forms = new Set<string>([
    password,
    urlEncoded,
    // percent-escapes in lower case, and a form's spaces as `+`
    urlEncoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    new URLSearchParams({ p: password }).toString().slice(2),
    ...encoded,
    ...encoded.map((e) => e.replace(/=+$/, "")),
    ...base64Cores(password)
  ])
  return [...forms].filter((form) => form !== "").sort((a, b) => b.length - a.length)
}

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

/** Delivery by SMTP to SMTP_SERVER (EMAIL_SENDER to EMAIL_RECEIVER), one pooled transport for the layer's lifetime. */
export const layer = (timeouts: SmtpTimeouts = DEFAULT_TIMEOUTS): Layer.Layer<Delivery, never, AppConfig> =>
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
      // The Date header by effect's Clock (nodemailer would take the wall clock's).
      const deliver = (message: Outgoing) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.tryPromise({
            try: () =>
              transport.sendMail({
                from,
                // A partner's returned files go to its recipients (PARTNERS_FILE), the rest to EMAIL_RECEIVER.
                to: message.to === undefined ? to : message.to.join(", "),
                subject: message.subject,
                text: message.text,
                date: new Date(now),
                headers: { "X-Customer-Json-Kind": message.kind }
              }),
            catch: fail
          })
        ).pipe(
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
