/**
 * What the notifier decides, as pure functions over an immutable state:
 * which rejected files and critical events wait to be sent, how long the
 * batch window and the hourly rate limit make the next message wait, and
 * what the next message holds. BatchingNotifier keeps one such state in a
 * `Ref` and does the sending; every rule is here and tested directly.
 *
 *  - Rejected files are named, up to FILES_PER_MESSAGE a message, in arrival
 *    order; beyond MAX_QUEUED_FILES waiting they are only counted. A message
 *    names (and counts) the files of one partner only (PARTNERS_FILE), in
 *    arrival order, the partners in turn: the one served longest ago (or
 *    never) first, so that one partner's dump does not hold another's mail
 *    back for hours under EMAIL_MAX_PER_HOUR.
 *  - When the hour's allowance runs out, the last allowed message counts
 *    every file still waiting ("and N more"); they are named again later.
 *  - A critical event goes before any rejected file; the same summary at most
 *    once an hour: repeats while one waits are counted on it, repeats after it
 *    went out are counted in the next one. Beyond MAX_QUEUED_CRITICALS waiting
 *    summaries (every failing file has one of its own), further ones are only
 *    counted, in the next critical message: a flood of failures must neither
 *    grow without bound nor make every addition slower.
 *  - When a condition clears, an all-clear follows its critical message: only
 *    for a summary whose critical went out (a critical still waiting says
 *    instead that it cleared, in the same message), all-clears waiting then
 *    going out together in one message, after any critical one. A summary
 *    that cleared is news again if it comes back, whatever the hour.
 */
import { FILES_PER_MESSAGE } from "./NotificationMessage.js"
import type { ClearedEvent, CriticalEvent, RejectedFile } from "./Notifier.js"

export const HOUR_MS = 3_600_000
/**
 * Rejected files kept to be named; beyond this they are only counted. About
 * what an hour of messages names at the default rate (30 × 100): a partner's
 * backlog of a million files must not keep a hundred thousand in memory.
 */
export const MAX_QUEUED_FILES = 3_000

/** Critical summaries kept waiting to be sent each in a message of its own; beyond, they are counted. */
export const MAX_QUEUED_CRITICALS = 100

/** All-clears kept waiting to be named (all in one message); beyond, they are counted in it. */
export const MAX_QUEUED_CLEARED = 100

/**
 * Rejected files waiting: appended at the back, taken in batches from the
 * front, each in amortised constant time (a burst of 100 000 rejections must
 * not cost a copy per file).
 */
export interface FileQueue {
  readonly front: ReadonlyArray<RejectedFile>
  /** index of the first file of `front` still waiting */
  readonly start: number
  /** newer files, newest first */
  readonly back: Stack
  readonly size: number
}

/** An immutable stack: a new file is one small object, sharing the rest. */
type Stack = { readonly file: RejectedFile; readonly below: Stack } | undefined

/** The stack's files, oldest first. */
const oldestFirst = (stack: Stack, count: number): Array<RejectedFile> => {
  const out = new Array<RejectedFile>(count)
  let i = count
  for (let s = stack; s !== undefined; s = s.below) out[--i] = s.file
  return out
}

const emptyFiles: FileQueue = { front: [], start: 0, back: undefined, size: 0 }

const enqueue = (q: FileQueue, file: RejectedFile): FileQueue => ({ front: q.front, start: q.start, back: { file, below: q.back }, size: q.size + 1 })

/**
 * The oldest `n` files of `partner` (`undefined`: files of no partner) and
 * the queue without them, the others in their order; also how many of that
 * partner's files stay. A pass over the queue (at most MAX_QUEUED_FILES) per
 * message, not per file.
 */
const dequeueOf = (q: FileQueue, n: number, partner: string | undefined): readonly [ReadonlyArray<RejectedFile>, FileQueue, number] => {
  const waitingInFront = q.front.length - q.start
  const all = q.back === undefined ? q.front.slice(q.start) : [...q.front.slice(q.start), ...oldestFirst(q.back, q.size - waitingInFront)]
  const taken: Array<RejectedFile> = []
  const rest: Array<RejectedFile> = []
  let left = 0
  for (const f of all) {
    if (f.partner !== partner) rest.push(f)
    else if (taken.length < n) taken.push(f)
    else {
      rest.push(f)
      left++
    }
  }
  return [taken, rest.length === 0 ? emptyFiles : { front: rest, start: 0, back: undefined, size: rest.length }, left]
}

