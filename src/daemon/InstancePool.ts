/**
 * Every core of one host: INSTANCES=N (or `auto`, one per core) makes this
 * process a supervisor of N daemon processes on the same folders. They share
 * the work as any instances on one folder tree do (each claims its own files;
 * see "Several instances" in the README); this process starts them, restarts
 * one that fails (after 1 s, doubling up to a minute), passes SIGHUP on (log
 * reopening), and stops them all when it is stopped. A child stops by itself
 * when this process is gone (`--stop-with-parent`), so none outlives a kill -9.
 *
 * Only the first instance serves METRICS_PORT; its status page shows the
 * others through their heartbeats. With `--once`, each instance drains and
 * exits, and the pool's exit code is the gravest of theirs.
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"

export interface InstancePoolOptions {
  readonly count: number
  readonly once: boolean
  /** runs one instance: the program and its arguments (`--stop-with-parent PID` and `--once` are added) */
  readonly command: readonly [string, ...Array<string>]
  /** environment of instance `index` (0-based), on top of this process's */
  readonly envFor: (index: number) => Record<string, string>
}

/** Exit codes by gravity: a bad configuration, an unusable folder, an unexpected failure, files left for later. */
const GRAVITY: ReadonlyArray<number> = [78, 73, 1, 75]

/** The pool's exit code: 0 when every instance's is, otherwise the gravest of theirs. */
export const gravestExitCode = (codes: ReadonlyArray<number>): number => {
  const failed = codes.filter((code) => code !== 0)
  if (failed.length === 0) return 0
  for (const code of GRAVITY) if (failed.includes(code)) return code
  return Math.max(...failed)
}

/** An instance that exits by itself: 0 is a clean stop (a signal to the whole group); 78 and 73 would fail again. */
export const shouldRestart = (code: number): boolean => code !== 0 && code !== 78 && code !== 73

/** An instance that ran this long before it failed is restarted as after a first failure. */
const STEADY_MS = 60_000

/** Delay before restarting an instance that failed `failures` times in a row. */
export const restartDelayMs = (failures: number): number => Math.min(60_000, 1000 * 2 ** Math.min(Math.max(failures - 1, 0), 10))

/** The pids of the running instances, by index: where SIGHUP is passed on. */
type Pids = Ref.Ref<ReadonlyMap<number, number>>

/** Runs one instance to its end; its exit code. The process is stopped (SIGTERM, awaited) if this is interrupted. */
const runOnce = (options: InstancePoolOptions, index: number, pids: Pids) => {
  const [program, ...args] = options.command
  return Command.make(program, ...args, "--stop-with-parent", String(process.pid), ...(options.once ? ["--once"] : [])).pipe(
    Command.env(options.envFor(index)),
    Command.stdin("inherit"),
    Command.stdout("inherit"),
    Command.stderr("inherit"),
    Command.start,
    Effect.flatMap((child) =>
      Effect.logInfo("instance started").pipe(
        Effect.annotateLogs({ instance: index + 1, pid: child.pid }),
        Effect.zipRight(Ref.update(pids, (m) => new Map([...m, [index, child.pid]]))),
        Effect.zipRight(child.exitCode),
        Effect.ensuring(Ref.update(pids, (m) => new Map([...m].filter(([i]) => i !== index))))
      )
    ),
    Effect.scoped,
    Effect.map(Number)
  )
}

/** One instance, restarted while it fails (watching), or run once (`--once`); its last exit code. */
const supervise = (options: InstancePoolOptions, index: number, pids: Pids) =>
  Effect.gen(function*() {
    let failures = 0
    while (true) {
      const startedAt = yield* Clock.currentTimeMillis
      const code = yield* runOnce(options, index, pids).pipe(
        Effect.catchAll((error) =>
          Effect.as(
            Effect.logError("an instance could not be started, or ended without an exit code (killed by a signal)").pipe(
              Effect.annotateLogs({ instance: index + 1, error: error.message })
            ),
            1
          )
        )
      )
      if (options.once || !shouldRestart(code)) {
        if (code !== 0 && !options.once) {
          yield* Effect.logError("an instance stopped and is not restarted").pipe(Effect.annotateLogs({ instance: index + 1, exit_code: code }))
        }
        return code
      }
      // An instance that ran a while before failing starts its count afresh.
      failures = (yield* Clock.currentTimeMillis) - startedAt > STEADY_MS ? 1 : failures + 1
      const delay = restartDelayMs(failures)
      yield* Effect.logError("an instance failed; it is restarted").pipe(
        Effect.annotateLogs({ instance: index + 1, exit_code: code, restart_in_ms: delay })
      )
      yield* Effect.sleep(delay)
    }
  })

/**
 * Runs the pool until every instance has ended (`--once`), or until it is
 * interrupted (a signal): then every instance gets SIGTERM and is awaited.
 * The pool's exit code.
 */
export const runInstancePool = (
  options: InstancePoolOptions
): Effect.Effect<number, never, CommandExecutor.CommandExecutor | Scope.Scope> =>
  Effect.gen(function*() {
    yield* Effect.logInfo("running instances").pipe(Effect.annotateLogs({ instances: options.count, once: options.once }))
    const pids: Pids = yield* Ref.make<ReadonlyMap<number, number>>(new Map())
    // SIGHUP (logrotate's postrotate): every instance reopens its logs. The children run in process
    // groups of their own, so a signal to this one reaches them only this way.
    const runtime = yield* Effect.runtime<never>()
    const onHangup = () =>
      Runtime.runFork(runtime)(Effect.flatMap(Ref.get(pids), (m) =>
        Effect.forEach(m.values(), (pid) => Effect.ignore(Effect.try(() => process.kill(pid, "SIGHUP"))), { discard: true })))
    yield* Effect.acquireRelease(Effect.sync(() => process.on("SIGHUP", onHangup)), () => Effect.sync(() => process.off("SIGHUP", onHangup)))
    const codes = yield* Effect.forEach(
      Array.from({ length: options.count }, (_, i) => i),
      (index) => supervise(options, index, pids),
      { concurrency: "unbounded" }
    )
    return gravestExitCode(codes)
  })

/**
 * In an instance started by the pool: completes when the pool's process
 * `parent` is gone (this one was handed to another parent), checked every second.
 */
export const parentGone = (parent: number): Effect.Effect<void> =>
  Effect.repeat(Effect.sync(() => process.ppid === parent), {
    while: (same) => same,
    schedule: Schedule.spaced("1 second")
  }).pipe(Effect.asVoid)

/**
 * Runs `daemon` in an instance started by the pool until it ends, or until
 * the pool's process `parent` is gone: then it is stopped as a signal stops
 * it. Either way, and when this itself is interrupted (SIGTERM), the daemon's
 * own shutdown (files in flight, the "stopped" line) is awaited here, before
 * anything around this (the layers it runs on, the logger) is released. A
 * race of the two would not wait: interrupted, it lets its loser finish on
 * its own while the layers close under it.
 */
export const untilParentGone = (parent: number) => <A, E, R>(daemon: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const running = yield* Effect.fork(daemon)
    const watch = yield* Effect.fork(Effect.zipRight(parentGone(parent), Fiber.interrupt(running)))
    return yield* Fiber.join(running).pipe(
      Effect.onInterrupt(() => Fiber.interrupt(running)),
      Effect.ensuring(Fiber.interrupt(watch))
    )
  })
