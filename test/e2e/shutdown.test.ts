/**
 * Shutdown always completes: the built daemon started and stopped 50 times,
 * `--once` and watch mode stopped with SIGTERM, with every optional server on
 * (the status page, notifications to a real SMTP server or to a real webhook,
 * one or two instances), each must exit within its shutdown deadline with the
 * right code, leave no instance process and no instance folder behind.
 *
 * A `--once` run with METRICS_PORT set used to hang after "stopped" now and
 * then (its heartbeat rewritten for ever, the first SIGTERM ignored): the
 * PeerWatch's heartbeat scan, interrupted as it started, never ended (see
 * SliceScheduler); and an instance of a pool stopped by SIGTERM released its
 * layers and logger before its daemon had stopped (see untilParentGone).
 * Short timings (a heartbeat and a scan every 100 ms) make a scan in flight
 * at the end of a run the common case.
 */
import * as Http from "node:http"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fixture } from "../support/fixtures.js"
import { freePort, startSmtp } from "../support/smtp.js"
import type { TestSmtp } from "../support/smtp.js"
import { cleanUpAfterEach, drop, makeRoot, spawnDaemon } from "./support.js"
import type { Daemon } from "./support.js"
import { waitUntil } from "../support/wait.js"

const { daemons, roots } = cleanUpAfterEach()

const RUNS = 50
/** Runs at once: the machine's two cores stay busy, as a loaded host's would. */
const AT_ONCE = 3
const SHUTDOWN_TIMEOUT_MS = 2000
/**
 * From SIGTERM (watch mode) or from "stopped" (`--once`) to the exit: files
 * in flight get SHUTDOWN_TIMEOUT_MS, the last notifications as long again,
 * and a second for the rest (the pool's instances included).
 */
const EXIT_DEADLINE_MS = 2 * SHUTDOWN_TIMEOUT_MS + 1000

let smtp: TestSmtp
let webhook: { readonly url: string; readonly posts: () => number; readonly close: () => Promise<void> }

beforeAll(async () => {
  smtp = await startSmtp()
  let posts = 0
  const server = Http.createServer((request, response) => {
    request.resume()
    request.on("end", () => {
      posts++
      response.end("ok")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const { port } = server.address() as { port: number }
  webhook = {
    url: `http://127.0.0.1:${port}/hook`,
    posts: () => posts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
})
afterAll(async () => {
  await smtp.close()
  await webhook.close()
})

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The pids of a pool's instances, from its console. */
const instancePids = (output: string): Array<number> => [...output.matchAll(/"msg":"instance started".*?"pid":(\d+)/g)].map((m) => Number(m[1]))

interface Run {
  readonly index: number
  readonly once: boolean
  readonly instances: 1 | 2
  readonly notify: "smtp" | "webhook"
}

/** Every combination in turn: `--once` or watch mode, one or two instances, SMTP or webhook (they exclude each other). */
const runOf = (index: number): Run => ({
  index,
  once: index % 2 === 0,
  instances: Math.floor(index / 2) % 2 === 0 ? 1 : 2,
  notify: Math.floor(index / 4) % 2 === 0 ? "smtp" : "webhook"
})

/**
 * The exit code once the daemon has exited and its output is all read (a
 * pool's instances write to the same pipe, which closes when the last of
 * them has exited too), or "hung" when that takes more than `ms`.
 */
const exitWithin = (daemon: Daemon, closed: Promise<unknown>, ms: number): Promise<number | string> =>
  Promise.race([
    Promise.all([daemon.exited, closed]).then(([code]) => code),
    new Promise<string>((resolve) => setTimeout(() => resolve("hung"), ms).unref())
  ])

const startAndStop = async (run: Run): Promise<string | undefined> => {
  const root = makeRoot()
  roots.push(root)
  NFS.mkdirSync(Path.join(root, "data"))
  drop(root, "good.json", fixture("valid-single.json"))
  drop(root, "bad.json", fixture("invalid-luhn.json"))
  const daemon = spawnDaemon(root, run.once ? ["--once"] : [], {
    METRICS_PORT: String(await freePort()),
    INSTANCES: String(run.instances),
    HEARTBEAT_MS: "100",
    HEALTH_CHECK_INTERVAL_MS: "200",
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    EMAIL_BATCH_WINDOW_MS: "100",
    EMAIL_SENDER: "processor@example.com",
    EMAIL_RECEIVER: "ops@example.com",
    LOG_CONSOLE: "json",
    ...(run.notify === "smtp" ? { SMTP_SERVER: "127.0.0.1", SMTP_PORT: String(smtp.port) } : { NOTIFY_WEBHOOK_URL: webhook.url })
  })
  daemons.push(daemon)
  const closed = new Promise((resolve) => daemon.child.once("close", resolve))
  const what = `run ${run.index} (${run.once ? "--once" : "SIGTERM"}, INSTANCES=${run.instances}, ${run.notify})`
  const stopped = () => (daemon.output().match(/customer-json-processor stopped/g) ?? []).length === run.instances
  if (run.once) {
    await waitUntil(() => stopped() || daemon.child.exitCode !== null, 30_000, `${what}: "stopped"`)
  } else {
    // Every instance started, the status page up, the files routed: then SIGTERM.
    const started = () => (daemon.output().match(/customer-json-processor started/g) ?? []).length === run.instances
    const routed = () => NFS.readdirSync(Path.join(root, "returns")).length === 2
    await waitUntil(() => started() && daemon.output().includes("status page on http") && routed(), 30_000, `${what}: started, the files routed`)
    daemon.child.kill("SIGTERM")
  }
  const code = await exitWithin(daemon, closed, EXIT_DEADLINE_MS)
  const pids = instancePids(daemon.output())
  // (a hung pool is killed after the test; its instances, hung or not, here)
  const left = pids.filter(alive)
  for (const pid of left) process.kill(pid, "SIGKILL")
  const problems = [
    ...(code === 0 ? [] : [`exit ${code}`]),
    ...(code !== "hung" && !stopped() ? [`"stopped" said ${(daemon.output().match(/customer-json-processor stopped/g) ?? []).length} times`] : []),
    ...(run.instances === 2 && pids.length !== 2 ? [`${pids.length} instances started`] : []),
    ...left.map((pid) => `instance ${pid} still running`),
    // A clean stop with no file left removes the instance's folder: no heartbeat goes on being written.
    ...NFS.readdirSync(Path.join(root, "processing")).map((name) => `processing/${name} left behind`),
    ...(NFS.readdirSync(Path.join(root, "validated")).length === 1 ? [] : ["good.json not validated"])
  ]
  return problems.length === 0 ? undefined : `${what}: ${problems.join("; ")}\n${daemon.output().slice(-1500)}`
}

describe("shutdown always completes", () => {
  it(`${RUNS} starts and stops (--once and SIGTERM; status page, SMTP or webhook, one or two instances) each exit in time with code 0`, async () => {
    const failures: Array<string> = []
    let next = 0
    const worker = async () => {
      for (let index = next++; index < RUNS; index = next++) {
        const failure = await startAndStop(runOf(index))
        if (failure !== undefined) failures.push(failure)
      }
    }
    await Promise.all(Array.from({ length: AT_ONCE }, worker))
    expect(failures).toEqual([])
    // The notifications went where they were sent: each run returned one file.
    expect(smtp.received.length).toBeGreaterThan(0)
    expect(webhook.posts()).toBeGreaterThan(0)
  }, 240_000)
})
