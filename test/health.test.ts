/** /healthz and /metrics through the router itself, with the daemon's status set by hand. */
import * as HttpApp from "@effect/platform/HttpApp"
import { Effect, Layer, Metric } from "effect"
import { describe, expect, it } from "vitest"
import { router } from "../src/HealthServer.js"
import { Instance } from "../src/Instance.js"
import * as Metrics from "../src/Metrics.js"
import { Status } from "../src/Status.js"
import type { StatusService } from "../src/Status.js"

const status: StatusService = {
  phase: "starting",
  inFlight: 2,
  waiting: () => ({ count: 3, oldestReceivedAtMs: Date.now() - 5000 }),
  healthProblem: undefined,
  failing: () => 0,
  stuck: 0,
  busySince: () => undefined,
  workersAlive: 8,
  workersWanted: 8
}
const instance = Layer.succeed(Instance, {
  id: "host-1-abc",
  dir: "/p/host-1-abc",
  claimPath: () => "",
  hold: () => {},
  release: () => {},
  claimedFiles: Effect.succeed([]),
  adoptOrphans: Effect.succeed([])
})
const { handler, dispose } = HttpApp.toWebHandlerLayer(router, Layer.merge(Layer.succeed(Status, status), instance))
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
    status.failing = () => 2
    const degraded = await get("/healthz")
    expect(degraded.status).toBe(200)
    expect(await degraded.json()).toMatchObject({ status: "degraded", failing_files: 2 })
    status.failing = () => 0
    // A worker that died, or hangs on one file, fails the check.
    status.workersAlive = 7
    expect(await (await get("/healthz")).json()).toMatchObject({ status: "failing", problem: "1 of 8 workers have stopped" })
    status.workersAlive = 8
    status.busySince = () => Date.now() - 10 * 60_000
    const hung = await get("/healthz")
    expect(hung.status).toBe(503)
    expect(await hung.json()).toMatchObject({ status: "failing", problem: expect.stringMatching(/^a worker has been busy with one file for 6\d\d s$/) })
    status.busySince = () => undefined
    status.phase = "stopping"
    expect(await (await get("/healthz")).json()).toMatchObject({ status: "stopping" })
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
        Metric.increment(Metrics.filesByOutcome("failed")),
        Metric.update(Metrics.fileSeconds, 0.003),
        Metric.set(Metrics.instanceInfo('a"b\\c', "1.0.0"), 1)
      ])
    )
    const text = Metrics.renderPrometheus(Metric.unsafeSnapshot())
    expect(text).toMatch(/^# HELP cjp_files_processed_total /m)
    expect(text).toMatch(/^# TYPE cjp_files_processed_total counter$/m)
    expect(text).toContain('cjp_files_processed_total{outcome="failed"} 1')
    expect(text).toContain('cjp_file_processing_seconds_bucket{le="0.004"} 1')
    expect(text).toContain('cjp_instance_info{instance="a\\"b\\\\c",version="1.0.0"} 1')
    expect(text).not.toMatch(/^[a-z_]+\{[^}]*\} (NaN|undefined)$/m)
  })
})
