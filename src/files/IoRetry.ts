/**
 * Retrying I/O: three retries with jittered exponential backoff (50 ms, then
 * ×4) for errors other than "not found", which is an answer, not a failure.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { errnoCode, isNotFound } from "./FileOps.js"

type Failure = PlatformError | { readonly _tag: string }

/** Worth another try: an I/O error other than "not found" (anything else, a raced placement say, is an answer). */
const isPlatformError = (e: Failure): e is PlatformError => e._tag === "SystemError" || e._tag === "BadArgument"
const retriable = (e: Failure): e is PlatformError => isPlatformError(e) && !isNotFound(e)

/** Three retries with jittered exponential backoff, for I/O errors other than "not found". */
const ioRetry = Schedule.exponential("50 millis", 4).pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(3)),
  Schedule.whileInput((e: Failure) => retriable(e))
)

const logRetry = (e: Failure) =>
  retriable(e) ? Effect.logDebug("I/O error; retrying").pipe(Effect.annotateLogs({ error: describeIoError(e) })) : Effect.void

/**
 * `effect`, retried on I/O errors. The retry machinery (a schedule driver) is
 * built only after a first failure (hot path 9, see WorkerPool).
 */
export const retryIo = <A, E extends Failure>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.catchAll(effect, (first) => {
    if (!retriable(first)) return Effect.fail(first)
    const again: Effect.Effect<A, E> = Effect.tapError(effect, logRetry)
    // The schedule starts from the failure already seen: the same delays and count as an eager retry.
    let replayed = false
    const replay = Effect.suspend(() => (replayed ? again : ((replayed = true), Effect.fail(first))))
    return Effect.zipRight(logRetry(first), Effect.retry(replay, ioRetry))
  })

export const describeIoError = (e: PlatformError): string =>
  e._tag === "SystemError"
    ? `${e.method} failed: ${errnoCode(e) ?? e.reason}${e.pathOrDescriptor !== undefined ? ` (${e.pathOrDescriptor})` : ""}`
    : `${e.method} failed: bad argument`

