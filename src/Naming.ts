/**
 * Pure naming rules: which names in the input folder are taken (contract §1),
 * the names files are stored under (contract §5) and the names of claimed files
 * inside `processing/<instance>/`.
 */

/** What the watcher should do with a directory entry, judged by its name alone. */
export type NameClass =
  /** a `*.json` name: taken if it is a regular file */
  | "candidate"
  /** a writer's temporary or hidden file: never touched, never logged */
  | "silent"
  /** anything else: left where it is, logged once at WARN */
  | "other"

const TEMP_SUFFIXES = [".tmp", ".part", ".partial", ".crdownload", ".swp", "~"] as const

export const classifyName = (name: string): NameClass => {
  if (name.startsWith(".")) return "silent"
  const lower = name.toLowerCase()
  for (const suffix of TEMP_SUFFIXES) {
    if (lower.endsWith(suffix)) return "silent"
  }
  // `.json` alone is a hidden name and was handled above.
  if (lower.endsWith(".json")) return "candidate"
  return "other"
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

/** `YYYYMMDDTHHMMSSmmmZ` in UTC, the disambiguating stamp of contract §5. */
export const compactTimestamp = (date: Date): string =>
  `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCDate(), 2)}` +
  `T${pad(date.getUTCHours(), 2)}${pad(date.getUTCMinutes(), 2)}${pad(date.getUTCSeconds(), 2)}` +
  `${pad(date.getUTCMilliseconds(), 3)}Z`

const splitExtension = (name: string): readonly [string, string] => {
  const dot = name.lastIndexOf(".")
  return dot <= 0 ? [name, ""] : [name.slice(0, dot), name.slice(dot)]
}

/**
 * The n-th name to try when storing `name` (contract §5): attempt 0 is the name
 * itself, attempt 1 inserts the timestamp before the extension, attempt k ≥ 2
 * appends `-k` after the timestamp.
 */
export const storedNameCandidate = (name: string, attempt: number, now: Date): string => {
  if (attempt === 0) return name
  const [stem, ext] = splitExtension(name)
  const stamp = compactTimestamp(now)
  return attempt === 1 ? `${stem}-${stamp}${ext}` : `${stem}-${stamp}-${attempt}${ext}`
}

/** The report stored beside `storedName` in the returns folder. */
export const reportName = (storedName: string): string => `${storedName}.error.json`

/**
 * A claimed file is kept as `<receivedAtMs>-<seq>_<original name>` in the
 * instance's processing folder: unique within the instance, and it keeps the
 * original name and the time it was received for crash recovery.
 */
export const processingName = (receivedAtMs: number, seq: number, original: string): string =>
  `${receivedAtMs}-${seq}_${original}`

const PROCESSING_NAME = /^(\d+)-(\d+)_(.+)$/

export interface ProcessingName {
  readonly receivedAtMs: number
  readonly original: string
}

export const parseProcessingName = (name: string): ProcessingName | undefined => {
  const match = PROCESSING_NAME.exec(name)
  if (match === null) return undefined
  return { receivedAtMs: Number(match[1]), original: match[3]! }
}
