/** The "Max open files" line of /proc/<pid>/limits, as the start-up line says it. */
import { describe, expect, it } from "vitest"
import { belowHard, parseOpenFileLimit } from "../src/daemon/OpenFileLimit.js"

const limits = (soft: string, hard: string) =>
  [
    "Limit                     Soft Limit           Hard Limit           Units     ",
    "Max file size             unlimited            unlimited            bytes     ",
    `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     `,
    "Max locked memory         8388608              8388608              bytes     "
  ].join("\n")

describe("the open-file limit", () => {
  it("reads the soft and hard figures, numbers or unlimited", () => {
    expect(parseOpenFileLimit(limits("4096", "4096"))).toEqual({ soft: 4096, hard: 4096 })
    expect(parseOpenFileLimit(limits("1048576", "unlimited"))).toEqual({ soft: 1048576, hard: "unlimited" })
    expect(parseOpenFileLimit("Limit Soft Hard\nMax processes 10 10\n")).toBeUndefined()
    expect(parseOpenFileLimit(limits("lots", "4096"))).toBeUndefined()
  })
  it("is below the hard limit only when the hard one is a figure above the soft one", () => {
    expect(belowHard({ soft: 1024, hard: 4096 })).toBe(true)
    expect(belowHard({ soft: 4096, hard: 4096 })).toBe(false)
    expect(belowHard({ soft: 1048576, hard: "unlimited" })).toBe(false)
  })
})
