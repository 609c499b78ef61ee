/**
 * Turning a file's bytes into a JSON value (contract §2), with file-level
 * errors that never quote the file's content: V8's syntax errors quote the
 * text, so line and column are computed here and the rule is taken from an
 * allow-list of V8's own grammar phrases.
 */
import * as Jsonc from "jsonc-parser"
import type { ValidationError } from "./Contract.js"
import type { FileRule } from "./Rules.js"

export type ParsedText =
  | { readonly _tag: "Parsed"; readonly value: unknown }
  | { readonly _tag: "Empty" }
  | { readonly _tag: "InvalidUtf8" }
  | { readonly _tag: "Malformed"; readonly line: number; readonly column: number; readonly rule: string }
  /** well-formed, but an object gives one key twice (at this line and column, its second time) */
  | { readonly _tag: "DuplicateKey"; readonly line: number; readonly column: number }

/** A whole JSON document, valid or not (its writer is done with it): parsed, or with a key given twice. */
export const isCompleteDocument = (parsed: ParsedText): boolean => parsed._tag === "Parsed" || parsed._tag === "DuplicateKey"

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false })

/** Decodes UTF-8 (a leading BOM is dropped by the decoder) and parses JSON. */
export const parseJsonBytes = (bytes: Uint8Array): ParsedText => {
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    return { _tag: "InvalidUtf8" }
  }
  return parseJsonText(text)
}

const isBlank = (text: string): boolean => /^[\s\uFEFF]*$/.test(text)

export const parseJsonText = (text: string): ParsedText => {
  if (isBlank(text)) return { _tag: "Empty" }
  let value: unknown
  let failure: string | undefined
  // Hot path trick: a file still being written fails JSON.parse at every look, and half
  // of a failure's cost is the stack trace nobody reads; none is taken (restored at once).
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    value = JSON.parse(text)
  } catch (error) {
    failure = error instanceof Error ? error.message : ""
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
  if (failure !== undefined) return malformed(text, failure)
  // JSON.parse keeps the last of a key given twice, while the stored bytes keep both: what
  // was judged would not be what is stored (a refused field hidden before an accepted one).
  if (memberNames(text) !== ownKeys(value)) return duplicateKey(text)
  return { _tag: "Parsed", value }
}

/**
 * Pure: how many member names a syntactically valid JSON text holds (each string
 * followed by a `:`), counted without building anything. Outside strings a `"`
 * only ever starts one; a string ends at a `"` after an even run of backslashes.
 */
export const memberNames = (text: string): number => {
  let count = 0
  let i = text.indexOf('"')
  while (i !== -1) {
    let end = text.indexOf('"', i + 1)
    for (;;) {
      let backslashes = 0
      while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++
      if (backslashes % 2 === 0) break
      end = text.indexOf('"', end + 1)
    }
    let next = end + 1
    for (let c = text.charCodeAt(next); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++next));
    if (text.charCodeAt(next) === 0x3a) count++
    i = text.indexOf('"', next)
  }
  return count
}

/** Pure: how many own keys the objects of a parsed JSON value hold, all levels together (without recursion: nesting may be deep). */
export const ownKeys = (value: unknown): number => {
  let count = 0
  const pending: Array<object> = typeof value === "object" && value !== null ? [value] : []
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (Array.isArray(next)) {
      for (const item of next) if (typeof item === "object" && item !== null) pending.push(item)
      continue
    }
    for (const key in next) {
      if (!Object.hasOwn(next, key)) continue
      count++
      const child: unknown = (next as Record<string, unknown>)[key]
      if (typeof child === "object" && child !== null) pending.push(child)
    }
  }
  return count
}

/** A key given twice in one object: where its second occurrence is (found only then, the slow way). */
const duplicateKey = (text: string): ParsedText => {
  const objects: Array<Set<string>> = []
  let found = text.length
  try {
    Jsonc.visit(text, {
      onObjectBegin: () => void objects.push(new Set()),
      onObjectEnd: () => void objects.pop(),
      onObjectProperty: (name, offset) => {
        const keys = objects[objects.length - 1]
        if (keys === undefined) return
        if (keys.has(name) && offset < found) found = offset
        keys.add(name)
      }
    })
  } catch {
    // jsonc-parser recurses per nesting level; very deep input overflows its stack.
  }
  return { _tag: "DuplicateKey", ...lineAndColumn(text, found) }
}

