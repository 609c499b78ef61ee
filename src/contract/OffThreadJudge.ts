/**
 * Large files judged in a worker thread. JSON.parse and validation of a file
 * of tens of megabytes hold a thread for the better part of a second; on the
 * daemon's event loop that would stall every other file, the health endpoint
 * and signals. Files from OFF_THREAD_BYTES up go to a small pool of worker
 * threads (`judgeThreads`; started on the first such file, stopped after a minute without one),
 * through @effect/platform's worker pool; the judgement is plain data both
 * ways. Without the worker script (a library build without it) or if the
 * worker fails, the file is judged on the calling thread, and that is logged.
 */
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import * as Worker from "@effect/platform/Worker"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as WorkerThreads from "node:worker_threads"
import { judgeBytes } from "./JudgeBytes.js"
import type { JudgedBytes, JudgeRequest } from "./JudgeBytes.js"

/** Files at least this large are judged off the event loop (parsing 1 MiB takes about 10 ms). */
export const OFF_THREAD_BYTES = 1024 * 1024

/**
 * Judge threads, one per core up to four: large files are judged side by
 * side, each by a thread of its own. Memory is bounded by this many files of
 * MAX_FILE_SIZE_MB (and their parse) at once, as the large-file lane runs one
 * file per thread (see Daemon).
 */
export const judgeThreads = (): number => Math.max(1, Math.min(4, OS.availableParallelism()))

export interface OffThreadJudgeService {
  /** The built-in contract's judgement of `request.bytes`, made in a worker thread when one is available. */
  readonly judge: (request: JudgeRequest) => Effect.Effect<JudgedBytes>
}

const onThisThread: OffThreadJudgeService = { judge: (request) => Effect.sync(() => judgeBytes(request)) }

/** Where large files are judged: a worker thread (`layer`), or the calling thread (`layerSameThread`). */
export class OffThreadJudge extends Context.Tag("customer-json/OffThreadJudge")<OffThreadJudge, OffThreadJudgeService>() {}

/** Large files judged on the calling thread (in slices for large batches): where no worker thread may be started. */
export const layerSameThread: Layer.Layer<OffThreadJudge> = Layer.succeed(OffThreadJudge, onThisThread)

/**
 * The worker's script: beside the bundled entry point (dist/main.js), one
 * folder up from the library's module (dist/contract/), or, from the sources
 * (tests), in the built dist/.
 */
const workerScript = (): Option.Option<URL> =>
  Option.fromNullable(
    ["./judgeWorker.js", "../judgeWorker.js", "../../dist/judgeWorker.js"]
      .map((relative) => new URL(relative, import.meta.url))
      .find((url) => NFS.existsSync(url))
  )

export const layer: Layer.Layer<OffThreadJudge> = Layer.scoped(
  OffThreadJudge,
  Effect.gen(function*() {
    const script = workerScript()
    if (Option.isNone(script)) {
      yield* Effect.logWarning("the worker script judgeWorker.js was not found; large files are judged on the main thread")
      return onThisThread
    }
    // Made on the first large file, in the layer's scope: a daemon that never sees one starts no thread.
    const scope = yield* Effect.scope
    const pool = yield* Effect.cached(
      Worker.makePool<JudgeRequest, JudgedBytes, never>({
        minSize: 0,
        maxSize: judgeThreads(),
        concurrency: 1,
        timeToLive: "1 minute"
      }).pipe(
        Effect.provide(NodeWorker.layer(() => new WorkerThreads.Worker(script.value))),
        Scope.extend(scope)
      )
    )
    return {
      judge: (request: JudgeRequest) =>
        Effect.flatMap(pool, (workers) => workers.executeEffect(request)).pipe(
          Effect.catchAll((error) =>
            Effect.logWarning("the worker thread could not judge a large file; it is judged on the main thread").pipe(
              Effect.annotateLogs({ error: error.message }),
              Effect.zipRight(onThisThread.judge(request))
            )
          )
        )
    } satisfies OffThreadJudgeService
  })
)
