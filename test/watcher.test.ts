import { describe, expect, it } from "@effect/vitest"
import { hintOfEvent } from "../src/daemon/Watcher.js"
import { bytesFromName } from "../src/files/Naming.js"

describe("a watch event's name", () => {
  it("is the name's escaped text, as a listing gives it", () => {
    expect(hintOfEvent("/srv/data/plain.json")).toEqual({ _tag: "Name", name: "plain.json" })
    expect(hintOfEvent("/srv/data/100%.json")).toEqual({ _tag: "Name", name: "100%25.json" })
    expect(hintOfEvent("/srv/data/tab\there.json")).toEqual({ _tag: "Name", name: "tab%09here.json" })
    // an escape in a producer's name is that name's text, not the byte it would stand for
    expect(hintOfEvent("/srv/data/z%41.json")).toEqual({ _tag: "Name", name: "z%2541.json" })
  })

  it("never becomes a path: a name holding %2F stays one name in data/", () => {
    const hint = hintOfEvent("/srv/data/AAAA%2F..%2Fv%2Fvictim.json")
    expect(hint).toEqual({ _tag: "Name", name: "AAAA%252F..%252Fv%252Fvictim.json" })
    expect(bytesFromName(hint._tag === "Name" ? hint.name : "").toString("utf8")).toBe("AAAA%2F..%2Fv%2Fvictim.json")
  })

  it("that Node could not decode (not UTF-8) asks for a light listing, which reads names as bytes", () => {
    expect(hintOfEvent("/srv/data/caf\uFFFD.json")).toEqual({ _tag: "Rescan", full: false })
  })
})
