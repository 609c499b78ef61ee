/**
 * How a partner's file is named inside the daemon: `<partner>/<name>`, and its
 * claimed name in processing/ records the partner (`<ms>-<seq>.<partner>_<name>`),
 * so crash recovery and requeue know whose it is from the name alone.
 */
import { describe, expect, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import { claimName, isShortenedClaim, NAME_MAX, parseProcessingName, processingName } from "../../src/files/Naming.js"
import { Masker } from "../../src/masking/Masker.js"
import { partnerOfClaim, partnerOfName, qualifiedName, splitName } from "../../src/files/PartnerNames.js"

describe("partner names", () => {
  it("qualifies a name with its partner and splits it back", () => {
    expect(qualifiedName("acme", "orders.json")).toBe("acme/orders.json")
    expect(splitName("acme/orders.json")).toEqual({ partner: "acme", name: "orders.json" })
    expect(partnerOfName("acme/orders.json")).toBe("acme")
  })
  it("leaves a name without partner as it is (no partners file)", () => {
    expect(splitName("orders.json")).toEqual({ partner: undefined, name: "orders.json" })
    expect(partnerOfName("orders.json")).toBeUndefined()
  })

  it("records the partner in the claimed name and parses it back, the original qualified", () => {
    const claimed = processingName(1795886819898, 7, "acme/my file_1.json")
    expect(claimed).toBe("1795886819898-7.acme_my file_1.json")
    expect(partnerOfClaim(claimed)).toBe("acme")
    expect(parseProcessingName(claimed)).toEqual({
      receivedAtMs: 1795886819898,
      seq: 7,
      original: "acme/my file_1.json",
      shortened: false,
      partner: "acme"
    })
  })

  it("keeps the claimed name of a file without partner exactly as before", () => {
    const claimed = processingName(1795886819898, 7, "orders.json")
    expect(claimed).toBe("1795886819898-7_orders.json")
    expect(partnerOfClaim(claimed)).toBeUndefined()
    expect(parseProcessingName(claimed)?.partner).toBeUndefined()
  })

  it("shortens a long name of a partner within NAME_MAX, keeping the partner", () => {
    const long = `${"a".repeat(250)}.json`
    const fitted = claimName(1795886819898, 1, `globex-eu/${long}`)
    expect(fitted.shortened).toBe(true)
    expect(Buffer.byteLength(fitted.name)).toBeLessThanOrEqual(NAME_MAX)
    expect(isShortenedClaim(fitted.name)).toBe(true)
    expect(partnerOfClaim(fitted.name)).toBe("globex-eu")
    const parsed = parseProcessingName(fitted.name)!
    expect(parsed.partner).toBe("globex-eu")
    expect(parsed.shortened).toBe(true)
    expect(parsed.original.startsWith("globex-eu/")).toBe(true)
  })

  it("does not take a name a producer wrote with a . for a partner's claim", () => {
    // A claim without partner whose original name holds `.x_`: the separator `_` comes first.
    const claimed = processingName(1, 2, "x.acme_y.json")
    expect(claimed).toBe("1-2_x.acme_y.json")
    expect(partnerOfClaim(claimed)).toBeUndefined()
    expect(parseProcessingName(claimed)).toMatchObject({ original: "x.acme_y.json", partner: undefined })
  })

  it("is not masked in the logs as an address (the claimed name stays readable)", () => {
    const claimed = processingName(1795886819898, 3, "globex/single.json")
    expect(Masker.live.text(`processing/vm-1/${claimed}`)).toBe(`processing/vm-1/${claimed}`)
  })
})

describe("names that are no partner's", () => {
  it("a text before its first / that is no partner id leaves the name whole (no partner)", () => {
    expect(splitName("343 468150 9/ 49878.json")).toEqual({ partner: undefined, name: "343 468150 9/ 49878.json" })
    expect(partnerOfName("Acme/x.json")).toBeUndefined()
    expect(partnerOfName("-acme/x.json")).toBeUndefined()
    expect(splitName("acme-eu/x/y.json")).toEqual({ partner: "acme-eu", name: "x/y.json" })
  })
})
