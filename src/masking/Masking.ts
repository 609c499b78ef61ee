/**
 * The masking policy of contract §7 (revised 2026-11-29) as pure functions.
 * Every line the daemon logs, every report it writes and every notification
 * it sends goes through them (via the Masker service).
 *
 *  - a `card_number` value keeps its last four digits (`************1111`);
 *  - a card number in free text (13–19 digits, not joined to further digits,
 *    optionally grouped by one or two separators between groups: space, `-`,
 *    `.`, `_`, and also `,`, `+`, `/`, tabs and line breaks (see LONG_DIGIT_RUN),
 *    Luhn-valid, with an issuer prefix valid for its length) is masked the
 *    same way, whatever letters or punctuation surround it
 *    (`card4111111111111111.json` becomes `card************1111.json`);
 *  - an email address in text keeps its first character and its domain;
 *  - a `phone` value keeps its last four digits;
 *  - `cvv`, `cvc`, `password` and `pin` values are never written out.
 *
 * @module
 */

/** Keeps the last four digits, each other digit becomes `*`; separators are dropped. */
export const maskDigitsKeepLastFour = (value: string): string => {
  const digits = value.replace(/\D/g, "")
  if (digits.length <= 4) return "*".repeat(digits.length)
  return "*".repeat(digits.length - 4) + digits.slice(-4)
}

/** The Luhn check over a string of digits only. */
export const luhnValid = (digits: string): boolean => {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return false
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return digits.length > 0 && sum % 10 === 0
}

const between = (prefix: string, width: number, low: number, high: number) => {
  const n = Number(prefix.slice(0, width))
  return n >= low && n <= high
}

/** Whether the digits start with an issuer prefix of contract §7 that allows their length. */
export const issuerAllows = (digits: string): boolean => {
  const n = digits.length
  if (n < 13 || n > 19) return false
  const d1 = digits[0]
  if (d1 === "4") return n === 13 || n === 16 || n === 19 // Visa
  if (d1 === "6") return true // Discover 6011/644–649/65, UnionPay 62, Maestro 6: all 13–19 together
  if (d1 === "5") {
    if (between(digits, 2, 51, 55)) return n === 16 // Mastercard
    return between(digits, 2, 56, 58) || digits.startsWith("50") // Maestro
  }
  if (d1 === "2") return n === 16 && between(digits, 4, 2221, 2720) // Mastercard
  if (d1 === "3") {
    if (digits.startsWith("34") || digits.startsWith("37")) return n === 15 // Amex
    if (between(digits, 4, 3528, 3589)) return n >= 16 // JCB
    if (between(digits, 3, 300, 305) || digits.startsWith("36") || digits.startsWith("38") || digits.startsWith("39")) {
      return n >= 14 // Diners Club
    }
  }
  return false
}

/** A run of digits that is a card number: an issuer prefix valid for its length, and Luhn-valid. */
export const isCardNumber = (digits: string): boolean => issuerAllows(digits) && luhnValid(digits)

/**
 * A maximal run of digit groups, consecutive groups joined by one or two of
 * space, `-`, `.`, `_` (§7), and, beyond §7, `,`, `+`, `/`, a tab or a line
 * break, raw or as a file name shows it escaped (`%09`, `%0A`, `%0D`): a card
 * number split by those in a file name is no less one. At least 13 digits. Being maximal, it is never
 * joined to further digits; what surrounds it otherwise does not matter (§7).
 * The regular expression only finds runs long enough to hold a card, so a
 * text without one costs a single scan.
 */
const LONG_DIGIT_RUN = /\d(?:(?:[ ._,+/\t\n\r-]|%0[9ADad]){0,2}\d){12,}/g
const SEPARATORS = /((?:[ ._,+/\t\n\r-]|%0[9ADad])+)/

/**
 * Masks the card numbers in one run of digit groups. A card may be any span of
 * whole groups ("order 12 4111111111111111" holds one), and spans may overlap
 * when the grouping is ambiguous, so every span of 13–19 digits is tried and
 * every stretch of groups covered by a card is masked as one, keeping only
 * its last four digits and the separator after it.
 */
const maskRun = (run: string): string => {
  const parts = run.split(SEPARATORS) // [digits, sep, digits, sep, …]
  if (parts.length === 1) {
    // One group, the common case (a timestamp, a count): a card only if it is one whole.
    return run.length <= 19 && isCardNumber(run) ? maskDigitsKeepLastFour(run) : run
  }
  const groups = parts.filter((_, i) => i % 2 === 0)
  const seps = parts.filter((_, i) => i % 2 === 1)
  const covered = new Array<boolean>(groups.length).fill(false)
  let found = false
  for (let i = 0; i < groups.length; i++) {
    let candidate = ""
    for (let j = i; j < groups.length; j++) {
      candidate += groups[j]
      if (candidate.length > 19) break
      if (candidate.length >= 13 && isCardNumber(candidate)) {
        covered.fill(true, i, j + 1)
        found = true
      }
    }
  }
  if (!found) return run
  let out = ""
  for (let i = 0; i < groups.length;) {
    if (!covered[i]) {
      out += groups[i]! + (seps[i] ?? "")
      i++
      continue
    }
    let stretch = ""
    let j = i
    while (j < groups.length && covered[j]) stretch += groups[j++]
    out += maskDigitsKeepLastFour(stretch) + (seps[j - 1] ?? "")
    i = j
  }
  return out
}

// `local@domain`, leniently: an address that breaks the contract's rules is still an address to hide.
const EMAIL = /[^\s@"<>()[\],;:]+@+[^\s@"'<>()[\],;:]+/g

const maskEmail = (address: string): string => {
  const at = address.indexOf("@")
  const domain = address.slice(address.lastIndexOf("@") + 1)
  return `${address.slice(0, Math.min(1, at))}***@${domain}`
}

/** Masks card numbers and email addresses anywhere in a text. */
export const maskText = (text: string): string => {
  // Cheap exits keep the common case (no digit run long enough, no `@`) fast.
  let out = text.replace(LONG_DIGIT_RUN, maskRun)
  if (out.includes("@")) out = out.replace(EMAIL, maskEmail)
  return out
}

const REMOVED_FIELDS = new Set(["cvv", "cvc", "password", "pin"])
const MAX_DEPTH = 32

/**
 * Masks a structured value: by field name at any depth (`card_number`,
 * `phone`; `cvv`/`cvc`/`password`/`pin` left out entirely), and every other
 * string as free text.
 */
export const maskValue = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return maskText(value)
  if (typeof value !== "object" || value === null) return value
  if (depth >= MAX_DEPTH) return "[nested too deep]"
  if (Array.isArray(value)) return value.map((v) => maskValue(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    const lower = key.toLowerCase()
    if (REMOVED_FIELDS.has(lower)) continue
    if ((lower === "card_number" || lower === "phone") && (typeof v === "string" || typeof v === "number")) {
      out[maskText(key)] = maskDigitsKeepLastFour(String(v))
    } else {
      out[maskText(key)] = maskValue(v, depth + 1)
    }
  }
  return out
}