/**
 * The turns after a message about `key`'s files: it goes last. Partners with
 * nothing waiting are forgotten (the map holds at most the partners waiting,
 * and a partner coming back is served first, as a new one).
 */
const servedAfter = (
  served: ReadonlyMap<string, number>,
  key: string,
  rest: FileQueue,
  partnerOverflow: ReadonlyMap<string, number>,
  unpartneredWaiting: boolean
): ReadonlyMap<string, number> => {
  let latest = -1
  for (const n of served.values()) if (n > latest) latest = n
  const waiting = new Set<string>(partnerOverflow.keys())
  if (unpartneredWaiting) waiting.add("")
  for (let k = rest.start; k < rest.front.length; k++) waiting.add(servedKey(rest.front[k]!.partner))
  for (let b = rest.back; b !== undefined; b = b.below) waiting.add(servedKey(b.file.partner))
  const next = new Map<string, number>()
  for (const [p, n] of served) if (waiting.has(p)) next.set(p, n)
  next.set(key, latest + 1)
  return next
}

/** Whether any waiting file is a partner's (a pass over the queue; only when the oldest is of no partner). */
const hasPartnerFiles = (q: FileQueue): boolean => {
  for (let i = q.start; i < q.front.length; i++) if (q.front[i]!.partner !== undefined) return true
  for (let b = q.back; b !== undefined; b = b.below) if (b.file.partner !== undefined) return true
  return false
}

/** The oldest file's partner (`undefined`: none, or no file waits). */
const oldestPartner = (q: FileQueue): string | undefined =>
  q.front.length > q.start ? q.front[q.start]!.partner : q.back === undefined ? undefined : oldestFirst(q.back, q.size - (q.front.length - q.start))[0]?.partner

/** The key of a partner (none: "") in `partnerServed`. */
const servedKey = (partner: string | undefined) => partner ?? ""

/**
 * Whose files the next message names: of the partners with files waiting
 * (named or counted), the one served longest ago (never served first), then
 * the one whose oldest file is oldest.
 */
const nextPartner = (s: BatchState): string | undefined => {
  const firstAt = new Map<string | undefined, number>()
  let i = 0
  for (let k = s.files.start; k < s.files.front.length; k++, i++) if (!firstAt.has(s.files.front[k]!.partner)) firstAt.set(s.files.front[k]!.partner, i)
  if (s.files.back !== undefined) {
    for (const f of oldestFirst(s.files.back, s.files.size - (s.files.front.length - s.files.start))) {
      if (!firstAt.has(f.partner)) firstAt.set(f.partner, i)
      i++
    }
  }
  if (s.overflow > 0 && !firstAt.has(undefined)) firstAt.set(undefined, Number.MAX_SAFE_INTEGER)
  for (const p of s.partnerOverflow.keys()) if (!firstAt.has(p)) firstAt.set(p, Number.MAX_SAFE_INTEGER)
  let best: string | undefined
  let bestKey: readonly [number, number] | undefined
  for (const [p, at] of firstAt) {
    const key = [s.partnerServed.get(servedKey(p)) ?? -1, at] as const
    if (bestKey === undefined || key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
      best = p
      bestKey = key
    }
  }
  return best
}

/** The oldest `n` files and the queue without them. */
const dequeue = (q: FileQueue, n: number): readonly [ReadonlyArray<RejectedFile>, FileQueue] => {
  // Too few at the front: the newer files join it (each file moves there once).
  const waitingInFront = q.front.length - q.start
  const front = waitingInFront >= n || q.back === undefined
    ? q
    : { front: [...q.front.slice(q.start), ...oldestFirst(q.back, q.size - waitingInFront)], start: 0, back: undefined, size: q.size }
  const taken = front.front.slice(front.start, front.start + n)
  const start = front.start + taken.length
  // Only what is taken is copied; the rest of `front` is shared until it is used up.
  return [taken, start >= front.front.length && front.back === undefined ? emptyFiles : { ...front, start, size: front.size - taken.length }]
}

