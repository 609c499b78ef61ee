/**
 * The masking policy of contract §7 (revised 2026-12-03) as pure functions.
 * Every line the daemon logs, every report it writes and every notification
 * it sends goes through them (via the Masker service); stored names go
 * through `maskName` (contract §5).
 *
 *  - a `card_number` value keeps its last four digits (`************1111`);
 *  - a card number in free text is masked the same way, whatever letters or
 *    punctuation surround it (`card4111111111111111.json` becomes
 *    `card************1111.json`): a run of 13–19 digits of any script
 *    (`４１１１` too), not joined to further digits, in groups joined by up to
 *    three separators (spaces of any kind, invisible characters, dashes, `.`,
 *    `_`, `,`, `+`, `/`, `|`, tabs and line breaks), Luhn-valid, with an issuer
 *    prefix valid for its length;
 *  - an email address keeps its first character and its domain; a full-width
 *    `＠` or an escaped `%40` is an `@`;
 *  - text is masked as it is shown and as it decodes: a `%XX` escape (as a
 *    file name shows a byte) reads as the character it stands for (`%A0` and
 *    `%C2%A0` are spaces, `%40` an `@`), an escape of a letter or a digit as
 *    the text it is; an address is masked as shown too;
 *  - a `phone` value keeps its last four digits;
 *  - `cvv`, `cvc`, `password` and `pin` values are never written out.
 *
 * Masking reads the text once per view (as it is, decoded, and decoded
 * through escaped `%`s; a view only when the text has escapes), a run of 13
 * digits or more at most twice more and an address's local part once more,
 * and tries each digit group against at most 19 digits: time and memory in
 * proportion to the text, whatever it holds. The only regular expressions
 * are a character class and one bounded pattern (see LONG_RUN), each linear.
 *
 * @module
 */

// ---------------------------------------------------------------------------
// Characters

/**
 * The first code point of every run of ten decimal digits (Unicode category
 * Nd, Unicode 17): Nd characters come in runs of ten, 0 to 9 in order
 * (a Unicode stability guarantee). A test checks the table against `\p{Nd}`.
 */
const DIGIT_ZEROS: ReadonlyArray<number> = [
  0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50, 0xed0,
  0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620,
  0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x10d40, 0x11066, 0x110f0, 0x11136,
  0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x116d0, 0x116da, 0x11730, 0x118e0, 0x11950, 0x11bf0,
  0x11c50, 0x11d50, 0x11da0, 0x11de0, 0x11f50, 0x16130, 0x16a60, 0x16ac0, 0x16b50, 0x16d70, 0x1ccf0, 0x1d7ce,
  0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e4f0, 0x1e5f1, 0x1e950, 0x1fbf0
]

/** The value of a decimal digit of any script (`4`, `４`, `٤` are 4), or -1 for any other code point. */
export const digitValue = (cp: number): number => {
  if (cp < 0x660) return cp >= 0x30 && cp <= 0x39 ? cp - 0x30 : -1
  // the last zero at or below cp (binary search; index 0 is ASCII, handled above)
  let low = 1
  let high = DIGIT_ZEROS.length - 1
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (DIGIT_ZEROS[mid]! <= cp) low = mid
    else high = mid - 1
  }
  const value = cp - DIGIT_ZEROS[low]!
  return value >= 0 && value < 10 ? value : -1
}

/** A character between digit groups. */
const SEP = 1
/** A character of an address's local part (before the `@`). */
const LOCAL = 2
/** A character of an address's domain. */
const DOMAIN = 4
/** An `@`. */
const AT = 8

const WORD = LOCAL | DOMAIN

const asciiClass = (c: number): number => {
  if (c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d || c === 0x20) return SEP
  if (c < 0x20 || c === 0x7f) return 0
  switch (String.fromCharCode(c)) {
    case "@":
      return AT
    case ",":
      return SEP
    // `-` and `/` end a local part: `orders-jane@example.com` is jane's address (contract §5), a path is not one
    case "-":
    case "/":
      return SEP | DOMAIN
    case ".":
    case "_":
    case "+":
    case "|":
      return SEP | WORD
    case "'":
      return LOCAL
    case '"':
    case "<":
    case ">":
    case "(":
    case ")":
    case "[":
    case "]":
    case ";":
    case ":":
      return 0
    default:
      return WORD
  }
}

/** The class of each ASCII character, one character code each (a string: constant, and read as fast as an array). */
const ASCII_CLASSES: string = Array.from({ length: 128 }, (_, c) => String.fromCharCode(asciiClass(c))).join("")

