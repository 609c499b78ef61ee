/** The status page's memory: the ring, the per-minute counts and the recorder the hooks call. */
import { describe, expect, it } from "vitest"
import { CRITICAL_EVENTS_KEPT, makeActivity, MinuteCounter, OUTCOMES_KEPT, Ring } from "../src/status/Activity.js"
import type { Outgoing } from "../src/notify/NotificationMessage.js"

const T0 = Date.parse("2026-03-01T10:00:00.000Z")
const MIN = 60_000

const message = (subject: string, kind: Outgoing["kind"] = "rejected"): Outgoing => ({
  kind,
  subject,
  text: "body",
  files: kind === "rejected" ? [{ file: "a.json", storedAs: "a.json", errorCount: 1 }] : [],
  more: 0
})

describe("Ring", () => {
  it("keeps the newest `capacity` items, newest first", () => {
    const ring = new Ring<number>(3)
    expect(ring.newestFirst()).toEqual([])
    ring.push(1)
    ring.push(2)
    expect(ring.newestFirst()).toEqual([2, 1])
    for (let i = 3; i <= 10; i++) ring.push(i)
    expect(ring.size).toBe(3)
    expect(ring.newestFirst()).toEqual([10, 9, 8])
  })

  it("removes the items asked for, the others kept in order, and pushes on from there (full and wrapped around too)", () => {
    const ring = new Ring<number>(4)
    for (let i = 1; i <= 6; i++) ring.push(i)
    ring.removeWhere((n) => n === 4)
    expect(ring.newestFirst()).toEqual([6, 5, 3])
    ring.push(7)
    ring.push(8)
    expect(ring.newestFirst()).toEqual([8, 7, 6, 5])
    ring.removeWhere((n) => n % 2 === 0)
    expect(ring.newestFirst()).toEqual([7, 5])
  })

  it("holds no more than its capacity however many are pushed", () => {
    const ring = new Ring<string>(50)
    for (let i = 0; i < 10_000; i++) ring.push(`f${i}`)
    const items = ring.newestFirst()
    expect(items).toHaveLength(50)
    expect(items[0]).toBe("f9999")
    expect(items[49]).toBe("f9950")
  })
})

describe("MinuteCounter", () => {
  it("counts per minute, the last 60 minutes oldest first with the current one last", () => {
    const counter = new MinuteCounter()
    counter.add(T0 + 5_000, "validated")
    counter.add(T0 + 59_999, "validated")
    counter.add(T0 + MIN, "returned")
    counter.add(T0 + 2 * MIN + 1, "failed")
    const window = counter.window(T0 + 2 * MIN + 30_000)
    expect(window).toHaveLength(60)
    expect(window[59]).toEqual({ startMs: T0 + 2 * MIN, validated: 0, returned: 0, failed: 1 })
    expect(window[58]).toEqual({ startMs: T0 + MIN, validated: 0, returned: 1, failed: 0 })
    expect(window[57]).toEqual({ startMs: T0, validated: 2, returned: 0, failed: 0 })
    expect(window[0]!.startMs).toBe(T0 - 57 * MIN)
    expect(window.slice(0, 57).every((m) => m.validated + m.returned + m.failed === 0)).toBe(true)
  })

  it("forgets a minute once it is more than an hour old, and reuses its slot", () => {
    const counter = new MinuteCounter()
    counter.add(T0, "validated")
    counter.add(T0, "validated")
    expect(counter.window(T0 + 59 * MIN)[0]).toMatchObject({ startMs: T0, validated: 2 })
    // an hour later the same slot holds a new minute: the old counts are gone, not added to
    expect(counter.window(T0 + 60 * MIN).every((m) => m.validated === 0)).toBe(true)
    counter.add(T0 + 60 * MIN, "returned")
    const window = counter.window(T0 + 60 * MIN)
    expect(window[59]).toEqual({ startMs: T0 + 60 * MIN, validated: 0, returned: 1, failed: 0 })
    expect(window.reduce((n, m) => n + m.validated, 0)).toBe(0)
  })
})