export interface QueuedCritical {
  readonly event: CriticalEvent
  /** occurrences of the same summary counted on this message */
  readonly repeats: number
  /** the condition cleared before this message went out: it says so, and no all-clear follows */
  readonly cleared?: ClearedEvent | undefined
}

export interface QueuedCleared {
  readonly event: ClearedEvent
  /** occurrences of its critical after the last report of it, never sent (held back by the hourly rule) */
  readonly repeats: number
  /** when its critical went out (restored if it comes back before this goes out) */
  readonly sentAt: number
}

export interface BatchState {
  readonly files: FileQueue
  /** rejected files (of no partner) counted but no longer named */
  readonly overflow: number
  /** rejected files of each partner counted but no longer named (a partner's count goes in its own message) */
  readonly partnerOverflow: ReadonlyMap<string, number>
  /** when each partner's files were last in a message (a count of messages about partners' files): whose turn it is */
  readonly partnerServed: ReadonlyMap<string, number>
  /** when the oldest waiting file arrived: the batch window runs from it */
  readonly firstPendingAt: number | undefined
  readonly criticals: ReadonlyArray<QueuedCritical>
  /** critical events beyond MAX_QUEUED_CRITICALS, counted in the next critical message */
  readonly criticalOverflow: number
  /** all-clears waiting, of summaries whose critical went out */
  readonly cleared: ReadonlyArray<QueuedCleared>
  /** all-clears beyond MAX_QUEUED_CLEARED, counted in the next all-clear message */
  readonly clearedOverflow: number
  /** when each summary last went out */
  readonly criticalSentAt: ReadonlyMap<string, number>
  /** repeats of a summary since it last went out, for its next message */
  readonly suppressed: ReadonlyMap<string, number>
  /** when the messages of the last hour went out, oldest first */
  readonly sentAt: ReadonlyArray<number>
}

export const initial: BatchState = {
  files: emptyFiles,
  overflow: 0,
  partnerOverflow: new Map(),
  partnerServed: new Map(),
  firstPendingAt: undefined,
  criticals: [],
  criticalOverflow: 0,
  cleared: [],
  clearedOverflow: 0,
  criticalSentAt: new Map(),
  suppressed: new Map(),
  sentAt: []
}

/** The next message's content, before formatting. */
export type Next =
  | {
    readonly _tag: "Critical"
    readonly event: CriticalEvent
    readonly repeats: number
    readonly more: number
    readonly cleared?: ClearedEvent | undefined
  }
  | { readonly _tag: "Cleared"; readonly events: ReadonlyArray<QueuedCleared>; readonly more: number }
  /** rejected files of one partner (`undefined`: of none) */
  | { readonly _tag: "Rejected"; readonly files: ReadonlyArray<RejectedFile>; readonly more: number; readonly partner?: string | undefined }

export const hasWork = (s: BatchState): boolean =>
  s.criticals.length > 0 || s.cleared.length > 0 || s.files.size > 0 || s.overflow > 0 || s.partnerOverflow.size > 0

const sumOf = (counts: ReadonlyMap<string, number>): number => {
  let sum = 0
  for (const n of counts.values()) sum += n
  return sum
}

/** Rejected files, critical events and all-clears waiting, named or counted (the `notifications_queued` gauge). */
export const queued = (s: BatchState): number =>
  s.files.size + s.overflow + sumOf(s.partnerOverflow) + s.criticals.length + s.criticalOverflow + s.cleared.length + s.clearedOverflow

export const addRejected = (s: BatchState, file: RejectedFile, t: number): BatchState =>
  s.files.size < MAX_QUEUED_FILES
    ? { ...s, files: enqueue(s.files, file), firstPendingAt: s.firstPendingAt ?? t }
    : file.partner === undefined
    ? { ...s, overflow: s.overflow + 1, firstPendingAt: s.firstPendingAt ?? t }
    : {
      ...s,
      partnerOverflow: new Map(s.partnerOverflow).set(file.partner, (s.partnerOverflow.get(file.partner) ?? 0) + 1),
      firstPendingAt: s.firstPendingAt ?? t
    }