const classOf = (cp: number): number => {
  if (cp < 0x80) return ASCII_CLASSES.charCodeAt(cp)
  if (cp <= 0x9f) return cp === 0x85 ? SEP : 0 // C1 controls; U+0085 is a line break
  switch (cp) {
    // spaces of every width
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return SEP
    // invisible: they join what they stand between, digits and addresses alike
    case 0xad:
    case 0x61c:
    case 0x180e:
    case 0xfeff:
      return SEP | WORD
    // dashes, as `-`
    case 0x2212:
    case 0xfe58:
    case 0xfe63:
    case 0xff0d:
    case 0xff0f:
      return SEP | DOMAIN
    // middle dots and the full-width forms of `.`, `_`, `+`, `|`
    case 0xb7:
    case 0x2027:
    case 0x30fb:
    case 0xff0b:
    case 0xff0e:
    case 0xff3f:
    case 0xff5c:
      return SEP | WORD
    case 0xff0c:
      return SEP
    // full-width and small commercial at
    case 0xff20:
    case 0xfe6b:
      return AT
  }
  if (cp >= 0x2000 && cp <= 0x200a) return SEP
  if ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f)) return SEP | WORD
  if (cp >= 0x2010 && cp <= 0x2015) return SEP | DOMAIN
  return WORD
}

// ---------------------------------------------------------------------------
// Reading a text as its `%XX` escapes decode

/**
 * The text as it is: what DECODED reads in a text that holds no escape (a
 * faster reader for the common case).
 */
const SHOWN = 0
/**
 * Each escape `%XX` the byte XX; the bytes of a valid UTF-8 sequence one
 * character, any other byte its Latin-1 character (`%A0` is a no-break space,
 * as a Latin-1 name shows it). An escape of a letter or a digit is read as the
 * three characters it is: a name never escapes one (`nameFromBytes`), a URL
 * need not, and `%4111111111111111` is a `%` before a card number.
 */
const DECODED = 1
/**
 * As DECODED, and an escaped `%` (`%25`) followed by two hex digits escapes
 * again: `%2540` is `@` (a name holding the text `%40` shows it so).
 */
const UNWRAPPED = 2
type View = typeof SHOWN | typeof DECODED | typeof UNWRAPPED

/** How many escaped `%`s in a row UNWRAPPED sees through: bounds the text one character can span. */
const MAX_UNWRAP = 3

const hexAt = (text: string, i: number): number => {
  const c = text.charCodeAt(i) // NaN past the end: no hex digit
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const lower = c | 0x20
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1
}

const isAlphanumeric = (byte: number): boolean => (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a)

/** Reads a text one character (a code point, or in a decoded view one escape or one escaped UTF-8 sequence) at a time. */
class Reader {
  /** the character read: its code point, and where it starts and ends in the text */
  cp = 0
  start = 0
  end = 0
  private escapeEnd = 0

  constructor(readonly text: string, private readonly view: View) {}

  /** The byte an escape at `i` stands for, its end in `escapeEnd`; -1 when there is none. */
  private escapeAt(i: number): number {
    const text = this.text
    if (text.charCodeAt(i) !== 0x25) return -1
    const high = hexAt(text, i + 1)
    const low = hexAt(text, i + 2)
    if (high < 0 || low < 0) return -1
    let byte = high * 16 + low
    if (isAlphanumeric(byte)) return -1
    let end = i + 3
    if (this.view === UNWRAPPED) {
      for (let depth = 0; byte === 0x25 && depth < MAX_UNWRAP; depth++) {
        const h = hexAt(text, end)
        const l = hexAt(text, end + 1)
        if (h < 0 || l < 0 || isAlphanumeric(h * 16 + l)) break
        byte = h * 16 + l
        end += 2
      }
    }
    this.escapeEnd = end
    return byte
  }

  /** An escaped UTF-8 sequence from its lead byte (Unicode table 3-7); a byte that starts none stays its Latin-1 character. */
  private sequence(lead: number): void {
    let more: number
    let cp: number
    let low = 0x80
    let high = 0xbf
    if (lead >= 0xc2 && lead <= 0xdf) {
      more = 1
      cp = lead & 0x1f
    } else if (lead >= 0xe0 && lead <= 0xef) {
      more = 2
      cp = lead & 0x0f
      if (lead === 0xe0) low = 0xa0
      if (lead === 0xed) high = 0x9f
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      more = 3
      cp = lead & 0x07
      if (lead === 0xf0) low = 0x90
      if (lead === 0xf4) high = 0x8f
    } else return
    let at = this.end
    for (let k = 0; k < more; k++) {
      const byte = this.escapeAt(at)
      if (byte < (k === 0 ? low : 0x80) || byte > (k === 0 ? high : 0xbf)) return
      cp = (cp << 6) | (byte & 0x3f)
      at = this.escapeEnd
    }
    this.cp = cp
    this.end = at
  }

