/**
 * The day the in-process daemon tests run on. The TestClock starts at 1970,
 * before any birth date in the fixtures; processing happens "today" in 2026.
 * (memfs gives files real mtimes, later than this, so every file is fresh and
 * only the quiet periods a test lets pass on the TestClock count.)
 */
import { Effect, TestClock } from "effect"
import type { Layer } from "effect"

/** The calendar day, as the contract's date rules see it. */
export const TODAY_DATE = "2026-11-28"
export const TODAY = Date.parse(`${TODAY_DATE}T00:00:00Z`)

/** Moves the TestClock forward to TODAY (never back). */
export const setToday: Effect.Effect<void> = Effect.flatMap(
  TestClock.currentTimeMillis,
  (t) => (t < TODAY ? TestClock.setTime(TODAY) : Effect.void)
)

/**
 * Runs `effect` with `layer`, the TestClock set to TODAY before the layer
 * starts: moving the clock 56 years later once it runs would replay every
 * heartbeat in between.
 */
export const provideToday = <R>(layer: Layer.Layer<R, unknown>) => <A, E>(effect: Effect.Effect<A, E, R>) =>
  Effect.zipRight(setToday, Effect.provide(effect, layer))
