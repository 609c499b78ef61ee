/**
 * One listing over every partner's inbox, fair between them: each `next`
 * takes names from the inboxes in turn (round-robin, an equal share each, the
 * turn moving on between calls), so a partner's dump of 100,000 files fills
 * the intake's window no faster than the others' inboxes get their turn: a
 * single file of another partner is in the window at the next refill, not
 * after the dump. Names come qualified (`<partner>/<name>`, PartnerNames).
 *
 * Inboxes are opened when their turn first comes (not all at once: one open
 * folder handle per inbox being read). An inbox read to its end is closed; one
 * that ended while the others are still being read is opened again after
 * `relookMs` (a file delivered meanwhile joins this pass instead of waiting
 * for the dump to end): at most one listing of each inbox per `relookMs`. An
 * inbox that cannot be read is said (`onFailure`) and left out of this pass.
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Effect from "effect/Effect"
import type { Entry, Listing, Meta } from "./FileOps.js"
import { qualifiedName } from "./PartnerNames.js"

/** A partner's inbox, as the listing reads it. */
export interface InboxToList {
  readonly partner: string
  readonly dir: string
}

interface Turn {
  readonly inbox: InboxToList
  listing: Listing | undefined
  /** read to its end at this time (`undefined`: not yet) */
  endedAt: number | undefined
}

/** Pure: how many names each of `active` inboxes gets of `max` (at least one each: the first `max` of them get one). */
export const fairShare = (max: number, active: number): number => (active <= 0 ? 0 : Math.max(1, Math.floor(max / active)))

/** The listing over `inboxes` (see the module). */
export const fairListing = (
  inboxes: ReadonlyArray<InboxToList>,
  open: (dir: string) => Effect.Effect<Listing, PlatformError>,
  options: {
    readonly relookMs: number
    readonly now: () => number
    readonly onFailure: (inbox: InboxToList, error: PlatformError) => Effect.Effect<void>
  }
): Listing => {
  const turns: Array<Turn> = inboxes.map((inbox) => ({ inbox, listing: undefined, endedAt: undefined }))
  /** where the next call starts its round */
  let start = 0
  let closed = false

  const end = (turn: Turn) =>
    Effect.suspend(() => {
      const listing = turn.listing
      turn.listing = undefined
      turn.endedAt = options.now()
      return listing === undefined ? Effect.void : listing.close
    })

  /** Up to `want` names of one inbox (opened if it must be); none when it ended. */
  const take = (turn: Turn, want: number): Effect.Effect<ReadonlyArray<Entry>> =>
    Effect.gen(function*() {
      if (turn.listing === undefined) {
        const opened = yield* Effect.either(open(turn.inbox.dir))
        if (opened._tag === "Left") {
          yield* options.onFailure(turn.inbox, opened.left)
          turn.endedAt = options.now()
          return []
        }
        turn.listing = opened.right
      }
      const piece = yield* Effect.either(turn.listing.next(want))
      if (piece._tag === "Left") {
        yield* options.onFailure(turn.inbox, piece.left)
        yield* end(turn)
        return []
      }
      if (piece.right.length === 0) {
        yield* end(turn)
        return []
      }
      const partner = turn.inbox.partner
      return piece.right.map((e) => ({ name: qualifiedName(partner, e.name), type: e.type }))
    })

  const next = (max: number): Effect.Effect<ReadonlyArray<Entry>, PlatformError> =>
    Effect.gen(function*() {
      if (closed || turns.length === 0) return []
      while (true) {
        const now = options.now()
        // Inboxes still to read this pass, and (while some are) those ended long enough ago to look at again.
        const reading = turns.some((t) => t.endedAt === undefined)
        if (!reading) return []
        const due = turns.filter((t) => t.endedAt === undefined || now - t.endedAt >= options.relookMs)
        for (const t of due) if (t.endedAt !== undefined) t.endedAt = undefined
        const share = fairShare(max, due.length)
        const out: Array<Entry> = []
        const count = turns.length
        let i = 0
        for (; i < count && out.length < max; i++) {
          const turn = turns[(start + i) % count]!
          if (turn.endedAt !== undefined) continue
          const piece = yield* take(turn, Math.min(share, max - out.length))
          for (const e of piece) out.push(e)
        }
        // The next call starts after the last inbox served: with more inboxes than room, each gets its turn.
        start = (start + i) % count
        if (out.length > 0) return out
      }
    })

  return {
    next,
    close: Effect.suspend(() => {
      closed = true
      return Effect.forEach(turns, (t) => (t.listing === undefined ? Effect.void : end(t)), { discard: true })
    })
  }
}

/**
 * The inboxes' look as one, for the intake's "nothing changed since the last
 * pass" stamp (its light passes are skipped while the stamp stays the same):
 * every inbox's identity, the latest change and the sums of sizes and links.
 * One `lstat` per inbox; an inbox that cannot be looked at fails it (the pass
 * is then made, as for an input folder that cannot be looked at).
 */
export const inboxesStamp = (
  inboxes: ReadonlyArray<InboxToList>,
  identify: (dir: string) => Effect.Effect<Meta, PlatformError>
): Effect.Effect<Meta, PlatformError> =>
  Effect.map(Effect.forEach(inboxes, (inbox) => identify(inbox.dir)), (metas) => combinedLook(metas))

/** Pure: several folders' looks as one (see `inboxesStamp`); a folder's look when there is one. */
export const combinedLook = (metas: ReadonlyArray<Meta>): Meta => {
  if (metas.length === 1) return metas[0]!
  let mtimeMs = 0
  let size = 0
  let nlink = 0
  let blocks = 0
  for (const m of metas) {
    if (m.mtimeMs > mtimeMs) mtimeMs = m.mtimeMs
    size += m.size
    nlink += m.nlink
    blocks += m.blocks
  }
  return { type: "Directory", uid: -1, gid: -1, mode: 0, mtimeMs, size, nlink, blocks, id: metas.map((m) => m.id).join(",") }
}
