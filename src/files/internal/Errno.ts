/**
 * Node's errno errors as @effect/platform's `SystemError`, mapped the way
 * @effect/platform-node maps them, the errno kept in `cause` (where the
 * port's `errnoCode` reads it).
 *
 * @module
 */
import type { PlatformError, SystemErrorReason } from "@effect/platform/Error"
import { SystemError } from "@effect/platform/Error"
import * as Effect from "effect/Effect"

/** Node's errno codes as @effect/platform-node labels them (its `handleErrnoException`). */
const reasonOf = (code: string | undefined): SystemErrorReason => {
  switch (code) {
    case "ENOENT":
      return "NotFound"
    case "EACCES":
      return "PermissionDenied"
    case "EEXIST":
      return "AlreadyExists"
    case "EISDIR":
    case "ENOTDIR":
    case "ELOOP":
      return "BadResource"
    case "EBUSY":
      return "Busy"
    default:
      return "Unknown"
  }
}

interface ErrnoLike {
  readonly code?: unknown
  readonly syscall?: unknown
  readonly message?: unknown
}

/** Maps a Node errno error the way @effect/platform-node does, keeping the errno in `cause`. */
export const systemError = (method: string, path: string, error: unknown): SystemError => {
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrnoLike
  const code = typeof e.code === "string" ? e.code : undefined
  return new SystemError({
    reason: reasonOf(code),
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    ...(typeof e.syscall === "string" ? { syscall: e.syscall } : {}),
    ...(typeof e.message === "string" ? { description: e.message } : {}),
    cause: error
    // The fields are well-typed here; validating them again costs ~50 µs per error.
  }, { disableValidation: true })
}

/** A synchronous call as an Effect, its errno error mapped as the platform maps it. */
export const syncCall = <A>(method: string, path: string, run: () => A): Effect.Effect<A, PlatformError> =>
  Effect.try({ try: run, catch: (error) => systemError(method, path, error) })
