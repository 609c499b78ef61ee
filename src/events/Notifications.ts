/**
 * What the daemon tells administrators about, and the messages it composes:
 * the vocabulary the Notifier port (notify/) speaks and the status record
 * (status/Activity) keeps, on its own below both.
 *
 * @module
 */
import type { ValidationError } from "../contract/ValidationError.js"

/**
 * A file returned to RETURNS_DIR, as the Notifier hears of it.
 *
 * **Unmasked**: `file` and `storedAs` are the names as received and stored, and
 * may hold a card number (`card4111111111111111.json`); an error's `path` may
 * too (an unknown key is quoted in it). Mask before writing any of it out.
 */
export interface RejectedFile {
  readonly file: string
  readonly storedAs: string
  readonly receivedAt: Date
  readonly processedAt: Date
  readonly errorCount: number
  readonly errors: ReadonlyArray<ValidationError>
  /** the partner that delivered it (PARTNERS_FILE); `undefined` without partners */
  readonly partner?: string | undefined
}

/**
 * A failure administrators must act on (a folder unusable, the disk nearly
 * full, a file stuck). **Unmasked**: `summary` and `detail` may name files.
 */
export interface CriticalEvent {
  /** a short, stable summary: also the key for "at most once an hour", and for its all-clear */
  readonly summary: string
  readonly detail: string
  readonly at: Date
  /** the instance it happened in (the message names it, and the host) */
  readonly instance?: string | undefined
}

/** A critical condition that has cleared: `summary` is the one its critical event had. */
export interface ClearedEvent {
  readonly summary: string
  /** how it cleared */
  readonly detail: string
  readonly at: Date
  /** when the condition was first seen */
  readonly since: Date
  readonly instance?: string | undefined
}

/** A composed notification, masked: what a `Delivery` sends. */
export interface Outgoing {
  /** `cleared`: an all-clear, for critical conditions that have cleared */
  readonly kind: "rejected" | "critical" | "cleared"
  readonly subject: string
  readonly text: string
  /** the files named in this message (masked), for structured deliveries such as a webhook */
  readonly files: ReadonlyArray<{ readonly file: string; readonly storedAs: string; readonly errorCount: number }>
  /** failures counted in this message but not named in it */
  readonly more: number
  /** the partner whose files these are (PARTNERS_FILE): the message names no other partner's */
  readonly partner?: string | undefined
  /** its recipients, when not the administrators (EMAIL_RECEIVER): a partner's (see partners/Routing's `recipientsOf`) */
  readonly to?: ReadonlyArray<string> | undefined
}
