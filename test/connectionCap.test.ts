/** Which connection to the status port gives way at the cap (ConnectionCap's pure rule). */
import { describe, expect, it } from "vitest"
import { admit } from "../src/http/ConnectionCap.js"

describe("admitting a connection to the status port", () => {
  const busy = (c: { busy: boolean }) => c.busy
  it("admits below the cap", () => {
    expect(admit([{ busy: false }], 1, 2, busy)).toEqual({ _tag: "Admit" })
  })
  it("at the cap, closes the oldest connection with no request in progress", () => {
    const open = [{ id: 1, busy: true }, { id: 2, busy: false }, { id: 3, busy: false }]
    expect(admit(open, 3, 3, busy)).toEqual({ _tag: "AdmitClosing", oldest: open[1] })
  })
  it("refuses the new one only when every connection is in the middle of a request", () => {
    expect(admit([{ busy: true }, { busy: true }], 2, 2, busy)).toEqual({ _tag: "Refuse" })
  })
})
