/**
 * The outbox: each message as a complete `.eml` file in `LOG_DIR/outbox/`,
 * built by nodemailer's MailComposer without sending anything. It is the
 * default Delivery when no SMTP server is configured, and where a message
 * goes when it finally cannot be sent, so no notification is lost.
 *
 * The folder is created 0750 and each file 0640 (the mails name customers'
 * files): for the daemon's user and group only. Files are created
 * exclusively (`wx`: never through a link, never over an existing entry)
 * under names no one can predict.
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import MailComposer from "nodemailer/lib/mail-composer"
import * as Crypto from "node:crypto"
import * as Path from "node:path"
import { AppConfig } from "../../Config.js"
import type { Settings } from "../../Config.js"
import { Delivery, DeliveryError } from "../Delivery.js"
import type { Outgoing } from "../NotificationMessage.js"

/** The outbox folder's mode: the daemon's user and group only (mails name customers' files). */
export const OUTBOX_DIR_MODE = 0o750
/** Each outbox file's mode: readable by the daemon's group, written by its user only. */
export const OUTBOX_FILE_MODE = 0o640

/** The From address of notifications: EMAIL_SENDER, or `customer-json-processor@localhost`. */
export const senderOf = (settings: Settings) => Option.getOrElse(settings.email.sender, () => "customer-json-processor@localhost")
/** The To addresses of notifications: EMAIL_RECEIVER, or `administrators@localhost`. */
export const receiversOf = (settings: Settings) =>
  settings.email.receivers.length > 0 ? settings.email.receivers.join(", ") : "administrators@localhost"

/** The RFC 5322 message, as nodemailer would send it. */
/** Lines of an `.eml` body: at most this long, so that a plain-ASCII message needs no soft breaks. */
export const EML_LINE_MAX = 76

/**
 * Long lines broken at their last space within EML_LINE_MAX, the rest
 * indented under the line's own indentation (pure): a raw `.eml` then reads
 * as text, with no quoted-printable soft breaks in the middle of words. A
 * word longer than a line stays whole.
 */
export const wrapForEml = (text: string, max: number = EML_LINE_MAX): string =>
  text.split("\n").flatMap((line) => {
    const out: Array<string> = []
    const indent = /^ */.exec(line)![0] + "  "
    let rest = line
    while (rest.length > max) {
      const cut = rest.lastIndexOf(" ", max)
      if (cut <= indent.length) break
      out.push(rest.slice(0, cut))
      rest = indent + rest.slice(cut + 1)
    }
    out.push(rest)
    return out
  }).join("\n")

/** The whole message as an RFC 5322 `.eml` (what the outbox folder holds), with an optional note of why it was not sent. */
export const buildEml = (message: Outgoing, from: string, to: string, date: Date, note?: string): Promise<Buffer> =>
  new MailComposer({
    from,
    to,
    subject: message.subject,
    text: wrapForEml(message.text),
    date,
    headers: { "X-Customer-Json-Kind": message.kind, ...(note !== undefined ? { "X-Customer-Json-Undelivered": note.replace(/[\r\n]+/g, " ") } : {}) }
  }).compile().build()

/**
 * 128 random bits as 32 letters `a`–`p`: unpredictable, and without digits, so
 * the masker never takes part of a name for a card number (contract §7) and
 * the path in the log line is the file's real one.
 */
export const randomLetters = (bytes: Uint8Array): string => {
  let out = ""
  for (const b of bytes) out += String.fromCharCode(97 + (b >> 4), 97 + (b & 15))
  return out
}

/** `20261128T093000120Z-rejected-<32 random letters>.eml`: sorted by time, unpredictable. */
export const outboxName = (date: Date, kind: Outgoing["kind"], random: string): string =>
  `${date.toISOString().replace(/[-:.]/g, "")}-${kind}-${random}.eml`

const alreadyExists = (cause: Cause.Cause<unknown>): boolean =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => false,
    onSome: (e) => typeof e === "object" && e !== null && "reason" in e && e.reason === "AlreadyExists"
  })

