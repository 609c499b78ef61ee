/**
 * Pure naming rules: which names in the input folder are taken (contract §1),
 * how a name the filesystem hands over as bytes becomes the text the daemon
 * works with, logs and stores under (contract §5), the names files are stored
 * under, and the names of claimed files inside `processing/<instance>/`.
 *
 * Every name built here is at most NAME_MAX bytes, so that any name Linux
 * allows in `data/` can be claimed, stored and reported.
 */
import { isUtf8 } from "node:buffer"
import { createHash } from "node:crypto"
import { maskName } from "../masking/Masking.js"

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

// ---------------------------------------------------------------------------
// Names as bytes (contract §5 "Names that are not plain text")

/** Linux's limit on one name in a directory, in bytes (not characters: `é` is two). */
export const NAME_MAX = 255

/** The escaped form of a name the filesystem gave as bytes. */
export interface EscapedName {
  /** valid UTF-8 text; `bytesFromName(text)` gives the original bytes back */
  readonly text: string
  /** whether `text` holds at least one `%XX` escape (false: the bytes decoded as they are) */
  readonly escaped: boolean
}

// Characters a name keeps only as `%XX`: they would break or disguise a log line or a
// terminal. C0 controls, DEL, C1 controls, line/paragraph separators (U+2028–2029) and the
// bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E–200F,
// U+202A–202E, U+2066–2069).
const UNSAFE_CHARS = "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069"
const UNSAFE = new RegExp(`[${UNSAFE_CHARS}]`, "u")
// `replace` resets a global expression's position before and after use, so sharing it is safe.
const UNSAFE_ALL = new RegExp(`[${UNSAFE_CHARS}]`, "gu")
const PERCENT = 0x25

