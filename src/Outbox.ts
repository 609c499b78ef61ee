/**
 * The outbox: each message as a complete `.eml` file in `LOG_DIR/outbox/`,
 * built by nodemailer's MailComposer without sending anything. It is the
 * default Delivery when no SMTP server is configured, and where a message
 * goes when it finally cannot be sent, so no notification is lost.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import MailComposer from "nodemailer/lib/mail-composer"
import * as Path from "node:path"
import { AppConfig } from "./Config.js"
import type { Settings } from "./Config.js"
import { Delivery, DeliveryError } from "./Delivery.js"
import type { Outgoing } from "./NotificationMessage.js"
import { compactTimestamp } from "./Naming.js"

export interface OutboxService {
  readonly dir: string
  /** Writes the message; returns the file's path. */
  readonly write: (message: Outgoing, note?: string) => Effect.Effect<string, DeliveryError>
}

export class Outbox extends Context.Tag("customer-json/Outbox")<Outbox, OutboxService>() {}

export const senderOf = (settings: Settings) => Option.getOrElse(settings.email.sender, () => "customer-json-processor@localhost")
export const receiversOf = (settings: Settings) =>
  settings.email.receivers.length > 0 ? settings.email.receivers.join(", ") : "administrators@localhost"

/** The RFC 5322 message, as nodemailer would send it. */
export const buildEml = (message: Outgoing, from: string, to: string, date: Date, note?: string): Promise<Buffer> =>
  new MailComposer({
    from,
    to,
    subject: message.subject,
    text: message.text,
    date,
    headers: { "X-Customer-Json-Kind": message.kind, ...(note !== undefined ? { "X-Customer-Json-Undelivered": note.replace(/[\r\n]+/g, " ") } : {}) }
  }).compile().build()

let seq = 0

export const OutboxLive: Layer.Layer<Outbox, never, AppConfig | FileSystem.FileSystem> = Layer.effect(
  Outbox,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const settings = yield* AppConfig
    const dir = Path.join(settings.logDir, "outbox")
    const write = (message: Outgoing, note?: string) =>
      Effect.gen(function*() {
        const now = new Date()
        const eml = yield* Effect.promise(() => buildEml(message, senderOf(settings), receiversOf(settings), now, note))
        yield* fs.makeDirectory(dir, { recursive: true })
        const name = `${compactTimestamp(now)}-${process.pid}-${++seq}-${message.kind}.eml`
        // Written under a hidden name, then renamed: a reader never sees half a message.
        const temp = Path.join(dir, `.${name}.tmp`)
        yield* fs.writeFile(temp, eml)
        yield* fs.rename(temp, Path.join(dir, name))
        return Path.join(dir, name)
      }).pipe(Effect.mapError((e) => new DeliveryError({ permanent: false, reason: `cannot write to the outbox: ${e.message}` })))
    return Outbox.of({ dir, write })
  })
)

/** The outbox as the Delivery: what `npm start` uses when no SMTP server is configured. */
export const OutboxDelivery: Layer.Layer<Delivery, never, Outbox> = Layer.effect(
  Delivery,
  Effect.map(Outbox, (outbox) =>
    Delivery.of({
      target: `outbox ${outbox.dir}`,
      deliver: (message) =>
        outbox.write(message).pipe(
          Effect.tap((path) => Effect.logInfo("notification written to the outbox").pipe(Effect.annotateLogs({ path, subject: message.subject })))
        ),
      verify: Effect.void
    }))
)
