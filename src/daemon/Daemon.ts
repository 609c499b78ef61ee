/**
 * The Daemon, as the sequence it is: start-up line, crash recovery, the
 * backlog, then live hints until a stop; at a stop, files in flight get
 * SHUTDOWN_TIMEOUT_MS to finish and the rest are interrupted (they stay
 * claimed and are recovered at the next start). The parts: Intake (which
 * names go to the workers, and when), WorkerPool (the workers: the per-file
 * hot path), HealthCheck (folders and free space while running).
 *
 * @module
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { AppConfig, describeSettings } from "../Config.js"
import { SyscallMode } from "../files/SyscallMode.js"
import { describeStoreMode } from "../files/FileStore.js"
import { Instance } from "../instances/Instance.js"
import { Notifier } from "../notify/Notifier.js"
import { StatusBoard } from "../status/Status.js"
import type { Phase } from "../status/Status.js"
import { sayOncePerCause } from "../logging/SayOnce.js"
import { logFields } from "../logging/Logging.js"
import { bannerFolders, statusPageAddress } from "./Banner.js"
import { VERSION } from "../Version.js"
import { onEvery } from "../runtime/AlignedTimers.js"
import { makeHealthCheck } from "./HealthCheck.js"
import { defaultLimits, makeIntake } from "./Intake.js"
import type { Summary } from "./Intake.js"
import { Watcher } from "./Watcher.js"
import { withSlices } from "../runtime/SliceScheduler.js"
import { combineWorkers, makeWorkerPool } from "./WorkerPool.js"
import { judgeThreads } from "../contract/OffThreadJudge.js"
import { belowHard, openFileLimit } from "./OpenFileLimit.js"

export { retryDelayMs } from "./Intake.js"
export type { Job, Summary } from "./Intake.js"

/** Options of `runDaemon`. */
export interface RunOptions {
  /** finish what is there, then return instead of watching */
  readonly once: boolean
  /** most names of the input folder held at once (default: see Intake's `defaultLimits`) */
  readonly window?: number
}

/**
 * Runs the daemon over the services in context (see `App.layerDaemon`):
 * recovery of claimed files, the backlog of DATA_DIR, then (unless `once`)
 * live watching until interrupted; returns the counts of what it routed.
 * With `once`, it returns when DATA_DIR is drained, which is how tests and
 * embedders run it over the in-memory filesystem.
 *
 * @example
 * ```ts
 * const summary = yield* Daemon.runDaemon({ once: true })
 * summary.validated // files moved to VALIDATED_DIR
 * ```
 */
export const runDaemon = (options: RunOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const config = yield* AppConfig
    const instance = yield* Instance
    const watcher = yield* Watcher
    const board = yield* StatusBoard
    const notifier = yield* Notifier
    const startedAt = yield* Clock.currentTimeMillis
    /** the daemon's phase: its own state, shown by the status */
    const phase = yield* Ref.make<Phase>("starting")

    yield* announce(options, instance.id)

    const intake = yield* makeIntake(defaultLimits(config.concurrency, options.window))
    const healthCheck = yield* makeHealthCheck
    const workers = {
      run: intake.run,
      record: intake.record,
      defect: (_: unknown, cause: Cause.Cause<never>) => intake.defect(Cause.pretty(cause).split("\n")[0] ?? "defect"),
      nameOf: (job: { readonly name: string }) => job.name,
      onIdle: intake.onIdle
    }
    const pool = yield* makeWorkerPool({ ...workers, concurrency: config.concurrency, take: intake.take })
    // Large files have a lane of their own, one worker per judge thread: small files never wait behind them.
    const largeLane = yield* makeWorkerPool({ ...workers, concurrency: judgeThreads(), take: intake.takeLarge })
    const inFlight = () => pool.inFlight() + largeLane.inFlight()
    // The status, read from the parts that keep each fact (each its only writer).
    yield* board.publish(Effect.gen(function*() {
      const pools = combineWorkers([pool.view(), largeLane.view()])
      const ofIntake = yield* intake.view
      return {
        phase: yield* Ref.get(phase),
        inFlight: pools.inFlight,
        waiting: ofIntake.waiting,
        healthProblem: healthCheck.problem(),
        failing: ofIntake.failing,
        stuck: ofIntake.stuck,
        busySince: pools.busySince,
        workersAlive: pools.alive,
        workersWanted: pools.wanted,
        intakePeak: ofIntake.peak
      }
    }))
    const stop = Effect.gen(function*() {
      yield* Ref.set(phase, "stopping")
      yield* intake.shutdown
      const finished = yield* Effect.all([pool.drain(config.shutdownTimeoutMs), largeLane.drain(config.shutdownTimeoutMs)], { concurrency: 2 })
      if (!finished.every((f) => f)) {
        yield* Effect.logWarning("shutdown timeout reached; interrupting files in flight (they stay claimed and are recovered at the next start)").pipe(
          Effect.annotateLogs({ in_flight: inFlight() })
        )
      }
      // The notifications of this run go out (and are said) before the last line.
      yield* notifier.flush ?? Effect.void
      const summary = yield* intake.summary
      yield* Effect.logInfo("customer-json-processor stopped").pipe(
        Effect.annotateLogs({
          validated: summary.validated,
          returned: summary.returned,
          failed: summary.failed,
          uptime_s: Math.round(((yield* Clock.currentTimeMillis) - startedAt) / 1000),
          // peak resident memory of the process so far (Linux reports kilobytes)
          max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024)
        })
      )
    })
    // Added after the pool's own finalizer, so it runs before it (finalizers run in reverse):
    // files in flight finish before the workers are interrupted.
    yield* Effect.addFinalizer(() => stop)

    // 1. Files left claimed by instances that are gone (and by an earlier run of this one).
    yield* intake.recover
    // 2. The backlog.
    yield* intake.backlog

    if (options.once) {
      yield* intake.untilDone(inFlight)
      return yield* finishOnce(intake.summary, intake.leftBehind)
    }

    // 3. Live hints: events, polls, periodic listings; orphan adoption every HEARTBEAT_MS,
    //    folder probes and statfs every HEALTH_CHECK_INTERVAL_MS (timers aligned, see AlignedTimers).
    yield* Ref.set(phase, "watching")
    yield* Effect.forkScoped(onEvery(config.heartbeatMs, survivor("taking over stopped instances")(intake.adoptOrphans)))
    yield* Effect.forkScoped(onEvery(config.healthCheckIntervalMs, survivor("checking the folders' health")(healthCheck.check)))
    // A defect while handling one hint is survived: the next hint, at the latest the next
    // periodic listing, is handled as usual.
    const handleHint = survivor("handling a change in the input folder")
    yield* Stream.runForEach(watcher.hints, (hint) => handleHint(intake.hint(hint)))
    // The hints end only with the daemon. If they ever did, no new file would be seen again:
    // stop (exit 1), so that the service manager starts the daemon afresh.
    return yield* Effect.dieMessage("the watch of the input folder ended; stopping so that the daemon is started again")
  })).pipe(
    // The event loop (health endpoint, signals, timers, log writes) gets its turn
    // at least every YIELD_EVERY_MS, whatever the fibers are doing.
    withSlices
  )