  read(at: number): void {
    const text = this.text
    const c = text.charCodeAt(at)
    this.start = at
    if (c === 0x25 && this.view !== SHOWN) {
      const byte = this.escapeAt(at)
      if (byte >= 0) {
        this.cp = byte
        this.end = this.escapeEnd
        if (byte >= 0x80) this.sequence(byte)
        return
      }
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(at + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        this.cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000
        this.end = at + 2
        return
      }
    }
    this.cp = c
    this.end = at + 1
  }
}

/**
 * Replacements of spans of a text, made in order. With `whole`, a span is
 * widened to the `%XX` escapes it cuts into: a name's escape is one byte, and
 * is hidden whole or not at all (the name stays a name).
 */
class Edits {
  private readonly parts: Array<string> = []
  private done = 0
  constructor(private readonly text: string, private readonly whole: boolean) {}
  /** Where the escape holding the character at `i` starts (`i` when none does). */
  private escapeStart(i: number): number {
    for (let back = 1; back <= 2; back++) {
      const p = i - back
      if (p >= 0 && this.text.charCodeAt(p) === 0x25 && hexAt(this.text, p + 1) >= 0 && hexAt(this.text, p + 2) >= 0) return p
    }
    return i
  }
  replace(start: number, end: number, by: string): void {
    let from = start
    let to = end
    if (this.whole) {
      from = this.escapeStart(from)
      const last = this.escapeStart(to - 1)
      if (last < to - 1 || (this.text.charCodeAt(to - 1) === 0x25 && hexAt(this.text, to) >= 0 && hexAt(this.text, to + 1) >= 0)) {
        to = Math.max(to, last + 3)
      }
      if (to <= this.done) return
      if (from < this.done) from = this.done
    }
    this.parts.push(this.text.slice(this.done, from), by)
    this.done = to
  }
  result(): string {
    if (this.parts.length === 0) return this.text
    this.parts.push(this.text.slice(this.done))
    return this.parts.join("")
  }
}

/** How hidden characters are shown: free text collapses them to `*` (§7), a stored name keeps each as `X` (§5). */
type Style = "text" | "name"

// ---------------------------------------------------------------------------
// Card numbers

const MIN_CARD = 13
const MAX_CARD = 19
const MAX_SEPARATORS = 3

const lengths = (...allowed: ReadonlyArray<number>): number => allowed.reduce((mask, length) => mask | (1 << length), 0)
const VISA = lengths(13, 16, 19)
const ANY = lengths(13, 14, 15, 16, 17, 18, 19)
const SIXTEEN = lengths(16)
const FIFTEEN = lengths(15)
const JCB = lengths(16, 17, 18, 19)
const DINERS = lengths(14, 15, 16, 17, 18, 19)

/**
 * The lengths an issuer prefix of §7 allows to the digits starting at `first`
 * of `d` (at least four of them), as a mask: bit n for n digits; 0 for none.
 */
const issuerLengthsAt = (d: ArrayLike<number>, first: number): number => {
  const d1 = d[first]!
  const two = d1 * 10 + d[first + 1]!
  const three = two * 10 + d[first + 2]!
  const four = three * 10 + d[first + 3]!
  switch (d1) {
    case 4:
      return VISA
    case 6:
      return ANY // Discover 6011/644–649/65, UnionPay 62, Maestro 6: all 13–19 together
    case 5:
      if (two >= 51 && two <= 55) return SIXTEEN // Mastercard
      return two === 50 || (two >= 56 && two <= 58) ? ANY : 0 // Maestro
    case 2:
      return four >= 2221 && four <= 2720 ? SIXTEEN : 0 // Mastercard
    case 3:
      if (two === 34 || two === 37) return FIFTEEN // Amex
      if (four >= 3528 && four <= 3589) return JCB
      return (three >= 300 && three <= 305) || two === 36 || two === 38 || two === 39 ? DINERS : 0 // Diners Club
    default:
      return 0
  }
}

/**
 * Card numbers in one view of a text. A card is any span of whole digit
 * groups of a run (groups joined by at most MAX_SEPARATORS separators), so
 * "order 12 4111111111111111" holds one; spans may overlap when the grouping
 * is ambiguous, so every span of 13–19 digits is tried (at most 19 digits
 * from each group) and every stretch of groups covered by a card is masked as
 * one, keeping only its last four digits. The text is read once to find the
 * runs of 13 digits or more (`runsIn`, or `surveyShown` and `asciiRuns` for a
 * text without escapes), each such run at most twice more to try its spans
 * (`findInRun`).
 */
