/** The status.json builder, directly: a pure function of what the daemon knows. */
import { describe, expect, it } from "vitest"
import { makeActivity, OUTCOME_KINDS } from "../src/status/Activity.js"
import type { ActivitySnapshot } from "../src/status/Activity.js"
import { Masker } from "../src/masking/Masker.js"
import type { Outgoing } from "../src/notify/NotificationMessage.js"
import type { PeerView } from "../src/instances/Peers.js"
import { buildStatus, STATUS_FORMAT, TEXT_MAX } from "../src/http/StatusJson.js"
import type { StatusInput } from "../src/http/StatusJson.js"

const T0 = Date.parse("2026-03-01T10:00:00.000Z")
const CARD = "4111111111111111"
const EMAIL = "jane.doe@example.com"
const mask = Masker.live.text

const emptyActivity = (startedAtMs: number): ActivitySnapshot => makeActivity(() => startedAtMs).snapshot()

const input = (over: Partial<StatusInput> = {}): StatusInput => ({
  nowMs: T0 + 90_000,
  version: "1.0.0",
  instance: { id: "host-1-abc", host: "host", pid: 1 },
  phase: "watching",
  healthProblem: undefined,
  inFlight: 0,
  failingFiles: 0,
  stuckFiles: 0,
  waiting: { count: 0, oldestReceivedAtMs: undefined },
  activity: emptyActivity(T0),
  destinationRoles: ["validated", "returns"],
  peers: [],
  notificationsQueued: 0,
  ...over
})

