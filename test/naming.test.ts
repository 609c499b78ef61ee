import { createHash } from "node:crypto"
import { isUtf8 } from "node:buffer"
import { describe, expect, it } from "vitest"
import {
  bytesFromName,
  claimName,
  claimSidecarName,
  classifyName,
  compactTimestamp,
  fitName,
  NAME_MAX,
  nameFromBytes,
  parseProcessingName,
  processingName,
  reportName,
  RETURNED_NAME_MAX,
  returnedNameCandidate,
  shortenedMarker,
  storedNameCandidate
} from "../src/files/Naming.js"
import { maskName, maskText, storedNameShown } from "../src/masking/Masking.js"

const bytesOf = (name: string) => Buffer.byteLength(name, "utf8")
const sha8 = (name: string) => createHash("sha256").update(name, "utf8").digest("hex").slice(0, 8)

describe("classifyName (contract §1)", () => {
  it.each(["a.json", "A.JSON", "batch 7 ✓.Json", "x.y.json"])("takes %s", (name) => {
    expect(classifyName(name)).toBe("candidate")
  })
  it.each([".hidden.json", ".json", "a.json.tmp", "a.TMP", "a.part", "a.partial", "a.crdownload", "a.swp", "a.json~"])(
    "never touches %s",
    (name) => expect(classifyName(name)).toBe("silent")
  )
  it.each(["a.txt", "a.json.bak", "README", "a.jsonl"])("leaves %s and warns", (name) => {
    expect(classifyName(name)).toBe("other")
  })
})

const now = new Date("2026-11-28T09:30:00.120Z")
const STAMP = "20261128T093000120Z"

describe("stored names (contract §5)", () => {
  it("formats the UTC stamp", () => expect(compactTimestamp(now)).toBe(STAMP))
  it("tries the name, then the stamped name, then -2, -3", () => {
    expect(storedNameCandidate("batch-7.json", 0, now)).toBe("batch-7.json")
    expect(storedNameCandidate("batch-7.json", 1, now)).toBe(`batch-7-${STAMP}.json`)
    expect(storedNameCandidate("batch-7.json", 2, now)).toBe(`batch-7-${STAMP}-2.json`)
    expect(storedNameCandidate("batch-7.json", 3, now)).toBe(`batch-7-${STAMP}-3.json`)
    expect(storedNameCandidate("batch-7.json", 10000, now)).toBe(`batch-7-${STAMP}-10000.json`)
    expect(storedNameCandidate("a.b.JSON", 1, now)).toBe(`a.b-${STAMP}.JSON`)
  })
  it("returned files use the same names while they are short", () => {
    for (const attempt of [0, 1, 2, 10000]) {
      expect(returnedNameCandidate("batch-7.json", attempt, now)).toBe(storedNameCandidate("batch-7.json", attempt, now))
    }
  })
  it("names the report after the stored file", () => {
    expect(reportName("batch-7.json")).toBe("batch-7.json.error.json")
  })
  it("keeps escaped names, a leading dash and a lone % as their text", () => {
    expect(storedNameCandidate("caf%E9.json", 0, now)).toBe("caf%E9.json")
    expect(storedNameCandidate("caf%E9.json", 1, now)).toBe(`caf%E9-${STAMP}.json`)
    expect(storedNameCandidate("-rf.json", 2, now)).toBe(`-rf-${STAMP}-2.json`)
    expect(storedNameCandidate("a%0Ab%09c%1B.json", 0, now)).toBe("a%0Ab%09c%1B.json")
    expect(storedNameCandidate("%25", 1, now)).toBe(`%25-${STAMP}`)
  })
})

