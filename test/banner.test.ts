/** The start-up banner's pure parts (Banner). */
import * as Option from "effect/Option"
import { describe, expect, it } from "vitest"
import { statusPageAddress } from "../src/daemon/Banner.js"

describe("the start-up banner", () => {
  it("says where the status page is, as a browser is pointed at it, or why there is none", () => {
    expect(statusPageAddress({ metricsPort: Option.some(9464), metricsHost: "127.0.0.1" })).toBe("http://127.0.0.1:9464/")
    expect(statusPageAddress({ metricsPort: Option.some(9464), metricsHost: "::1" })).toBe("http://[::1]:9464/")
    expect(statusPageAddress({ metricsPort: Option.none(), metricsHost: "127.0.0.1" })).toBe("off (METRICS_PORT is not set)")
  })
})
