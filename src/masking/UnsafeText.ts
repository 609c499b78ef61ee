/**
 * Characters a terminal or a mail reader acts on rather than shows, as
 * regular-expression class ranges: C0 controls, DEL, C1 controls (U+009B is a
 * one-character CSI to some terminals), the Unicode line and paragraph
 * separators, and the bidirectional marks, embeddings, overrides and isolates
 * (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) that make text show
 * reordered. The console escapes them (Logging.ts), mail strips them
 * (NotificationMessage.ts).
 */
const C0 = "\\u0000-\\u001f"
const BEYOND_C0 = "\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069"

/** Any one of them; `g` for replacing. */
export const UNSAFE_CHAR = new RegExp(`[${C0}${BEYOND_C0}]`, "g")
/** Runs of them. */
export const UNSAFE_RUN = new RegExp(`[${C0}${BEYOND_C0}]+`, "g")
/** Any one of them but the line feed (text whose lines are meant: a stack trace). */
export const UNSAFE_CHAR_BUT_LF = new RegExp(`[\\u0000-\\u0009\\u000b-\\u001f${BEYOND_C0}]`, "g")
/** The ones JSON.stringify leaves raw (it escapes C0 itself). */
export const UNSAFE_BEYOND_C0 = new RegExp(`[${BEYOND_C0}]`, "g")
/** Whether a text holds any of them (no `g`: `test` keeps no state). */
export const HAS_UNSAFE = new RegExp(`[${C0}${BEYOND_C0}]`)