describe("long names (contract §5)", () => {
  it("exports the limits", () => {
    expect(NAME_MAX).toBe(255)
    expect(RETURNED_NAME_MAX).toBe(255 - ".error.json".length)
  })
  it("marks a shortened name with ~ and 8 hex digits of the SHA-256 of the whole name", () => {
    expect(shortenedMarker("x.json")).toBe(`~${sha8("x.json")}`)
  })

  const ascii255 = `${"a".repeat(250)}.json`
  it("keeps a 255-byte ASCII name whole in the validated folder", () => {
    expect(bytesOf(ascii255)).toBe(255)
    expect(storedNameCandidate(ascii255, 0, now)).toBe(ascii255)
    expect(fitName(ascii255)).toEqual({ name: ascii255, shortened: false })
  })
  it("shortens it in the returns folder, where its report must fit too", () => {
    const stored = returnedNameCandidate(ascii255, 0, now)
    expect(stored).toBe(`${"a".repeat(244 - 9 - 5)}~${sha8(ascii255)}.json`)
    expect(bytesOf(stored)).toBe(244)
    expect(reportName(stored)).toBe(`${stored}.error.json`)
    expect(bytesOf(reportName(stored))).toBe(255)
  })
  it("cuts the stem, never the stamp, the counter or the extension, for collisions 1, 2 and 10000", () => {
    const mark = `~${sha8(ascii255)}`
    const cases: ReadonlyArray<readonly [number, string]> = [[1, `-${STAMP}`], [2, `-${STAMP}-2`], [10000, `-${STAMP}-10000`]]
    for (const [attempt, suffix] of cases) {
      const valid = storedNameCandidate(ascii255, attempt, now)
      expect(valid).toBe(`${"a".repeat(255 - 9 - suffix.length - 5)}${mark}${suffix}.json`)
      expect(bytesOf(valid)).toBe(255)
      const returned = returnedNameCandidate(ascii255, attempt, now)
      expect(returned).toBe(`${"a".repeat(244 - 9 - suffix.length - 5)}${mark}${suffix}.json`)
      expect(bytesOf(reportName(returned))).toBe(255)
    }
  })

  // 255-byte names of 2-, 3- and 4-byte characters: the cut keeps whole characters.
  const wide: ReadonlyArray<readonly [string, string, string]> = [
    ["2-byte", "é".repeat(125), "é"],
    ["3-byte", `${"€".repeat(83)}x`, "€"],
    ["4-byte", `${"😀".repeat(62)}ab`, "😀"]
  ]
  it.each(wide)("shortens a 255-byte name of %s characters on a character boundary", (_, stem, char) => {
    const name = `${stem}.json`
    expect(bytesOf(name)).toBe(255)
    expect(storedNameCandidate(name, 0, now)).toBe(name)
    for (const attempt of [1, 2, 10000]) {
      for (const candidate of [storedNameCandidate(name, attempt, now), returnedNameCandidate(name, attempt, now)]) {
        const match = /^(.*)~([0-9a-f]{8})-\d{8}T\d{9}Z(-\d+)?\.json$/su.exec(candidate)
        expect(match).not.toBeNull()
        const kept = match![1]!
        expect(kept).toBe(char.repeat([...kept].length)) // only whole characters of the stem
        expect(match![2]).toBe(sha8(name))
        const limit = candidate === storedNameCandidate(name, attempt, now) ? NAME_MAX : RETURNED_NAME_MAX
        expect(bytesOf(candidate)).toBeLessThanOrEqual(limit)
        expect(bytesOf(candidate)).toBeGreaterThan(limit - Buffer.byteLength(char)) // no more cut than needed
        expect(isUtf8(Buffer.from(candidate, "utf8"))).toBe(true)
      }
    }
  })

  it.each([".json", ".JSON", ".Json", ".jSoN"])("keeps the extension %s in its letter case", (ext) => {
    const name = `${"n".repeat(300)}${ext}`
    for (const attempt of [0, 1, 2]) {
      expect(storedNameCandidate(name, attempt, now).endsWith(ext)).toBe(true)
      expect(returnedNameCandidate(name, attempt, now).endsWith(ext)).toBe(true)
    }
  })

  it("never splits a %XX escape of a long non-UTF-8 name", () => {
    // 250 Latin-1 bytes: a 255-byte name whose text is 755 bytes long.
    const raw = Buffer.concat([Buffer.alloc(250, 0xe9), Buffer.from(".json")])
    const { text } = nameFromBytes(raw)
    expect(bytesOf(text)).toBe(755)
    for (const attempt of [0, 1, 2, 10000]) {
      const stored = storedNameCandidate(text, attempt, now)
      expect(stored).toMatch(/^(%E9)+~[0-9a-f]{8}(-20261128T093000120Z(-\d+)?)?\.json$/)
      expect(bytesOf(stored)).toBeLessThanOrEqual(255)
      expect(bytesOf(stored)).toBeGreaterThanOrEqual(253)
    }
    // 241 bytes are free for the stem at attempt 0: 80 escapes (240), not 80 and a half.
    expect(storedNameCandidate(text, 0, now)).toBe(`${"%E9".repeat(80)}~${sha8(text)}.json`)
  })

  it("tells apart two long names that differ only at the end", () => {
    const a = `${"x".repeat(300)}-a.json`
    const b = `${"x".repeat(300)}-b.json`
    for (const attempt of [0, 1, 2]) {
      expect(storedNameCandidate(a, attempt, now)).not.toBe(storedNameCandidate(b, attempt, now))
      expect(returnedNameCandidate(a, attempt, now)).not.toBe(returnedNameCandidate(b, attempt, now))
    }
    // ...and gives one name the same shortened name every time (crash recovery relies on it).
    expect(storedNameCandidate(a, 0, now)).toBe(storedNameCandidate(`${"x".repeat(300)}-a.json`, 0, now))
  })

  it("fits the report of a stored name that left it no room", () => {
    const stored = `${"r".repeat(245)}.json` // 250 bytes: longer than a returned name may be
    const report = reportName(stored)
    expect(bytesOf(report)).toBeLessThanOrEqual(255)
    expect(report).toBe(`${"r".repeat(244 - 9 - 5)}~${sha8(stored)}.json.error.json`)
  })

  it("shortens the escaped forms of names with a newline, a tab and an escape character", () => {
    for (const bad of ["\n", "\t", "\u001b"]) {
      const { text } = nameFromBytes(Buffer.from(`${bad.repeat(100)}${"y".repeat(150)}.json`, "utf8"))
      const stored = storedNameCandidate(text, 1, now)
      expect(bytesOf(stored)).toBeLessThanOrEqual(255)
      expect(stored).toMatch(/^(%[01][0-9A-F])+~[0-9a-f]{8}-20261128T093000120Z\.json$/)
    }
  })

  it("cuts a name without an extension, or with an absurd one, as a whole", () => {
    const plain = "p".repeat(300)
    expect(fitName(plain)).toEqual({ name: `${"p".repeat(246)}~${sha8(plain)}`, shortened: true })
    const absurd = `a.${"e".repeat(298)}`
    const fitted = fitName(absurd).name
    expect(bytesOf(fitted)).toBe(255)
    expect(fitted).toBe(`${absurd.slice(0, 246)}~${sha8(absurd)}`)
  })
})

