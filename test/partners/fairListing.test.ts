/**
 * One listing over every partner's inbox, fair between them: names come from
 * each inbox in turn, so a partner's dump does not hold back another
 * partner's file; an inbox read to its end is looked at again after
 * `relookMs` while others are still being read.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SystemError } from "@effect/platform/Error"
import type { Entry, Listing, Meta } from "../../src/files/FileOps.js"
import { combinedLook, fairListing, fairShare } from "../../src/files/FairListing.js"

/** Folders in memory: each `open` lists what the folder holds at that moment. */
const folders = (contents: Record<string, Array<string>>) => {
  const opened: Array<string> = []
  const open = (dir: string) =>
    Effect.suspend(() => {
      opened.push(dir)
      const names = contents[dir]
      if (names === undefined) return Effect.fail(new SystemError({ reason: "NotFound", module: "FileSystem", method: "opendir", pathOrDescriptor: dir }))
      const entries: Array<Entry> = names.map((name) => ({ name, type: "File" }))
      let at = 0
      const listing: Listing = {
        next: (max) => Effect.sync(() => entries.slice(at, (at += max))),
        close: Effect.void
      }
      return Effect.succeed(listing)
    })
  return { open, opened }
}

const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}.json`)

const drain = (listing: Listing, max: number) =>
  Effect.gen(function*() {
    const pieces: Array<ReadonlyArray<string>> = []
    while (true) {
      const piece = yield* listing.next(max)
      if (piece.length === 0) return pieces
      pieces.push(piece.map((e) => e.name))
    }
  })

describe("fairListing", () => {
  it("gives each inbox an equal share of a piece, names qualified with the partner", () =>
    Effect.gen(function*() {
      const { open } = folders({ "/a": many("a", 1000), "/b": ["b0.json"], "/c": many("c", 3) })
      const listing = fairListing([{ partner: "acme", dir: "/a" }, { partner: "bolt", dir: "/b" }, { partner: "corp", dir: "/c" }], open, {
        relookMs: 60_000,
        now: () => 0,
        onFailure: () => Effect.void
      })
      const first = yield* listing.next(30)
      // acme's dump of 1,000 does not fill the piece: bolt's one file and corp's three are in it.
      expect(first.filter((e) => e.name.startsWith("acme/"))).toHaveLength(10)
      expect(first.map((e) => e.name)).toContain("bolt/b0.json")
      expect(first.filter((e) => e.name.startsWith("corp/")).map((e) => e.name)).toEqual(["corp/c0.json", "corp/c1.json", "corp/c2.json"])
      const rest = (yield* drain(listing, 30)).flat()
      expect(rest.every((n) => n.startsWith("acme/"))).toBe(true)
      expect(new Set([...first.map((e) => e.name), ...rest]).size).toBe(1004)
    }).pipe(Effect.runPromise))

  it("with more inboxes than room, gives the next ones their turn at the next call", () =>
    Effect.gen(function*() {
      const contents = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`/p${i}`, many(`f`, 5)]))
      const { open } = folders(contents)
      const inboxes = Array.from({ length: 10 }, (_, i) => ({ partner: `p${i}`, dir: `/p${i}` }))
      const listing = fairListing(inboxes, open, { relookMs: 60_000, now: () => 0, onFailure: () => Effect.void })
      const first = (yield* listing.next(4)).map((e) => e.name.split("/")[0])
      const second = (yield* listing.next(4)).map((e) => e.name.split("/")[0])
      const third = (yield* listing.next(4)).map((e) => e.name.split("/")[0])
      expect(first).toEqual(["p0", "p1", "p2", "p3"])
      expect(second).toEqual(["p4", "p5", "p6", "p7"])
      expect(third).toEqual(["p8", "p9", "p0", "p1"])
    }).pipe(Effect.runPromise))

  it("opens an inbox only when its turn comes", () =>
    Effect.gen(function*() {
      const { open, opened } = folders({ "/a": many("a", 10), "/b": many("b", 10), "/c": many("c", 10) })
      const listing = fairListing(["a", "b", "c"].map((p) => ({ partner: p, dir: `/${p}` })), open, { relookMs: 60_000, now: () => 0, onFailure: () => Effect.void })
      yield* listing.next(2)
      expect(opened).toEqual(["/a", "/b"])
    }).pipe(Effect.runPromise))

  it("looks again at an inbox read to its end while another is still being read, after relookMs", () =>
    Effect.gen(function*() {
      const contents: Record<string, Array<string>> = { "/dump": many("d", 100), "/quiet": [] }
      const { open } = folders(contents)
      let now = 0
      const listing = fairListing([{ partner: "dump", dir: "/dump" }, { partner: "quiet", dir: "/quiet" }], open, {
        relookMs: 1000,
        now: () => now,
        onFailure: () => Effect.void
      })
      yield* listing.next(10)
      // A file is delivered to the quiet inbox while the dump is being read.
      contents["/quiet"] = ["late.json"]
      now = 500
      expect((yield* listing.next(10)).map((e) => e.name)).not.toContain("quiet/late.json")
      now = 1000
      expect((yield* listing.next(10)).map((e) => e.name)).toContain("quiet/late.json")
    }).pipe(Effect.runPromise))

  it("ends when every inbox is read, and leaves out one that cannot be read, saying so", () =>
    Effect.gen(function*() {
      const { open } = folders({ "/a": ["x.json"] })
      const failed: Array<string> = []
      const listing = fairListing([{ partner: "gone", dir: "/gone" }, { partner: "acme", dir: "/a" }], open, {
        relookMs: 60_000,
        now: () => 0,
        onFailure: (inbox) => Effect.sync(() => void failed.push(inbox.partner))
      })
      expect((yield* drain(listing, 10)).flat()).toEqual(["acme/x.json"])
      expect(failed).toEqual(["gone"])
    }).pipe(Effect.runPromise))

  it("shares at least one name per inbox", () => {
    expect(fairShare(256, 200)).toBe(1)
    expect(fairShare(256, 2)).toBe(128)
    expect(fairShare(3, 10)).toBe(1)
    expect(fairShare(10, 0)).toBe(0)
  })
})

describe("combinedLook", () => {
  const meta = (id: string, mtimeMs: number, size: number): Meta => ({ type: "Directory", nlink: 2, uid: 0, gid: 0, mode: 0o40700, size, mtimeMs, blocks: 8, id })
  it("changes when any inbox changes, and is one folder's look for one inbox", () => {
    const a = meta("1:1", 100, 4096)
    const b = meta("1:2", 200, 4096)
    expect(combinedLook([a])).toBe(a)
    const both = combinedLook([a, b])
    expect(both.mtimeMs).toBe(200)
    expect(combinedLook([a, { ...b, mtimeMs: 300 }]).mtimeMs).toBe(300)
    expect(combinedLook([a, { ...b, size: 8192 }]).size).not.toBe(both.size)
    expect(combinedLook([a, { ...b, id: "1:3" }]).id).not.toBe(both.id)
  })
})