const runsIn = (text: string, view: View): Array<number> => {
  const reader = new Reader(text, view)
  const runs: Array<number> = []
  const length = text.length
  // The run being read: where its first digit starts and its last ends, its digits.
  let runStart = -1
  let runEnd = -1
  let runDigits = 0
  let inGroup = false
  let separators = 0
  for (let at = 0; at < length; at = reader.end) {
    reader.read(at)
    if (digitValue(reader.cp) >= 0) {
      if (!inGroup) {
        if (runStart >= 0 && separators > MAX_SEPARATORS) {
          if (runDigits >= MIN_CARD) runs.push(runStart, runEnd)
          runStart = -1
        }
        if (runStart < 0) {
          runStart = reader.start
          runDigits = 0
        }
        inGroup = true
      }
      runDigits++
      runEnd = reader.end
    } else if ((classOf(reader.cp) & SEP) !== 0) {
      if (inGroup) {
        inGroup = false
        separators = 1
      } else separators++
    } else {
      if (runStart >= 0 && runDigits >= MIN_CARD) runs.push(runStart, runEnd)
      runStart = -1
      inGroup = false
    }
  }
  if (runStart >= 0 && runDigits >= MIN_CARD) runs.push(runStart, runEnd)
  return runs
}

/**
 * The stretches of digit groups covered by a card in one view, in order and
 * apart: where each starts and ends in the text, and its digits (where each
 * starts and ends, and its value).
 */
class CardFinds {
  readonly start: Array<number> = []
  readonly end: Array<number> = []
  readonly first: Array<number> = []
  readonly count: Array<number> = []
  readonly digitStart: Array<number> = []
  readonly digitEnd: Array<number> = []
  readonly digit: Array<number> = []
}

/** The cards in the given runs (start and end pairs, in order) of one view of a text. */
const findCards = (text: string, view: View, runs: ReadonlyArray<number>): CardFinds => {
  const finds = new CardFinds()
  const reader = new Reader(text, view)
  for (let r = 0; r < runs.length; r += 2) findInRun(reader, finds, runs[r]!, runs[r + 1]!)
  return finds
}

/** The cards in the run of digit groups from `from` to `to` (see runsIn). */
const findInRun = (reader: Reader, finds: CardFinds, from: number, to: number): void => {
  // Every issuer's prefix starts with 2 to 6: a run none of whose groups does (a millisecond
  // timestamp) holds no card, and is read once more only to see that.
  let mayStart = false
  let inFirst = false
  for (let at = from; at < to && !mayStart; at = reader.end) {
    reader.read(at)
    const v = digitValue(reader.cp)
    if (v >= 2 && v <= 6 && !inFirst) mayStart = true
    inFirst = v >= 0
  }
  if (!mayStart) return
  // Its groups (start and end in the text, first digit, length) and its digits (value, start, end;
  // of a group longer than any card only the first MAX_CARD + 1). A run has no more of either than characters.
  const size = to - from
  const groupStart = new Int32Array(size)
  const groupEnd = new Int32Array(size)
  const groupFirst = new Int32Array(size)
  const groupLength = new Int32Array(size)
  const value = new Uint8Array(size)
  const valueStart = new Int32Array(size)
  const valueEnd = new Int32Array(size)
  let groups = 0
  let values = 0
  let inGroup = false
  for (let at = from; at < to; at = reader.end) {
    reader.read(at)
    const v = digitValue(reader.cp)
    if (v < 0) {
      inGroup = false
      continue
    }
    if (!inGroup) {
      groupStart[groups] = reader.start
      groupFirst[groups] = values
      groupLength[groups] = 0
      groups++
      inGroup = true
    }
    const g = groups - 1
    if (groupLength[g]! <= MAX_CARD) {
      value[values] = v
      valueStart[values] = reader.start
      valueEnd[values] = reader.end
      values++
    }
    groupLength[g]!++
    groupEnd[g] = reader.end
  }

  // reach[i]: the last group of the longest card starting at group i (-1: none)
  const reach = new Int32Array(groups).fill(-1)
  let found = false
  for (let i = 0; i < groups; i++) {
    if (groupLength[i]! > MAX_CARD) continue
    // the lengths its issuer prefix allows, once four digits are read (-1 before)
    let allowed = -1
    let length = 0
    // Luhn sums of the span so far, with even offsets kept (a) or doubled (b): the rightmost digit is kept.
    let a = 0
    let b = 0
    for (let j = i; j < groups; j++) {
      const size = groupLength[j]!
      if (length + size > MAX_CARD) break
      const first = groupFirst[j]!
      for (let k = 0; k < size; k++, length++) {
        const d = value[first + k]!
        const doubled = d < 5 ? d * 2 : d * 2 - 9
        if ((length & 1) === 0) {
          a += d
          b += doubled
        } else {
          a += doubled
          b += d
        }
      }
      if (length >= MIN_CARD) {
        if (allowed < 0) allowed = issuerLengthsAt(value, groupFirst[i]!)
        if (allowed === 0) break
        if (((allowed >> length) & 1) !== 0 && (((length - 1) & 1) === 0 ? a : b) % 10 === 0) {
          reach[i] = j
          found = true
        }
      }
    }
  }
  if (!found) return

  const addStretch = (from: number, to: number) => {
    const first = groupFirst[from]!
    const end = groupFirst[to]! + groupLength[to]!
    finds.start.push(groupStart[from]!)
    finds.end.push(groupEnd[to]!)
    finds.first.push(finds.digit.length)
    finds.count.push(end - first)
    for (let k = first; k < end; k++) {
      finds.digitStart.push(valueStart[k]!)
      finds.digitEnd.push(valueEnd[k]!)
      finds.digit.push(value[k]!)
    }
  }
  let stretchFrom = -1
  let last = -1
  for (let g = 0; g <= groups; g++) {
    if (g < groups && reach[g]! > last) last = reach[g]!
    const covered = g < groups && g <= last
    if (covered && stretchFrom < 0) stretchFrom = g
    if (!covered && stretchFrom >= 0) {
      addStretch(stretchFrom, g - 1)
      stretchFrom = -1
    }
  }
}