/**
 * Writes `data` as a new file at `path`, never over an existing entry nor
 * through a link: written under the hidden name `temp`, created exclusively
 * (`wx`, O_CREAT|O_EXCL), then linked to `path` (a link never replaces a
 * target) and the hidden name removed. A reader never sees half a file.
 */
export const writeNewFile = (fs: FileSystem.FileSystem, temp: string, path: string, data: Uint8Array, mode: number) =>
  fs.writeFile(temp, data, { flag: "wx", mode }).pipe(
    // A failed write leaves its own temporary file behind, never someone else's entry.
    Effect.onError((cause) => (alreadyExists(cause) ? Effect.void : Effect.ignore(fs.remove(temp)))),
    Effect.zipRight(fs.link(temp, path).pipe(Effect.ensuring(Effect.ignore(fs.remove(temp)))))
  )

const reasonOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : "error"

/** The outbox folder, `dir`, and `write`, which stores a message there and returns the file's path. */
export class Outbox extends Effect.Service<Outbox>()("customer-json/Outbox", {
  effect: Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const settings = yield* AppConfig
    const dir = Path.join(settings.logDir, "outbox")
    // The outbox and any missing folder above it, one level at a time: Node's recursive mkdir never
    // returns when the working folder was deleted under the daemon (it retries "." on the thread pool
    // for ever); a plain mkdir fails there at once, and the message waits for its next try.
    const makeLevel = (path: string) =>
      fs.makeDirectory(path, { mode: OUTBOX_DIR_MODE }).pipe(
        Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "AlreadyExists", () => Effect.void)
      )
    const makeOutboxFolder = Effect.forEach(folderLevels(dir), makeLevel, { discard: true })
    const write = (message: Outgoing, note?: string): Effect.Effect<string, DeliveryError> =>
      Effect.gen(function*() {
        const now = new Date(yield* Clock.currentTimeMillis)
        const eml = yield* Effect.tryPromise({
          try: () => buildEml(message, senderOf(settings), message.to === undefined ? receiversOf(settings) : message.to.join(", "), now, note),
          catch: (e) => new DeliveryError({ permanent: false, reason: `cannot compose the message for the outbox (${reasonOf(e)})` })
        })
        const random = yield* Effect.sync(() => randomLetters(Crypto.randomBytes(16)))
        const path = Path.join(dir, outboxName(now, message.kind, random))
        yield* makeOutboxFolder.pipe(
          Effect.zipRight(writeNewFile(fs, Path.join(dir, `.${random}.tmp`), path, eml, OUTBOX_FILE_MODE)),
          Effect.mapError((e) => new DeliveryError({ permanent: false, reason: `cannot write to the outbox: ${e.message}` }))
        )
        return path
      })
    return { dir, write }
  })
}) {}

/** The outbox as a layer, over `FileSystem` and `AppConfig` (LOG_DIR). */
export const layer: Layer.Layer<Outbox, never, AppConfig | FileSystem.FileSystem> = Outbox.Default

/** A folder and those above it, outermost first (`a/b/c`: `a`, `a/b`, `a/b/c`; `/` and `.` left out). */
export const folderLevels = (dir: string): ReadonlyArray<string> => {
  const levels: Array<string> = []
  for (let path = Path.normalize(dir); path !== Path.dirname(path); path = Path.dirname(path)) levels.unshift(path)
  return levels
}

/** The outbox as the Delivery: what `npm start` uses when no SMTP server is configured. */
export const layerDelivery: Layer.Layer<Delivery, never, Outbox> = Layer.effect(
  Delivery,
  Effect.map(Outbox, (outbox) =>
    Delivery.of({
      target: `outbox ${outbox.dir}`,
      // Its path is said by the notifier's "notification sent" line (one line per message).
      deliver: (message) => outbox.write(message),
      verify: Effect.void
    }))
)
