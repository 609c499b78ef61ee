import { describe, expect, it } from "vitest"
import { describeParseFailure, lineAndColumn, parseJsonBytes } from "../src/contract/ParseJson.js"

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
