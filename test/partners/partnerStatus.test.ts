/**
 * The status by partner (PARTNERS_FILE): Activity counts each partner's files
 * by outcome (a failed file routed after all moves to its outcome, as in the
 * totals), status.json lists them and names each outcome's partner, and the
 * Prometheus counter of routed files gets a `partner` label made once per
 * partner and verdict.
 */
import { describe, expect, it } from "vitest"
import { Masker } from "../../src/masking/Masker.js"
import { buildStatus } from "../../src/http/StatusJson.js"
import { makeActivity, PARTNERS_COUNTED } from "../../src/status/Activity.js"
import { partnerOutcomeLabels } from "../../src/status/Metrics.js"

const T0 = Date.parse("2026-03-01T10:00:00.000Z")
const routed = (records = 1) => ({ _tag: "Returned" as const, storedAs: "x.json", records, errorCount: 2, deliveredTo: undefined })

describe("status by partner", () => {
  it("counts each partner's files by outcome, and none without partners", () => {
    const activity = makeActivity(() => T0)
    activity.outcome({ _tag: "Input", name: "acme/a.json" }, routed())
    activity.outcome({ _tag: "Input", name: "acme/b.json" }, { _tag: "Validated", storedAs: "b.json", records: 1, deliveredTo: undefined })
    activity.outcome({ _tag: "Input", name: "globex/g.json" }, { _tag: "Failed", reason: "EIO", cause: "EIO" }, { attempts: 1, firstAtMs: T0 })
    activity.outcome({ _tag: "Input", name: "plain.json" }, routed())
    expect(activity.snapshot().partners).toEqual([
      { partner: "acme", validated: 1, returned: 1, failed: 0 },
      { partner: "globex", validated: 0, returned: 0, failed: 1 }
    ])
    // routed after all: no longer failed
    activity.outcome({ _tag: "Input", name: "globex/g.json" }, routed(), { attempts: 1, firstAtMs: T0 })
    expect(activity.snapshot().partners?.find((p) => p.partner === "globex")).toEqual({ partner: "globex", validated: 0, returned: 1, failed: 0 })
    // a recovered claimed file counts for its partner too
    activity.outcome({ _tag: "Claimed", name: "1795886819898-4.globex_late.json" }, routed())
    expect(activity.snapshot().partners?.find((p) => p.partner === "globex")?.returned).toBe(2)
    expect(makeActivity(() => T0).snapshot().partners).toEqual([])
  })

  it("keeps at most PARTNERS_COUNTED partners", () => {
    const activity = makeActivity(() => T0)
    for (let i = 0; i <= PARTNERS_COUNTED; i++) activity.outcome({ _tag: "Input", name: `p${i}/a.json` }, routed())
    expect(activity.snapshot().partners).toHaveLength(PARTNERS_COUNTED)
  })

  it("status.json lists the partners and each outcome's partner, the file under its own name", () => {
    const activity = makeActivity(() => T0)
    activity.outcome({ _tag: "Input", name: "acme/a.json" }, routed())
    activity.outcome({ _tag: "Input", name: "plain.json" }, routed())
    const s = buildStatus({
      nowMs: T0,
      version: "1.0.0",
      instance: { id: "i", host: "h", pid: 1 },
      phase: "watching",
      healthProblem: undefined,
      inFlight: 0,
      failingFiles: 0,
      stuckFiles: 0,
      waiting: { count: 0, oldestReceivedAtMs: undefined },
      activity: activity.snapshot(),
      destinationRoles: ["validated", "returns"],
      peers: [],
      notificationsQueued: 0
    }, Masker.live.text)
    expect(s.partners).toEqual([{ id: "acme", validated: 0, returned: 1, failed: 0 }])
    expect(s.outcomes.map((o) => [o.partner, o.file])).toEqual([[null, "plain.json"], ["acme", "a.json"]])
  })

  it("makes each partner's label set once, with outcome and partner", () => {
    const labelsFor = partnerOutcomeLabels()
    const first = labelsFor("acme", "returned")
    expect(labelsFor("acme", "returned")).toBe(first)
    expect(first.map((l) => [l.key, l.value])).toEqual([["outcome", "returned"], ["partner", "acme"]])
    expect(labelsFor("globex", "validated").map((l) => l.value)).toEqual(["validated", "globex"])
  })
})
