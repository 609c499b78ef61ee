/**
 * Watching a folder for names only. The daemon takes a watch event as a hint
 * that a name may have changed, nothing more (see daemon/Watcher.ts), but
 * @effect/platform's Node watcher makes a `stat` through the thread pool for
 * every created or removed name, to tell the kinds apart, and ends the stream
 * when that `stat` fails otherwise than "not found". A producer spraying
 * names (or links that loop) then costs the daemon a system call, a fiber and
 * an error per name, and can stop its watching. This backend hands the name
 * on as it comes, as an `Update`, and fails only when the watch itself does.
 * It is provided to the Node filesystem layer in main.ts. The names of one
 * turn of the event loop go on together, as one chunk. Under a flood of more
 * names than it holds, names are dropped, as the kernel drops events: the
 * periodic full listing finds their files.
 */
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as NFS from "node:fs"
import * as Path from "node:path"

/** The most names one batch holds, and the most batches waiting for the daemon. */
const MAX_BATCH = 4_096
const MAX_BATCHES = 4

const watchNames = (path: string, options?: FileSystem.WatchOptions): Stream.Stream<FileSystem.WatchEvent, SystemError> =>
  Stream.asyncScoped<FileSystem.WatchEvent, SystemError>((emit) =>
    Effect.acquireRelease(
      Effect.try({
        try: () => {
          // The names of one turn of the event loop go on as one chunk (each emit costs a fiber;
          // a name named twice in a turn goes once): the kernel hands over many events at a time.
          let batch = new Set<string>()
          let flush: NodeJS.Immediate | undefined
          const emitBatch = () => {
            flush = undefined
            const names = batch
            batch = new Set()
            void emit.chunk(Chunk.unsafeFromArray(Array.from(names, (name) => FileSystem.WatchEventUpdate({ path: Path.join(path, name) }))))
          }
          const watcher = NFS.watch(path, { recursive: options?.recursive ?? false }, (_event, name) => {
            if (name === null || batch.size >= MAX_BATCH) return
            batch.add(name)
            flush ??= setImmediate(emitBatch)
          })
          watcher.on("error", (error) => {
            void emit.fail(new SystemError({ reason: "Unknown", module: "FileSystem", method: "watch", pathOrDescriptor: path, cause: error }))
          })
          const close = () => {
            if (flush !== undefined) clearImmediate(flush)
            watcher.close()
          }
          return { close }
        },
        catch: (error) => new SystemError({ reason: "Unknown", module: "FileSystem", method: "watch", pathOrDescriptor: path, cause: error })
      }),
      ({ close }) => Effect.sync(close)
    ), { bufferSize: MAX_BATCHES, strategy: "dropping" })

/** Watch events as names only, for the Node filesystem layer (a folder; anything else as the platform does it). */
export const NameWatchLive: Layer.Layer<FileSystem.WatchBackend> = Layer.succeed(FileSystem.WatchBackend, {
  register: (path, info, options) => (info.type === "Directory" ? Option.some(watchNames(path, options)) : Option.none())
})