/** Queues a critical event, or counts it when the same summary went out less than an hour ago (`suppressed`). */
export const addCritical = (s: BatchState, event: CriticalEvent, t: number): { readonly state: BatchState; readonly suppressed: boolean } => {
  const key = event.summary
  // Back before its all-clear went out: no all-clear, and a repeat of what was sent.
  const clearing = s.cleared.find((c) => c.event.summary === key)
  if (clearing !== undefined) {
    return addCritical({
      ...s,
      cleared: s.cleared.filter((c) => c !== clearing),
      criticalSentAt: new Map(s.criticalSentAt).set(key, clearing.sentAt),
      suppressed: clearing.repeats > 0 ? new Map(s.suppressed).set(key, clearing.repeats) : s.suppressed
    }, event, t)
  }
  const last = s.criticalSentAt.get(key)
  if (last !== undefined && t - last < HOUR_MS) {
    return { state: { ...s, suppressed: new Map(s.suppressed).set(key, (s.suppressed.get(key) ?? 0) + 1) }, suppressed: true }
  }
  if (s.criticals.some((c) => c.event.summary === key)) {
    // (one that had cleared before it went out is back: it no longer says so)
    return {
      state: { ...s, criticals: s.criticals.map((c) => c.event.summary === key ? { ...c, repeats: c.repeats + 1, cleared: undefined } : c) },
      suppressed: false
    }
  }
  if (s.criticals.length >= MAX_QUEUED_CRITICALS) return { state: { ...s, criticalOverflow: s.criticalOverflow + 1 }, suppressed: false }
  const suppressed = new Map(s.suppressed)
  suppressed.delete(key)
  return { state: { ...s, criticals: [...s.criticals, { event, repeats: s.suppressed.get(key) ?? 0 }], suppressed }, suppressed: false }
}

/**
 * A condition cleared: an all-clear is queued when its critical went out (and
 * the summary is forgotten, so that its return is news at once); a critical
 * still waiting carries the news itself; a summary never sent (counted in an
 * overflow only) gets none (`notify` false).
 */
export const addCleared = (s: BatchState, event: ClearedEvent): { readonly state: BatchState; readonly notify: boolean } => {
  const key = event.summary
  if (s.criticals.some((c) => c.event.summary === key)) {
    return { state: { ...s, criticals: s.criticals.map((c) => (c.event.summary === key ? { ...c, cleared: event } : c)) }, notify: true }
  }
  const sentAt = s.criticalSentAt.get(key)
  if (sentAt === undefined) return { state: s, notify: false }
  const criticalSentAt = new Map(s.criticalSentAt)
  criticalSentAt.delete(key)
  const suppressed = new Map(s.suppressed)
  suppressed.delete(key)
  const repeats = s.suppressed.get(key) ?? 0
  const next = s.cleared.length < MAX_QUEUED_CLEARED
    ? { ...s, cleared: [...s.cleared, { event, repeats, sentAt }], criticalSentAt, suppressed }
    : { ...s, clearedOverflow: s.clearedOverflow + 1, criticalSentAt, suppressed }
  return { state: next, notify: true }
}

/** Summaries remembered (when each went out, its repeats since) before those of over an hour ago are forgotten. */
export const MAX_REMEMBERED_SUMMARIES = 1_000

/**
 * Forgets summaries that went out over an hour ago (they no longer hold a
 * repeat back) once more than MAX_REMEMBERED_SUMMARIES are remembered: every
 * failing file has a summary of its own, and a long-running daemon would
 * otherwise keep each one for good.
 */
export const forgetPastHour = (s: BatchState, t: number): BatchState => {
  if (s.criticalSentAt.size <= MAX_REMEMBERED_SUMMARIES) return s
  const criticalSentAt = new Map([...s.criticalSentAt].filter(([, at]) => t - at < HOUR_MS))
  const suppressed = new Map([...s.suppressed].filter(([key]) => criticalSentAt.has(key)))
  return { ...s, criticalSentAt, suppressed }
}

const lastHour = (sentAt: ReadonlyArray<number>, t: number): ReadonlyArray<number> => {
  const from = sentAt.findIndex((at) => at > t - HOUR_MS)
  return from === 0 ? sentAt : from < 0 ? [] : sentAt.slice(from)
}

/** Milliseconds until the hour's allowance lets another message out (0: now). */
export const allowanceWait = (s: BatchState, maxPerHour: number, t: number): number => {
  const recent = lastHour(s.sentAt, t)
  return recent.length < maxPerHour ? 0 : recent[0]! + HOUR_MS - t
}

