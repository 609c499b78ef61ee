/**
 * The built-in destinations: the validated folder and the returns folder
 * (with the error report beside each file), one per entry of
 * `storageFolders`. Each stores through the FileStore, whose protocol they
 * keep as it is: a private stage linked into place under a free name, never
 * over an existing one, exactly once, and recognised after a crash by its
 * links (see FileStore).
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { AppConfig } from "../../Config.js"
import { renderReport } from "../../contract/ErrorReport.js"
import { FileStore } from "../../files/FileStore.js"
import { Masker } from "../../masking/Masker.js"
import { Destination, storageFolders } from "../Destination.js"
import type { JudgedFile, StorageFolder, StoringDestination } from "../Destination.js"

/** The destination of one storage folder, over the FileStore (and the Masker, for the returns folder's reports). */
export const makeFolderDestination = (role: StorageFolder["role"]): Effect.Effect<StoringDestination, never, AppConfig | FileStore | Masker> =>
  Effect.gen(function*() {
    const store = yield* FileStore
    const masker = yield* Masker
    const folder = storageFolders(yield* AppConfig).find((f) => f.role === role)!
    const receives = [folder.receives] as const
    if (!folder.report) {
      const direct = store.direct
      return {
        role,
        receives,
        store: (file: JudgedFile) => store.storeValid(file.claimedPath, file.name, file.processedAt, file.content),
        // (hot path 11, see WorkerPool) the bytes judged, placed as the claimed file or a private copy of them, and linked
        storeNow: direct === undefined ? undefined : (file: JudgedFile) =>
          file.content._tag === "Bytes" && file.content.meta !== undefined
            ? direct.storeValid(file.claimedPath, file.name, file.processedAt, file.content.meta, file.content.bytes)
            : Either.right(undefined)
      }
    }
    return {
      role,
      receives,
      store: (file: JudgedFile) =>
        store.storeReturned(file.claimedPath, file.name, file.processedAt, file.content, (storedAs) =>
          renderReport(
            { file: file.name, storedAs, receivedAt: file.receivedAt, processedAt: file.processedAt, errors: file.errors, errorCount: file.errorCount },
            masker.text
          ))
    }
  })

/** The validated folder (VALIDATED_DIR, role `validated`): valid files, stored exactly once. */
export const layerValidatedFolder = Layer.effect(Destination, makeFolderDestination("validated"))

/** The returns folder (RETURNS_DIR, role `returns`): invalid files, each after its error report, exactly once. */
export const layerReturnsFolder = Layer.effect(Destination, makeFolderDestination("returns"))
