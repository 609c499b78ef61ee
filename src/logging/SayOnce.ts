/**
 * A failure that repeats at every tick (a periodic duty, a watch event, a
 * heartbeat) is said when it starts and when it changes, not at every tick;
 * once the duty works again, its next failure is said again.
 */
import * as Effect from "effect/Effect"

export interface SayOnce {
  /** Runs `log` unless `cause` is the one said last (and not cleared since). */
  readonly say: (cause: string, log: Effect.Effect<void>) => Effect.Effect<void>
  /** The duty worked: its next failure is said, whatever it is. */
  readonly cleared: Effect.Effect<void>
}

export const sayOncePerCause = (): SayOnce => {
  let last: string | undefined
  return {
    say: (cause, log) =>
      Effect.suspend(() => {
        if (cause === last) return Effect.void
        last = cause
        return log
      }),
    cleared: Effect.sync(() => {
      last = undefined
    })
  }
}
