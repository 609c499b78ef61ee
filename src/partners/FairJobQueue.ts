/**
 * The intake's queue of jobs, fair between partners (PARTNERS_FILE): jobs
 * wait in one lane per partner and are taken from the lanes in turn, so a
 * partner's file queued behind another partner's dump of thousands is taken
 * at once, not after the window of the dump's names ahead of it. Within a
 * lane, first in, first out. Without partners the intake keeps effect's own
 * unbounded queue (`JobQueue` is the part of its interface the intake uses).
 *
 * Memory: a lane per partner with jobs waiting (an emptied one is dropped),
 * and the jobs themselves, which the intake's window bounds.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Queue from "effect/Queue"

/** What the intake does with its queue of jobs (effect's `Queue` has these). */
export interface JobQueue<A> {
  readonly offer: (a: A) => Effect.Effect<boolean>
  readonly unsafeOffer: (a: A) => boolean
  /** the next job, waiting for one */
  readonly take: Effect.Effect<A>
  /** jobs waiting, less takers waiting (negative when takers wait) */
  readonly size: Effect.Effect<number>
  readonly unsafeSize: () => Option.Option<number>
  /** ends the queue: waiting takers are interrupted */
  readonly shutdown: Effect.Effect<void>
}

/** A first-in, first-out list with constant-time ends (an array and a moving head, compacted as it empties). */
class Deque<A> {
  private items: Array<A> = []
  private head = 0
  get length(): number {
    return this.items.length - this.head
  }
  push(a: A): void {
    this.items.push(a)
  }
  shift(): A | undefined {
    if (this.head >= this.items.length) return undefined
    const a = this.items[this.head]!
    this.head++
    // Compacted once half of it is spent: each item is moved at most once more.
    if (this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return a
  }
}

/** Pure lanes in turn: `push` a job under its key, `pop` the next in round-robin order. */
export class FairLanes<A> {
  private readonly lanes = new Map<string, Deque<A>>()
  /** the keys with jobs waiting, in turn order */
  private readonly turn = new Deque<string>()
  private count = 0
  constructor(private readonly keyOf: (a: A) => string) {}
  get size(): number {
    return this.count
  }
  push(a: A): void {
    const key = this.keyOf(a)
    let lane = this.lanes.get(key)
    if (lane === undefined) {
      lane = new Deque<A>()
      this.lanes.set(key, lane)
      this.turn.push(key)
    }
    lane.push(a)
    this.count++
  }
  pop(): A | undefined {
    const key = this.turn.shift()
    if (key === undefined) return undefined
    const lane = this.lanes.get(key)!
    const a = lane.shift()!
    this.count--
    // Its next job waits for the other lanes' turns; an emptied lane goes.
    if (lane.length > 0) this.turn.push(key)
    else this.lanes.delete(key)
    return a
  }
}

/**
 * A queue taking from each key's jobs in turn (`keyOf`: a job's partner).
 * Each job offered is one token in an unbounded effect queue: a take waits for
 * a token, then pops the next job in turn.
 */
export const makeFairJobQueue = <A>(keyOf: (a: A) => string): Effect.Effect<JobQueue<A>> =>
  Effect.map(Queue.unbounded<void>(), (tokens) => {
    const lanes = new FairLanes<A>(keyOf)
    return {
      offer: (a) =>
        Effect.suspend(() => {
          lanes.push(a)
          return tokens.offer(undefined)
        }),
      unsafeOffer: (a) => {
        lanes.push(a)
        return tokens.unsafeOffer(undefined)
      },
      // (a token taken is a job there: pushed before its token was offered)
      take: Effect.map(tokens.take, () => lanes.pop()!),
      size: tokens.size,
      unsafeSize: () => tokens.unsafeSize(),
      shutdown: tokens.shutdown
    }
  })
