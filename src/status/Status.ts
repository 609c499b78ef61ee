/**
 * What the daemon is doing right now, for the health endpoint and the
 * metrics: its phase, files in flight and waiting, the last health check.
 *
 * Readers get a read-only view (`Status`: a `snapshot`), and nothing they can
 * write. Each fact has one writer, which keeps it in its own state: the
 * Daemon its phase, the worker pools their counters, the intake its `Ref`,
 * the health check its last problem. The running daemon publishes how to read
 * them together (`StatusBoard`), once, as it starts.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"

/** The daemon's phase: `/healthz` is 200 only while `watching`. */
export type Phase = "starting" | "watching" | "stopping"

/** What the daemon is doing at one moment (every field read from the part of the daemon that keeps it). */
export interface StatusView {
  readonly phase: Phase
  /** files being processed by the workers */
  readonly inFlight: number
  /** the files waiting (queued or waiting for their writer) and the oldest one's receive time */
  readonly waiting: { readonly count: number; readonly oldestReceivedAtMs: number | undefined }
  /** the last health check's problem, if it failed */
  readonly healthProblem: string | undefined
  /** files that could not be processed and are tried again later */
  readonly failing: number
  /** files reported as waiting without an outcome for too long */
  readonly stuck: number
  /** when the longest-running job in flight started (undefined when none runs) */
  readonly busySince: number | undefined
  /** workers running; fewer than wanted means one has died */
  readonly workersAlive: number
  /** workers started (CONCURRENCY, and the large-file lane's) */
  readonly workersWanted: number
  /** the most names of the input folder the intake has held at once (bounded by its window) */
  readonly intakePeak: number
}

/** The view before a daemon has published its own: starting, nothing held. */
export const starting: StatusView = {
  phase: "starting",
  inFlight: 0,
  waiting: { count: 0, oldestReceivedAtMs: undefined },
  healthProblem: undefined,
  failing: 0,
  stuck: 0,
  busySince: undefined,
  workersAlive: 0,
  workersWanted: 0,
  intakePeak: 0
}

/** The readers' side: a read-only view of the daemon. */
export interface StatusService {
  /** What the daemon is doing now. */
  readonly snapshot: Effect.Effect<StatusView>
}

/** The read-only status view (health endpoint, metrics, tests). */
export class Status extends Context.Tag("customer-json/Status")<Status, StatusService>() {}

/** The daemon's side: where the running daemon says how its status is read. */
export interface StatusBoardService {
  /** Makes `read` what `Status.snapshot` answers from now on (the last daemon to publish is the one shown). */
  readonly publish: (read: Effect.Effect<StatusView>) => Effect.Effect<void>
}

/** Where the running daemon publishes its status (only the Daemon uses it). */
export class StatusBoard extends Context.Tag("customer-json/StatusBoard")<StatusBoard, StatusBoardService>() {}

/** The status view and its board, one slot between them: `starting` until a daemon publishes. */
export const layer: Layer.Layer<Status | StatusBoard> = Layer.effectContext(
  Effect.map(Ref.make<Effect.Effect<StatusView>>(Effect.succeed(starting)), (slot) =>
    Context.make(Status, { snapshot: Effect.flatten(Ref.get(slot)) }).pipe(
      Context.add(StatusBoard, { publish: (read) => Ref.set(slot, read) })
    ))
)

/** A status view of one's own (a test's, a fixed one): `Status` only, no board. */
export const layerView = (snapshot: Effect.Effect<StatusView>): Layer.Layer<Status> => Layer.succeed(Status, { snapshot })
