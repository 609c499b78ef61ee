/**
 * The contract's predicates read their text in place (no `replace` or `exec`
 * copies: they run for every record); they must answer exactly as the rules
 * are written, the written forms kept here as the reference.
 */
import * as FastCheck from "effect/FastCheck"
import { describe, expect, it } from "vitest"
import { isCardNumber, isCardNumberShape, isDateTime, isPhoneNumber } from "../src/contract/schema/Predicates.js"
import { luhnValid } from "../src/masking/Masking.js"

const phoneAsWritten = (s: string) => /^\+?\d{7,15}$/.test(s.replace(/[\s\-.()]/g, ""))
const shapeAsWritten = (s: string) => {
  if (!/^\d+(?:[ -]\d+)*$/.test(s)) return false
  const digits = s.replace(/\D/g, "").length
  return digits >= 12 && digits <= 19
}
const cardAsWritten = (s: string) => shapeAsWritten(s) && luhnValid(s.replace(/\D/g, ""))
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const dateTimeAsWritten = (s: string) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/.exec(s)
  if (m === null) return false
  const [, y, mo, d, h, mi, sec, , oh, om] = m.map(Number) as Array<number>
  const leap = (y! % 4 === 0 && y! % 100 !== 0) || y! % 400 === 0
  if (!(mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= (mo === 2 && leap ? 29 : DAYS[mo! - 1]!))) return false
  if (h! > 23 || mi! > 59 || sec! > 59) return false
  return m[7] === undefined || (oh! <= 23 && om! <= 59)
}

/** Texts made of the characters each rule cares about, and a few it does not (Unicode spaces and digits among them). */
const textOf = (chars: string, maxLength: number) => FastCheck.array(FastCheck.constantFrom(...chars), { maxLength }).map((a) => a.join(""))
const PHONE_CHARS = "0123456789+-.() \t\u00a0\u2009\u3000\uff11a/"
const CARD_CHARS = "0123456789 -  x\u00a0"
const DATE_CHARS = "0123456789-T:Z+.  "

describe("the contract's predicates, read in place, answer as the rules are written", () => {
  it("phone", () => {
    FastCheck.assert(FastCheck.property(textOf(PHONE_CHARS, 22), (s) => isPhoneNumber(s) === phoneAsWritten(s)), { numRuns: 20000 })
    for (const s of ["+1 (555) 010-9999", "++15550109999", "1555+0109999", "+", "", "555 0109", "55501\u00a009999", "555\u20280109999", "\uff15550109999"]) {
      expect(isPhoneNumber(s), s).toBe(phoneAsWritten(s))
    }
  })

  it("card number and its shape", () => {
    FastCheck.assert(
      FastCheck.property(textOf(CARD_CHARS, 24), (s) => isCardNumber(s) === cardAsWritten(s) && isCardNumberShape(s) === shapeAsWritten(s)),
      { numRuns: 20000 }
    )
    // Luhn-valid numbers are rare among random digits: every valid one of these lengths, and one digit off.
    FastCheck.assert(
      FastCheck.property(FastCheck.integer({ min: 12, max: 19 }), FastCheck.nat(), FastCheck.constantFrom("", " ", "-"), (length, seed, sep) => {
        let digits = String(seed).padStart(length - 1, "7").slice(0, length - 1)
        const check = [..."0123456789"].find((c) => luhnValid(digits + c))!
        digits += check
        const grouped = digits.replace(/(\d{4})(?=\d)/g, `$1${sep}`)
        const off = grouped.slice(0, -1) + String((Number(check) + 1) % 10)
        return isCardNumber(grouped) === true && cardAsWritten(grouped) && isCardNumber(off) === cardAsWritten(off)
      })
    )
  })

  it("date-time", () => {
    FastCheck.assert(FastCheck.property(textOf(DATE_CHARS, 30), (s) => isDateTime(s) === dateTimeAsWritten(s)), { numRuns: 20000 })
    // Random texts seldom have the shape: every field's edges, in the shape.
    const two = FastCheck.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, "0"))
    const shaped = FastCheck.tuple(
      FastCheck.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, "0")),
      two, two, two, two, two,
      FastCheck.constantFrom("", ".5", ".123456"),
      FastCheck.oneof(FastCheck.constant("Z"), FastCheck.tuple(FastCheck.constantFrom("+", "-"), two, two).map(([s, h, m]) => `${s}${h}:${m}`))
    ).map(([y, mo, d, h, mi, s, frac, zone]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${zone}`)
    FastCheck.assert(FastCheck.property(shaped, (s) => isDateTime(s) === dateTimeAsWritten(s)), { numRuns: 20000 })
    for (const s of ["2024-02-29T23:59:59Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T12:00:00.5+23:59", "2000-01-01T24:00:00Z", "2000-01-01T00:00:00+24:00", "2000-01-01T00:00:00-00:60"]) {
      expect(isDateTime(s), s).toBe(dateTimeAsWritten(s))
    }
  })
})
