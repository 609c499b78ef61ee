import { describe, expect, it } from "@effect/vitest"
import * as Batching from "../../src/notify/Batching.js"
import type { BatchState } from "../../src/notify/Batching.js"
import { critical, rejected } from "./support.js"
import { clearedMessage, criticalMessage } from "../../src/notify/NotificationMessage.js"
import type { ClearedEvent } from "../../src/notify/Notifier.js"

const HOUR = Batching.HOUR_MS
const addFiles = (s: BatchState, names: ReadonlyArray<string>, t: number) => names.reduce((acc, n) => Batching.addRejected(acc, rejected(n), t), s)
const names = (n: number, prefix = "f") => Array.from({ length: n }, (_, i) => `${prefix}${i}.json`)
const fileNames = (next: Batching.Next) => (next._tag === "Rejected" ? next.files.map((f) => f.file) : [])

describe("Batching: the notifier's decisions as pure functions", () => {
  it("the batch window runs from the first waiting file; a waiting critical event goes at once", () => {
    const s = addFiles(Batching.initial, ["a.json"], 1000)
    expect(Batching.batchWait(Batching.initial, 150, 1000)).toBe(0)
    expect(Batching.batchWait(s, 150, 1000)).toBe(150)
    expect(Batching.batchWait(addFiles(s, ["b.json"], 1100), 150, 1100)).toBe(50)
    expect(Batching.batchWait(s, 150, 2000)).toBe(0)
    expect(Batching.batchWait(Batching.addCritical(s, critical("disk"), 1000).state, 150, 1000)).toBe(0)
  })

  it("names files in arrival order, 100 a message, and the window restarts once all are named", () => {
    let s = addFiles(Batching.initial, names(250), 0)
    const seen: Array<string> = []
    let messages = 0
    while (Batching.hasWork(s)) {
      const [next, after] = Batching.takeNext(s, 100, 10 + messages)
      expect(next).toMatchObject({ _tag: "Rejected", more: 0 })
      seen.push(...fileNames(next))
      s = after
      messages++
    }
    expect(messages).toBe(3)
    expect(seen).toEqual(names(250))
    expect(s.firstPendingAt).toBeUndefined()
    // files arriving between batches keep their order behind those already waiting
    let t = addFiles(Batching.initial, names(150, "a"), 0)
    const [first, rest] = Batching.takeNext(t, 100, 1)
    t = addFiles(rest, names(20, "b"), 2)
    const [second] = Batching.takeNext(t, 100, 3)
    expect(fileNames(first)).toEqual(names(100, "a"))
    expect(fileNames(second)).toEqual([...names(150, "a").slice(100), ...names(20, "b")])
  })

  it("rate limit: the hour's last allowed message counts what still waits; the next comes an hour after the first", () => {
    let s = addFiles(Batching.initial, names(350), 0)
    const [m1, s1] = Batching.takeNext(s, 2, 0)
    expect(m1).toMatchObject({ _tag: "Rejected", more: 0 })
    expect(Batching.allowanceWait(s1, 2, 10)).toBe(0)
    const [m2, s2] = Batching.takeNext(s1, 2, 10)
    // 150 still wait after this one: counted in it, and named later
    expect(m2).toMatchObject({ _tag: "Rejected", more: 150 })
    expect(Batching.queued(s2)).toBe(150)
    expect(Batching.allowanceWait(s2, 2, 20)).toBe(HOUR - 20)
    expect(Batching.allowanceWait(s2, 2, HOUR + 1)).toBe(0)
    s = s2
    const [m3] = Batching.takeNext(s, 2, HOUR + 1)
    expect(fileNames(m3)).toEqual(names(350).slice(200, 300))
  })

  it("beyond MAX_QUEUED_FILES files are counted, not named, and the count goes in the next message", () => {
    let s = Batching.initial
    for (let i = 0; i < Batching.MAX_QUEUED_FILES + 3; i++) s = Batching.addRejected(s, rejected(`f${i}.json`), 0)
    expect(Batching.queued(s)).toBe(Batching.MAX_QUEUED_FILES + 3)
    const [next, after] = Batching.takeNext(s, 1000, 0)
    expect(next).toMatchObject({ _tag: "Rejected", more: 3 })
    expect(Batching.queued(after)).toBe(Batching.MAX_QUEUED_FILES - 100)
  })

  it("critical events: first in line; the same summary once an hour, repeats counted on the waiting or the next message", () => {
    let s = addFiles(Batching.initial, ["a.json"], 0)
    s = Batching.addCritical(s, critical("disk full"), 0).state
    s = Batching.addCritical(s, critical("disk full"), 1).state
    const [first, s1] = Batching.takeNext(s, 10, 2)
    expect(first).toMatchObject({ _tag: "Critical", repeats: 1 })
    const again = Batching.addCritical(s1, critical("disk full"), 3)
    expect(again.suppressed).toBe(true)
    const twice = Batching.addCritical(again.state, critical("disk full"), 4)
    expect(twice.suppressed).toBe(true)
    const later = Batching.addCritical(twice.state, critical("disk full"), 2 + HOUR)
    expect(later.suppressed).toBe(false)
    const [, s2] = Batching.takeNext(later.state, 10, 2 + HOUR)
    const [critNext] = Batching.takeNext(later.state, 10, 2 + HOUR)
    expect(critNext).toMatchObject({ _tag: "Critical", repeats: 2 })
    expect(Batching.takeNext(s2, 10, 3 + HOUR)[0]).toMatchObject({ _tag: "Rejected" })
  })

  it("at shutdown every waiting message is taken in order, none counted against the allowance until it goes out", () => {
    const s = Batching.addCritical(addFiles(Batching.initial, names(150), 0), critical("x"), 0).state
    const [all, after] = Batching.takeAll(s, 5, 1)
    expect(all.map((m) => m._tag)).toEqual(["Critical", "Rejected", "Rejected"])
    expect(all.flatMap(fileNames)).toEqual(names(150))
    expect(all.map((m) => (m._tag === "Rejected" ? m.more : -1))).toEqual([-1, 0, 0])
    expect(Batching.hasWork(after)).toBe(false)
    expect(after.sentAt).toEqual([])
    // with the allowance spent, each message counts the files still waiting after it
    const spent = Batching.recordSent(addFiles(Batching.initial, names(150), 0), 0)
    const [late] = Batching.takeAll(spent, 1, 1)
    expect(late.map((m) => (m._tag === "Rejected" ? m.more : -1))).toEqual([50, 0])
  })
})