/** Two stretches (a finds and an index each) that cover the same digits the same way. */
const sameStretch = (f: CardFinds, i: number, g: CardFinds, j: number): boolean => {
  if (f.start[i] !== g.start[j] || f.end[i] !== g.end[j] || f.count[i] !== g.count[j]) return false
  for (let k = 0; k < f.count[i]!; k++) {
    const a = f.first[i]! + k
    const b = g.first[j]! + k
    if (f.digitStart[a] !== g.digitStart[b] || f.digitEnd[a] !== g.digitEnd[b]) return false
  }
  return true
}

/**
 * Masks the cards found in one or two views of a text. Found in the text as
 * it is (not in another view's masked output: a number seen differently in
 * another view must not be partly masked by it), and masked together: a
 * stretch found in one view only, or the same in both, keeps its last four
 * digits; where stretches of two views overlap otherwise, none of their
 * digits is shown.
 */
const maskCards = (text: string, views: ReadonlyArray<CardFinds>, style: Style): string => {
  // Every stretch, by where it starts (each view's are in order and apart): [finds, index] pairs.
  const order: Array<readonly [CardFinds, number]> = []
  const [one, two] = views
  if (one === undefined) return text
  let i = 0
  let j = 0
  while (i < one.start.length || (two !== undefined && j < two.start.length)) {
    if (two === undefined || j >= two.start.length || (i < one.start.length && one.start[i]! <= two.start[j]!)) order.push([one, i++])
    else order.push([two, j++])
  }
  if (order.length === 0) return text
  const edits = new Edits(text, style === "name")
  for (let r = 0; r < order.length;) {
    const [f, k] = order[r]!
    let regionEnd = f.end[k]!
    let next = r + 1
    let same = true
    while (next < order.length && order[next]![0].start[order[next]![1]]! < regionEnd) {
      const [g, l] = order[next]!
      same = same && sameStretch(f, k, g, l)
      regionEnd = Math.max(regionEnd, g.end[l]!)
      next++
    }
    if (same) maskStretch(edits, f, k, style)
    else maskConflict(edits, order.slice(r, next), f.start[k]!, regionEnd, style)
    r = next
  }
  return edits.result()
}

/** A stretch covered by a card: its last four digits kept, the others `*` (separators dropped) or each `X`. */
const maskStretch = (edits: Edits, f: CardFinds, k: number, style: Style): void => {
  const first = f.first[k]!
  const end = first + f.count[k]!
  const hidden = f.count[k]! - 4
  if (style === "text") {
    let kept = ""
    for (let d = end - 4; d < end; d++) kept += String.fromCharCode(0x30 + f.digit[d]!)
    edits.replace(f.start[k]!, f.end[k]!, "*".repeat(hidden) + kept)
  } else {
    for (let d = first; d < first + hidden; d++) edits.replace(f.digitStart[d]!, f.digitEnd[d]!, "X")
  }
}