describe("processing names", () => {
  it("round-trips the original name and the receive time", () => {
    const name = processingName(1795886819898, 12, "my file_1-2.json")
    expect(name).toBe("1795886819898-12_my file_1-2.json")
    expect(parseProcessingName(name)).toEqual({
      receivedAtMs: 1795886819898,
      seq: 12,
      original: "my file_1-2.json",
      shortened: false,
      partner: undefined
    })
  })
  it("does not parse a foreign name", () => {
    expect(parseProcessingName("stray.json")).toBeUndefined()
    expect(parseProcessingName("12-x_stray.json")).toBeUndefined()
  })
  it("keeps a 222-byte original whole after a 13-digit time and a 1-digit counter", () => {
    const original = `${"o".repeat(217)}.json`
    const claim = claimName(1795886819898, 1, original)
    expect(claim).toEqual({ name: `1795886819898-1_${original}`, shortened: false })
    expect(bytesOf(claim.name)).toBe(238)
  })
  it.each([
    ["255-byte ASCII", `${"a".repeat(250)}.json`],
    ["255-byte 2-byte", `${"é".repeat(125)}.json`],
    ["255-byte 4-byte", `${"😀".repeat(62)}ab.json`],
    ["escaped Latin-1", `${"%E9".repeat(250)}.json`]
  ])("shortens a %s original, says so, and parses back", (_, original) => {
    const seq = Number.MAX_SAFE_INTEGER
    const claim = claimName(1795886819898, seq, original)
    expect(claim.shortened).toBe(true)
    expect(bytesOf(claim.name)).toBeLessThanOrEqual(255)
    expect(bytesOf(claim.name)).toBeGreaterThanOrEqual(252)
    expect(processingName(1795886819898, seq, original)).toBe(claim.name)
    const parsed = parseProcessingName(claim.name)
    expect(parsed).toEqual({
      receivedAtMs: 1795886819898,
      seq,
      original: fitName(original, 255 - `1795886819898-${seq}_`.length).name,
      shortened: true
    })
    expect(claim.name).toBe(`1795886819898-${seq}~${parsed!.original}`)
    expect(parsed!.original.endsWith(`~${sha8(original)}.json`)).toBe(true)
    expect(bytesFromName(parsed!.original).subarray(0, 10).equals(bytesFromName(original).subarray(0, 10))).toBe(true)
  })
  it("parses a claim whose original begins with digits, a ~ or an underscore", () => {
    expect(parseProcessingName("5-6_7-8_x.json")).toMatchObject({ receivedAtMs: 5, seq: 6, original: "7-8_x.json" })
    expect(parseProcessingName("5-6_~x.json")).toMatchObject({ original: "~x.json", shortened: false })
    expect(parseProcessingName("5-6__x.json")).toMatchObject({ original: "_x.json", shortened: false })
  })
  it("parses a claim written before escaping existed, newline included", () => {
    expect(parseProcessingName("5-6_a\nb.json")).toMatchObject({ original: "a\nb.json", shortened: false })
  })
  it("names the sidecar of a shortened claim: short, hidden, never taken as a claim", () => {
    const sidecar = claimSidecarName(1795886819898, 12)
    expect(sidecar).toBe(".1795886819898-12.name")
    expect(classifyName(sidecar)).toBe("silent")
    expect(parseProcessingName(sidecar)).toBeUndefined()
  })
})

