import { isUtf8 } from "node:buffer"
import { FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import {
  bytesFromName,
  claimName,
  classifyName,
  compactTimestamp,
  fitName,
  logName,
  NAME_MAX,
  nameFromBytes,
  parseProcessingName,
  reportName,
  RETURNED_NAME_MAX,
  returnedNameCandidate,
  shortenedMarker,
  storedNameCandidate
} from "../src/files/Naming.js"
import { maskName } from "../src/masking/Masking.js"

const byteLength = (text: string) => Buffer.byteLength(text, "utf8")
const isValidText = (text: string) => isUtf8(Buffer.from(text, "utf8")) && Buffer.from(text, "utf8").toString("utf8") === text

// Bytes a Linux name may hold: anything but `/` and NUL.
const nameByte = fc.integer({ min: 1, max: 255 }).filter((b) => b !== 0x2f)
// `size: "max"`: fast-check otherwise keeps arrays and strings short, and long names are the point.
const randomBytes = fc.array(nameByte, { minLength: 1, maxLength: 255, size: "max" }).map((a) => Buffer.from(a))
// Valid UTF-8 of any plane, controls included, `/` and NUL replaced.
const utf8Bytes = fc.string({ unit: "binary", minLength: 1, maxLength: 120, size: "max" })
  .map((s) => Buffer.from(s.replace(/[/\u0000]/g, "_"), "utf8"))
  .filter((b) => b.length <= 255)
// Mostly valid text with bytes that break it, `%` and controls mixed in.
const tricky = fc.array(
  fc.oneof(
    fc.constantFrom("%", "%E9", "%25", "\n", "\t", "\u001b", "\u202e", "\u0085", "é", "€", "😀", "a", ".json", "-"),
    fc.integer({ min: 0x80, max: 0xff }).map((b) => String.fromCharCode(b)) // marker for a raw byte, see below
  ),
  { minLength: 1, maxLength: 80, size: "max" }
).map((pieces) =>
  Buffer.concat(pieces.map((p) => p.length === 1 && p.charCodeAt(0) >= 0x80 && p.charCodeAt(0) <= 0xff ? Buffer.of(p.charCodeAt(0)) : Buffer.from(p, "utf8")))
).filter((b) => b.length <= 255)
// One character repeated up to a whole name: 255-byte names of 1- to 4-byte characters, or of escapes.
const repeated = fc.tuple(fc.constantFrom("a", "é", "€", "😀", "%", "\n", "\u202e", "\xe9"), fc.integer({ min: 1, max: 255 }))
  .map(([unit, count]) => (unit === "\xe9" ? Buffer.of(0xe9) : Buffer.from(unit, "utf8")).toString("latin1").repeat(count))
  .map((latin1) => Buffer.from(latin1, "latin1").subarray(0, 255))
const anyName = fc.oneof(randomBytes, utf8Bytes, tricky, repeated)

const jsonExt = fc.constantFrom(".json", ".JSON", ".Json", ".jsoN")
// Names the watcher takes (so never a hidden one): any stem, a `.json` extension in any case, at most 255 bytes in all.
const takenName = fc.tuple(anyName, jsonExt).map(([stem, ext]) =>
  Buffer.concat([stem.subarray(0, 255 - ext.length), Buffer.from(ext)])
).map((raw) => ({ raw, text: nameFromBytes(raw).text, ext: raw.subarray(raw.length - 5).toString("latin1") }))
  .filter(({ text }) => classifyName(text) === "candidate")
const attempt = fc.oneof(fc.constantFrom(0, 1, 2, 3, 10000), fc.integer({ min: 0, max: 1_000_000 }))
const date = fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2999-12-31T23:59:59.999Z") })

describe("escaping, for any name Linux allows", () => {
  it("round-trips exactly", () => {
    fc.assert(
      fc.property(anyName, (raw) => {
        const { text } = nameFromBytes(raw)
        expect(bytesFromName(text).equals(raw)).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })
  it("gives valid UTF-8 that a log shows as it is, and is the identity exactly on plain names", () => {
    fc.assert(
      fc.property(anyName, (raw) => {
        const { text, escaped } = nameFromBytes(raw)
        expect(isValidText(text)).toBe(true)
        expect(logName(text)).toBe(text)
        expect(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(text)).toBe(false)
        expect(escaped).toBe(!Buffer.from(text, "utf8").equals(raw))
        // the escaped text is canonical: escaping its decoding gives it back
        expect(nameFromBytes(bytesFromName(text)).text).toBe(text)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("names built from an input name, for any name Linux allows", () => {
  it("fit NAME_MAX (returned files and reports included), are valid UTF-8 and keep the extension", () => {
    fc.assert(
      fc.property(takenName, attempt, date, ({ text, ext }, n, now) => {
        const valid = storedNameCandidate(text, n, now)
        const returned = returnedNameCandidate(text, n, now)
        expect(byteLength(valid)).toBeLessThanOrEqual(NAME_MAX)
        expect(byteLength(returned)).toBeLessThanOrEqual(RETURNED_NAME_MAX)
        expect(reportName(returned)).toBe(`${returned}.error.json`)
        expect(byteLength(reportName(returned))).toBeLessThanOrEqual(NAME_MAX)
        for (const name of [valid, returned]) {
          expect(isValidText(name)).toBe(true)
          expect(name.endsWith(ext)).toBe(true)
          expect(name.startsWith(".")).toBe(false)
        }
      }),
      { numRuns: 1500 }
    )
  })

  it("shorten only when needed, by cutting the (masked) stem at a character and escape boundary, no more than needed", () => {
    fc.assert(
      fc.property(takenName, attempt, date, fc.constantFrom(NAME_MAX, RETURNED_NAME_MAX), ({ text, ext }, n, now, max) => {
        const name = storedNameCandidate(text, n, now, max)
        // Masked first (contract §5): the same as storing the masked name, and it masks to itself.
        const masked = maskName(text)
        expect(name).toBe(storedNameCandidate(masked, n, now, max))
        expect(maskName(name)).toBe(name)
        const stem = masked.slice(0, -ext.length)
        const suffix = n === 0 ? "" : n === 1 ? `-${compactTimestamp(now)}` : `-${compactTimestamp(now)}-${n}`
        if (byteLength(`${stem}${suffix}${ext}`) <= max) {
          expect(name).toBe(maskName(`${stem}${suffix}${ext}`))
          return
        }
        const tail = `${shortenedMarker(masked)}${suffix}${ext}`
        const kept = name.slice(0, name.length - tail.length)
        // (rarely, the cut or the stamp makes digits that read as a card and are masked too: checked above)
        fc.pre(name.endsWith(tail) && stem.startsWith(kept))
        // it decodes to a prefix of the masked name's bytes: no escape or character was split
        const keptBytes = bytesFromName(kept)
        expect(bytesFromName(masked).subarray(0, keptBytes.length).equals(keptBytes)).toBe(true)
        expect(byteLength(name)).toBeGreaterThanOrEqual(max - 3)
      }),
      { numRuns: 1500 }
    )
  })

  it("give different shortened names to different originals at attempt 0", () => {
    const longPair = fc.tuple(anyName, anyName, anyName, jsonExt).map(([common, a, b, ext]) => [
      nameFromBytes(Buffer.concat([common, Buffer.alloc(200, 0x61), a, Buffer.from(ext)])).text,
      nameFromBytes(Buffer.concat([common, Buffer.alloc(200, 0x61), b, Buffer.from(ext)])).text
    ] as const).filter(([a, b]) => a !== b)
    fc.assert(
      fc.property(longPair, ([a, b]) => {
        const [fa, fb] = [fitName(a), fitName(b)]
        if (fa.shortened || fb.shortened) expect(fa.name).not.toBe(fb.name)
        const [ra, rb] = [fitName(a, RETURNED_NAME_MAX), fitName(b, RETURNED_NAME_MAX)]
        if (ra.shortened || rb.shortened) expect(ra.name).not.toBe(rb.name)
      }),
      { numRuns: 1000 }
    )
  })

  it("give a claim name that fits, says whether it shortened, and parses back", () => {
    const receivedAtMs = fc.integer({ min: 0, max: 9_999_999_999_999 })
    const seq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
    fc.assert(
      fc.property(takenName, receivedAtMs, seq, ({ text }, at, n) => {
        const claim = claimName(at, n, text)
        expect(byteLength(claim.name)).toBeLessThanOrEqual(NAME_MAX)
        expect(isValidText(claim.name)).toBe(true)
        const parsed = parseProcessingName(claim.name)
        expect(parsed).toEqual({
          receivedAtMs: at,
          seq: n,
          original: claim.shortened ? fitName(maskName(text), NAME_MAX - `${at}-${n}_`.length).name : text,
          shortened: claim.shortened
        })
        expect(claim.shortened).toBe(byteLength(`${at}-${n}_${text}`) > NAME_MAX)
      }),
      { numRuns: 1500 }
    )
  })
})