/** Stretches of two views that overlap but differ: every digit hidden. */
const maskConflict = (
  edits: Edits,
  stretches: ReadonlyArray<readonly [CardFinds, number]>,
  start: number,
  end: number,
  style: Style
): void => {
  if (style === "text") {
    let most = 0
    for (const [f, k] of stretches) most = Math.max(most, f.count[k]!)
    edits.replace(start, end, "*".repeat(most))
    return
  }
  const spans: Array<readonly [number, number]> = []
  for (const [f, k] of stretches) {
    for (let d = f.first[k]!; d < f.first[k]! + f.count[k]!; d++) spans.push([f.digitStart[d]!, f.digitEnd[d]!])
  }
  spans.sort((a, b) => a[0] - b[0])
  let from = -1
  let to = -1
  for (const [s, e] of spans) {
    if (s < to) to = Math.max(to, e)
    else {
      if (from >= 0) edits.replace(from, to, "X")
      from = s
      to = e
    }
  }
  if (from >= 0) edits.replace(from, to, "X")
}

// ---------------------------------------------------------------------------
// Email addresses

/**
 * Masks the email addresses in one view of a text: a local part (a run of
 * LOCAL characters), one or more `@`, a domain (a run of DOMAIN characters).
 * Read left to right, each character at most twice: an `@` with no domain
 * after it ends the local part before it, and the text goes on after it.
 */
const maskEmails = (text: string, view: View, style: Style): string => {
  const reader = new Reader(text, view)
  const edits = new Edits(text, style === "name")
  const length = text.length
  let localStart = -1
  let localFirstEnd = -1
  for (let at = 0; at < length;) {
    reader.read(at)
    const cls = classOf(reader.cp)
    if ((cls & AT) === 0) {
      if ((cls & LOCAL) === 0) localStart = -1
      else if (localStart < 0) {
        localStart = reader.start
        localFirstEnd = reader.end
      }
      at = reader.end
      continue
    }
    const atStart = reader.start
    let pos = reader.end
    while (pos < length) {
      reader.read(pos)
      if ((classOf(reader.cp) & AT) === 0) break
      pos = reader.end
    }
    const domainStart = pos
    while (pos < length) {
      reader.read(pos)
      if ((classOf(reader.cp) & DOMAIN) === 0) break
      pos = reader.end
    }
    if (localStart >= 0 && pos > domainStart) {
      if (style === "text") {
        edits.replace(localStart, pos, `${text.slice(localStart, localFirstEnd)}***@${text.slice(domainStart, pos)}`)
      } else {
        for (let hide = localFirstEnd; hide < atStart; hide = reader.end) {
          reader.read(hide)
          edits.replace(reader.start, reader.end, "X")
        }
      }
    }
    localStart = -1
    at = pos
  }
  return edits.result()
}

// ---------------------------------------------------------------------------
// Masking a text

/** What a text holds as shown, in one pass: its runs of 13 digits or more, and which other views can hold anything to mask. */
interface Survey {
  /** the runs of digit groups (start and end pairs) with 13 digits or more, as shown */
  readonly runs: Array<number>
  /** an `@` as shown */
  readonly at: boolean
  /** a `%` followed by two hex digits: the decoded view differs */
  readonly escape: boolean
  /** an escaped `%` followed by two more hex digits: the unwrapped view differs */
  readonly unwrap: boolean
}

/**
 * `runsIn(text, SHOWN)` and a look for `@` and escapes, in one loop over the
 * text's code units: the whole cost of masking a text that holds nothing to
 * mask, so it reads ASCII without a call.
 */
const surveyShown = (text: string): Survey => {
  const runs: Array<number> = []
  let at = false
  let escape = false
  let unwrap = false
  let runStart = -1
  let runEnd = -1
  let runDigits = 0
  let inGroup = false
  let separators = 0
  const length = text.length
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i)
    const start = i
    let cls: number
    if (c <= 0x39 && c >= 0x30) cls = -1
    else if (c < 0x80) {
      cls = ASCII_CLASSES.charCodeAt(c)
      if (c === 0x25 && hexAt(text, i + 1) >= 0 && hexAt(text, i + 2) >= 0) {
        escape = true
        if (text.charCodeAt(i + 1) === 0x32 && text.charCodeAt(i + 2) === 0x35 && hexAt(text, i + 3) >= 0 && hexAt(text, i + 4) >= 0) unwrap = true
      }
    } else {
      let cp = c
      if (c >= 0xd800 && c <= 0xdbff) {
        const d = text.charCodeAt(i + 1)
        if (d >= 0xdc00 && d <= 0xdfff) {
          cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000
          i++
        }
      }
      cls = digitValue(cp) >= 0 ? -1 : classOf(cp)
    }
    if (cls === -1) {
      if (!inGroup) {
        if (runStart >= 0 && separators > MAX_SEPARATORS) {
          if (runDigits >= MIN_CARD) runs.push(runStart, runEnd)
          runStart = -1
        }
        if (runStart < 0) {
          runStart = start
          runDigits = 0
        }
        inGroup = true
      }
      runDigits++
      runEnd = i + 1
    } else if ((cls & SEP) !== 0) {
      if (inGroup) {
        inGroup = false
        separators = 1
      } else separators++
    } else {
      if ((cls & AT) !== 0) at = true
      if (runStart >= 0) {
        if (runDigits >= MIN_CARD) runs.push(runStart, runEnd)
        runStart = -1
      }
      inGroup = false
    }
  }
  if (runStart >= 0 && runDigits >= MIN_CARD) runs.push(runStart, runEnd)
  return { runs, at, escape, unwrap }
}

