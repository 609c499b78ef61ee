/**
 * At most MAX_CONNECTIONS connections to the status port at once, and short
 * timeouts for those that say nothing: idle connections cost the daemon a file
 * descriptor each, and a flood of them once used up the process's limit
 * (EMFILE for files, heartbeat, listings and outbox; `/healthz` unreachable).
 *
 * Node's own `server.maxConnections` refuses new connections at the cap, so
 * the flood would keep every slot and the health probe none: here a new
 * connection is taken, and the oldest one with no request in progress makes
 * room for it. Only when every connection is in the middle of a request is
 * the new one refused.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Http from "node:http"
import type * as Net from "node:net"

/** More than a few browsers with the status page open (six each), scrapers and probes need. */
export const MAX_CONNECTIONS = 64

/** Node's options for the status server: a connection must send its headers, and its request, soon. */
export const SERVER_TIMEOUTS = {
  /** the request line and headers within this (Node's default: 60 s) */
  headersTimeout: 5_000,
  /** the whole request (Node's default: 300 s) */
  requestTimeout: 10_000,
  /** how often Node looks for connections past those (its default: 30 s) */
  connectionsCheckingInterval: 1_000
} as const satisfies Http.ServerOptions

/** Between requests on a kept-alive connection (Node's default: 5 s); the page asks every 3 s. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000
/** A connection with no traffic at all this long is closed. */
export const IDLE_TIMEOUT_MS = 10_000

/** What to do with a connection that arrives at the cap (pure). */
export type Admission<C> =
  | { readonly _tag: "Admit" }
  | { readonly _tag: "AdmitClosing"; readonly oldest: C }
  | { readonly _tag: "Refuse" }

/**
 * `open` in the order the connections came, oldest first: below `max`, the
 * new one is admitted; at `max`, the oldest with no request in progress is
 * closed to make room; if all are busy, the new one is refused.
 */
export const admit = <C>(open: Iterable<C>, count: number, max: number, busy: (c: C) => boolean): Admission<C> => {
  if (count < max) return { _tag: "Admit" }
  for (const c of open) if (!busy(c)) return { _tag: "AdmitClosing", oldest: c }
  return { _tag: "Refuse" }
}

/** Caps `server`'s connections (see above) for as long as the scope is open. */
export const capConnections = (server: Http.Server, max: number = MAX_CONNECTIONS): Effect.Effect<void, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      // Requests in progress per connection; a Map keeps the order they came in.
      const open = new Map<Net.Socket, { requests: number }>()
      const onConnection = (socket: Net.Socket) => {
        const admission = admit(open.keys(), open.size, max, (s) => (open.get(s)?.requests ?? 0) > 0)
        if (admission._tag === "Refuse") return void socket.destroy()
        if (admission._tag === "AdmitClosing") {
          open.delete(admission.oldest)
          admission.oldest.destroy()
        }
        open.set(socket, { requests: 0 })
        socket.once("close", () => void open.delete(socket))
      }
      const onRequest = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
        const state = open.get(request.socket)
        if (state === undefined) return
        state.requests++
        response.once("close", () => void state.requests--)
      }
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
      server.setTimeout(IDLE_TIMEOUT_MS)
      server.on("connection", onConnection)
      server.on("request", onRequest)
      return { onConnection, onRequest }
    }),
    ({ onConnection, onRequest }) =>
      Effect.sync(() => {
        server.off("connection", onConnection)
        server.off("request", onRequest)
      })
  ).pipe(Effect.asVoid)
