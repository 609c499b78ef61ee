/**
 * The process's limit on open files (RLIMIT_NOFILE), for the start-up line.
 * Node raises the soft limit to the hard one as it starts on Linux (its
 * platform set-up), so a daemon started under `ulimit -n 1024` with a hard
 * limit of 4096 runs with 4096; nothing is left to raise here, only to say.
 * Read from /proc/self/limits; unknown where there is none.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

export type LimitValue = number | "unlimited"

export interface OpenFileLimit {
  readonly soft: LimitValue
  readonly hard: LimitValue
}

const value = (text: string): LimitValue | undefined =>
  text === "unlimited" ? "unlimited" : /^\d+$/.test(text) ? Number(text) : undefined

/** The "Max open files" line of a /proc/<pid>/limits text (pure). */
export const parseOpenFileLimit = (limits: string): OpenFileLimit | undefined => {
  const line = limits.split("\n").find((l) => l.startsWith("Max open files"))
  const [soft, hard] = (line ?? "").slice("Max open files".length).trim().split(/\s+/).map(value)
  return soft === undefined || hard === undefined ? undefined : { soft, hard }
}

/** This process's limit, if the system says it. */
export const openFileLimit: Effect.Effect<Option.Option<OpenFileLimit>, never, FileSystem.FileSystem> = Effect.flatMap(
  FileSystem.FileSystem,
  (fs) => fs.readFileString("/proc/self/limits")
).pipe(
  Effect.map((text) => Option.fromNullable(parseOpenFileLimit(text))),
  Effect.orElseSucceed(() => Option.none<OpenFileLimit>())
)

/**
 * Whether the soft limit is below a hard one Node could have raised it to
 * (with no hard limit, Node takes the most the kernel allows: not below).
 */
export const belowHard = (limit: OpenFileLimit): boolean =>
  limit.hard !== "unlimited" && limit.soft !== "unlimited" && limit.soft < limit.hard