// V8 (Node 20) phrases that name a grammar rule and quote nothing of the input.
const SAFE_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Unterminated string/, "unterminated string"],
  [/^Bad control character in string literal/, "control character in a string"],
  [/^Bad escaped character/, "invalid escape sequence in a string"],
  [/^Bad Unicode escape/, "invalid unicode escape in a string"],
  [/^Unexpected non-whitespace character after JSON/, "unexpected text after the JSON value"],
  [/^Expected property name or '}'/, "expected a property name or '}'"],
  [/^Expected double-quoted property name/, "expected a double-quoted property name"],
  [/^Expected ':' after property name/, "expected ':' after a property name"],
  [/^Expected ',' or '}' after property value/, "expected ',' or '}' after a property value"],
  [/^Expected ',' or '\]' after array element/, "expected ',' or ']' after an array element"],
  [/^Exponent part is missing a number/, "number without digits in its exponent"],
  [/^Unterminated fractional number/, "number without digits after its decimal point"],
  [/^No number after minus sign/, "'-' without a number"],
  [/^Unexpected number/, "unexpected number"],
  [/^Unexpected string/, "unexpected string"]
]

const malformed = (text: string, v8Message: string): ParsedText => {
  const positioned = /in JSON at position (\d+)/.exec(v8Message)
  let offset: number
  let rule = "invalid JSON syntax"
  if (/^Unexpected end of JSON input/.test(v8Message)) {
    offset = text.length
    rule = "unexpected end of the file (the JSON value is incomplete)"
  } else if (positioned !== null) {
    offset = Number(positioned[1])
    for (const [pattern, safe] of SAFE_RULES) {
      if (pattern.test(v8Message)) {
        rule = safe
        break
      }
    }
  } else {
    // "Unexpected token 'x', "…" is not valid JSON" gives no position: find it.
    offset = firstSyntaxErrorOffset(text)
    rule = "unexpected character"
  }
  const { line, column } = lineAndColumn(text, offset)
  return { _tag: "Malformed", line, column, rule }
}

const firstSyntaxErrorOffset = (text: string): number => {
  let found = text.length
  try {
    Jsonc.visit(
      text,
      {
        onError: (_error, offset) => {
          if (offset < found) found = offset
        }
      },
      { disallowComments: true, allowTrailingComma: false }
    )
  } catch {
    // jsonc-parser recurses per nesting level; very deep input overflows its stack.
  }
  return found
}

/** 1-based line and column (in characters) of a UTF-16 offset. */
export const lineAndColumn = (text: string, offset: number): { line: number; column: number } => {
  let line = 1
  let lineStart = 0
  const end = Math.min(offset, text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: end - lineStart + 1 }
}

/** The rule a text that does not parse breaks (contract §2). */
export const parseFailureRule = (result: Exclude<ParsedText, { _tag: "Parsed" }>): FileRule => {
  switch (result._tag) {
    case "Empty":
      return "empty-file"
    case "InvalidUtf8":
      return "invalid-utf8"
    case "Malformed":
      return "syntax"
    case "DuplicateKey":
      return "duplicate-key"
  }
}

/** A text that does not parse, as the file-level error a report lists. */
export const parseFailureError = (result: Exclude<ParsedText, { _tag: "Parsed" }>): ValidationError => ({
  record: null,
  path: "$",
  rule: parseFailureRule(result),
  message: describeParseFailure(result)
})

export const describeParseFailure = (result: Exclude<ParsedText, { _tag: "Parsed" }>): string => {
  switch (result._tag) {
    case "Empty":
      return "file is empty or contains only whitespace"
    case "InvalidUtf8":
      return "file is not valid UTF-8"
    case "Malformed":
      return `malformed JSON at line ${result.line}, column ${result.column}: ${result.rule}`
    case "DuplicateKey":
      return `a key given twice in one object, at line ${result.line}, column ${result.column} (each key may appear once)`
  }
}