/** Any character masking looks at: a digit, `%`, `@`, or beyond ASCII (a digit, space, `@` of another script). One character class: a single pass. */
const NOTABLE = /[\d%@\u0080-\uffff]/
const BEYOND_ASCII = /[\u0080-\uffff]/

/**
 * Where a run of 13 digits or more may start in ASCII text: 13 digits with
 * at most three other characters between each two. Linear: an attempt from
 * one position reads at most 13 digits and 36 other characters, and its only
 * choices (how many of the up to three characters before the next digit)
 * have one way to succeed.
 */
const LONG_RUN = /\d(?:\D{0,3}\d){12}/

/** `runsIn(text, SHOWN)` for ASCII text: the regular expression finds where runs may start, at native speed. */
const asciiRuns = (text: string): Array<number> => {
  const runs: Array<number> = []
  // `search` from each run's end (a slice is a view of the text, not a copy): every position is tried as a start once.
  for (let from = 0; from < text.length;) {
    const found = (from === 0 ? text : text.slice(from)).search(LONG_RUN)
    if (found < 0) break
    // The run from the match's first digit (no earlier digit can be in it: the match would start there).
    const start = from + found
    let end = start
    let digits = 0
    let separators = 0
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c >= 0x30 && c <= 0x39) {
        if (separators > MAX_SEPARATORS) break
        digits++
        separators = 0
        end = i + 1
      } else if ((ASCII_CLASSES.charCodeAt(c) & SEP) !== 0) separators++
      else break
    }
    if (digits >= MIN_CARD) runs.push(start, end)
    from = end
  }
  return runs
}

/**
 * One round of masking: card numbers, then addresses; in a text with escapes,
 * as it decodes (DECODED, and UNWRAPPED when an escaped `%` escapes again),
 * and addresses as it is shown too.
 */
const maskAll = (text: string, style: Style): string => {
  if (!NOTABLE.test(text)) return text
  let s: Survey
  if (BEYOND_ASCII.test(text)) s = surveyShown(text)
  else {
    const escape = text.includes("%")
    const at = text.includes("@")
    const runs = escape ? [] : asciiRuns(text)
    // Plain ASCII with no escape, no `@` and no run of digits long enough for a card (a file name, a
    // count, a date: nearly every text a log line holds): nothing to mask, nothing more to allocate.
    if (!escape && !at && runs.length === 0) return text
    s = { runs, at, escape, unwrap: escape && text.includes("%25") }
  }
  if (!s.escape) {
    const out = maskCards(text, [findCards(text, SHOWN, s.runs)], style)
    return s.at ? maskEmails(out, SHOWN, style) : out
  }
  const views = [findCards(text, DECODED, runsIn(text, DECODED))]
  if (s.unwrap) views.push(findCards(text, UNWRAPPED, runsIn(text, UNWRAPPED)))
  let out = maskCards(text, views, style)
  // An address as shown first: its local part there is the longest (an escape is three characters of it).
  if (s.at) out = maskEmails(out, SHOWN, style)
  out = maskEmails(out, DECODED, style)
  if (s.unwrap) out = maskEmails(out, UNWRAPPED, style)
  return out
}

/** Masks card numbers and email addresses anywhere in a text, in time proportional to its length. */
export const maskText = (text: string): string => maskAll(text, "text")

/**
 * A name with every card number and email address in it masked with `X` for
 * each hidden character (contract §5): `card4111111111111111.json` becomes
 * `cardXXXXXXXXXXXX1111.json`, `orders-jane@example.com.json`
 * `orders-jXXX@example.com.json`. Separators and escapes between digit
 * groups stay; a hidden escape becomes one `X`, so the name never grows and
 * stays a name (`bytesFromName` reads it). Masked until nothing is left to
 * mask (a card's last four digits can start a new run of groups): the result
 * masks to itself. For names (at most NAME_MAX bytes): each round is linear,
 * and each further round starts from a card the round before found, further
 * on (at most one round per nine digits).
 */
export const maskName = (name: string): string => {
  let current = name
  for (;;) {
    const next = maskAll(current, "name")
    if (next === current) return current
    current = next
  }
}