const ESCAPED_BYTES: ReadonlyArray<string> = Array.from(
  { length: 256 },
  (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
)
const escapeByte = (byte: number): string => ESCAPED_BYTES[byte]!

const escapeChar = (char: string): string => {
  let out = ""
  for (const byte of Buffer.from(char, "utf8")) out += escapeByte(byte)
  return out
}

const isContinuation = (byte: number | undefined, low = 0x80, high = 0xbf): boolean =>
  byte !== undefined && byte >= low && byte <= high

/**
 * Length of the well-formed UTF-8 sequence starting at `i` (Unicode table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 if there is none.
 */
const sequenceLength = (bytes: Uint8Array, i: number): number => {
  const lead = bytes[i]!
  if (lead < 0x80) return 1
  if (lead >= 0xc2 && lead <= 0xdf) return isContinuation(bytes[i + 1]) ? 2 : 0
  if (lead >= 0xe0 && lead <= 0xef) {
    const low = lead === 0xe0 ? 0xa0 : 0x80
    const high = lead === 0xed ? 0x9f : 0xbf
    return isContinuation(bytes[i + 1], low, high) && isContinuation(bytes[i + 2]) ? 3 : 0
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const low = lead === 0xf0 ? 0x90 : 0x80
    const high = lead === 0xf4 ? 0x8f : 0xbf
    return isContinuation(bytes[i + 1], low, high) && isContinuation(bytes[i + 2]) && isContinuation(bytes[i + 3])
      ? 4
      : 0
  }
  return 0
}

const escapeBytes = (bytes: Buffer): string => {
  const parts: Array<string> = []
  for (let i = 0; i < bytes.length;) {
    const length = sequenceLength(bytes, i)
    if (length === 0) {
      parts.push(escapeByte(bytes[i]!))
      i += 1
      continue
    }
    const lead = bytes[i]!
    if (length === 1) {
      // ASCII: only `%`, C0 controls and DEL are escaped.
      parts.push(lead === PERCENT || lead < 0x20 || lead === 0x7f ? escapeByte(lead) : String.fromCharCode(lead))
      i += 1
      continue
    }
    const char = bytes.toString("utf8", i, i + length)
    parts.push(UNSAFE.test(char) ? escapeChar(char) : char)
    i += length
  }
  return parts.join("")
}

/**
 * The text of a name read as bytes (`readdir` with `encoding: "buffer"`). A name that
 * is valid UTF-8 with no `%` and no control or bidi character is itself, checked in
 * one pass over the bytes and one over the text; otherwise each byte outside a valid
 * UTF-8 sequence, each `%`, and each control or bidi character becomes `%XX` (per
 * byte, upper-case hex). The result is valid UTF-8, safe in a log line, and
 * `bytesFromName` reverses it exactly for any name (any bytes but `/` and NUL).
 */
export const nameFromBytes = (raw: Uint8Array): EscapedName => {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  if (!bytes.includes(PERCENT) && isUtf8(bytes)) {
    const text = bytes.toString("utf8")
    if (!UNSAFE.test(text)) return { text, escaped: false }
  }
  return { text: escapeBytes(bytes), escaped: true }
}

const ESCAPE = /%([0-9A-Fa-f]{2})/

/** Bytes no name can hold: an escape standing for one is not an escape (it would leave the folder, or end the path). */
const isNameByte = (byte: number): boolean => byte !== 0x2f && byte !== 0x00

/**
 * The bytes a name's text stands for: every `%XX` is the byte XX (either case), the rest
 * is UTF-8. A `%` not followed by two hex digits is kept as it is (`nameFromBytes` never
 * writes one; older names written before escaping may hold one), and so are `%2F` and
 * `%00`: no name holds a `/` or a NUL, so `nameFromBytes` never writes them either, and
 * decoded they would make a path of a name.
 */
export const bytesFromName = (text: string): Buffer => {
  if (!text.includes("%")) return Buffer.from(text, "utf8")
  // split with a capturing group alternates literal text and the escapes' hex digits.
  const pieces = text.split(new RegExp(ESCAPE.source, "g"))
  return Buffer.concat(
    pieces.map((piece, index) => {
      if (index % 2 === 0) return Buffer.from(piece, "utf8")
      const byte = Number.parseInt(piece, 16)
      return isNameByte(byte) ? Buffer.of(byte) : Buffer.from(`%${piece}`, "utf8")
    })
  )
}

/**
 * A name as a log line shows it. Names from `nameFromBytes`, and every name built from
 * them here, are already safe and come back unchanged, so a log shows exactly the stored
 * name. Any other text (a claim name written before escaping existed) has its control
 * and bidi characters shown as `%XX`, the same scheme.
 */
export const logName = (text: string): string => UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text

/**
 * Whether a name read as a string from a folder is its own text (valid UTF-8,
 * no `%`, no control or bidi character): only otherwise must it be read again
 * as bytes. A name that is not UTF-8 reads as U+FFFD.
 */
export const isPlainName = (text: string): boolean => !text.includes("%") && !text.includes("\uFFFD") && !UNSAFE.test(text)

/**
 * The component to give the file calls (which turn `%XX` back into bytes) for a
 * file that must be named by this very text: a stored file, whose name is the
 * escaped text of the original (contract §5).
 */
export const literalName = (text: string): string => (text.includes("%") ? text.replaceAll("%", "%25") : text)

// ---------------------------------------------------------------------------
// Fitting names into NAME_MAX bytes (contract §5 "Long names")

const REPORT_SUFFIX = ".error.json"

/** Candidate names tried for one file before giving up: a name taken this often in a row means something is wrong (names planted). */
export const MAX_NAME_ATTEMPTS = 10_000

/** The longest name a returned file is stored under, so that its report name fits too. */
export const RETURNED_NAME_MAX = NAME_MAX - Buffer.byteLength(REPORT_SUFFIX) // 244

/** A name built to fit, and whether the input had to be shortened for it. */
export interface FittedName {
  readonly name: string
  readonly shortened: boolean
}

const byteLength = (text: string): number => Buffer.byteLength(text, "utf8")

/** `~` and 8 hex digits of the SHA-256 of the whole name: tells apart long names cut to one prefix. */
export const shortenedMarker = (name: string): string =>
  `~${createHash("sha256").update(name, "utf8").digest("hex").slice(0, 8)}`

const codePointBytes = (codePoint: number): number =>
  codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4

/** The longest prefix of `text` within `budget` bytes that splits neither a character nor a `%XX`. */
const cutToBytes = (text: string, budget: number): string => {
  let used = 0
  let end = 0
  for (const char of text) {
    const size = codePointBytes(char.codePointAt(0)!)
    if (used + size > budget) break
    used += size
    end += char.length
  }
  // A cut inside an escape would leave `%` or `%X`, which no longer decodes to the original byte.
  const percent = text.lastIndexOf("%", end - 1)
  if (percent >= 0 && end - percent < 3 && ESCAPE.test(text.slice(percent, percent + 3))) end = percent
  return text.slice(0, end)
}

const splitExtension = (name: string): readonly [string, string] => {
  const dot = name.lastIndexOf(".")
  return dot <= 0 ? [name, ""] : [name.slice(0, dot), name.slice(dot)]
}

/**
 * `<stem><suffix><ext>` within `maxBytes`. When it does not fit, the stem is cut (never
 * the suffix or the extension) and `~<hash of name>` put after it.
 */
const fitWithSuffix = (name: string, suffix: string, maxBytes: number): FittedName => {
  const [stem, ext] = splitExtension(name)
  const whole = `${stem}${suffix}${ext}`
  if (byteLength(whole) <= maxBytes) return { name: whole, shortened: false }
  const marker = shortenedMarker(name)
  // An "extension" too long to keep whole is never `.json`: cut it with the stem.
  const [cutPart, kept] = byteLength(`${marker}${suffix}${ext}`) <= maxBytes ? [stem, ext] : [`${stem}${ext}`, ""]
  const tail = `${marker}${suffix}${kept}`
  const budget = maxBytes - byteLength(tail)
  // Only a limit far below any this daemon uses leaves no room for the tail itself.
  if (budget < 0) return { name: cutToBytes(tail, maxBytes), shortened: true }
  return { name: `${cutToBytes(cutPart, budget)}${tail}`, shortened: true }
}

/** `name` itself when it fits `maxBytes`, otherwise shortened by the rule of contract §5. */
export const fitName = (name: string, maxBytes: number = NAME_MAX): FittedName => fitWithSuffix(name, "", maxBytes)

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

/** `YYYYMMDDTHHMMSSmmmZ` in UTC, the disambiguating stamp of contract §5. */
export const compactTimestamp = (date: Date): string =>
  `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCDate(), 2)}` +
  `T${pad(date.getUTCHours(), 2)}${pad(date.getUTCMinutes(), 2)}${pad(date.getUTCSeconds(), 2)}` +
  `${pad(date.getUTCMilliseconds(), 3)}Z`

/**
 * The n-th name to try when storing `name` (contract §5): attempt 0 is the name
 * itself, attempt 1 inserts the timestamp before the extension, attempt k ≥ 2
 * appends `-k` after the timestamp. Each is at most `maxBytes` bytes: NAME_MAX in
 * the validated folder, RETURNED_NAME_MAX in the returns folder (see
 * `returnedNameCandidate`), shortened as `fitName` does when needed.
 *
 * A stored name holds no card number and no email address (contract §5, revised
 * 2026-12-03): the name is masked with `X` (`maskName`) before it is shortened,
 * so that no part of a number survives the cut and the shortened marker is the
 * hash of the masked name (a hash of the number would let it be guessed back);
 * and the result is masked again, for the rare stamp whose digits complete a
 * card number with digits before it. It masks to itself, so every output can
 * show it as it is.
 */
export const storedNameCandidate = (name: string, attempt: number, now: Date, maxBytes: number = NAME_MAX): string => {
  const masked = maskName(name)
  if (attempt === 0) return maskName(fitName(masked, maxBytes).name)
  const stamp = compactTimestamp(now)
  return maskName(fitWithSuffix(masked, attempt === 1 ? `-${stamp}` : `-${stamp}-${attempt}`, maxBytes).name)
}

/** The n-th name to try for a returned file: short enough for its report name to fit. */
export const returnedNameCandidate = (name: string, attempt: number, now: Date): string =>
  storedNameCandidate(name, attempt, now, RETURNED_NAME_MAX)

/**
 * The report stored beside `storedName` in the returns folder: `<stored>.error.json`.
 * A name from `returnedNameCandidate` always leaves room for it; a longer one is
 * shortened first, so the result never exceeds NAME_MAX.
 */
export const reportName = (storedName: string): string =>
  `${fitName(storedName, RETURNED_NAME_MAX).name}${REPORT_SUFFIX}`

// ---------------------------------------------------------------------------
// Claimed files in processing/<instance>/

/**
 * A claimed file is kept as `<receivedAtMs>-<seq>_<original name>` in the
 * instance's processing folder: unique within the instance, and it keeps the
 * original name and the time it was received for crash recovery. When the
 * original does not fit beside the prefix it is masked (`maskName`) and
 * shortened (`fitName`) and the separator is `~` instead of `_`, so a shortened
 * claim is known as such from its name alone; the caller keeps the full
 * original elsewhere (`claimSidecarName`).
 */
export const claimName = (receivedAtMs: number, seq: number, original: string): FittedName => {
  // A partner's file (`<partner>/<name>`, see files/PartnerNames) records its partner in the
  // prefix (`.<partner>`: a `.` sets off nothing the log masking takes for an address): recovery and requeue know whose it is from the name alone.
  const slash = original.indexOf("/")
  const prefix = slash < 0 ? `${receivedAtMs}-${seq}` : `${receivedAtMs}-${seq}.${original.slice(0, slash)}`
  const name = slash < 0 ? original : original.slice(slash + 1)
  const max = NAME_MAX - byteLength(prefix) - 1
  if (byteLength(name) <= max) return { name: `${prefix}_${name}`, shortened: false }
  // Cut, the rest of a card number or an address would no longer read as one, and show in
  // clear wherever the claim is named (a DEBUG line): the kept part is masked first, as a
  // stored name is (contract §5). The full original is in the sidecar.
  return { name: `${prefix}~${fitName(maskName(name), max).name}`, shortened: true }
}

const SHORTENED_CLAIM = /^\d+-\d+(?:\.[a-z0-9-]+)?~/

/** Whether a claim name says its original was shortened (kept in its sidecar): a look at its prefix only. */
export const isShortenedClaim = (claimName: string): boolean => SHORTENED_CLAIM.test(claimName)

/** The claim name alone (see `claimName`). */
export const processingName = (receivedAtMs: number, seq: number, original: string): string =>
  claimName(receivedAtMs, seq, original).name

/**
 * A short hidden name beside a shortened claim, for the full original name. Hidden
 * (listings of claimed files skip `.` names) and unique per claim like the claim.
 */
export const claimSidecarName = (receivedAtMs: number, seq: number): string => `.${receivedAtMs}-${seq}.name`

// `[\s\S]`: a claim written before escaping existed may hold a newline.
const PROCESSING_NAME = /^(\d+)-(\d+)(?:\.([a-z0-9-]+))?([_~])([\s\S]+)$/

export interface ProcessingName {
  readonly receivedAtMs: number
  readonly seq: number
  /** the original name (`<partner>/<name>` for a partner's file), or its shortened form when `shortened` */
  readonly original: string
  /** the original did not fit: the full name is in the claim's sidecar */
  readonly shortened: boolean
  /** the partner whose file it is (PARTNERS_FILE); `undefined` without partners */
  readonly partner: string | undefined
}

export const parseProcessingName = (name: string): ProcessingName | undefined => {
  const match = PROCESSING_NAME.exec(name)
  if (match === null) return undefined
  const partner = match[3]
  return {
    receivedAtMs: Number(match[1]),
    seq: Number(match[2]),
    original: partner === undefined ? match[5]! : `${partner}/${match[5]!}`,
    shortened: match[4] === "~",
    partner
  }
}

// ---------------------------------------------------------------------------
// Names of returned files, going back into the input folder (requeue)

// `<stem>-YYYYMMDDTHHMMSSmmmZ[-k]<ext>`: the suffix `storedNameCandidate` inserts before the extension.
const COLLISION_SUFFIX = /^([\s\S]+)-(\d{8}T\d{9}Z)(?:-(\d+))?(\.[^.]*)?$/

/**
 * The name a returned file was received with, judged from its stored name
 * alone: the stored name with its collision suffix (`-YYYYMMDDTHHMMSSmmmZ`,
 * `-YYYYMMDDTHHMMSSmmmZ-k`, contract §5) removed. For a file whose report is
 * missing or whose report's `file` is masked; a name the producer gave such a
 * suffix itself loses it too, and a shortened name stays shortened.
 */
export const withoutCollisionSuffix = (stored: string): string => {
  const match = COLLISION_SUFFIX.exec(stored)
  return match === null ? stored : `${match[1]!}${match[4] ?? ""}`
}

/** The stamp of a `YYYYMMDDTHHMMSSmmmZ` suffix as a date; `undefined` when it is no real time. */
const stampDate = (stamp: string): Date | undefined => {
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:` +
    `${stamp.slice(13, 15)}.${stamp.slice(15, 18)}Z`
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) || compactTimestamp(date) !== stamp ? undefined : date
}

/**
 * Whether `stored` is a name the daemon would give a returned file received as
 * `received` (`returnedNameCandidate` for some attempt): how a report's `file`
 * is told to be the received name, and not a masked one (`************1111`)
 * nor one written into a report by someone else.
 */
export const isReturnedNameOf = (received: string, stored: string): boolean => {
  if (returnedNameCandidate(received, 0, new Date(0)) === stored) return true
  const match = COLLISION_SUFFIX.exec(stored)
  const date = match === null ? undefined : stampDate(match[2]!)
  if (match === null || date === undefined) return false
  const attempt = match[3] === undefined ? 1 : Number(match[3])
  return attempt !== 0 && attempt <= 1_000_000 && returnedNameCandidate(received, attempt, date) === stored
}

/**
 * A name the input folder may be given back (requeue): a name the daemon takes
 * (`*.json`, not hidden), one component, at most NAME_MAX bytes on disk.
 */
export const isRequeueableName = (name: string): boolean => {
  if (classifyName(name) !== "candidate") return false
  // Judged on the bytes too: `%2E` is a leading dot on disk. `%2F` and `%00` stand for bytes no
  // name holds (and `nameFromBytes` never writes): such a text names no file the daemon stored.
  if (/%(?:2f|00)/i.test(name)) return false
  const bytes = bytesFromName(name)
  return bytes.length <= NAME_MAX && bytes[0] !== 0x2e && !bytes.includes(0x2f) && !bytes.includes(0)
}

/**
 * The name to give a returned file back under: the report's `file` when it is
 * the name the file was received with (see `isReturnedNameOf`), otherwise the
 * stored name without its collision suffix.
 */
export const receivedNameOf = (stored: string, reportFile: string | undefined): string =>
  reportFile !== undefined && isRequeueableName(reportFile) && isReturnedNameOf(reportFile, stored)
    ? reportFile
    : withoutCollisionSuffix(stored)

/**
 * The n-th name to try in the input folder for a file received as `name`:
 * attempt 0 is the name itself (whole, as its bytes fit NAME_MAX), then the
 * collision names of contract §5.
 */
export const requeueNameCandidate = (name: string, attempt: number, now: Date): string =>
  attempt === 0 && bytesFromName(name).length <= NAME_MAX ? name : storedNameCandidate(name, attempt, now)
