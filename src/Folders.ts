/**
 * The daemon's folders, each with its role: the one list the folder checks,
 * the choice of how file calls are made (SyscallMode), the built-in
 * destinations and the start-up banner all follow. A folder is added here,
 * once (with its setting in Config's table), and every one of them takes it.
 *
 * @module
 */

/** A file's verdict: every record valid (`validated`), or not (`returned`, with its errors). */
export type Verdict = "validated" | "returned"

/** The role of a folder that stores judged files: the role of its built-in destination. */
export type StorageRole = "validated" | "returns"

/**
 * What a folder is for: its name in the banner, in `Folders`, and (for a
 * storage folder) its destination's role. `data` is the input folder.
 */
export type FolderRole = "data" | "processing" | StorageRole | "logs"

/** The settings that name the folders (Config's `Settings` has them). */
export interface FolderSettings {
  /** DATA_DIR */
  readonly dataDir: string
  /** PROCESSING_DIR */
  readonly processingDir: string
  /** VALIDATED_DIR */
  readonly validatedDir: string
  /** RETURNS_DIR */
  readonly returnsDir: string
  /** LOG_DIR */
  readonly logDir: string
}

/** One folder of the list: its role, its setting, and what the daemon does there. */
export interface FolderSpec {
  /** what it is for (see `FolderRole`) */
  readonly role: FolderRole
  /** the environment variable that names it */
  readonly setting: "DATA_DIR" | "PROCESSING_DIR" | "VALIDATED_DIR" | "RETURNS_DIR" | "LOG_DIR"
  /** the field of the settings that holds it */
  readonly key: keyof FolderSettings
  /** the daemon writes there: its free space is checked against MIN_FREE_DISK_MB */
  readonly written: boolean
  /**
   * files are placed there by `link` and recognised by their links after a
   * crash: its filesystem is probed for link counts, `link` that never
   * replaces, stable identity and atomic rename
   */
  readonly linked: boolean
  /** a storage folder (a built-in destination): the verdict it receives, and whether an error report goes beside each file */
  readonly stores?: { readonly verdict: Verdict; readonly report: boolean } | undefined
}

/** The folders, in the order they are checked and shown. */
export const FOLDERS: ReadonlyArray<FolderSpec> = [
  { role: "data", setting: "DATA_DIR", key: "dataDir", written: false, linked: false },
  { role: "processing", setting: "PROCESSING_DIR", key: "processingDir", written: true, linked: true },
  { role: "validated", setting: "VALIDATED_DIR", key: "validatedDir", written: true, linked: true, stores: { verdict: "validated", report: false } },
  { role: "returns", setting: "RETURNS_DIR", key: "returnsDir", written: true, linked: true, stores: { verdict: "returned", report: true } },
  { role: "logs", setting: "LOG_DIR", key: "logDir", written: true, linked: false }
]

/** The verdicts, in the order of the storage folders that receive them (pure, from the list). */
export const VERDICTS: ReadonlyArray<Verdict> = FOLDERS.flatMap((spec) => (spec.stores === undefined ? [] : [spec.stores.verdict]))

/** The roles of the storage folders, in the list's order: the built-in destinations' roles. */
export const STORAGE_ROLES: ReadonlyArray<StorageRole> = FOLDERS.flatMap((spec) =>
  spec.stores === undefined ? [] : [spec.role as StorageRole]
)

/** One folder of the list with its path under the given settings. */
export interface Folder extends FolderSpec {
  /** the folder, as the setting gives it */
  readonly dir: string
}

/** The folders under the given settings, in the list's order (pure). */
export const folderList = (settings: FolderSettings): ReadonlyArray<Folder> => FOLDERS.map((spec) => ({ ...spec, dir: settings[spec.key] }))

/** The five folders, by role. */
export type Folders = { readonly [R in FolderRole]: string }

/** The folders by role under the given settings (pure): `{ data, processing, validated, returns, logs }`, in the list's order. */
export const foldersByRole = (settings: FolderSettings): Folders =>
  Object.fromEntries(FOLDERS.map((spec) => [spec.role, settings[spec.key]])) as { [R in FolderRole]: string }

/** A folder that stores judged files (a built-in destination), with its verdict and whether reports go beside the files. */
export interface StorageFolderOf extends Folder {
  /** `validated` or `returns` */
  readonly role: StorageRole
  /** the verdict it receives, and whether an error report goes beside each file */
  readonly stores: { readonly verdict: Verdict; readonly report: boolean }
}

/** The storage folders of the list under the given settings (pure): one per verdict. */
export const storageFolderList = (settings: FolderSettings): ReadonlyArray<StorageFolderOf> =>
  folderList(settings).filter((f): f is StorageFolderOf => f.stores !== undefined)

/**
 * Where a stored file is, as its claimed name is released: the role of the
 * storage folder that has it, or `unknown` for a file recovery found stored
 * already (the verdict by today's rules may not be the one it was stored
 * with: what either folder leaves behind is looked for).
 */
export type StoredIn = StorageRole | "unknown"

/** The storage roles whose folders keep a report beside each file (from the list). */
const REPORTED: ReadonlySet<string> = new Set(FOLDERS.flatMap((spec) => (spec.stores?.report === true ? [spec.role] : [])))

/** Whether a file stored in `storedIn` may have an error report (and its stages) beside it (pure, from the list). */
export const mayHaveReport = (storedIn: StoredIn): boolean => storedIn === "unknown" || REPORTED.has(storedIn)
