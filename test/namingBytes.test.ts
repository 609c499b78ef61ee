import { describe, expect, it } from "vitest"
import { bytesFromName, classifyName, logName, nameFromBytes } from "../src/files/Naming.js"

const bytes = (...parts: ReadonlyArray<string | ReadonlyArray<number>>): Buffer =>
  Buffer.concat(parts.map((part) => typeof part === "string" ? Buffer.from(part, "utf8") : Buffer.from(part)))

/** nameFromBytes, and the check that bytesFromName gives the very bytes back. */
const escape = (raw: Buffer) => {
  const result = nameFromBytes(raw)
  expect(bytesFromName(result.text).equals(raw)).toBe(true)
  return result
}

describe("names as bytes: the plain case (contract §5)", () => {
  it.each(["batch-7.json", "café.json", "批次 7 ✓.JSON", "emoji 😀.json", "-rf.json", "--help.json", "a b~c.json"])(
    "keeps %s as it is",
    (name) => expect(escape(Buffer.from(name, "utf8"))).toEqual({ text: name, escaped: false })
  )
  it("accepts any Uint8Array, a view into a larger buffer included", () => {
    const whole = Buffer.from("xxcafé.jsonyy", "utf8")
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 2, whole.length - 4)
    expect(nameFromBytes(view)).toEqual({ text: "café.json", escaped: false })
  })
})

describe("names as bytes: escapes", () => {
  it("escapes a Latin-1 byte, as Samba and old Windows producers write café.json", () => {
    expect(escape(bytes("caf", [0xe9], ".json"))).toEqual({ text: "caf%E9.json", escaped: true })
  })
  it("escapes % itself, so that every % in a name's text starts an escape", () => {
    expect(escape(bytes("%"))).toEqual({ text: "%25", escaped: true })
    expect(escape(bytes("100%.json")).text).toBe("100%25.json")
    expect(escape(bytes("%E9.json")).text).toBe("%25E9.json")
    expect(escape(bytes("50%", [0xe9], ".json")).text).toBe("50%25%E9.json")
  })
  it.each([
    ["a newline", "a\nb.json", "a%0Ab.json"],
    ["a tab", "a\tb.json", "a%09b.json"],
    ["an escape sequence", "\u001b[31mred.json", "%1B[31mred.json"],
    ["a carriage return", "a\rb.json", "a%0Db.json"],
    ["DEL", "a\u007f.json", "a%7F.json"],
    ["a C1 control (NEL)", "a\u0085.json", "a%C2%85.json"],
    ["a line separator", "a\u2028.json", "a%E2%80%A8.json"],
    ["a right-to-left override", "invoice\u202enosj.exe.json", "invoice%E2%80%AEnosj.exe.json"],
    ["a right-to-left isolate", "a\u2067b.json", "a%E2%81%A7b.json"],
    ["a right-to-left mark", "a\u200fb.json", "a%E2%80%8Fb.json"],
    ["an Arabic letter mark", "a\u061cb.json", "a%D8%9Cb.json"]
  ])("escapes %s", (_, name, text) => {
    expect(escape(Buffer.from(name, "utf8"))).toEqual({ text, escaped: true })
  })
  it("leaves a leading dash alone: the daemon never passes a name on a command line", () => {
    expect(escape(bytes("-n.json")).escaped).toBe(false)
  })
  it.each([
    ["an overlong /", [0xc0, 0xaf], "%C0%AF"],
    ["a UTF-16 surrogate", [0xed, 0xa0, 0x80], "%ED%A0%80"],
    ["a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80], "%F4%90%80%80"],
    ["a truncated sequence", [0xe2, 0x82], "%E2%82"],
    ["a lone continuation byte", [0x80], "%80"],
    ["bytes that are never UTF-8", [0xfe, 0xff], "%FE%FF"]
  ])("escapes each byte of %s", (_, seq, escaped) => {
    expect(escape(bytes("a", seq, ".json")).text).toBe(`a${escaped}.json`)
  })
  it("keeps the valid characters around invalid bytes", () => {
    expect(escape(bytes("é", [0xe9], "€", [0xe2, 0x82], "😀.json")).text).toBe("é%E9€%E2%82😀.json")
  })
  it("an escaped name is still taken when it ends in .json, and still hidden when it starts with .", () => {
    expect(classifyName(nameFromBytes(bytes("caf", [0xe9], ".JSON")).text)).toBe("candidate")
    expect(classifyName(nameFromBytes(bytes(".", [0xe9], ".json")).text)).toBe("silent")
    expect(classifyName(nameFromBytes(bytes("%")).text)).toBe("other")
  })
})

describe("bytesFromName", () => {
  it("decodes escapes in either case", () => {
    expect(bytesFromName("caf%e9.json").equals(bytes("caf", [0xe9], ".json"))).toBe(true)
    expect(bytesFromName("%0a%0A").equals(Buffer.from("\n\n"))).toBe(true)
  })
  it("keeps a % that starts no escape (names claimed before escaping existed)", () => {
    expect(bytesFromName("100%.json").toString("utf8")).toBe("100%.json")
    expect(bytesFromName("%4.json").toString("utf8")).toBe("%4.json")
    expect(bytesFromName("%zz%").toString("utf8")).toBe("%zz%")
  })
  it("returns plain text as its UTF-8 bytes", () => {
    expect(bytesFromName("批次.json").equals(Buffer.from("批次.json", "utf8"))).toBe(true)
  })
  it("never makes a / or a NUL of a name: a path is never made of a name", () => {
    // A producer's name such as `pad%2F..%2Flink%2Fvictim.json` must stay one name in data/.
    for (const text of ["pad%2F..%2Flink%2Fvictim.json", "a%2fb", "a%00b", "%2F", "x%2E%2E%2Fy"]) {
      const decoded = bytesFromName(text)
      expect(decoded.includes(0x2f), text).toBe(false)
      expect(decoded.includes(0x00), text).toBe(false)
    }
    expect(bytesFromName("a%2Fb%41").toString("utf8")).toBe("a%2FbA")
    // (no name holds those bytes, so nameFromBytes never writes those escapes: every name still round-trips)
    expect(bytesFromName(nameFromBytes(bytes("a%2Fb")).text).toString("utf8")).toBe("a%2Fb")
  })
})

describe("logName", () => {
  it("shows a name's text exactly: what the log shows is the stored name", () => {
    for (const raw of [bytes("a\nb.json"), bytes("caf", [0xe9], ".json"), bytes("100%.json"), bytes("-x.json")]) {
      const { text } = nameFromBytes(raw)
      expect(logName(text)).toBe(text)
    }
  })
  it("escapes control and bidi characters in any other text, by the same scheme", () => {
    expect(logName("123-4_a\nb.json")).toBe("123-4_a%0Ab.json")
    expect(logName("a\u202eb\u0000\u009b")).toBe("a%E2%80%AEb%00%C2%9B")
    expect(bytesFromName(logName("a\tb")).toString("utf8")).toBe("a\tb")
  })
})
