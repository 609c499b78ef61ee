/**
 * What the daemon is doing right now, for the health endpoint and the
 * metrics: its phase, files in flight and waiting, the last health check.
 * The Daemon writes it; readers only look.
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

export type Phase = "starting" | "watching" | "stopping"

export interface StatusService {
  phase: Phase
  inFlight: number
  /** the files waiting (queued or waiting for their writer) and the oldest one's receive time */
  waiting: () => { readonly count: number; readonly oldestReceivedAtMs: number | undefined }
  /** the last health check's problem, if it failed */
  healthProblem: string | undefined
  /** files that could not be processed and are tried again later */
  failing: () => number
  /** files reported as waiting without an outcome for too long */
  stuck: number
  /** when the longest-running job in flight started (undefined when none runs) */
  busySince: () => number | undefined
  /** workers running; fewer than CONCURRENCY means one has died */
  workersAlive: number
  workersWanted: number
  /** the most names of the input folder the intake has held at once (bounded by its window) */
  intakePeak: number
}

export class Status extends Context.Tag("customer-json/Status")<Status, StatusService>() {}

export const layer: Layer.Layer<Status> = Layer.sync(Status, (): StatusService => ({
    phase: "starting",
    inFlight: 0,
    waiting: () => ({ count: 0, oldestReceivedAtMs: undefined }),
    healthProblem: undefined,
    failing: () => 0,
    stuck: 0,
    busySince: () => undefined,
    workersAlive: 0,
    workersWanted: 0,
    intakePeak: 0
}))
