/**
 * The running health check: folders still usable and disk space still there.
 * A folder that became unwritable or a disk nearly full is critical: the
 * Notifier tells the administrators (at most once an hour per problem), the
 * check keeps it as its `problem` (the status shows it: /healthz answers
 * 503), and the daemon keeps going. When the
 * problem is gone, an all-clear line and notification say so (a different
 * problem in its place clears the first and is reported in turn).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { FileStore } from "../files/FileStore.js"
import { Instance } from "../instances/Instance.js"
import { Notifier, notifyCleared } from "../notify/Notifier.js"

/** The running check and what it found last. */
export interface HealthCheck {
  /** One check, as an effect that never fails (its problem is reported instead). */
  readonly check: Effect.Effect<void>
  /** The last check's problem, if it failed (read by the status view). */
  readonly problem: () => string | undefined
}

/** Makes the check; its last problem is its own state. */
export const makeHealthCheck: Effect.Effect<HealthCheck, never, FileStore | Notifier | Instance> = Effect.gen(function*() {
  const store = yield* FileStore
  const notifier = yield* Notifier
  const instance = yield* Instance
  /** The last check's problem (undefined when it passed). */
  let problemNow: string | undefined
  /** The problem reported last, while it lasts: its summary and since when. */
  let reported: { readonly summary: string; readonly problem: string; readonly since: number } | undefined

  const cleared = (how: string) =>
    Effect.gen(function*() {
      const was = reported
      if (was === undefined) return
      reported = undefined
      const now = yield* Clock.currentTimeMillis
      yield* Effect.logInfo("all clear: the health check passes again").pipe(
        Effect.annotateLogs({ was: was.problem, lasted_s: Math.round((now - was.since) / 1000) })
      )
      yield* notifyCleared(notifier, { summary: was.summary, detail: how, at: new Date(now), since: new Date(was.since), instance: instance.id })
    })

  const check = Effect.all([store.prepareFolders, store.checkDiskSpace], { discard: true }).pipe(
    Effect.tap(() => Effect.sync(() => void (problemNow = undefined))),
    Effect.zipRight(cleared("the health check passes again")),
    Effect.catchAll((problem) =>
      Effect.gen(function*() {
        const summary = problem._tag === "DiskSpaceLow" ? `disk nearly full: ${problem.path}` : `folder not usable: ${problem.path}`
        if (reported !== undefined && reported.summary !== summary) yield* cleared(`no longer seen; the health check now fails on: ${problem.message}`)
        problemNow = problem.message
        const now = yield* Clock.currentTimeMillis
        reported ??= { summary, problem: problem.message, since: now }
        yield* Effect.logError("health check failed").pipe(Effect.annotateLogs({ problem: problem.message }))
        yield* notifier.critical({ summary, detail: problem.message, at: new Date(now), instance: instance.id })
      })
    )
  )
  return { check, problem: () => problemNow }
})
