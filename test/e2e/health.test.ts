/** The health and metrics endpoint of the running daemon. */
import { describe, expect, it } from "vitest"
import { fixture } from "../support/fixtures.js"
import { freePort } from "../support/smtp.js"
import { cleanUpAfterEach, drop, rootPerTest, runCli, spawnDaemon } from "./support.js"
import { list } from "../support/folders.js"
import { waitUntil, within } from "../support/wait.js"
import { MAX_CONNECTIONS } from "../../src/http/ConnectionCap.js"
import * as NFS from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Path from "node:path"

/** A GET on a fresh connection with the given Host header (Node's client sends it as given). */
const rawGet = (port: number, path: string, host?: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = Http.get({ host: "127.0.0.1", port, path, agent: false, ...(host === undefined ? {} : { headers: { host } }) }, (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
    })
    request.on("error", reject)
  })

/** Until /healthz says 200 (the daemon watching). */
const untilHealthy = async (port: number) => {
  for (let i = 0; i < 100; i++) {
    if ((await rawGet(port, "/healthz")).status === 200) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error("/healthz never said 200")
}

/** How many files the process has open now. */
const openFiles = (pid: number) => NFS.readdirSync(`/proc/${pid}/fd`).length

// (daemons a failing test leaves running are killed after it)
const { daemons, roots } = cleanUpAfterEach()
const root = rootPerTest(roots)

describe("health and metrics over HTTP", () => {
  it("serves /healthz and Prometheus /metrics on 127.0.0.1, 404 for anything else", async () => {
    const port = await freePort()
    const daemon = spawnDaemon(root(), [], { METRICS_PORT: String(port) })
    daemons.push(daemon)
    await daemon.waitFor(/customer-json-processor started/)
    const base = `http://127.0.0.1:${port}`
    await waitUntil(() => daemon.output().includes("status page on http"), 10_000, "the endpoint")
    // The line says what listens there, and the banner where it is.
    expect(daemon.output()).toContain(`INFO  status page on http://127.0.0.1:${port}/ (and /status.json, /metrics, /healthz)`)
    expect(daemon.output()).toContain(`status_page=http://127.0.0.1:${port}/ `)
    drop(root(), "good.json", fixture("valid-batch.json"))
    drop(root(), "bad.json", fixture("invalid-luhn.json"))
    await waitUntil(() => list(Path.join(root(), "returns")).length === 2 && list(Path.join(root(), "validated")).length === 1)

    let health = await fetch(`${base}/healthz`)
    for (let i = 0; i < 50 && health.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100))
      health = await fetch(`${base}/healthz`)
    }
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: "ok", phase: "watching", in_flight: 0, waiting: 0, instance: expect.any(String) })

    const metrics = await fetch(`${base}/metrics`)
    expect(metrics.status).toBe(200)
    expect(metrics.headers.get("content-type")).toContain("text/plain")
    const text = await metrics.text()
    expect(text).toContain('cjp_files_processed_total{outcome="validated"} 1')
    expect(text).toContain('cjp_files_processed_total{outcome="returned"} 1')
    expect(text).toContain("cjp_records_processed_total 4")
    expect(text).toMatch(/^# TYPE cjp_file_processing_seconds histogram$/m)
    expect(text).toMatch(/^cjp_file_processing_seconds_count 2$/m)
    expect(text.match(/le="\+Inf"/g)).toHaveLength(1)
    expect(text).toMatch(/^cjp_files_in_flight 0$/m)
    expect(text).toMatch(/^cjp_files_waiting 0$/m)
    expect(text).toMatch(/^cjp_oldest_waiting_file_age_seconds 0$/m)
    expect(text).toMatch(/^cjp_last_success_timestamp_seconds \d+/m)
    expect(text).toMatch(/^cjp_instance_info\{instance="[^"]+",version="1\.0\.0"\} 1$/m)

    const page = await fetch(`${base}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8")
    expect(page.headers.get("x-content-type-options")).toBe("nosniff")
    expect(page.headers.get("content-security-policy")).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]+=*'; style-src 'sha256-/)
    const json = await fetch(`${base}/status.json`)
    expect(json.headers.get("x-content-type-options")).toBe("nosniff")
    expect(json.headers.get("cache-control")).toBe("no-store")
    expect(await json.json()).toMatchObject({
      phase: "watching",
      counts: { since_start: { validated: 1, returned: 1, failed: 0 } },
      outcomes: [{ outcome: expect.any(String) }, { outcome: expect.any(String) }]
    })
    expect((await fetch(`${base}/index.html`)).status).toBe(404)
    expect((await fetch(`${base}/status.json`, { method: "POST" })).status).toBe(404)
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(404)
    expect((await fetch(`${base}/../data/good.json`)).status).toBe(404)
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  })

  it("answers /healthz within 1 s under a flood of idle connections beyond the cap and the file limit; its open files stay bounded, files are routed", async () => {
    const port = await freePort()
    // A hard limit of 512 open files, and twice as many idle connections: what used the limit up before.
    const daemon = spawnDaemon(root(), [], { METRICS_PORT: String(port), LOG_CONSOLE: "json" }, { openFiles: [512, 512] })
    daemons.push(daemon)
    await daemon.waitFor(/status page on http/, 15_000)
    const pid = daemon.child.pid!
    await untilHealthy(port)
    const before = openFiles(pid)
    let most = before
    const sampler = setInterval(() => (most = Math.max(most, openFiles(pid))), 20)
    const flood: Array<Net.Socket> = []
    try {
      for (let i = 0; i < 1024; i++) {
        const socket = Net.connect(port, "127.0.0.1")
        socket.on("error", () => {})
        flood.push(socket)
        if (i % 64 === 63) await new Promise((r) => setTimeout(r, 5))
      }
      await waitUntil(() => flood.every((s) => !s.connecting), 15_000, "the flood's connections")
      for (let probe = 0; probe < 5; probe++) {
        const health = await within(1000, "/healthz under the flood", rawGet(port, "/healthz"))
        expect(health.status).toBe(200)
      }
      drop(root(), "good.json", fixture("valid-single.json"))
      await waitUntil(() => list(Path.join(root(), "validated")).length === 1, 15_000, "the file routed under the flood")
      // The flood holds no more than the cap: the rest were closed to make room.
      expect(flood.filter((s) => !s.destroyed && s.readyState === "open").length).toBeLessThanOrEqual(MAX_CONNECTIONS)
    } finally {
      clearInterval(sampler)
      for (const s of flood) s.destroy()
    }
    expect(most - before).toBeLessThanOrEqual(MAX_CONNECTIONS + 16)
    expect(daemon.output()).not.toContain("EMFILE")
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  }, 60_000)

  it("answers /, /status.json and /metrics only for a Host that names it or is in STATUS_HOSTS (421 otherwise), /healthz for any", async () => {
    const port = await freePort()
    const daemon = spawnDaemon(root(), [], { METRICS_PORT: String(port), STATUS_HOSTS: "status.example.org" })
    daemons.push(daemon)
    await daemon.waitFor(/status page on http/, 15_000)
    for (const path of ["/", "/status.json", "/metrics"]) {
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "status.example.org", `status.example.org:${port}`]) {
        expect([path, host, (await rawGet(port, path, host)).status]).toEqual([path, host, 200])
      }
      for (const host of [`rebind.example:${port}`, "rebind.example", `127.0.0.1.rebind.example:${port}`, `localhost:${port + 1}`, `status.example.org:${port + 1}`, `127.0.0.1:${port}@x`]) {
        const answer = await rawGet(port, path, host)
        expect([path, host, answer.status]).toEqual([path, host, 421])
        // nothing of the daemon's state in the refusal
        expect(answer.body).not.toMatch(/instance|cjp_|counts/)
      }
    }
    // HTTP/1.0 without any Host: refused too (Node itself refuses HTTP/1.1 without one, 400).
    const bare = await new Promise<string>((resolve) => {
      const socket = Net.connect(port, "127.0.0.1", () => socket.end("GET /status.json HTTP/1.0\r\n\r\n"))
      let text = ""
      socket.on("data", (chunk) => (text += chunk.toString("latin1")))
      socket.on("close", () => resolve(text))
    })
    expect(bare).toMatch(/^HTTP\/1\.1 421 /)
    // A load balancer's probe may carry any Host.
    await untilHealthy(port)
    const health = await rawGet(port, "/healthz", `rebind.example:${port}`)
    expect(health.status).toBe(200)
    expect(JSON.parse(health.body)).toMatchObject({ status: "ok" })
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  }, 60_000)

  it("says its open-file limit at start: the soft limit raised to the hard one", async () => {
    const daemon = spawnDaemon(root(), [], { LOG_CONSOLE: "json" }, { openFiles: [1024, 4096] })
    daemons.push(daemon)
    await daemon.waitFor(/customer-json-processor started/, 15_000)
    const line = daemon.output().split("\n").find((l) => l.includes("customer-json-processor started"))!
    expect(JSON.parse(line)).toMatchObject({ open_files_limit: { soft: 4096, hard: 4096 } })
    const limits = NFS.readFileSync(`/proc/${daemon.child.pid!}/limits`, "utf8")
    expect(limits).toMatch(/^Max open files\s+4096\s+4096\s/m)
    expect(daemon.output()).not.toContain("the limit on open files is below")
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  })

  it("is off without METRICS_PORT, and a bad METRICS_PORT stops the start", () => {
    const r = runCli(root(), ["--once"], { METRICS_PORT: "http" })
    expect(r.status).toBe(78)
    expect(r.stderr).toContain("METRICS_PORT must be a whole number from 1 to 65535")
    const ok = runCli(root(), ["--once"])
    expect(ok.stdout).not.toContain("status page on")
  })

  it("a METRICS_PORT already taken is said with its cause, and the daemon starts, routes and stops all the same", async () => {
    const port = await freePort()
    const taken = Http.createServer().listen(port, "127.0.0.1")
    await new Promise((r) => taken.once("listening", r))
    try {
      // Three starts: a start that hung on this (about half of them did) could not pass three times by chance.
      for (let attempt = 0; attempt < 3; attempt++) {
        const dir = Path.join(root(), `try${attempt}`)
        NFS.mkdirSync(Path.join(dir, "data"), { recursive: true })
        const daemon = spawnDaemon(dir, [], { METRICS_PORT: String(port), LOG_CONSOLE: "json" })
        daemons.push(daemon)
        await daemon.waitFor(/customer-json-processor started/, 15_000)
        await daemon.waitFor(/the health and metrics endpoint could not start/, 5_000)
        const said = daemon.output().split("\n").find((l) => l.includes("the health and metrics endpoint could not start"))
        expect(JSON.parse(said!)).toMatchObject({ level: "ERROR", port, error: expect.stringContaining("EADDRINUSE") })
        drop(dir, "good.json", fixture("valid-single.json"))
        await waitUntil(() => list(Path.join(dir, "validated")).length === 1, 15_000, "the file routed")
        daemon.child.kill("SIGTERM")
        expect(await daemon.exited).toBe(0)
      }
    } finally {
      taken.close()
    }
  }, 90_000)
})
