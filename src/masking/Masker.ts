/**
 * The Masker service: the one masking policy (contract §7, see Masking.ts)
 * that every output goes through — log lines, error reports, notifications.
 * A layer of its own so that an extension can reach it through its Tag.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import { maskText, maskValue } from "./Masking.js"

/** The masking policy's two operations: free text, and structured values by field name. */
export interface MaskerService {
  /** masks card numbers and email addresses in free text */
  readonly text: (text: string) => string
  /** masks a structured value by field name, and its strings as free text */
  readonly value: (value: unknown) => unknown
}

/**
 * The masking policy (contract §7) as a service: every output of the daemon
 * goes through it. An extension that writes anything out (a Notifier or
 * Delivery of its own, a log sink) masks with it: `(yield* Masker).text(name)`.
 */
export class Masker extends Context.Tag("customer-json/Masker")<Masker, MaskerService>() {
  static readonly live: MaskerService = { text: maskText, value: maskValue }
}

/** The masking policy of contract §7 as a layer. */
export const layer: Layer.Layer<Masker> = Layer.succeed(Masker, Masker.live)