/**
 * A duty run again and again (a hint, a periodic take-over, the health check)
 * whose defect (a bug, a plugged-in layer's throw) is said at ERROR, once per
 * cause until it works again, and survived: it runs at its next turn, instead
 * of its fiber ending with a DEBUG line nobody reads.
 */
const survivor = (duty: string) => {
  const defects = sayOncePerCause()
  return (effect: Effect.Effect<void>): Effect.Effect<void> =>
    effect.pipe(
      Effect.zipLeft(defects.cleared),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause)
          : defects.say(Cause.pretty(cause), Effect.logError(`unexpected failure ${duty}; the daemon goes on (said again if it changes)`, cause))
      )
    )
}

/** `--once`: every eligible file routed, or how many stay where they were (the exit code says so). */
const finishOnce = (counts: Effect.Effect<Summary>, leftBehind: Effect.Effect<ReadonlyArray<string>>) =>
  Effect.gen(function*() {
    const left = yield* leftBehind
    const summary: Summary = { ...(yield* counts), leftBehind: left.length }
    if (left.length > 0) {
      yield* Effect.logError("finished with files that could not be routed; they stay where they are (exit code 75)").pipe(
        Effect.annotateLogs({ left_behind: left.length, files: left.slice(0, 20) })
      )
    }
    return summary
  })

/**
 * The start-up banner, a few lines: version, instance, mode, where the status
 * page is, how files are watched, stored and called, the open-files limit, and
 * the folders. The rest (why file calls go as they do, what STORE_MODE means
 * for this user, every setting) is logged at DEBUG; `--print-settings` prints
 * the settings too.
 */
const announce = (options: RunOptions, instanceId: string) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const fileCalls = yield* SyscallMode
    const openFiles = yield* openFileLimit
    const euid = typeof process.geteuid === "function" ? process.geteuid() : -1
    // Fields in the message (logFields) keep their order on the console.
    yield* Effect.logInfo(
      "customer-json-processor started",
      logFields({
        version: VERSION,
        instance: instanceId,
        mode: options.once ? "once" : "daemon",
        status_page: statusPageAddress(config),
        watch_mode: config.watchMode,
        store: config.storeMode,
        // synchronous on local filesystems, through the thread pool otherwise (FS_CALLS)
        file_calls: fileCalls.mode === "sync" ? "synchronous" : "thread-pool",
        // RLIMIT_NOFILE, soft raised to hard by Node as it starts (see OpenFileLimit)
        open_files_limit: Option.getOrElse(openFiles, () => "unknown"),
        folders: bannerFolders(config)
      })
    )
    yield* Effect.logDebug(
      "start-up details",
      logFields({
        file_calls_reason: fileCalls.reason,
        // STORE_MODE as it applies to this process (its user)
        store: describeStoreMode(config.storeMode, euid),
        settings: describeSettings(config)
      })
    )
    if (Option.isSome(openFiles) && belowHard(openFiles.value)) {
      yield* Effect.logWarning("the limit on open files is below what the system allows this process; raise it (ulimit -n, LimitNOFILE=) for large backlogs").pipe(
        Effect.annotateLogs({ soft: openFiles.value.soft, hard: openFiles.value.hard })
      )
    }
  })
