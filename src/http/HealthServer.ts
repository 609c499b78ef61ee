/**
 * Health and metrics over HTTP, off unless METRICS_PORT is set, bound to
 * METRICS_HOST (127.0.0.1 by default):
 *
 *   GET /             the live status page (StatusPage), which refreshes from:
 *   GET /status.json  phase, counts, throughput, instances, recent outcomes,
 *                     critical events and notifications (StatusJson)
 *   GET /healthz      200 {"status":"ok",…} while watching with a passing health
 *                     check; 503 while starting, stopping or failing a check
 *   GET /metrics      Prometheus text exposition of the daemon's effect Metrics
 *
 * Anything else is 404. No request reads or changes a file: the instances'
 * heartbeats are read by a fiber of their own (PeerWatch). All but /healthz
 * answer only a `Host` that names the endpoint (HostCheck; 421 otherwise), and
 * the server holds at most MAX_CONNECTIONS connections (ConnectionCap).
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Http from "node:http"
import * as OS from "node:os"
import { Activity } from "../status/Activity.js"
import { Destinations } from "../destinations/Destinations.js"
import { AppConfig } from "../Config.js"
import { Instance } from "../instances/Instance.js"
import { Masker } from "../masking/Masker.js"
import * as Metrics from "../status/Metrics.js"
import * as Peers from "../instances/Peers.js"
import { PeerWatch } from "../instances/Peers.js"
import { Status } from "../status/Status.js"
import { capConnections, SERVER_TIMEOUTS } from "./ConnectionCap.js"
import { hostAllowed, hostRule } from "./HostCheck.js"
import type { HostRule } from "./HostCheck.js"
import { buildStatus } from "./StatusJson.js"
import { NO_CONTENT_CSP, STATUS_PAGE, STATUS_PAGE_CSP } from "./StatusPage.js"
import type { StatusView } from "../status/Status.js"
import { VERSION } from "../Version.js"

/** Headers of the status page and its JSON: never cached (it is live), never sniffed, never framed. */
const securityHeaders = (csp: string) => ({
  "content-security-policy": csp,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store"
})

/** A job running this long means a hung worker: the daemon is failing, whatever else it says. */
export const WORKER_STALL_MS = 120_000

/** A worker that died or hangs on one file (pure, over the Status). */
export const workerProblem = (
  status: Pick<StatusView, "phase" | "busySince" | "workersAlive" | "workersWanted">,
  now: number
): string | undefined => {
  if (status.phase !== "watching") return undefined
  if (status.workersAlive < status.workersWanted) {
    return `${status.workersWanted - status.workersAlive} of ${status.workersWanted} workers have stopped`
  }
  const since = status.busySince
  return since !== undefined && now - since > WORKER_STALL_MS
    ? `a worker has been busy with one file for ${Math.round((now - since) / 1000)} s`
    : undefined
}

/** What /status.json says now. */
export const statusJson = Effect.gen(function*() {
  const status = yield* (yield* Status).snapshot
  const instance = yield* Instance
  const activity = yield* Activity
  const destinations = yield* Destinations
  const masker = yield* Masker
  const peers = yield* PeerWatch
  const nowMs = yield* Clock.currentTimeMillis
  return buildStatus({
    nowMs,
    version: VERSION,
    instance: { id: instance.id, host: OS.hostname(), pid: process.pid },
    phase: status.phase,
    // as /healthz judges it
    healthProblem: workerProblem(status, nowMs) ?? status.healthProblem,
    inFlight: status.inFlight,
    failingFiles: status.failing,
    stuckFiles: status.stuck,
    waiting: status.waiting,
    activity: activity.snapshot(),
    destinationRoles: destinations.roles,
    peers: yield* peers.views,
    notificationsQueued: (yield* Metric.value(Metrics.notificationsQueued)).value
  }, masker.text)
})

