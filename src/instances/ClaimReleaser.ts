/**
 * The ClaimReleaser: removes the claimed names of stored files once their outcome
 * lines are in the log. A stored file is linked twice, in its destination and
 * under its claimed name in processing/<instance>/; the claimed name goes only
 * after the log write that holds the file's "file processed" line. Killed in
 * between, the file is found linked (nlink > 1) by recovery, which logs its
 * outcome then: so every file's outcome reaches the log, even under kill -9.
 *
 * Workers do not wait for the write: they hand the name over and take the next
 * file. The ClaimReleaser takes whatever has gathered, waits for one log write for
 * all of it (a group commit), and unlinks. At shutdown it finishes the lot.
 *
 * Workers outrun it in a backlog (its flushes and unlinks are most of a file's
 * system calls), so at most `MAX_PENDING` names wait for the next batch: a worker
 * handing over one more waits until the batch is taken. Without that bound the
 * claimed names of a whole backlog piled up in memory (and in processing/)
 * until the end of the run.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Queue from "effect/Queue"
import { FileStore } from "../files/FileStore.js"
import { Instance } from "./Instance.js"
import { describeIoError, retryIo } from "../files/IoRetry.js"
import { LogSync } from "../logging/Logging.js"
import { threadPoolSize } from "../Config.js"
import type { StoredIn } from "../Folders.js"

export interface ClaimReleaserService {
  /**
   * Queues the claimed name of a stored file for removal after the next log
   * write; `storedIn`: the role of the storage folder that has it (`unknown`
   * for a file recovery found stored already), which says what stages it left.
   */
  readonly release: (claimedPath: string, storedIn: StoredIn) => Effect.Effect<void>
}

/** Claimed names waiting for the next batch before `release` makes its caller wait. */
export const MAX_PENDING = 1024

interface Pending {
  readonly claimedPath: string
  readonly storedIn: StoredIn
}

export const makeClaimReleaser: Effect.Effect<ClaimReleaserService, never, Scope.Scope | FileStore | Instance> = Effect.gen(function*() {
  const store = yield* FileStore
  const instance = yield* Instance
  const logSync = yield* LogSync
  const flushes = threadPoolSize()
  // Names gather here; `wake` holds one signal that there are some.
  let pending: Array<Pending> = []
  const wake = yield* Queue.sliding<void>(1)
  // Open while fewer than MAX_PENDING names wait; workers handing over more wait on it.
  const room = yield* Effect.makeLatch(true)
  const takeAll = Effect.sync(() => {
    const batch = pending
    pending = []
    room.unsafeOpen()
    return batch
  })

  const releaseOne = ({ claimedPath, storedIn }: Pending) =>
    retryIo(store.releaseClaim(claimedPath, storedIn)).pipe(
      // Left linked, the name is recovered later as "stored already" (and logged again, marked so).
      Effect.catchAll((e) =>
        Effect.logWarning("could not remove the claimed name of a stored file; it is cleared at the next full listing").pipe(
          Effect.annotateLogs({ claimed_as: claimedPath, error: describeIoError(e) })
        )
      ),
      // Not `ensuring` (hot path 9, see WorkerPool): the batch is uninterruptible.
      Effect.zipRight(Effect.sync(() => instance.release(claimedPath)))
    )

  /**
   * Stored files' data on disk before their claimed names go: after the first, each flush
   * finds little to do. A file whose flush fails keeps its claimed name (linked, it reads
   * as stored already): the retry of claimed files logs it again and releases it then.
   */
  const flushOne = ({ claimedPath }: Pending): Effect.Effect<boolean> =>
    store.flushStored(claimedPath).pipe(
      Effect.as(true),
      Effect.catchAll((e) =>
        Effect.as(
          Effect.logWarning("could not flush a stored file to disk; its claimed name stays until a later attempt flushes it").pipe(
            Effect.annotateLogs({ claimed_as: claimedPath, error: describeIoError(e) })
          ),
          false
        )
      )
    )

  const releaseBatch = (batch: ReadonlyArray<Pending>) =>
    Effect.zipRight(
      logSync.written,
      Effect.suspend(() => {
        // Only stages this process wrote are flushed (a file placed as itself has none): through the
        // thread pool, as many at once as it has threads, so that flushes that wait together share
        // one journal commit.
        const toFlush = batch.filter((p) => store.needsFlush(p.claimedPath))
        const release = (failed: ReadonlySet<string>) =>
          Effect.forEach(batch, (pending) => (failed.has(pending.claimedPath) ? Effect.sync(() => instance.release(pending.claimedPath)) : releaseOne(pending)), {
            discard: true
          })
        if (toFlush.length === 0) return release(new Set())
        return Effect.flatMap(Effect.forEach(toFlush, flushOne, { concurrency: flushes }), (flushed) =>
          release(new Set(toFlush.filter((_, i) => flushed[i] !== true).map((p) => p.claimedPath))))
      })
    )

  /**
   * A defect in a batch (a bug, a plugged-in layer's throw) is said and survived: the loop
   * must go on, or workers would wait for room for ever. The batch's names stay linked
   * (stored already) and are released by the retry of claimed files.
   */
  const survived = (batch: ReadonlyArray<Pending>) =>
    Effect.catchAllCause(Effect.uninterruptible(releaseBatch(batch)), (cause) =>
      Effect.zipRight(
        Effect.sync(() => batch.forEach((p) => instance.release(p.claimedPath))),
        Effect.logError("unexpected failure removing the claimed names of stored files; they stay and are released later", cause).pipe(
          Effect.annotateLogs({ files: batch.length })
        )
      ))

  // One batch at a time: names gather while the log write is on its way.
  yield* Queue.take(wake).pipe(
    Effect.zipRight(takeAll),
    Effect.flatMap(survived),
    Effect.forever,
    Effect.forkScoped
  )
  // At shutdown (after the workers stopped): whatever is left, after one last write.
  yield* Effect.addFinalizer(() => Effect.flatMap(takeAll, releaseBatch))

  return {
    release: (claimedPath, storedIn) =>
      Effect.suspend(() => {
        pending.push({ claimedPath, storedIn })
        if (pending.length === 1) wake.unsafeOffer(undefined)
        if (pending.length < MAX_PENDING) return Effect.void
        room.unsafeClose()
        return room.await
      })
  }
})

/** Removes the claimed names of stored files in batches, once the log write holding their outcome is done. */
export class ClaimReleaser extends Effect.Service<ClaimReleaser>()("customer-json/ClaimReleaser", { scoped: makeClaimReleaser }) {}

/** The ClaimReleaser as a layer, over `FileStore` and `Instance`, `ClaimReleaser.Default`. */
export const layer: Layer.Layer<ClaimReleaser, never, FileStore | Instance> = ClaimReleaser.Default
