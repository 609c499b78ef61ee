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

const UTF8 = new TextDecoder("utf-8", { fatal: true })

/**
 * A name as the folder holds it (bytes) as text: itself when it is UTF-8
 * without `%`, otherwise with every byte of an invalid sequence and every `%`
 * written `%XX`. Reversible by `bytesFromName`.
 */
export const nameFromBytes = (bytes: Uint8Array): { readonly text: string; readonly escaped: boolean } => {
  let text: string | undefined
  try {
    text = UTF8.decode(bytes)
  } catch {
    text = undefined
  }
  if (text !== undefined && !text.includes("%")) return { text, escaped: false }
  let out = ""
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i]!
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    let ok = len > 0 && i + len <= bytes.length
    let decoded = ""
    if (ok) {
      try {
        decoded = UTF8.decode(bytes.subarray(i, i + len))
      } catch {
        ok = false
      }
    }
    if (ok && decoded !== "%") {
      out += decoded
      i += len
    } else {
      out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`
      i += 1
    }
  }
  return { text: out, escaped: true }
}

/** The bytes of a name given as text by `nameFromBytes`. */
export const bytesFromName = (text: string): Buffer => {
  if (!text.includes("%")) return Buffer.from(text)
  const parts: Array<Buffer> = []
  let last = 0
  const re = /%([0-9A-Fa-f]{2})/g
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    parts.push(Buffer.from(text.slice(last, m.index)), Buffer.from([parseInt(m[1]!, 16)]))
    last = m.index + 3
  }
  parts.push(Buffer.from(text.slice(last)))
  return Buffer.concat(parts)
}
