import { describe, expect, it } from "vitest"
import { describeParseFailure, lineAndColumn, memberNames, ownKeys, parseJsonBytes } from "../src/contract/ParseJson.js"

const bytes = (s: string) => new TextEncoder().encode(s)
const failure = (s: string | Uint8Array) => {
  const result = parseJsonBytes(typeof s === "string" ? bytes(s) : s)
  if (result._tag === "Parsed") throw new Error("expected a failure")
  return describeParseFailure(result)
}

describe("parseJsonBytes (contract §2)", () => {
  it("parses UTF-8 and drops a leading byte-order mark", () => {
    const result = parseJsonBytes(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{"a":"é"}')]))
    expect(result).toEqual({ _tag: "Parsed", value: { a: "é" } })
  })
  it("rejects invalid UTF-8", () => {
    expect(failure(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toBe("file is not valid UTF-8")
  })
  it.each(["", "   \n\t  ", "\uFEFF"])("rejects an empty or blank file (%j)", (s) => {
    expect(failure(s)).toBe("file is empty or contains only whitespace")
  })
  it("gives line and column of a truncated document", () => {
    expect(failure('[{"a": "Tru')).toBe("malformed JSON at line 1, column 12: unterminated string")
    expect(failure('{"a": [1, 2')).toBe("malformed JSON at line 1, column 12: expected ',' or ']' after an array element")
    expect(failure("nul")).toBe("malformed JSON at line 1, column 4: unexpected end of the file (the JSON value is incomplete)")
    expect(failure("[1,\n2")).toBe("malformed JSON at line 2, column 2: expected ',' or ']' after an array element")
    expect(failure('{"a":1,}')).toMatch(/^malformed JSON at line 1, column 8: /)
  })
  it("locates an unexpected token without quoting it", () => {
    const message = failure('{\n  "card": 4111111111111111x\n}')
    expect(message).toMatch(/^malformed JSON at line 2, column \d+: /)
    expect(message).not.toContain("4111")
    const secret = failure('{"a": tsecret-value}')
    expect(secret).not.toContain("secret")
  })
  it("does not crash on very deep malformed nesting", () => {
    expect(failure("[".repeat(100_000))).toMatch(/^malformed JSON at line 1, column 100001/)
  })
  it("parses very deep well-formed nesting", () => {
    expect(parseJsonBytes(bytes("[".repeat(100_000) + "]".repeat(100_000)))._tag).toBe("Parsed")
  })
  it("computes 1-based line and column", () => {
    expect(lineAndColumn("ab\ncd", 4)).toEqual({ line: 2, column: 2 })
    expect(lineAndColumn("ab", 0)).toEqual({ line: 1, column: 1 })
  })
})

describe("a key given twice in one object", () => {
  it("is refused where its second occurrence is: the stored bytes would hold a field JSON.parse dropped", () => {
    // A card verification code hidden in a first `payment`, an accepted one after it.
    const smuggled = '{\n  "customer_id": "C-1",\n  "payment": {"card_number": "4111111111111112", "cvv": "123"},\n  "payment": {"card_number": "4111111111111111"}\n}'
    expect(failure(smuggled)).toBe("a key given twice in one object, at line 4, column 3 (each key may appear once)")
    expect(failure('[{"a": 1}, {"b": {"c": 1, "c": 2}}]')).toBe("a key given twice in one object, at line 1, column 27 (each key may appear once)")
    // the same key written with an escape is the same key
    expect(failure('{"a": 1, "\\u0061": 2}')).toMatch(/a key given twice/)
  })
  it("is told apart from the same key in different objects, and from colons and quotes inside strings", () => {
    expect(parseJsonBytes(bytes('[{"a": 1}, {"a": 2}, {"x": {"a": 3}}]'))._tag).toBe("Parsed")
    expect(parseJsonBytes(bytes('{"a": "x\\":", "b": "\\\\", "c": ":\\"\\\\", "__proto__": {"d": 1}}'))._tag).toBe("Parsed")
  })
  it("counts member names in the text and own keys in the value alike", () => {
    const text = '{"a": [{"b": "\\"c\\":"}, {"d" : {"e":1}}], "f" :null, "g": ["h", "i:"]}'
    expect(memberNames(text)).toBe(6)
    expect(ownKeys(JSON.parse(text))).toBe(6)
    expect(memberNames('"just a string: yes"')).toBe(0)
    expect(ownKeys([1, "a", null, [{}]])).toBe(0)
  })
})