describe("stored names hold no card number and no address (contract §5, revised 2026-12-03)", () => {
  const AT = new Date("2026-11-28T09:30:00.120Z")
  it("mask them with X for each hidden character, as the contract's examples", () => {
    expect(storedNameCandidate("card4111111111111111.json", 0, AT)).toBe("cardXXXXXXXXXXXX1111.json")
    expect(storedNameCandidate("orders-jane@example.com.json", 0, AT)).toBe("orders-jXXX@example.com.json")
    expect(returnedNameCandidate("card4111111111111111.json", 1, AT)).toBe("cardXXXXXXXXXXXX1111-20261128T093000120Z.json")
    expect(returnedNameCandidate("card4111 - 1111 - 1111 - 1111.json", 2, AT)).toBe("cardXXXX - XXXX - XXXX - 1111-20261128T093000120Z-2.json")
    expect(storedNameCandidate("４１１１ １１１１ １１１１ １１１１.json", 0, AT)).toBe("XXXX XXXX XXXX １１１１.json")
    expect(storedNameCandidate("4111%A01111%A01111%A01111.json", 0, AT)).toBe("XXXX%A0XXXX%A0XXXX%A01111.json")
    expect(storedNameCandidate("jane.roe%2540example.org.json", 0, AT)).toBe("jXXXXXXX%2540example.org.json")
    expect(storedNameCandidate("batch-7.json", 0, AT)).toBe("batch-7.json")
  })

  it("mask before shortening: no leading digit of a card survives the cut (a 251-byte name kept 14 of them)", () => {
    const name = `${"a".repeat(216)}4111111111111111${"b".repeat(14)}.json`
    for (const attempt of [0, 1, 2]) {
      const stored = returnedNameCandidate(name, attempt, AT)
      expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(RETURNED_NAME_MAX)
      // cut after the masked number's X (and perhaps some of its last four), never inside the number itself
      expect(stored.slice(0, stored.indexOf("~"))).toMatch(attempt === 0 ? /^a{216}X{12}11$/ : /^a{1,216}X{0,12}1{0,4}$/)
      // the marker is the hash of the masked name: a hash of the number would let it be guessed back
      expect(stored).toContain(shortenedMarker(`${"a".repeat(216)}XXXXXXXXXXXX1111${"b".repeat(14)}.json`))
    }
  })

  it("a claim name cut to fit masks what it keeps: a cut card no longer reads as one (found in debug.log's claimed_as)", () => {
    const original = `${"y".repeat(215)}4111 1111 1111 1111${"z".repeat(30)}.json`
    const claim = claimName(1796297520701, 5, original)
    expect(claim.shortened).toBe(true)
    const kept = parseProcessingName(claim.name)!.original
    // cut unmasked, it kept "4111 1111 ": eight digits, no longer a card to the masker
    expect(kept).toMatch(/^y{215}XXXX XXXX ~[0-9a-f]{8}\.json$/)
    expect(kept).toBe(fitName(maskName(original), NAME_MAX - "1796297520701-5_".length).name)
    // a claim that fits keeps its original whole: recovery reads it from the name
    expect(claimName(1796297520701, 5, "card4111111111111111.json").name).toBe("1796297520701-5_card4111111111111111.json")
  })

  it("a stored name masks to itself, so every output shows it as it is", () => {
    for (const name of ["card4111111111111111.json", "orders-jane@example.com.json", "x_4111.1111.1111.1111_y.json", `${"a".repeat(216)}4111111111111111${"b".repeat(14)}.json`]) {
      const stored = returnedNameCandidate(name, 1, AT)
      expect(maskName(stored)).toBe(stored)
      expect(storedNameShown(stored, maskText)).toBe(stored)
    }
  })
})