describe("what the batching remembers of critical summaries", () => {
  it("forgets summaries sent over an hour ago once more than MAX_REMEMBERED_SUMMARIES are remembered (one per failing file)", () => {
    let s = Batching.initial
    // A summary per failing file, each sent a minute after the last, for a day: 1,440 summaries.
    for (let minute = 0; minute < 24 * 60; minute++) {
      const t = minute * 60_000
      s = Batching.addCritical(s, critical(`file f${minute}.json could not be processed`), t).state
      s = Batching.addCritical(s, critical(`file f${minute}.json could not be processed`), t).state
      s = Batching.takeNext(s, 1_000_000, t)[1]
      expect(s.criticalSentAt.size).toBeLessThanOrEqual(Batching.MAX_REMEMBERED_SUMMARIES + 1)
    }
    // What was sent within the hour still holds its repeats back.
    const t = 24 * 60 * 60_000
    expect(Batching.addCritical(s, critical(`file f${24 * 60 - 1}.json could not be processed`), t).suppressed).toBe(true)
    expect(Batching.addCritical(s, critical("file f0.json could not be processed"), t).suppressed).toBe(false)
  })
})

describe("a flood of critical events", () => {
  it("keeps MAX_QUEUED_CRITICALS summaries to send one by one, counts the rest in the next critical message, and gauges them all", () => {
    let s = Batching.initial
    for (let i = 0; i < Batching.MAX_QUEUED_CRITICALS + 50; i++) s = Batching.addCritical(s, critical(`file f${i}.json could not be processed`), 0).state
    expect(s.criticals).toHaveLength(Batching.MAX_QUEUED_CRITICALS)
    expect(Batching.queued(s)).toBe(Batching.MAX_QUEUED_CRITICALS + 50)
    const [first, after] = Batching.takeNext(s, 1_000, 1)
    expect(first).toMatchObject({ _tag: "Critical", more: 50 })
    const [second] = Batching.takeNext(after, 1_000, 2)
    expect(second).toMatchObject({ _tag: "Critical", more: 0 })
    const text = criticalMessage((first as Extract<Batching.Next, { _tag: "Critical" }>).event, 0, (t) => t, { host: "h", more: 50 }).text
    expect(text).toContain("… and 50 more critical event(s) too many to send one by one")
  })
})

