/**
 * Periodic work at multiples of its period on this host's clock. The daemon's
 * timers have commensurate periods (heartbeat 5 s, listings 10 s, polls 1 s):
 * aligned, they share their wake-ups, and on a virtual machine each wake-up of
 * an idle process costs more CPU than the work it does.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** Waits until the next multiple of `ms` (at least a moment later). */
export const untilNext = (ms: number): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sleep(ms - (now % ms)))

/** Runs `effect` now, then at every multiple of `ms`. */
export const onEvery = <E, R>(ms: number, effect: Effect.Effect<void, E, R>): Effect.Effect<never, E, R> =>
  Effect.zipRight(effect, Effect.forever(Effect.zipRight(untilNext(ms), effect)))
