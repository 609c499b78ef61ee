/**
 * Per-partner notifications (PARTNERS_FILE): a message about returned files
 * names (and counts) one partner's files only, the oldest file's partner
 * first, each partner's files in arrival order; and it goes to that partner's
 * recipients.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Batching from "../../src/notify/Batching.js"
import type { BatchState } from "../../src/notify/Batching.js"
import { recipientsOf } from "../../src/partners/Routing.js"
import type { Partner } from "../../src/partners/PartnersFile.js"
import { rejected } from "../notify/support.js"

const add = (s: BatchState, partner: string | undefined, names: ReadonlyArray<string>, t = 0) =>
  names.reduce((acc, n) => Batching.addRejected(acc, { ...rejected(n), partner }, t), s)
const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}.json`)

/** Every message until none is left: its partner, its files, its count of files not named. */
const drain = (s0: BatchState, maxPerHour = 1000) => {
  let s = s0
  const out: Array<{ partner: string | undefined; files: Array<string>; more: number }> = []
  for (let t = 1; Batching.hasWork(s); t++) {
    const [next, after] = Batching.takeNext(s, maxPerHour, t)
    if (next._tag !== "Rejected") throw new Error(`unexpected ${next._tag}`)
    out.push({ partner: next.partner, files: next.files.map((f) => f.file), more: next.more })
    s = after
  }
  return out
}

describe("per-partner batches", () => {
  it("names one partner's files a message, the oldest file's partner first, each in arrival order", () => {
    let s = add(Batching.initial, "acme", ["a1.json"])
    s = add(s, "globex", ["g1.json", "g2.json"])
    s = add(s, "acme", ["a2.json"])
    expect(drain(s)).toEqual([
      { partner: "acme", files: ["a1.json", "a2.json"], more: 0 },
      { partner: "globex", files: ["g1.json", "g2.json"], more: 0 }
    ])
  })

  it("a partner's 250 files are three messages of its own, another partner's file is not held behind them", () => {
    let s = add(Batching.initial, "acme", names(250, "a"))
    s = add(s, "globex", ["g.json"])
    const messages = drain(s)
    expect(messages.map((m) => [m.partner, m.files.length])).toEqual([["acme", 100], ["globex", 1], ["acme", 100], ["acme", 50]])
    expect(messages.filter((m) => m.partner === "acme").flatMap((m) => m.files)).toEqual(names(250, "a"))
  })

  it("counts the files beyond MAX_QUEUED_FILES in their own partner's message, never in another's", () => {
    let s = add(Batching.initial, "acme", names(Batching.MAX_QUEUED_FILES, "a"))
    s = add(s, "globex", names(5, "g"))
    s = add(s, "acme", names(3, "x"))
    expect(Batching.queued(s)).toBe(Batching.MAX_QUEUED_FILES + 8)
    const messages = drain(s)
    expect(messages.filter((m) => m.partner === "globex").reduce((n, m) => n + m.more, 0)).toBe(5)
    expect(messages.filter((m) => m.partner === "acme").reduce((n, m) => n + m.more, 0)).toBe(3)
    expect(messages.filter((m) => m.partner === "globex").flatMap((m) => m.files)).toEqual([])
  })

  it("when the hour's allowance runs out, the last message counts only its partner's files still waiting", () => {
    let s = add(Batching.initial, "acme", names(150, "a"))
    s = add(s, "globex", names(7, "g"))
    const [last] = Batching.takeNext(s, 1, 1)
    expect(last).toMatchObject({ _tag: "Rejected", partner: "acme", more: 50 })
  })

  it("files of no partner are batched as before", () => {
    const s = add(Batching.initial, undefined, names(3, "f"))
    expect(drain(s)).toEqual([{ partner: undefined, files: names(3, "f"), more: 0 }])
  })
})

describe("recipientsOf", () => {
  const partner = (to: ReadonlyArray<string>, administrators: boolean): Partner => ({
    id: "acme",
    inbox: "/i",
    returns: "/r",
    validated: "shared",
    contract: "1",
    account: undefined,
    notify: { to, administrators }
  })
  it("the partner's addresses, and the administrators unless it says not", () => {
    expect(recipientsOf(partner(["edi@acme.example"], true), ["ops@cjp.example"])).toEqual(["edi@acme.example", "ops@cjp.example"])
    expect(recipientsOf(partner(["edi@acme.example"], false), ["ops@cjp.example"])).toEqual(["edi@acme.example"])
    expect(recipientsOf(partner([], true), ["ops@cjp.example"])).toEqual(["ops@cjp.example"])
  })
  it("the administrators when that leaves no one: a returned file is never told to nobody", () => {
    expect(recipientsOf(partner([], false), ["ops@cjp.example"])).toEqual(["ops@cjp.example"])
  })
})
