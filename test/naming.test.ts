import { describe, expect, it } from "vitest"
import {
  classifyName,
  compactTimestamp,
  parseProcessingName,
  processingName,
  reportName,
  storedNameCandidate
} from "../src/Naming.js"

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

describe("stored names (contract §5)", () => {
  const now = new Date("2026-11-28T09:30:00.120Z")
  it("formats the UTC stamp", () => expect(compactTimestamp(now)).toBe("20261128T093000120Z"))
  it("tries the name, then the stamped name, then -2, -3", () => {
    expect(storedNameCandidate("batch-7.json", 0, now)).toBe("batch-7.json")
    expect(storedNameCandidate("batch-7.json", 1, now)).toBe("batch-7-20261128T093000120Z.json")
    expect(storedNameCandidate("batch-7.json", 2, now)).toBe("batch-7-20261128T093000120Z-2.json")
    expect(storedNameCandidate("batch-7.json", 3, now)).toBe("batch-7-20261128T093000120Z-3.json")
    expect(storedNameCandidate("a.b.JSON", 1, now)).toBe("a.b-20261128T093000120Z.JSON")
  })
  it("names the report after the stored file", () => {
    expect(reportName("batch-7.json")).toBe("batch-7.json.error.json")
  })
})

describe("processing names", () => {
  it("round-trips the original name and the receive time", () => {
    const name = processingName(1795886819898, 12, "my file_1-2.json")
    expect(parseProcessingName(name)).toEqual({ receivedAtMs: 1795886819898, original: "my file_1-2.json" })
  })
  it("does not parse a foreign name", () => expect(parseProcessingName("stray.json")).toBeUndefined())
})