export const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/",
    Effect.succeed(HttpServerResponse.text(STATUS_PAGE, {
      contentType: "text/html; charset=utf-8",
      headers: securityHeaders(STATUS_PAGE_CSP)
    }))
  ),
  HttpRouter.get(
    "/status.json",
    Effect.map(statusJson, (body) => HttpServerResponse.unsafeJson(body, { headers: securityHeaders(NO_CONTENT_CSP) }))
  ),
  HttpRouter.get(
    "/healthz",
    Effect.gen(function*() {
      const status = yield* (yield* Status).snapshot
      const instance = yield* Instance
      const waiting = status.waiting
      const now = yield* Clock.currentTimeMillis
      const problem = workerProblem(status, now) ?? status.healthProblem
      const ok = status.phase === "watching" && problem === undefined
      // Files that cannot be read or routed: worth a look, but the daemon itself is fine.
      const degraded = ok && (status.failing > 0 || status.stuck > 0)
      return HttpServerResponse.unsafeJson(
        {
          status: degraded ? "degraded" : ok ? "ok" : problem !== undefined ? "failing" : status.phase,
          phase: status.phase,
          instance: instance.id,
          version: VERSION,
          in_flight: status.inFlight,
          waiting: waiting.count,
          failing_files: status.failing,
          stuck_files: status.stuck,
          ...(problem !== undefined ? { problem } : {})
        },
        { status: ok ? 200 : 503, headers: { "x-content-type-options": "nosniff", "cache-control": "no-store" } }
      )
    })
  ),
  HttpRouter.get(
    "/metrics",
    Effect.gen(function*() {
      const status = yield* (yield* Status).snapshot
      const instance = yield* Instance
      const now = yield* Clock.currentTimeMillis
      const waiting = status.waiting
      yield* Metric.set(Metrics.filesInFlight, status.inFlight)
      yield* Metric.set(Metrics.filesWaiting, waiting.count)
      yield* Metric.set(Metrics.filesFailing, status.failing)
      yield* Metric.set(Metrics.oldestWaitingSeconds, waiting.oldestReceivedAtMs === undefined ? 0 : (now - waiting.oldestReceivedAtMs) / 1000)
      yield* Metric.set(Metrics.instanceInfo(instance.id, VERSION), 1)
      Metrics.registerAll()
      return HttpServerResponse.text(Metrics.renderPrometheus(Metric.unsafeSnapshot()), {
        contentType: "text/plain; version=0.0.4; charset=utf-8",
        headers: { "x-content-type-options": "nosniff" }
      })
    })
  )
)

/**
 * Answers a request only when its `Host` names this endpoint (see HostCheck),
 * except `/healthz`: a load balancer's or orchestrator's probe asks with
 * whatever Host it was given (an address, a service name), and the health
 * answer holds no file name, no record and nothing masked, so a page in a
 * browser that reads it learns only whether the daemon is up.
 */
export const answerOnlyOwnHosts = (rule: HostRule) => <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R | HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    request.url.split("?")[0] === "/healthz" || hostAllowed(rule, request.headers.host)
      ? app
      : Effect.succeed(
        HttpServerResponse.text("Misdirected Request: ask by the address the endpoint listens on, or add this name to STATUS_HOSTS\n", {
          status: 421,
          headers: { "x-content-type-options": "nosniff", "cache-control": "no-store" }
        })
      ))

/**
 * At shutdown, stops listening and drops every open connection before the
 * platform's own close, which would otherwise wait for them: a browser with
 * the status page open keeps a spare connection that sends no request, and
 * Node ends such a one only after its headers timeout (the daemon took 90 s
 * to exit). Built after the server, so it is released before it.
 */
const closeConnectionsFirst = (server: Http.Server) =>
  Layer.scopedDiscard(
    Effect.zipRight(
      HttpServer.HttpServer,
      Effect.addFinalizer(() =>
        Effect.sync(() => {
          server.close()
          server.closeAllConnections()
        })
      )
    )
  )

/** Why the server could not listen, as the system said it (EADDRINUSE, EACCES, ENOTFOUND), not just "ServeError". */
const serveFailure = (error: unknown): string => {
  const cause = typeof error === "object" && error !== null && "cause" in error ? error.cause : error
  return cause instanceof Error ? cause.message : String(cause)
}

/** Where the status page answers (the endpoints beside it named): the line that says the server listens. */
const statusPageLine = HttpServer.addressFormattedWith((address) =>
  Effect.logInfo(`status page on ${address}/ (and /status.json, /metrics, /healthz)`)
)

/** The endpoint as configured; no server at all without METRICS_PORT. */
export const layer: Layer.Layer<never, never, AppConfig | Status | Instance | Masker | Activity | Destinations> = Layer.unwrapEffect(
  Effect.map(AppConfig, (settings) =>
    Option.match(settings.metricsPort, {
      onNone: () => Layer.empty,
      onSome: (port) => {
        const server = Http.createServer(SERVER_TIMEOUTS)
        const ownHosts = answerOnlyOwnHosts(hostRule(settings.metricsHost, port, settings.statusHosts))
        return Layer.merge(HttpServer.serve(ownHosts(router)), closeConnectionsFirst(server)).pipe(
          // Said after the serving starts, as a line an operator knows what to do with.
          (serving) => Layer.effectDiscard(statusPageLine).pipe(Layer.provideMerge(serving)),
          Layer.provide(Peers.layer),
          // The server first: a port that cannot be had fails the layer before the peers' watch is
          // built (one built and then released by this failure could hang the start for good).
          Layer.provide(NodeHttpServer.layer(() => server, { port, host: settings.metricsHost })),
          // The cap in place before the server listens: no connection escapes it.
          Layer.provide(Layer.scopedDiscard(capConnections(server))),
          // A port in use is a start-up problem the operator must see, but it should not take the daemon down.
          Layer.catchAll((error) =>
            Layer.effectDiscard(
              Effect.logError("the health and metrics endpoint could not start").pipe(
                Effect.annotateLogs({ port, host: settings.metricsHost, error: serveFailure(error) })
              )
            )
          )
        )
      }
    }))
)
