/**
 * Card numbers and email addresses in every form contract §7 (revised
 * 2026-12-03) lists, as fast-check generators, and checks of what a text
 * shows of them: for the masking tests and the tests of every output.
 */
import { FastCheck as fc } from "effect"
import { luhnValid } from "../../src/masking/Masking.js"

/** Completes `body` (ASCII digits) with the Luhn check digit. */
export const withCheckDigit = (body: string): string => {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d
  throw new Error("unreachable")
}

const digit = fc.constantFrom(..."0123456789".split(""))
const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(""))
const range = (low: number, high: number) => fc.integer({ min: low, max: high }).map(String)

/** The issuers of contract §7: a prefix generator and the lengths it allows. */
export const ISSUERS: ReadonlyArray<readonly [string, fc.Arbitrary<string>, ReadonlyArray<number>]> = [
  ["Visa", fc.constant("4"), [13, 16, 19]],
  ["Mastercard 51-55", range(51, 55), [16]],
  ["Mastercard 2221-2720", range(2221, 2720), [16]],
  ["American Express", fc.constantFrom("34", "37"), [15]],
  ["Discover 6011", fc.constant("6011"), [16, 17, 18, 19]],
  ["Discover 644-649", range(644, 649), [16, 17, 18, 19]],
  ["Discover 65", fc.constant("65"), [16, 17, 18, 19]],
  ["JCB", range(3528, 3589), [16, 17, 18, 19]],
  ["Diners Club 300-305", range(300, 305), [14, 15, 16, 17, 18, 19]],
  ["Diners Club 36/38/39", fc.constantFrom("36", "38", "39"), [14, 15, 16, 17, 18, 19]],
  ["UnionPay", fc.constant("62"), [16, 17, 18, 19]],
  ["Maestro 50/56-58", fc.constantFrom("50", "56", "57", "58"), [13, 14, 15, 16, 17, 18, 19]],
  ["Maestro 6", fc.constant("6"), [13, 14, 15, 16, 17, 18, 19]]
]

/** A card number (ASCII digits) of one issuer. */
export const cardOf = (prefix: fc.Arbitrary<string>, lengths: ReadonlyArray<number>) =>
  fc.tuple(prefix, fc.constantFrom(...lengths)).chain(([p, length]) => digits(length - p.length - 1).map((rest) => withCheckDigit(p + rest)))

export const anyCard = fc.oneof(...ISSUERS.map(([, prefix, lengths]) => cardOf(prefix, lengths)))

/** How a digit is written: the zero of a script of decimal digits, or escaped full-width (`%EF%BC%94`). */
export const DIGIT_FORMS = {
  ascii: 0x30,
  fullWidth: 0xff10,
  arabicIndic: 0x660,
  persian: 0x6f0,
  devanagari: 0x966,
  bengali: 0x9e6,
  thai: 0xe50,
  mathBold: 0x1d7ce,
  mathMonospace: 0x1d7f6,
  escapedFullWidth: -1
} as const
export type DigitForm = keyof typeof DIGIT_FORMS

const escapeUtf8 = (text: string) => [...Buffer.from(text, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("")

export const writeDigit = (d: string, form: DigitForm): string =>
  form === "escapedFullWidth" ? escapeUtf8(String.fromCodePoint(0xff10 + Number(d))) : String.fromCodePoint(DIGIT_FORMS[form] + Number(d))

export const digitForm: fc.Arbitrary<DigitForm> = fc.constantFrom(...(Object.keys(DIGIT_FORMS) as Array<DigitForm>))

/** Separators §7 lists (and those the daemon adds), as they are and escaped as a name or a URL shows them. */
export const RAW_SEPARATORS = [
  " ", "\u00a0", "\u2007", "\u2009", "\u202f", "\t", "-", ".", "_", ",", "+", "/", "|", "\n", "\r", "\u3000", "\u200b", "\u2013"
] as const
export const ESCAPED_SEPARATORS = ["%20", "%A0", "%C2%A0", "%09", "%0A", "%0d", "%E2%80%89", "%E2%80%AF", "%2D", "%7C"] as const

/** One to three separators between two groups. */
export const separator = fc.array(fc.constantFrom(...RAW_SEPARATORS, ...ESCAPED_SEPARATORS), { minLength: 1, maxLength: 3 }).map((s) => s.join(""))

/** A card number as a text may show it: in groups of random sizes, up to three separators between, digits of one form or (rarely) mixed. */
export const shownCard = (card: string) =>
  fc.tuple(
    fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 19 }),
    fc.array(separator, { minLength: 19, maxLength: 19 }),
    fc.oneof({ weight: 4, arbitrary: digitForm.map((f) => () => f) }, { weight: 1, arbitrary: fc.constant(null) }),
    fc.array(digitForm, { minLength: 19, maxLength: 19 })
  ).map(([sizes, seps, single, mixed]) => {
    const parts: Array<string> = []
    let i = 0
    const written = (from: number, to: number) => [...card.slice(from, to)].map((d, k) => writeDigit(d, single !== null ? single() : mixed[from + k]!)).join("")
    for (const size of sizes) {
      if (i >= card.length) break
      parts.push(written(i, Math.min(card.length, i + size)))
      i += size
    }
    if (i < card.length) parts.push(written(i, card.length))
    return parts.reduce((acc, part, k) => (k === 0 ? part : acc + seps[k]! + part), "")
  })

