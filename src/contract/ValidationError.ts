/**
 * One broken rule of the contract, as every verdict and report carries it.
 * On its own, below Contract and ErrorReport, which both use it.
 *
 * @module
 */
import type { RuleCode } from "./Rules.js"

/**
 * One broken rule: where (`record`, `path`), which (`rule`, a stable code to
 * match on) and what to do about it (`message`, for people; it never quotes
 * the input, contract §6). Plain data, so that it crosses worker threads.
 */
export interface ValidationError {
  /** index of the record in the file (0 for a single object), null for a file-level error */
  readonly record: number | null
  /** JSONPath from the document root */
  readonly path: string
  /** the rule broken: one of the codes in docs/CONTRACT.md §6 (`ContractRule`), or a custom Contract's own */
  readonly rule: RuleCode
  /** what is wrong, for people: may be reworded, so match on `rule` */
  readonly message: string
}
