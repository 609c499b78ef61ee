/** /healthz, /metrics, / and /status.json through the router itself, with the daemon's status set by hand. */
import * as HttpApp from "@effect/platform/HttpApp"
import { Effect, Layer, Metric } from "effect"
import type { Types } from "effect"
import * as Crypto from "node:crypto"
import { describe, expect, it } from "vitest"
import { Activity, makeActivity } from "../src/status/Activity.js"
import { router } from "../src/http/HealthServer.js"
import { Destinations } from "../src/destinations/Destinations.js"
import { Instance } from "../src/instances/Instance.js"
import * as Masker from "../src/masking/Masker.js"
import * as Metrics from "../src/status/Metrics.js"
import { PeerWatch } from "../src/instances/Peers.js"
import * as Status from "../src/status/Status.js"
import type { StatusView } from "../src/status/Status.js"

/** The daemon's status as this test sets it (the router only reads it). */
const status: Types.Mutable<StatusView> = {
  phase: "starting",
  inFlight: 2,
  waiting: { count: 3, oldestReceivedAtMs: Date.now() - 5000 },
  healthProblem: undefined,
  failing: 0,
  stuck: 0,
  busySince: undefined,
  workersAlive: 8,
  workersWanted: 8,
  intakePeak: 0
}
const instance = Layer.succeed(Instance, {
  id: "host-1-abc",
  dir: "/p/host-1-abc",
  claimPath: () => "",
  hold: () => {},
  release: () => {},
  inUse: () => [],
  claimedFiles: Effect.succeed([]),
  adoptOrphans: Effect.succeed([]),
  share: Effect.succeed({ rank: 0, count: 1 })
})
const activity = makeActivity(Date.now)
const peers = Layer.succeed(PeerWatch, {
  views: Effect.succeed([
    { id: "host-1-abc", host: "host", pid: 1, beat: 4, state: "this" as const, unchangedMs: 1200, problem: undefined },
    { id: "other-9-def", host: "other", pid: 9, beat: 17, state: "stale" as const, unchangedMs: 16_000, problem: undefined }
  ])
})
/** The built-in folders and one destination of one's own (only their roles are read here). */
const folder = (role: "validated" | "returns") => ({ role, receives: [], store: () => Effect.dieMessage("not stored here") })
const destinations = Layer.succeed(Destinations, {
  storing: { validated: folder("validated"), returned: folder("returns") },
  added: { validated: [], returned: [] },
  roles: ["validated", "returns", "crm"]
})
const { handler, dispose } = HttpApp.toWebHandlerLayer(
  router,
  Layer.mergeAll(Status.layerView(Effect.sync(() => ({ ...status }))), instance, Masker.layer, peers, Layer.succeed(Activity, activity), destinations)
)
const get = (path: string) => handler(new Request(`http://localhost${path}`))