describe("the Activity recorder", () => {
  const clock = () => {
    let t = T0
    return { now: () => t, advance: (ms: number) => void (t += ms) }
  }

  it("records validated, returned and failed outcomes with totals, and nothing else", () => {
    const c = clock()
    const activity = makeActivity(c.now)
    activity.outcome({ _tag: "Input", name: "a.json" }, { _tag: "Validated", storedAs: "a.json", records: 3 })
    c.advance(1000)
    activity.outcome({ _tag: "Input", name: "b.json" }, { _tag: "Returned", storedAs: "b_20260301T100001Z.json", records: 2, errorCount: 4 })
    activity.outcome({ _tag: "Input", name: "c.json" }, { _tag: "Failed", reason: "EIO: i/o error", cause: "EIO" })
    activity.outcome({ _tag: "Input", name: "d.json" }, { _tag: "Gone" })
    activity.outcome({ _tag: "Input", name: "e.json" }, { _tag: "Ignored", kind: "Directory" })
    activity.outcome({ _tag: "Claimed", name: "1700000000000-1_f.json" }, { _tag: "AlreadyStored", as: "validated" })
    const snap = activity.snapshot()
    expect(snap.startedAtMs).toBe(T0)
    expect(snap.totals).toEqual({ validated: 1, returned: 1, failed: 1 })
    expect(snap.outcomes.map((o) => [o.file, o.outcome])).toEqual([["c.json", "failed"], ["b.json", "returned"], ["a.json", "validated"]])
    expect(snap.outcomes[1]).toEqual({
      atMs: T0 + 1000,
      file: "b.json",
      outcome: "returned",
      errorCount: 4,
      records: 2,
      storedAs: "b_20260301T100001Z.json",
      reason: undefined,
      attempts: 1,
      failingSinceMs: undefined
    })
    expect(snap.outcomes[0]).toMatchObject({ reason: "EIO: i/o error", storedAs: undefined })
    expect(snap.minutes[59]).toMatchObject({ validated: 1, returned: 1, failed: 1 })
  })

  it("counts files by destination: the built-in folders, then each destination of one's own from its first file", () => {
    const activity = makeActivity(clock().now)
    expect(activity.snapshot().destinations).toEqual([{ role: "validated", files: 0 }, { role: "returns", files: 0 }])
    activity.outcome({ _tag: "Input", name: "a.json" }, { _tag: "Validated", storedAs: "a.json", records: 3, deliveredTo: ["crm", "archive"] })
    activity.outcome({ _tag: "Input", name: "b.json" }, { _tag: "Returned", storedAs: "b.json", records: 1, errorCount: 1, deliveredTo: ["archive"] })
    activity.outcome({ _tag: "Input", name: "c.json" }, { _tag: "Validated", storedAs: "c.json", records: 1 })
    const snap = activity.snapshot()
    expect(snap.destinations).toEqual([
      { role: "validated", files: 2 },
      { role: "returns", files: 1 },
      { role: "crm", files: 1 },
      { role: "archive", files: 2 }
    ])
    expect(snap.outcomes.map((o) => [o.file, o.deliveredTo])).toEqual([["c.json", undefined], ["b.json", ["archive"]], ["a.json", ["crm", "archive"]]])
  })

  it("counts a file that fails again and again once, on one row with its attempts; routed after all, it is counted as routed instead", () => {
    const c = clock()
    const activity = makeActivity(c.now)
    const failed = { _tag: "Failed", reason: "EPERM: operation not permitted", cause: "EPERM" } as const
    activity.outcome({ _tag: "Input", name: "ok.json" }, { _tag: "Validated", storedAs: "ok.json", records: 1 })
    activity.outcome({ _tag: "Input", name: "bad.json" }, failed, { attempts: 1, firstAtMs: T0 })
    // tried again, later, from its claimed name: the same file
    for (let attempt = 2; attempt <= 4; attempt++) {
      c.advance(MIN)
      activity.outcome({ _tag: "Claimed", name: "1700000000000-1_bad.json" }, failed, { attempts: attempt, firstAtMs: T0 })
    }
    let snap = activity.snapshot()
    expect(snap.totals).toEqual({ validated: 1, returned: 0, failed: 1 })
    expect(snap.outcomes.map((o) => [o.file, o.outcome, o.attempts])).toEqual([["bad.json", "failed", 4], ["ok.json", "validated", 1]])
    expect(snap.outcomes[0]).toMatchObject({ atMs: T0 + 3 * MIN, failingSinceMs: T0 })
    // counted in the minute of its first failure, once
    expect(snap.minutes.reduce((n, m) => n + m.failed, 0)).toBe(1)
    expect(snap.minutes[56]).toMatchObject({ validated: 1, failed: 1 })
    c.advance(MIN)
    activity.outcome({ _tag: "Claimed", name: "1700000000000-1_bad.json" }, { _tag: "Returned", storedAs: "bad.json", records: 1, errorCount: 1 }, { attempts: 4, firstAtMs: T0 })
    snap = activity.snapshot()
    expect(snap.totals).toEqual({ validated: 1, returned: 1, failed: 0 })
    expect(snap.outcomes.map((o) => [o.file, o.outcome])).toEqual([["bad.json", "returned"], ["ok.json", "validated"]])
    expect(snap.minutes.reduce((n, m) => n + m.failed, 0)).toBe(0)
    expect(snap.minutes[59]).toMatchObject({ returned: 1 })
  })

  it("marks a critical event cleared, and not cleared again when it comes back", () => {
    const c = clock()
    const activity = makeActivity(c.now)
    const event = { summary: "disk nearly full: /p", detail: "only 10 MB free", at: new Date(T0) }
    activity.critical(event, false)
    expect(activity.snapshot().criticals[0]).toMatchObject({ clearedAtMs: undefined })
    c.advance(5000)
    activity.cleared({ summary: "disk nearly full: /p", detail: "the health check passes again", at: new Date(T0 + 5000), since: new Date(T0) })
    expect(activity.snapshot().criticals[0]).toMatchObject({ clearedAtMs: T0 + 5000, clearedDetail: "the health check passes again", count: 1 })
    c.advance(5000)
    activity.critical(event, false)
    expect(activity.snapshot().criticals[0]).toMatchObject({ clearedAtMs: undefined, count: 2 })
  })

  it("names a recovered file by the name it was received with", () => {
    const activity = makeActivity(() => T0)
    activity.outcome({ _tag: "Claimed", name: "1700000000000-7_orders 12.json" }, { _tag: "Validated", storedAs: "orders 12.json", records: 1 })
    // an input file whose name merely looks like a claimed one keeps its name
    activity.outcome({ _tag: "Input", name: "1700000000000-7_x.json" }, { _tag: "Validated", storedAs: "1700000000000-7_x.json", records: 1 })
    expect(activity.snapshot().outcomes.map((o) => o.file)).toEqual(["1700000000000-7_x.json", "orders 12.json"])
  })

  it("keeps the last 50 outcomes but counts them all", () => {
    const activity = makeActivity(() => T0)
    for (let i = 0; i < 120; i++) activity.outcome({ _tag: "Input", name: `f${i}.json` }, { _tag: "Validated", storedAs: `f${i}.json`, records: 1 })
    const snap = activity.snapshot()
    expect(snap.outcomes).toHaveLength(OUTCOMES_KEPT)
    expect(snap.outcomes[0]!.file).toBe("f119.json")
    expect(snap.totals.validated).toBe(120)
    expect(snap.minutes[59]!.validated).toBe(120)
  })

  it("follows a notification through its delivery: sending, retrying, sent", () => {
    const c = clock()
    const activity = makeActivity(c.now)
    const m = message("[customer-json] Validation failed: b.json")
    activity.notification(m, "sending", "smtp 127.0.0.1:2525")
    c.advance(2000)
    activity.notification(m, "retrying", "connection refused")
    c.advance(4000)
    activity.notification(m, "retrying", "connection refused")
    c.advance(8000)
    activity.notification(m, "sent")
    const [n] = activity.snapshot().notifications
    expect(n).toEqual({
      id: 1,
      kind: "rejected",
      subject: "[customer-json] Validation failed: b.json",
      files: 1,
      more: 0,
      firstAtMs: T0,
      updatedAtMs: T0 + 14_000,
      state: "sent",
      failedAttempts: 2,
      target: "smtp 127.0.0.1:2525",
      error: "connection refused",
      outboxPath: undefined
    })
  })

  it("tells a message kept in the outbox, and one lost, each as its own entry", () => {
    const activity = makeActivity(() => T0)
    const kept = message("kept")
    const lost = message("CRITICAL: disk nearly full", "critical")
    activity.notification(kept, "sending", "webhook http://127.0.0.1:9")
    activity.notification(kept, "failed", "HTTP 400")
    activity.notification(kept, "outbox", "logs/outbox/20260301T100000Z-1.eml")
    activity.notification(lost, "sending", "webhook http://127.0.0.1:9")
    activity.notification(lost, "retrying", "timeout")
    activity.notification(lost, "lost", "not sent before shutdown")
    const [second, first] = activity.snapshot().notifications
    expect(first).toMatchObject({ subject: "kept", state: "outbox", failedAttempts: 1, error: "HTTP 400", outboxPath: "logs/outbox/20260301T100000Z-1.eml" })
    expect(second).toMatchObject({ kind: "critical", files: 0, state: "lost", error: "not sent before shutdown" })
  })

  it("a message sent to the outbox itself shows the file it is in", () => {
    const activity = makeActivity(() => T0)
    const m = message("to the outbox")
    activity.notification(m, "sending", "outbox logs/outbox")
    activity.notification(m, "sent", "logs/outbox/20260301T100000Z-2.eml")
    expect(activity.snapshot().notifications[0]).toMatchObject({ state: "sent", target: "outbox logs/outbox", outboxPath: "logs/outbox/20260301T100000Z-2.eml" })
  })

  it("snapshots are copies: a later delivery step does not change an earlier snapshot", () => {
    const activity = makeActivity(() => T0)
    const m = message("s")
    activity.notification(m, "sending", "outbox logs/outbox")
    const before = activity.snapshot()
    activity.notification(m, "sent")
    expect(before.notifications[0]!.state).toBe("sending")
    expect(activity.snapshot().notifications[0]!.state).toBe("sent")
  })

  it("records critical events, a repeat of the same one as one entry, most recent first", () => {
    let t = T0
    const activity = makeActivity(() => t)
    const at = new Date(T0)
    activity.critical({ summary: "disk nearly full: /data", detail: "only 50 MB free", at }, false)
    t += 1000
    activity.critical({ summary: "folder not usable: /returns", detail: "permission denied", at }, false)
    t += 1000
    activity.critical({ summary: "disk nearly full: /data", detail: "only 40 MB free", at }, true)
    t += 1000
    activity.critical({ summary: "disk nearly full: /data", detail: "only 30 MB free", at }, true)
    expect(activity.snapshot().criticals).toEqual([
      { firstAtMs: T0, lastAtMs: T0 + 3000, summary: "disk nearly full: /data", detail: "only 30 MB free", count: 3, notified: 1 },
      { firstAtMs: T0 + 1000, lastAtMs: T0 + 1000, summary: "folder not usable: /returns", detail: "permission denied", count: 1, notified: 1 }
    ])
  })

  it("keeps a bounded number of distinct critical events", () => {
    const activity = makeActivity(() => T0)
    for (let i = 0; i < 100; i++) activity.critical({ summary: `problem ${i}`, detail: "", at: new Date(T0) }, false)
    const criticals = activity.snapshot().criticals
    expect(criticals).toHaveLength(CRITICAL_EVENTS_KEPT)
    expect(criticals.map((c) => c.summary)).toContain("problem 99")
    expect(criticals.map((c) => c.summary)).not.toContain("problem 79")
  })
})
