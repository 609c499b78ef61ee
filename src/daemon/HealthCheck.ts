/**
 * The running health check: folders still usable and disk space still there.
 * A folder that became unwritable or a disk nearly full is critical: the
 * Notifier tells the administrators (at most once an hour per problem), the
 * status says so (/healthz answers 503), and the daemon keeps going.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { FileStore } from "../files/FileStore.js"
import { Notifier } from "../notify/Notifier.js"
import { Status } from "../status/Status.js"

/** The check as an effect that never fails (its problem is reported instead). */
export const makeHealthCheck: Effect.Effect<Effect.Effect<void>, never, FileStore | Notifier | Status> = Effect.gen(function*() {
  const store = yield* FileStore
  const notifier = yield* Notifier
  const status = yield* Status
  return Effect.all([store.prepareFolders, store.checkDiskSpace], { discard: true }).pipe(
    Effect.tap(() => Effect.sync(() => void (status.healthProblem = undefined))),
    Effect.catchAll((problem) =>
      Effect.gen(function*() {
        status.healthProblem = problem.message
        yield* Effect.logError("health check failed").pipe(Effect.annotateLogs({ problem: problem.message }))
        yield* notifier.critical({
          summary: problem._tag === "DiskSpaceLow" ? `disk nearly full: ${problem.path}` : `folder not usable: ${problem.path}`,
          detail: problem.message,
          at: new Date(yield* Clock.currentTimeMillis)
        })
      })
    )
  )
})