describe("the health endpoint", () => {
  it("is 503 while starting, 200 while watching, 503 when a check fails and while stopping", async () => {
    status.phase = "starting"
    expect((await get("/healthz")).status).toBe(503)
    status.phase = "watching"
    const ok = await get("/healthz")
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({
      status: "ok",
      phase: "watching",
      instance: "host-1-abc",
      version: "1.0.0",
      in_flight: 2,
      waiting: 3,
      failing_files: 0,
      stuck_files: 0
    })
    status.healthProblem = "only 50 MB free on returns (RETURNS_DIR); MIN_FREE_DISK_MB requires 100 MB"
    const failing = await get("/healthz")
    expect(failing.status).toBe(503)
    expect(await failing.json()).toMatchObject({ status: "failing", problem: status.healthProblem })
    status.healthProblem = undefined
    // Files it cannot read: degraded, not failing (the daemon itself is fine).
    status.failing = 2
    const degraded = await get("/healthz")
    expect(degraded.status).toBe(200)
    expect(await degraded.json()).toMatchObject({ status: "degraded", failing_files: 2 })
    status.failing = 0
    // A worker that died, or hangs on one file, fails the check.
    status.workersAlive = 7
    expect(await (await get("/healthz")).json()).toMatchObject({ status: "failing", problem: "1 of 8 workers have stopped" })
    status.workersAlive = 8
    status.busySince = Date.now() - 10 * 60_000
    const hung = await get("/healthz")
    expect(hung.status).toBe(503)
    expect(await hung.json()).toMatchObject({ status: "failing", problem: expect.stringMatching(/^a worker has been busy with one file for 6\d\d s$/) })
    status.busySince = undefined
    status.phase = "stopping"
    expect(await (await get("/healthz")).json()).toMatchObject({ status: "stopping" })
  })

  it("serves the status page with a CSP that allows exactly its own inline style and script", async () => {
    const page = await get("/")
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8")
    expect(page.headers.get("x-content-type-options")).toBe("nosniff")
    expect(page.headers.get("cache-control")).toBe("no-store")
    const html = await page.text()
    const csp = page.headers.get("content-security-policy")!
    const hash = (text: string) => `'sha256-${Crypto.createHash("sha256").update(text).digest("base64")}'`
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!
    expect(csp).toContain(`script-src ${hash(script)};`)
    expect(csp).toContain(`style-src ${hash(style)};`)
    expect(csp).toMatch(/^default-src 'none';/)
    expect(csp).toContain("connect-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain("unsafe")
    // one script and one style, nothing loaded from elsewhere
    expect(html.match(/<script/g)).toHaveLength(1)
    expect(html.match(/<style/g)).toHaveLength(1)
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//)
    expect(html).not.toContain("innerHTML")
    expect(html.length).toBeLessThan(40_000)
  })

  it("serves /status.json: counts, outcomes with masked names, instances, headers", async () => {
    status.phase = "watching"
    activity.outcome({ _tag: "Input", name: "order 4111111111111111.json" }, { _tag: "Returned", storedAs: "order 4111111111111111.json", records: 1, errorCount: 2 })
    activity.outcome({ _tag: "Input", name: "a.json" }, { _tag: "Validated", storedAs: "a.json", records: 3 })
    const response = await get("/status.json")
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("application/json")
    expect(response.headers.get("x-content-type-options")).toBe("nosniff")
    expect(response.headers.get("cache-control")).toBe("no-store")
    expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'")
    const body = await response.json()
    expect(body).toMatchObject({
      phase: "watching",
      health: "ok",
      instance: "host-1-abc",
      counts: { since_start: { validated: 1, returned: 1, failed: 0 }, last_hour: { validated: 1, returned: 1, failed: 0 } },
      // every destination of the daemon (Destinations' roles), one of one's own without a file yet at 0
      destinations: [{ role: "validated", files: 1, built_in: true }, { role: "returns", files: 1, built_in: true }, { role: "crm", files: 0, built_in: false }],
      queue: { in_flight: 2, waiting: 3 },
      outcomes: [
        { file: "a.json", outcome: "validated", error_count: 0, stored_as: "a.json" },
        { file: "order ************1111.json", outcome: "returned", error_count: 2, stored_as: "order ************1111.json" }
      ],
      instances: [
        { id: "host-1-abc", this: true, state: "this" },
        { id: "other-9-def", this: false, state: "stale", unchanged_s: 16 }
      ]
    })
    expect(JSON.stringify(body)).not.toContain("4111111111111111")
  })

  it("is 404 for anything else, and for other methods", async () => {
    for (const path of ["/status.js", "/index.html", "/status.html", "/data/a.json", "/..%2fdata"]) expect([path, (await get(path)).status]).toEqual([path, 404])
    expect((await handler(new Request("http://localhost/status.json", { method: "POST" }))).status).toBe(404)
    expect((await handler(new Request("http://localhost/", { method: "DELETE" }))).status).toBe(404)
  })

  it("reports the waiting files and the oldest one's age in /metrics", async () => {
    const text = await (await get("/metrics")).text()
    expect(text).toMatch(/^cjp_files_waiting 3$/m)
    expect(text).toMatch(/^cjp_files_in_flight 2$/m)
    const age = Number(/^cjp_oldest_waiting_file_age_seconds (\S+)$/m.exec(text)![1])
    expect(age).toBeGreaterThanOrEqual(4.9)
    expect(age).toBeLessThan(60)
    await dispose()
  })
})

describe("Prometheus text", () => {
  it("renders counters, gauges and histograms with escaped labels", async () => {
    await Effect.runPromise(
      Effect.all([
        Metric.increment(Metrics.filesFailed),
        Metric.update(Metrics.fileSeconds, 0.003),
        Metric.set(Metrics.instanceInfo('a"b\\c', "1.0.0"), 1)
      ])
    )
    const text = Metrics.renderPrometheus(Metric.unsafeSnapshot())
    expect(text).toMatch(/^# HELP cjp_files_failed_total /m)
    expect(text).toMatch(/^# TYPE cjp_files_failed_total counter$/m)
    expect(text).toMatch(/^cjp_files_failed_total 1$/m)
    expect(text).toContain('cjp_file_processing_seconds_bucket{le="0.004"} 1')
    expect(text).toContain('cjp_instance_info{instance="a\\"b\\\\c",version="1.0.0"} 1')
    expect(text).not.toMatch(/^[a-z_]+\{[^}]*\} (NaN|undefined)$/m)
  })

  it("counts files by destination role, every destination from the start at 0", () => {
    Metrics.registerAll()
    const before = Metrics.renderPrometheus(Metric.unsafeSnapshot())
    // The storage folders' series are there before their first file.
    expect(before).toMatch(/^cjp_destination_files_total\{role="validated"\} \d+$/m)
    expect(before).toMatch(/^cjp_destination_files_total\{role="returns"\} \d+$/m)
    const crm = Metrics.destinationCounter("crm-health-test")
    expect(Metrics.renderPrometheus(Metric.unsafeSnapshot())).toMatch(/^cjp_destination_files_total\{role="crm-health-test"\} 0$/m)
    crm.add()
    crm.add()
    const after = Metrics.renderPrometheus(Metric.unsafeSnapshot())
    expect(after).toMatch(/^cjp_destination_files_total\{role="crm-health-test"\} 2$/m)
    // The counter a `Metric.tagged` reader sees is the same series.
    expect(Effect.runSync(Metric.value(Metrics.filesDelivered("crm-health-test"))).count).toBe(2)
    // Routing a file counts its verdict in cjp_files_processed_total{outcome}, read through the tagged metric.
    const validated = () => Effect.runSync(Metric.value(Metrics.filesByOutcome("validated"))).count
    const n = validated()
    Metrics.recordRouted("validated", 1, 0.001, Date.now())
    expect(validated()).toBe(n + 1)
  })
})