/** Milliseconds the batch window still holds rejected files back (a waiting critical event goes at once). */
export const batchWait = (s: BatchState, windowMs: number, t: number): number =>
  s.criticals.length > 0 || s.firstPendingAt === undefined ? 0 : Math.max(0, s.firstPendingAt + windowMs - t)

/** Records a message going out at `t` against the hour's allowance. */
export const recordSent = (s: BatchState, t: number): BatchState => ({ ...s, sentAt: [...lastHour(s.sentAt, t), t] })

/**
 * The next message at `t`: a critical event first, otherwise the oldest
 * rejected files. When `allowanceLeft` (messages the hour still lets out
 * after this one) is none, the files still waiting are counted in it (and
 * stay queued, to be named later).
 */
const nextOf = (s: BatchState, t: number, allowanceLeft: number): readonly [Next, BatchState] => {
  const [critical, ...criticals] = s.criticals
  if (critical !== undefined) {
    return [
      { _tag: "Critical", event: critical.event, repeats: critical.repeats, more: s.criticalOverflow, cleared: critical.cleared },
      // One that cleared already is not remembered as sent: if it comes back, that is news.
      critical.cleared !== undefined
        ? { ...s, criticals, criticalOverflow: 0 }
        : forgetPastHour({ ...s, criticals, criticalOverflow: 0, criticalSentAt: new Map(s.criticalSentAt).set(critical.event.summary, t) }, t)
    ]
  }
  if (s.cleared.length > 0) {
    return [{ _tag: "Cleared", events: s.cleared, more: s.clearedOverflow }, { ...s, cleared: [], clearedOverflow: 0 }]
  }
  if (s.partnerOverflow.size === 0 && oldestPartner(s.files) === undefined && !hasPartnerFiles(s.files)) {
    const [files, rest] = dequeue(s.files, FILES_PER_MESSAGE)
    const more = s.overflow + (allowanceLeft <= 0 ? rest.size : 0)
    return [
      { _tag: "Rejected", files, more },
      { ...s, files: rest, overflow: 0, firstPendingAt: rest.size === 0 ? undefined : s.firstPendingAt }
    ]
  }
  // Partners: one partner's files a message, the partners in turn (`nextPartner`).
  const partner = nextPartner(s)
  const [files, rest, left] = dequeueOf(s.files, FILES_PER_MESSAGE, partner)
  const overflow = partner === undefined ? s.overflow : (s.partnerOverflow.get(partner) ?? 0)
  const more = overflow + (allowanceLeft <= 0 ? left : 0)
  const partnerOverflow = partner === undefined ? s.partnerOverflow : new Map(s.partnerOverflow)
  if (partner !== undefined) (partnerOverflow as Map<string, number>).delete(partner)
  return [
    { _tag: "Rejected", files, more, partner },
    {
      ...s,
      files: rest,
      overflow: partner === undefined ? 0 : s.overflow,
      partnerOverflow,
      partnerServed: servedAfter(s.partnerServed, servedKey(partner), rest, partnerOverflow, s.overflow > 0 && partner !== undefined),
      firstPendingAt: rest.size === 0 && s.overflow === 0 && partnerOverflow.size === 0 ? undefined : s.firstPendingAt
    }
  ]
}

/** Takes the next message going out at `t` (once `allowanceWait` is 0), counted against the hour's allowance. */
export const takeNext = (s: BatchState, maxPerHour: number, t: number): readonly [Next, BatchState] => {
  const sent = recordSent(s, t)
  return nextOf(sent, t, maxPerHour - sent.sentAt.length)
}

/**
 * At shutdown: every message still waiting, in order, and the state without
 * them. None is counted against the allowance yet (each is, when it goes
 * out); when none is left this hour, each message also counts the files
 * still waiting after it.
 */
export const takeAll = (s: BatchState, maxPerHour: number, t: number): readonly [ReadonlyArray<Next>, BatchState] => {
  const allowanceLeft = allowanceWait(s, maxPerHour, t) === 0 ? 1 : 0
  const out: Array<Next> = []
  let state = s
  while (hasWork(state)) {
    const [next, after] = nextOf(state, t, allowanceLeft)
    out.push(next)
    state = after
  }
  return [out, state]
}