/** A card and a shown form of it. */
export const anyShownCard = anyCard.chain((card) => shownCard(card).map((shown) => ({ card, shown })))

/** The forms of `@` §7 lists. */
export const AT_FORMS = ["@", "＠", "%40"] as const
const letters = (min: number, max: number) => fc.array(fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz".split("")), { minLength: min, maxLength: max }).map((a) => a.join(""))

/** An address with a local part of distinctive letters (with `.`, `_` or `+` inside), in any form of `@`. */
export const shownEmail = fc.tuple(letters(3, 6), fc.constantFrom("", ".", "_", "+", "%2E"), letters(3, 6), letters(3, 8), fc.constantFrom("com", "org", "co.uk"), fc.constantFrom(...AT_FORMS))
  .map(([a, dot, b, host, tld, at]) => ({ local: `${a}${dot === "%2E" ? "." : dot}${b}`, domain: `${host}.${tld}`, shown: `${a}${dot}${b}${at}${host}.${tld}` }))

// ---------------------------------------------------------------------------
// What a text shows

/** Every `%XX` escape decoded (to UTF-8, invalid bytes as U+FFFD), through escaped `%`s, until none is left. */
export const decodeEscapes = (text: string): string => {
  let current = text
  for (let round = 0; round < 8; round++) {
    if (!/%[0-9A-Fa-f]{2}/.test(current)) return current
    const bytes: Array<number> = []
    for (let i = 0; i < current.length;) {
      const m = /^%([0-9A-Fa-f]{2})/.exec(current.slice(i, i + 3))
      if (m !== null) {
        bytes.push(Number.parseInt(m[1]!, 16))
        i += 3
      } else {
        const cp = current.codePointAt(i)!
        bytes.push(...Buffer.from(String.fromCodePoint(cp), "utf8"))
        i += cp > 0xffff ? 2 : 1
      }
    }
    current = Buffer.from(bytes).toString("utf8")
  }
  return current
}

/** The text with every decimal digit of any script as its ASCII digit. */
export const asciiDigits = (text: string): string => text.replace(/\p{Nd}/gu, (d) => {
  const cp = d.codePointAt(0)!
  for (const zero of Object.values(DIGIT_FORMS)) if (zero > 0 && cp >= zero && cp < zero + 10) return String(cp - zero)
  // any other script: its value by its place in its run of ten
  let z = cp
  while (/\p{Nd}/u.test(String.fromCodePoint(z - 1)) && cp - z < 9) z--
  return String((cp - z) % 10)
})

/** The digits a text shows (in ASCII): as it is (its escapes' hex digits aside) and as it decodes. */
export const digitsShown = (text: string): ReadonlyArray<string> =>
  [text.replace(/%[0-9A-Fa-f]{2}/g, ""), decodeEscapes(text)].map((t) => asciiDigits(t).replace(/[^0-9]/g, ""))

/**
 * Whether a text shows 10 or more consecutive digits of a card's hidden part
 * (all but its last four), in any grouping, form or escape: up to three other
 * characters between digits.
 */
export const showsCard = (text: string, card: string): boolean => {
  const hidden = card.slice(0, -4)
  const width = Math.min(10, hidden.length)
  const views = [text, decodeEscapes(text)].map(asciiDigits)
  for (let i = 0; i + width <= hidden.length; i++) {
    const pattern = new RegExp(hidden.slice(i, i + width).split("").join("[^0-9]{0,3}"))
    if (views.some((v) => pattern.test(v))) return true
  }
  return false
}

/** Whether a text shows an address's local part beyond its first character. */
export const showsLocal = (text: string, local: string): boolean =>
  [text, decodeEscapes(text)].some((t) => t.includes(local.slice(1)))