describe("all-clears", () => {
  const clear = (summary: string, detail = "it works again", atMs = 5_000): ClearedEvent => ({
    summary,
    detail,
    at: new Date(atMs),
    since: new Date(0),
    instance: "host-1-1234-abcdef"
  })

  it("follow a critical message that went out, all waiting in one message after any critical one; the condition's return is news at once", () => {
    let s = Batching.addCritical(Batching.initial, critical("disk nearly full: /p"), 0).state
    const [sent, afterSend] = Batching.takeNext(s, 100, 1)
    expect(sent).toMatchObject({ _tag: "Critical" })
    // A repeat within the hour is held back, as before.
    s = Batching.addCritical(afterSend, critical("disk nearly full: /p"), 2).state
    expect(Batching.hasWork(s)).toBe(false)
    const cleared = Batching.addCleared(s, clear("disk nearly full: /p"))
    expect(cleared.notify).toBe(true)
    s = Batching.addCritical(cleared.state, critical("folder not usable: /v"), 3).state
    expect(Batching.queued(s)).toBe(2)
    const [first, s1] = Batching.takeNext(s, 100, 4)
    expect(first).toMatchObject({ _tag: "Critical", event: { summary: "folder not usable: /v" } })
    const [second, s2] = Batching.takeNext(s1, 100, 5)
    expect(second).toMatchObject({ _tag: "Cleared", more: 0 })
    // the held-back repeat is told with the all-clear
    expect((second as Extract<Batching.Next, { _tag: "Cleared" }>).events.map((e) => [e.event.summary, e.repeats])).toEqual([["disk nearly full: /p", 1]])
    expect(Batching.hasWork(s2)).toBe(false)
    // Back within the hour: news again, not a repeat held back.
    const back = Batching.addCritical(s2, critical("disk nearly full: /p"), 6)
    expect(back.suppressed).toBe(false)
    expect(Batching.takeNext(back.state, 100, 7)[0]).toMatchObject({ _tag: "Critical", event: { summary: "disk nearly full: /p" } })
  })

  it("none for a condition never notified; a critical still waiting says it cleared instead, and is not remembered as sent", () => {
    expect(Batching.addCleared(Batching.initial, clear("never sent")).notify).toBe(false)
    let s = Batching.addCritical(Batching.initial, critical("disk nearly full: /p"), 0).state
    s = Batching.addCleared(s, clear("disk nearly full: /p", "free space is back")).state
    const [next, after] = Batching.takeNext(s, 100, 1)
    expect(next).toMatchObject({ _tag: "Critical", cleared: { detail: "free space is back" } })
    expect(Batching.hasWork(after)).toBe(false)
    expect(Batching.addCritical(after, critical("disk nearly full: /p"), 2).suppressed).toBe(false)
    // Cleared, then back before the message went out: it no longer says it cleared.
    let t = Batching.addCritical(Batching.initial, critical("x"), 0).state
    t = Batching.addCleared(t, clear("x")).state
    t = Batching.addCritical(t, critical("x"), 1).state
    expect(Batching.takeNext(t, 100, 2)[0]).toMatchObject({ _tag: "Critical", repeats: 1, cleared: undefined })
  })

  it("a condition back before its all-clear went out: no all-clear, and a repeat of what was sent", () => {
    let s = Batching.addCritical(Batching.initial, critical("disk nearly full: /p"), 0).state
    s = Batching.takeNext(s, 100, 1)[1]
    s = Batching.addCleared(s, clear("disk nearly full: /p")).state
    const back = Batching.addCritical(s, critical("disk nearly full: /p"), 2)
    expect(back.suppressed).toBe(true)
    expect(Batching.hasWork(back.state)).toBe(false)
    // and when it clears for good, the all-clear counts the repeat
    const final = Batching.addCleared(back.state, clear("disk nearly full: /p"))
    const [next] = Batching.takeNext(final.state, 100, 3)
    expect((next as Extract<Batching.Next, { _tag: "Cleared" }>).events.map((e) => e.repeats)).toEqual([1])
  })

  it("a flood of all-clears is one message: MAX_QUEUED_CLEARED named, the rest counted", () => {
    let s = Batching.initial
    const n = Batching.MAX_QUEUED_CLEARED + 30
    // each critical sent on its own (as many as are queued at a time)
    for (let i = 0; i < n; i++) {
      s = Batching.addCritical(s, critical(`file f${i}.json could not be processed`), i).state
      s = Batching.takeNext(s, 10_000, i)[1]
    }
    for (let i = 0; i < n; i++) s = Batching.addCleared(s, clear(`file f${i}.json could not be processed`)).state
    expect(Batching.queued(s)).toBe(n)
    const [next, after] = Batching.takeNext(s, 10_000, n + 1)
    expect(next).toMatchObject({ _tag: "Cleared", more: 30 })
    expect(Batching.hasWork(after)).toBe(false)
    const message = clearedMessage((next as Extract<Batching.Next, { _tag: "Cleared" }>).events, 30, (t) => t, "host-1")
    expect(message.subject).toBe(`[customer-json] All clear: ${n} critical conditions cleared`)
    expect(message.text.match(/^All clear: /gm)).toHaveLength(Batching.MAX_QUEUED_CLEARED)
    expect(message.text).toContain("… and 30 more critical condition(s) cleared")
  })
})

describe("critical and all-clear messages name the host and the instance", () => {
  it("a critical message", () => {
    const text = criticalMessage({ ...critical("disk nearly full: /p"), instance: "web-1-4242-a1b2c3" }, 0, (t) => t, { host: "web-1" }).text
    expect(text).toContain("Host:     web-1\n")
    expect(text).toContain("Instance: web-1-4242-a1b2c3\n")
  })

  it("an all-clear, one condition or several", () => {
    const one = clearedMessage([{ event: { summary: "disk nearly full: /p", detail: "the health check passes again", at: new Date(60_000), since: new Date(0), instance: "web-1-4242-a1b2c3" }, repeats: 0 }], 0, (t) => t, "web-1")
    expect(one.kind).toBe("cleared")
    expect(one.subject).toBe("[customer-json] All clear: disk nearly full: /p")
    expect(one.text).toContain("Host:     web-1\nInstance: web-1-4242-a1b2c3\n")
    expect(one.text).toContain("  Since:   1970-01-01T00:00:00.000Z\n  Cleared: 1970-01-01T00:01:00.000Z\n  the health check passes again")
  })
})
