/** The pure rules of requeue: which name a returned file goes back under, time bounds, the age filter, reports. */
import { describe, expect, it } from "vitest"
import { maskText } from "../src/masking/Masking.js"
import {
  isRequeueableName,
  isReturnedNameOf,
  NAME_MAX,
  receivedNameOf,
  requeueNameCandidate,
  returnedNameCandidate,
  storedNameCandidate,
  withoutCollisionSuffix
} from "../src/files/Naming.js"
import { boundAt, makeAgeFilter, parseTimeBound, passesAgeFilter, reportFacts } from "../src/requeue/Requeue.js"

const AT = new Date("2026-11-28T09:30:00.120Z")

describe("withoutCollisionSuffix", () => {
  it("removes the stamp, and the stamp with -k, before the extension", () => {
    expect(withoutCollisionSuffix("orders-20261128T093000120Z.json")).toBe("orders.json")
    expect(withoutCollisionSuffix("orders-20261128T093000120Z-7.json")).toBe("orders.json")
    expect(withoutCollisionSuffix("a.b-20261128T093000120Z-2.JSON")).toBe("a.b.JSON")
    expect(withoutCollisionSuffix("caf%E9-20261128T093000120Z.json")).toBe("caf%E9.json")
  })

  it("leaves a name without a stamp (or with something else in its place) as it is", () => {
    expect(withoutCollisionSuffix("orders.json")).toBe("orders.json")
    expect(withoutCollisionSuffix("orders-2026.json")).toBe("orders-2026.json")
    expect(withoutCollisionSuffix("orders-20261128T0930001Z.json")).toBe("orders-20261128T0930001Z.json")
    // a stamp alone is no name with a stem
    expect(withoutCollisionSuffix("-20261128T093000120Z.json")).toBe("-20261128T093000120Z.json")
  })

  it("inverts returnedNameCandidate for every attempt of a short name", () => {
    for (const name of ["x.json", "two.dots.json", "caf%E9.json", "no-extension"]) {
      for (const attempt of [0, 1, 2, 3, 17]) expect(withoutCollisionSuffix(returnedNameCandidate(name, attempt, AT))).toBe(name)
    }
  })
})

describe("isReturnedNameOf / receivedNameOf", () => {
  it("a report's file is the received name when the stored name is one the daemon would give it", () => {
    for (const attempt of [0, 1, 2, 12]) {
      const stored = returnedNameCandidate("orders.json", attempt, AT)
      expect(isReturnedNameOf("orders.json", stored)).toBe(true)
      expect(receivedNameOf(stored, "orders.json")).toBe("orders.json")
    }
    expect(isReturnedNameOf("other.json", "orders.json")).toBe(false)
  })

  it("a long name, shortened when stored, comes back whole from its report", () => {
    const long = `${"a".repeat(250)}.json`
    for (const attempt of [0, 1, 2]) {
      const stored = returnedNameCandidate(long, attempt, AT)
      expect(stored).not.toBe(long)
      expect(receivedNameOf(stored, long)).toBe(long)
    }
  })

  it("a masked file name (a card number in it) is not taken: the stored name without its suffix is", () => {
    const received = "orders-4111111111111111.json"
    const masked = maskText(received)
    expect(masked).not.toBe(received)
    // The stored name holds the number masked with X (contract §5): that is the name given back.
    const stored = returnedNameCandidate(received, 2, AT)
    expect(receivedNameOf(stored, masked)).toBe("orders-XXXXXXXXXXXX1111.json")
    expect(receivedNameOf(returnedNameCandidate(received, 0, AT), masked)).toBe("orders-XXXXXXXXXXXX1111.json")
  })

  it("no report: the stored name without its suffix", () => {
    expect(receivedNameOf("orders-20261128T093000120Z-3.json", undefined)).toBe("orders.json")
    expect(receivedNameOf("orders.json", undefined)).toBe("orders.json")
  })

  it("a report naming another folder, or a name the daemon never takes, is not believed", () => {
    expect(receivedNameOf("x.json", "../validated/x.json")).toBe("x.json")
    expect(receivedNameOf("x.json", "..%2Fx.json")).toBe("x.json")
    expect(receivedNameOf("x.json", ".x.json")).toBe("x.json")
    expect(isReturnedNameOf("x.json", "x-20261399T093000120Z.json")).toBe(false)
  })
})

describe("isRequeueableName", () => {
  it("takes the names the daemon takes, judged on their bytes", () => {
    expect(isRequeueableName("orders.json")).toBe(true)
    expect(isRequeueableName("caf%E9.json")).toBe(true)
    expect(isRequeueableName(`${"%E9".repeat(250)}.json`)).toBe(true)
    expect(isRequeueableName(`${"%E9".repeat(251)}.json`)).toBe(false)
    expect(isRequeueableName("orders.txt")).toBe(false)
    expect(isRequeueableName(".orders.json")).toBe(false)
    expect(isRequeueableName("%2Eorders.json")).toBe(false)
    expect(isRequeueableName("a%2Fb.json")).toBe(false)
    expect(isRequeueableName("a%00b.json")).toBe(false)
    expect(isRequeueableName("a/b.json")).toBe(false)
  })
})

