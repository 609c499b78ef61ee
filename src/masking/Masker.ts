/**
 * The Masker service: the one masking policy (contract §7, see Masking.ts)
 * that every output goes through — log lines, error reports, notifications.
 * A layer of its own so that an extension can reach it through its Tag.
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import { maskText, maskValue } from "./Masking.js"

export interface MaskerService {
  /** masks card numbers and email addresses in free text */
  readonly text: (text: string) => string
  /** masks a structured value by field name, and its strings as free text */
  readonly value: (value: unknown) => unknown
}

export class Masker extends Context.Tag("customer-json/Masker")<Masker, MaskerService>() {
  static readonly live: MaskerService = { text: maskText, value: maskValue }
}

export const MaskerLive: Layer.Layer<Masker> = Layer.succeed(Masker, Masker.live)