/**
 * A stored name as every output shows it (`stored_as`, contract §5): itself
 * when it holds nothing to mask (`maskName` gives it back, as it does for
 * every name the daemon stores), so that an operator finds the file by it;
 * any other text (a name stored before names were masked) through `mask`.
 */
export const storedNameShown = (name: string, mask: (text: string) => string = maskText): string =>
  name.length <= NAME_MAX_CHARS && maskName(name) === name ? name : mask(name)

/** The most characters a name's text can have: NAME_MAX bytes, each escaped as `%XX`. */
const NAME_MAX_CHARS = 255 * 3

/** Characters masked beyond a cut: more than any card or address with its separators and escapes spans. */
export const CUT_MARGIN = 4096

/** The first code units of `text`, at most `max`, not splitting a surrogate pair. */
const cutAt = (text: string, max: number): string => {
  const c = text.charCodeAt(max - 1)
  return text.slice(0, c >= 0xd800 && c <= 0xdbff ? max - 1 : max)
}

/**
 * A text masked and shown in at most `max` characters: a longer one is cut
 * (CUT_MARGIN characters beyond the cut are masked with it, so that a card
 * number or an address across the cut is masked as a whole, and nothing
 * beyond that is read) and ends in `…`. The cost is bounded by `max`, not by
 * the text.
 */
export const maskShortened = (text: string, max: number, mask: (text: string) => string = maskText): string => {
  if (text.length <= max) return mask(text)
  const window = cutAt(text, max + CUT_MARGIN)
  const masked = mask(window)
  if (masked.length <= max) return window.length === text.length ? masked : `${masked}…`
  return `${cutAt(masked, max - 1)}…`
}

// ---------------------------------------------------------------------------
// Structured values

/** Keeps the last four digits (of any script), each other digit becomes `*`; separators are dropped. */
export const maskDigitsKeepLastFour = (value: string): string => {
  const digits: Array<number> = []
  for (const char of value) {
    const v = digitValue(char.codePointAt(0)!)
    if (v >= 0) digits.push(v)
  }
  if (digits.length <= 4) return "*".repeat(digits.length)
  return "*".repeat(digits.length - 4) + digits.slice(-4).join("")
}

/**
 * The Luhn check over ASCII digits, read in place; with `grouped`, a ` ` or
 * `-` between them (a card number as the contract's field writes it) is
 * skipped. Anything else, or no digit at all, fails.
 */
const luhn = (text: string, grouped: boolean): boolean => {
  let sum = 0
  let count = 0
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i)
    if (grouped && (c === 0x20 || c === 0x2d)) continue
    let d = c - 48
    if (d < 0 || d > 9) return false
    if ((count & 1) === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    count++
  }
  return count > 0 && sum % 10 === 0
}

/** The Luhn check over a string of ASCII digits only. */
export const luhnValid = (digits: string): boolean => luhn(digits, false)

/** The Luhn check over a card number written in groups (`4111 1111-1111 1111`): ` ` and `-` are skipped. */
export const luhnValidGrouped = (text: string): boolean => luhn(text, true)

const asciiDigits = (digits: string): Array<number> | undefined => {
  const out: Array<number> = []
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return undefined
    out.push(d)
  }
  return out
}

/** Whether ASCII digits start with an issuer prefix of contract §7 that allows their length. */
export const issuerAllows = (digits: string): boolean => {
  const values = asciiDigits(digits)
  return values !== undefined && values.length >= MIN_CARD && values.length <= MAX_CARD && ((issuerLengthsAt(values, 0) >> values.length) & 1) !== 0
}

/** A run of digits that is a card number: an issuer prefix valid for its length, and Luhn-valid. */
export const isCardNumber = (digits: string): boolean => issuerAllows(digits) && luhnValid(digits)

const REMOVED_FIELDS = new Set(["cvv", "cvc", "password", "pin"])
const MAX_DEPTH = 32

/**
 * Masks a structured value: by field name at any depth (`card_number`,
 * `phone`; `cvv`/`cvc`/`password`/`pin` left out entirely; `stored_as` shown
 * as `storedNameShown` says), and every other string as free text.
 */
export const maskValue = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return maskText(value)
  if (typeof value !== "object" || value === null) return value
  if (depth >= MAX_DEPTH) return "[nested too deep]"
  if (Array.isArray(value)) return value.map((v) => maskValue(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    const lower = key.toLowerCase()
    if (REMOVED_FIELDS.has(lower)) continue
    if ((lower === "card_number" || lower === "phone") && (typeof v === "string" || typeof v === "number")) {
      out[maskText(key)] = maskDigitsKeepLastFour(String(v))
    } else if (lower === "stored_as" && typeof v === "string") {
      out[key] = storedNameShown(v)
    } else {
      out[maskText(key)] = maskValue(v, depth + 1)
    }
  }
  return out
}