describe("requeueNameCandidate", () => {
  it("the name itself while its bytes fit, then the collision names of contract §5", () => {
    const escaped = `${"%E9".repeat(200)}.json` // 600 characters of text, 205 bytes on disk
    expect(requeueNameCandidate(escaped, 0, AT)).toBe(escaped)
    expect(requeueNameCandidate("x.json", 1, AT)).toBe("x-20261128T093000120Z.json")
    expect(requeueNameCandidate("x.json", 2, AT)).toBe("x-20261128T093000120Z-2.json")
    const long = `${"a".repeat(260)}.json`
    expect(requeueNameCandidate(long, 0, AT)).toBe(storedNameCandidate(long, 0, AT))
    expect(Buffer.byteLength(requeueNameCandidate(long, 0, AT))).toBeLessThanOrEqual(NAME_MAX)
  })
})

describe("parseTimeBound", () => {
  it("durations in s, m, h, d, w", () => {
    expect(parseTimeBound("30s")).toEqual({ _tag: "Ago", ms: 30_000 })
    expect(parseTimeBound("15m")).toEqual({ _tag: "Ago", ms: 900_000 })
    expect(parseTimeBound("2h")).toEqual({ _tag: "Ago", ms: 7_200_000 })
    expect(parseTimeBound("3d")).toEqual({ _tag: "Ago", ms: 3 * 86_400_000 })
    expect(parseTimeBound("1w")).toEqual({ _tag: "Ago", ms: 604_800_000 })
    expect(parseTimeBound("0m")).toEqual({ _tag: "Ago", ms: 0 })
  })

  it("ISO dates (midnight UTC) and times with their zone", () => {
    expect(parseTimeBound("2026-11-28")).toEqual({ _tag: "At", ms: Date.parse("2026-11-28T00:00:00Z") })
    expect(parseTimeBound("2026-11-28T10:00:00Z")).toEqual({ _tag: "At", ms: Date.parse("2026-11-28T10:00:00Z") })
    expect(parseTimeBound("2026-11-28T10:00+02:00")).toEqual({ _tag: "At", ms: Date.parse("2026-11-28T08:00:00Z") })
    expect(parseTimeBound("2026-11-28T10:00:00.250Z")).toEqual({ _tag: "At", ms: Date.parse("2026-11-28T10:00:00.250Z") })
  })

  it("anything else is refused", () => {
    for (const bad of ["", "2", "2x", "h", "-2h", "2.5h", "2 hours", "2026-11-28T10:00:00", "2026-13-45", "2026-02-30T00:00Z", "yesterday"]) {
      expect(parseTimeBound(bad), bad).toBeUndefined()
    }
  })
})

describe("the age filter", () => {
  const now = Date.parse("2026-11-29T12:00:00Z")

  it("a duration counts back from now; a time is itself", () => {
    expect(boundAt({ _tag: "Ago", ms: 3_600_000 }, now)).toBe(now - 3_600_000)
    expect(boundAt({ _tag: "At", ms: 5 }, now)).toBe(5)
  })

  it("--older-than keeps files returned before the bound, --newer-than after it, both ends exclusive", () => {
    const older2h = makeAgeFilter(parseTimeBound("2h"), undefined, now)
    expect(passesAgeFilter(older2h, now - 3 * 3_600_000)).toBe(true)
    expect(passesAgeFilter(older2h, now - 2 * 3_600_000)).toBe(false)
    expect(passesAgeFilter(older2h, now - 3_600_000)).toBe(false)
    const newer2h = makeAgeFilter(undefined, parseTimeBound("2h"), now)
    expect(passesAgeFilter(newer2h, now - 3_600_000)).toBe(true)
    expect(passesAgeFilter(newer2h, now - 3 * 3_600_000)).toBe(false)
    // A window: returned between three days and one day ago.
    const window = makeAgeFilter(parseTimeBound("1d"), parseTimeBound("3d"), now)
    expect(passesAgeFilter(window, now - 2 * 86_400_000)).toBe(true)
    expect(passesAgeFilter(window, now - 4 * 86_400_000)).toBe(false)
    expect(passesAgeFilter(window, now - 3_600_000)).toBe(false)
    expect(passesAgeFilter(makeAgeFilter(undefined, undefined, now), 0)).toBe(true)
  })
})

describe("reportFacts", () => {
  it("reads file and processed_at from a report of contract §6", () => {
    const report = JSON.stringify({ file: "x.json", stored_as: "x.json", processed_at: "2026-11-28T09:30:00.120Z", errors: [] })
    expect(reportFacts(report)).toEqual({ file: "x.json", processedAtMs: Date.parse("2026-11-28T09:30:00.120Z") })
    expect(reportFacts(JSON.stringify({ stored_as: "x.json", errors: [], processed_at: "soon" }))).toEqual({ file: undefined, processedAtMs: undefined })
  })

  it("anything else is no report", () => {
    for (const text of ["", "{", "[]", "null", JSON.stringify({ file: "x.json" }), JSON.stringify([{ stored_as: "x", errors: [] }])]) {
      expect(reportFacts(text), text).toBeUndefined()
    }
  })
})
