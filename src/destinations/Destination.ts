/**
 * The `Destination` port: where a judged file goes. Every file has one
 * verdict (`validated` or `returned`), and every destination that receives
 * that verdict gets the file, as judged (its bytes and its parsed document:
 * no destination reads the file again).
 *
 * Two destinations are built in, one per folder of `storageFolders` (the
 * folder list with roles): the validated folder (role `validated`) and the
 * returns folder with its error report (role `returns`). Each *stores* the
 * file (`stores: true`): its name there is the file's `storedAs`, placed
 * exactly once by FileStore's protocol (a private stage linked into place,
 * never over an existing name; a crash between the placing and the release
 * of the claimed name is recognised by recovery as "stored already").
 *
 * A destination of one's own (a copy in another folder, a table of the
 * records, a queue) is a layer of `Destination`, added with `App.Swaps`'
 * `destinations`: no module of the daemon changes. Its guarantee:
 *  - it is called before the storing destination, while the file is still
 *    claimed in processing/: a file is in validated/ (or returns/) only once
 *    every added destination for its verdict has it;
 *  - a failure (`DestinationError`) leaves the file claimed, stored nowhere,
 *    and it is tried again later (said like an I/O failure);
 *  - a crash (kill -9, a shutdown interrupting it) before the store re-runs
 *    it at recovery: delivery is at least once, and `key` (the claimed name,
 *    the same at every delivery of one file: see `JudgedFile.key`) makes it
 *    exactly once for a destination that keeps what it has by key;
 *  - once stored, the file is never delivered again (recovery of a file found
 *    stored already only logs and releases it).
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type { FolderSettings, StorageRole, Verdict } from "../Folders.js"
import { storageFolderList } from "../Folders.js"
import type { ValidationError } from "../contract/Contract.js"
import type { Content, StoreFailure } from "../files/FileStore.js"

/** A file's verdict: every record valid (`validated`), or not (`returned`, with its errors). */
export type { Verdict } from "../Folders.js"

/** One judged file, as every destination for its verdict receives it. */
export interface JudgedFile {
  /** the name it was received with (unmasked: mask it with the Masker wherever it is written out) */
  readonly name: string
  /**
   * Its claimed name in processing/ (`<received ms>-<sequence>_<name>`): the
   * same at every delivery of this file (a retry, a recovery after a crash, by
   * this instance or another), never the same for two files of one instance.
   * The key by which a destination of one's own keeps a file exactly once.
   * (Two instances claiming files of one name in the same millisecond under the
   * same sequence number would share it; an instance adopting such a claim
   * beside its own renames it, and delivers it again under the new name.)
   */
  readonly key: string
  /** the partner that delivered it (PARTNERS_FILE), `undefined` without partners */
  readonly partner: string | undefined
  /** its claimed path in this instance's processing folder (where the built-in destinations place it from) */
  readonly claimedPath: string
  /** where it goes: the validated folder (`validated`) or the returns folder (`returned`), with the destinations of one's own for it */
  readonly verdict: Verdict
  /** records in the file (0 when it is not a JSON document, or too large to read) */
  readonly records: number
  /** the contract's errors, as it listed them (`errorCount` counts every one) */
  readonly errors: ReadonlyArray<ValidationError>
  /** every error found (0 for a validated file) */
  readonly errorCount: number
  /**
   * The parsed document (a customer object, or an array of them), as judged;
   * `undefined` when the file did not parse or was too large to read. Parsed
   * once: a large file judged in a worker thread is parsed again on the event
   * loop, once, when a destination first asks for its document.
   */
  readonly document: unknown
  /** the bytes judged (`undefined`: too large to read) */
  readonly bytes: Uint8Array | undefined
  /** what the storing destinations place: the bytes judged, or the original file when too large to read */
  readonly content: Content
  /** when the daemon first saw it */
  readonly receivedAt: Date
  /** when it was judged (the `Clock`'s time: its "today" for the contract's date rules) */
  readonly processedAt: Date
}

/** An added destination could not take a file: it stays claimed, and is tried again later. */
export class DestinationError extends Data.TaggedError("DestinationError")<{
  /** the destination's role */
  readonly role: string
  /** what went wrong, for people */
  readonly reason: string
}> {
  override get message(): string {
    return `the destination "${this.role}" could not take the file: ${this.reason}`
  }
}

/** Why a destination failed: an I/O error, a store failure of the built-in folders, or an added destination's own. */
export type DestinationFailure = PlatformError | StoreFailure | DestinationError

/** One destination. */
export interface DestinationService {
  /** its name in logs, metrics and the status page: `validated`, `returns`, or one's own ("archive", "crm") */
  readonly role: string
  /** the verdicts it receives */
  readonly receives: ReadonlyArray<Verdict>
  /** Takes one file (the built-in folders return the name they stored it under). */
  readonly store: (file: JudgedFile) => Effect.Effect<string | void, DestinationFailure>
}

/**
 * A destination that stores the file for good (the built-in folders): the
 * name it returns is the file's `storedAs`, and recovery recognises a file it
 * stored by its links (see FileStore).
 */
export interface StoringDestination extends DestinationService {
  /** the role of its storage folder (`validated`, `returns`): where the file's claim is released from */
  readonly role: StorageRole
  /** Places the file exactly once; returns the name it is stored under. */
  readonly store: (file: JudgedFile) => Effect.Effect<string, DestinationFailure>
  /**
   * `store` as a plain function, by direct file calls (hot path 11, see
   * WorkerPool): the name stored under, or `undefined` (or a failure, which
   * left nothing placed) where it takes more: then `store`.
   */
  readonly storeNow?: ((file: JudgedFile) => Either.Either<string | undefined, PlatformError>) | undefined
}

/**
 * One place judged files go: the validated folder, the returns folder, or a
 * destination of one's own (provide a layer of it in `App.Swaps`'
 * `destinations`; see the module's guarantee).
 */
export class Destination extends Context.Tag("customer-json/Destination")<Destination, DestinationService>() {}

/** A folder the built-in destinations store in, with its role. */
export interface StorageFolder {
  /** `validated` or `returns` */
  readonly role: StorageRole
  /** the setting that names it */
  readonly setting: string
  /** the folder */
  readonly dir: string
  /** the verdict it receives */
  readonly receives: Verdict
  /** whether an error report is placed beside each file */
  readonly report: boolean
}

/**
 * The folders judged files are stored in, with their roles (pure): the
 * storage folders of the folder list (`Folders.FOLDERS`), which the built-in
 * destinations follow.
 */
export const storageFolders = (config: FolderSettings): ReadonlyArray<StorageFolder> =>
  storageFolderList(config).map((f) => ({ role: f.role, setting: f.setting, dir: f.dir, receives: f.stores.verdict, report: f.stores.report }))
