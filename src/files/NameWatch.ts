/**
 * Watching a folder for names only. The daemon takes a watch event as a hint
 * that a name may have changed, nothing more (see daemon/Watcher.ts), but
 * @effect/platform's Node watcher makes a `stat` through the thread pool for
 * every created or removed name, to tell the kinds apart, and ends the stream
 * when that `stat` fails otherwise than "not found". A producer spraying
 * names (or links that loop) then costs the daemon a system call, a fiber and
 * an error per name, and can stop its watching. This backend hands the name
 * on as an `Update`, and fails only when the watch itself does.
 * It is provided to the Node filesystem layer in main.ts.
 *
 * Names gather in one bounded inbox, each once, until the daemon takes them
 * (the stream is pulled, never pushed: nothing queues up behind a slow
 * reader). A flood of more names than the inbox holds is not dropped
 * silently: the names are let go and the folder itself is named instead
 * (`OVERFLOW`, an event whose path is the watched folder), which the Watcher
 * turns into a listing. So a real name is never pushed behind a flood: it is
 * in the inbox, or in the listing that replaces it.
 */
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as NFS from "node:fs"
import * as Path from "node:path"

/** The most names the inbox holds; past them, the folder is named instead. */
export const MAX_NAMES = 1_024

/** The inbox of names (pure state, with its rule): the names since the last take, or "overflowed". */
export interface NameInbox {
  readonly add: (name: string) => void
  /** Everything gathered since the last take: the names, or `"overflow"` when there were more than `max`. */
  readonly take: () => ReadonlyArray<string> | "overflow"
  readonly isEmpty: () => boolean
}

export const makeNameInbox = (max: number = MAX_NAMES): NameInbox => {
  let names = new Set<string>()
  let overflowed = false
  return {
    add: (name) => {
      if (overflowed) return
      names.add(name)
      if (names.size > max) {
        overflowed = true
        names = new Set()
      }
    },
    take: () => {
      const taken = overflowed ? "overflow" : Array.from(names)
      names = new Set()
      overflowed = false
      return taken
    },
    isEmpty: () => !overflowed && names.size === 0
  }
}

const watchNames = (path: string, options?: FileSystem.WatchOptions): Stream.Stream<FileSystem.WatchEvent, SystemError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const inbox = makeNameInbox()
    // One signal that the inbox holds something (or the watch failed): a sliding queue of one.
    const signal = yield* Queue.sliding<void>(1)
    let failure: SystemError | undefined
    const watchError = (error: unknown) => new SystemError({ reason: "Unknown", module: "FileSystem", method: "watch", pathOrDescriptor: path, cause: error })
    yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          // The names of one turn of the event loop go on together (the kernel hands over many events
          // at a time, and a chunk costs the reader one pass), the reader told once per turn.
          let told: NodeJS.Immediate | undefined
          const tell = () => {
            told = undefined
            signal.unsafeOffer(undefined)
          }
          const watcher = NFS.watch(path, { recursive: options?.recursive ?? false }, (_event, name) => {
            if (name === null) return
            inbox.add(name)
            told ??= setImmediate(tell)
          })
          watcher.on("error", (error) => {
            failure = watchError(error)
            signal.unsafeOffer(undefined)
          })
          return () => {
            if (told !== undefined) clearImmediate(told)
            watcher.close()
          }
        },
        catch: watchError
      }),
      (close) => Effect.sync(close)
    )
    const pull: Effect.Effect<Chunk.Chunk<FileSystem.WatchEvent>, SystemError> = Effect.flatMap(Queue.take(signal), () => {
      if (failure !== undefined) return Effect.fail(failure)
      const taken = inbox.take()
      return Effect.succeed(
        taken === "overflow"
          ? Chunk.of(FileSystem.WatchEventUpdate({ path }))
          : Chunk.unsafeFromArray(taken.map((name) => FileSystem.WatchEventUpdate({ path: Path.join(path, name) })))
      )
    })
    return Stream.repeatEffectChunk(pull)
  }))

/** Watch events as names only, for the Node filesystem layer (a folder; anything else as the platform does it). */
export const layer: Layer.Layer<FileSystem.WatchBackend> = Layer.succeed(FileSystem.WatchBackend, {
  register: (path, info, options) => (info.type === "Directory" ? Option.some(watchNames(path, options)) : Option.none())
})