describe("buildStatus", () => {
  it("describes an idle daemon: phase, uptime, zero counts, a 60-minute throughput of zeros, this instance", () => {
    const s = buildStatus(input(), mask)
    expect(s).toMatchObject({
      format: STATUS_FORMAT,
      now: "2026-03-01T10:01:30.000Z",
      version: "1.0.0",
      instance: "host-1-abc",
      phase: "watching",
      health: "ok",
      problem: null,
      started_at: "2026-03-01T10:00:00.000Z",
      uptime_s: 90,
      counts: { since_start: { validated: 0, returned: 0, failed: 0 }, last_hour: { validated: 0, returned: 0, failed: 0 } },
      last_outcome_at: null,
      queue: { in_flight: 0, waiting: 0, oldest_waiting_age_s: null, failing_files: 0, stuck_files: 0 },
      outcomes: [],
      critical_events: [],
      notifications: { queued_files: 0, recent: [] }
    })
    expect(s.throughput.validated).toHaveLength(60)
    // One count and one throughput array per outcome kind, every destination listed at 0.
    expect(Object.keys(s.counts.since_start)).toEqual([...OUTCOME_KINDS])
    for (const kind of OUTCOME_KINDS) expect(s.throughput[kind]).toEqual(Array(60).fill(0))
    expect(s.destinations).toEqual([{ role: "validated", files: 0, built_in: true }, { role: "returns", files: 0, built_in: true }])
    // this instance is listed even before the first heartbeat scan
    expect(s.instances).toEqual([{ id: "host-1-abc", this: true, host: "host", pid: 1, beat: null, state: "this", unchanged_s: 0, problem: null }])
  })

  it("tells the health as /healthz does", () => {
    expect(buildStatus(input({ phase: "starting" }), mask).health).toBe("starting")
    expect(buildStatus(input({ failingFiles: 1 }), mask).health).toBe("degraded")
    expect(buildStatus(input({ stuckFiles: 2 }), mask).health).toBe("degraded")
    expect(buildStatus(input({ phase: "stopping", stuckFiles: 2 }), mask).health).toBe("stopping")
    expect(buildStatus(input({ phase: "stopping" }), mask).health).toBe("stopping")
    const failing = buildStatus(input({ healthProblem: `folder not usable: returns of ${EMAIL}` }), mask)
    expect(failing.health).toBe("failing")
    expect(failing.problem).toBe("folder not usable: returns of j***@example.com")
  })

  it("counts since start and over the last hour, and draws the hour from the per-minute counts", () => {
    let t = T0
    const activity = makeActivity(() => t)
    activity.outcome({ _tag: "Input", name: "old.json" }, { _tag: "Validated", storedAs: "old.json", records: 1 })
    t = T0 + 61 * 60_000 // more than an hour later: counted since start only
    activity.outcome({ _tag: "Input", name: "a.json" }, { _tag: "Validated", storedAs: "a.json", records: 1 })
    activity.outcome({ _tag: "Input", name: "b.json" }, { _tag: "Returned", storedAs: "b.json", records: 1, errorCount: 2, deliveredTo: ["archive"] })
    t += 60_000
    activity.outcome({ _tag: "Input", name: "c.json" }, { _tag: "Failed", reason: "EIO", cause: "EIO" })
    const s = buildStatus(input({ nowMs: t, activity: activity.snapshot() }), mask)
    expect(s.counts.since_start).toEqual({ validated: 2, returned: 1, failed: 1 })
    expect(s.counts.last_hour).toEqual({ validated: 1, returned: 1, failed: 1 })
    expect(s.destinations).toEqual([
      { role: "validated", files: 2, built_in: true },
      { role: "returns", files: 1, built_in: true },
      { role: "archive", files: 1, built_in: false }
    ])
    // Every declared destination from the start (0 until its first file), in the declared order.
    const declared = buildStatus(input({ nowMs: t, activity: activity.snapshot(), destinationRoles: ["validated", "returns", "crm", "archive"] }), mask)
    expect(declared.destinations.map((d) => [d.role, d.files, d.built_in])).toEqual([
      ["validated", 2, true],
      ["returns", 1, true],
      ["crm", 0, false],
      ["archive", 1, false]
    ])
    expect(s.outcomes.map((o) => [o.file, o.delivered_to])).toEqual([["c.json", []], ["b.json", ["archive"]], ["a.json", []], ["old.json", []]])
    expect(s.throughput.from).toBe(new Date(T0 + 3 * 60_000).toISOString())
    expect(s.throughput.validated.slice(-2)).toEqual([1, 0])
    expect(s.throughput.returned.slice(-2)).toEqual([1, 0])
    expect(s.throughput.failed.slice(-2)).toEqual([0, 1])
    expect(s.last_outcome_at).toBe(new Date(t).toISOString())
    expect(s.uptime_s).toBe(62 * 60)
  })

  it("shows stored_as as the stored name exactly (contract §5)", () => {
    const activity = makeActivity(() => T0 + 1000)
    activity.outcome({ _tag: "Input", name: `orders-${EMAIL}.json` }, { _tag: "Returned", storedAs: "orders-jXXXXXXX@example.com.json", records: 1, errorCount: 1 })
    activity.outcome({ _tag: "Input", name: `card${CARD}.json` }, { _tag: "Validated", storedAs: "cardXXXXXXXXXXXX1111.json", records: 1 })
    const s = buildStatus(input({ activity: activity.snapshot() }), mask)
    expect(s.outcomes.map((o) => [o.file, o.stored_as])).toEqual([
      ["card************1111.json", "cardXXXXXXXXXXXX1111.json"],
      ["orders-j***@example.com.json", "orders-jXXXXXXX@example.com.json"]
    ])
  })

  it("lists outcomes newest first with masked names, and never a card number or an address in clear", () => {
    const activity = makeActivity(() => T0 + 1000)
    activity.outcome({ _tag: "Input", name: `order ${CARD}.json` }, { _tag: "Returned", storedAs: `order ${CARD}_20260301T100001Z.json`, records: 2, errorCount: 3 })
    activity.outcome({ _tag: "Input", name: `${EMAIL}.json` }, { _tag: "Failed", reason: `EACCES: permission denied, open ${EMAIL}.json`, cause: "EACCES" })
    activity.critical({ summary: `file ${EMAIL}.json could not be processed`, detail: `card ${CARD} in the name`, at: new Date(T0) }, false)
    const m: Outgoing = { kind: "rejected", subject: `Validation failed: order ${CARD}.json`, text: "", files: [], more: 0 }
    activity.notification(m, "sending", "smtp 127.0.0.1:25")
    activity.notification(m, "retrying", `550 mailbox ${EMAIL} unavailable`)
    const s = buildStatus(input({ activity: activity.snapshot() }), mask)
    expect(s.outcomes).toEqual([
      {
        at: "2026-03-01T10:00:01.000Z",
        file: "j***@example.com.json",
        partner: null,
        outcome: "failed",
        error_count: 0,
        records: null,
        stored_as: null,
        delivered_to: [],
        reason: "EACCES: permission denied, open j***@example.com.json",
        attempts: 1,
        failing_since: "2026-03-01T10:00:01.000Z"
      },
      {
        at: "2026-03-01T10:00:01.000Z",
        file: "order ************1111.json",
        partner: null,
        outcome: "returned",
        error_count: 3,
        records: 2,
        stored_as: "order ************1111_20260301T100001Z.json",
        delivered_to: [],
        reason: null,
        attempts: 1,
        failing_since: null
      }
    ])
    expect(s.critical_events[0]).toEqual({
      first_at: "2026-03-01T10:00:01.000Z",
      last_at: "2026-03-01T10:00:01.000Z",
      summary: "file j***@example.com.json could not be processed",
      detail: "card ************1111 in the name",
      count: 1,
      notified: 1,
      cleared_at: null,
      cleared_detail: null
    })
    // cleared: when, and how (masked too)
    activity.cleared({ summary: `file ${EMAIL}.json could not be processed`, detail: `${EMAIL}.json was returned`, at: new Date(T0), since: new Date(T0) })
    expect(buildStatus(input({ activity: activity.snapshot() }), mask).critical_events[0]).toMatchObject({
      cleared_at: "2026-03-01T10:00:01.000Z",
      cleared_detail: "j***@example.com.json was returned"
    })
    expect(s.notifications.recent[0]).toMatchObject({
      subject: "Validation failed: order ************1111.json",
      state: "retrying",
      failed_attempts: 1,
      error: "550 mailbox j***@example.com unavailable",
      target: "smtp 127.0.0.1:25"
    })
    const text = JSON.stringify(s)
    expect(text).not.toContain(CARD)
    expect(text).not.toContain(EMAIL)
  })

  it("cuts long free texts", () => {
    const activity = makeActivity(() => T0)
    activity.critical({ summary: "s", detail: "x".repeat(5000), at: new Date(T0) }, true)
    const [event] = buildStatus(input({ activity: activity.snapshot() }), mask).critical_events
    expect(event!.detail).toHaveLength(TEXT_MAX)
    expect(event!.detail.endsWith("…")).toBe(true)
    expect(event!.notified).toBe(0)
  })

  it("gives the waiting files, the oldest one's age, the files in flight, failing and stuck", () => {
    const s = buildStatus(input({ inFlight: 2, failingFiles: 3, stuckFiles: 1, waiting: { count: 7, oldestReceivedAtMs: T0 + 90_000 - 12_345 } }), mask)
    expect(s.queue).toEqual({ in_flight: 2, waiting: 7, oldest_waiting_age_s: 12.3, failing_files: 3, stuck_files: 1 })
  })

  it("lists this instance first, then the others by id, with their states and ages", () => {
    const peer = (id: string, state: PeerView["state"], unchangedMs: number, problem?: string): PeerView => ({
      id,
      host: state === "unreadable" ? undefined : "h",
      pid: state === "unreadable" ? undefined : 7,
      beat: state === "unreadable" ? undefined : 3,
      state,
      unchangedMs,
      problem
    })
    const s = buildStatus(
      input({
        peers: [
          peer("zz-2", "stale", 16_000),
          peer("host-1-abc", "this", 1_000),
          peer("aa-1", "alive", 2_049),
          peer("mm-3", "unreadable", 0, "a symbolic link")
        ]
      }),
      mask
    )
    expect(s.instances.map((i) => [i.id, i.this, i.state, i.unchanged_s])).toEqual([
      ["host-1-abc", true, "this", 1],
      ["aa-1", false, "alive", 2],
      ["mm-3", false, "unreadable", 0],
      ["zz-2", false, "stale", 16]
    ])
    expect(s.instances[2]).toMatchObject({ host: null, pid: null, beat: null, problem: "a symbolic link" })
  })

  it("carries the number of rejected files still waiting to be notified", () => {
    expect(buildStatus(input({ notificationsQueued: 12 }), mask).notifications.queued_files).toBe(12)
  })
})
