/** The intake's transitions, pure: each tested directly, the caps with their worst-case inputs. */
import { Chunk, HashMap, HashSet } from "effect"
import { describe, expect, it } from "vitest"
import * as S from "../src/daemon/IntakeState.js"
import type { IntakeState, Job } from "../src/daemon/IntakeState.js"
import type { Outcome, PendingState } from "../src/events/Outcome.js"
import { HARD_LINKED_KIND } from "../src/daemon/Pipeline.js"
import { inShare } from "../src/daemon/NameMarks.js"

const limits = (window: number, over: Partial<S.IntakeLimits> = {}): S.IntakeLimits => ({ ...S.defaultLimits(1, window), ...over })
const fresh = (window = 8, over: Partial<S.IntakeLimits> = {}): IntakeState =>
  S.initial({ limits: limits(window, over), quietPeriodMs: 1000, stuckAfterMs: 30_000 })
const file = (name: string) => ({ name, type: "File" })
const input = (name: string): Job => ({ _tag: "Input", name })
const validated: Outcome = { _tag: "Validated", storedAs: "x.json", records: 1 }
const failed = (cause = "EIO", claimed?: string): Outcome => ({ _tag: "Failed", reason: `it failed: ${cause}`, cause, ...(claimed !== undefined ? { claimed } : {}) })
const pending = (since: number): Outcome => ({ _tag: "Pending", state: { observation: { size: 1, mtimeMs: since, id: "1" }, since } satisfies PendingState })

/** A full pass started and its listing read as one piece. */
const fullPass = (s0: IntakeState, names: ReadonlyArray<string>, now = 0) => {
  const [started, s1] = S.passStarted(S.passRequested(s0, true), undefined, now)
  expect(started).toBe("opened")
  return S.queued(s1, names.map(file), now)
}

describe("IntakeState", () => {
  it("queued: a listing holds candidates once each, never more than the window asks for, and counts the peak", () => {
    const [listed, s] = fullPass(fresh(4), ["a.json", "b.json", "a.json", "notes.txt", ".hidden", "c.json.tmp"])
    expect(listed.queued).toEqual(["a.json", "b.json"])
    expect(listed.warnings).toEqual([["notes.txt", "not a .json file; left where it is", "other"]])
    expect(HashMap.size(s.held)).toBe(2)
    expect(s.peak).toBe(2)
    expect(S.room(s)).toBe(2)
    // Seen again by a later piece: not queued twice.
    const [again] = S.queued(s, [file("a.json"), file("b.json")], 1)
    expect(again.queued).toEqual([])
    // Pure: the state given is left as it was (the piece is added to a copy).
    const [, before] = S.passStarted(S.passRequested(fresh(4), true), undefined, 0)
    S.queued(before, [file("c.json")], 0)
    expect(HashMap.size(before.held)).toBe(0)
  })

  it("queued: with several instances, the first sweep takes this instance's share only, and a second sweep the rest", () => {
    const names = Array.from({ length: 40 }, (_, i) => `f${i}.json`)
    const share = { rank: 0, count: 2 }
    const [started, s1] = S.passStarted(S.passRequested(S.shareFound(fresh(100), share), true), undefined, 0)
    expect(started).toBe("opened")
    const [own, s2] = S.queued(s1, names.map(file), 0)
    expect(own.queued).toEqual(names.filter((n) => inShare(n, 0, 2)))
    const [end, s3] = S.passEnded(s2)
    expect(end._tag).toBe("StealDue")
    const [rest, s4] = S.queued(S.stealStarted(s3), names.map(file), 1)
    expect(rest.queued).toEqual(names.filter((n) => !inShare(n, 0, 2)))
    const [ended, s5] = S.passEnded(s4)
    expect(ended).toMatchObject({ _tag: "PassEnded", full: true })
    expect(s5.pass.candidatesLastPass).toBe(40)
    expect(s5.pass.lastPassAdded).toBe(40)
  })

  it("warnedAbout: warns once per name up to the cap; past it, counted once per pass; forgotten when a full pass no longer sees it", () => {
    let s = fresh(8, { warned: 3 })
    const others = Array.from({ length: 1000 }, (_, i) => `n${i}.txt`)
    const [listed, s1] = fullPass(s, others)
    // Worst case: a thousand names left alone; three remembered, the rest counted.
    expect(listed.warnings).toHaveLength(3)
    expect(HashMap.size(s1.warned)).toBe(3)
    const [end, s2] = S.passEnded(s1)
    expect(end).toMatchObject({ _tag: "PassEnded", unwarned: 997, warnedSize: 3 })
    // The same count at the next full pass is not said again.
    const [again, s3] = fullPass(s2, others)
    expect(again.warnings).toEqual([])
    const [end2, s4] = S.passEnded(s3)
    expect(end2).toMatchObject({ unwarned: undefined })
    // A full pass that sees none of them forgets them: room again.
    const [, s5] = fullPass(s4, [])
    const [, s6] = S.passEnded(s5)
    expect(HashMap.size(s6.warned)).toBe(0)
    s = s6
    expect(S.warnedAbout(s, "x.txt")[0]).toBe("new")
  })

  it("finished: a routed file leaves the window, is counted, and asks for a refill (by pieces) while a pass is open", () => {
    const [, s1] = fullPass(fresh(8), Array.from({ length: 8 }, (_, i) => `f${i}.json`))
    expect(S.room(s1)).toBe(0)
    const [done, s2] = S.finished(s1, input("f0.json"), validated, 1)
    expect(done.then._tag).toBe("Done")
    // (refilled once a quarter of the window is free, at most a piece)
    expect(S.refillAt(s2)).toBe(6)
    expect(done.refill).toBe(false)
    expect(s2.summary).toEqual({ validated: 1, returned: 0, failed: 0, leftBehind: 0 })
    expect(HashMap.has(s2.held, "f0.json")).toBe(false)
    const [next, s3] = S.finished(s2, input("f1.json"), { _tag: "Returned", storedAs: "f1.json", records: 1, errorCount: 1 }, 2)
    expect(next.refill).toBe(true)
    expect(s3.summary).toEqual({ validated: 1, returned: 1, failed: 0, leftBehind: 0 })
    // Between passes, nothing to refill from.
    const [, s4] = S.passEnded(s3)
    expect(S.finished(s4, input("f2.json"), validated, 3)[0].refill).toBe(false)
  })

  it("finished: a failing file is one failed file however often it fails; its cause is said once; routed at last, it is no longer failed", () => {
    let s = fresh(8)
    const [, s1] = fullPass(s, ["f.json"])
    s = s1
    const [first, s2] = S.finished(s, input("f.json"), failed("EIO"), 10)
    expect(first).toMatchObject({ newlyFailed: true, newCause: true })
    expect(first.failure).toMatchObject({ attempts: 1, retryAt: 10 + S.retryDelayMs(1) })
    // Listed again before its retry time: not queued.
    const [early, s3] = S.queued(s2, [file("f.json")], 500)
    expect(early.queued).toEqual([])
    const [later, s4] = S.queued(s3, [file("f.json")], 1010)
    expect(later.queued).toEqual(["f.json"])
    const [second, s5] = S.finished(s4, input("f.json"), failed("EIO"), 1020)
    expect(second).toMatchObject({ newlyFailed: false, newCause: false })
    expect(second.failure?.attempts).toBe(2)
    expect(s5.summary.failed).toBe(1)
    const [, s6] = S.queued(s5, [file("f.json")], 10_000)
    const [routed, s7] = S.finished(s6, input("f.json"), validated, 10_001)
    expect(routed.failureCleared).toBe(true)
    expect(routed.failedBefore?.attempts).toBe(2)
    expect(s7.summary).toMatchObject({ validated: 1, failed: 0 })
    expect(HashMap.size(s7.failing)).toBe(0)
  })

  it("finished: failing files and their reported causes are capped, the oldest forgotten first", () => {
    let s = fresh(8, { failing: 5 })
    // Worst case: far more failing files than the cap, each with a cause of its own.
    for (let i = 0; i < 50; i++) {
      const [, next] = S.finished(s, input(`f${i}.json`), failed(`E${i}`), i)
      s = next
    }
    expect(HashMap.size(s.failing)).toBe(5)
    expect(HashMap.size(s.reportedCause)).toBe(5)
    expect([...HashMap.keys(s.failing)].sort()).toEqual(["f45.json", "f46.json", "f47.json", "f48.json", "f49.json"])
    // Failing again puts a file last: the next one forgotten is the oldest other.
    const [, s2] = S.finished(s, input("f45.json"), failed("E45"), 100)
    const [, s3] = S.finished(s2, input("g.json"), failed("G"), 101)
    expect(HashMap.has(s3.failing, "f45.json")).toBe(true)
    expect(HashMap.has(s3.failing, "f46.json")).toBe(false)
    expect(s3.summary.failed).toBe(51)
  })

  it("finished: past the cap, forgetting the oldest failure costs the same whatever is remembered (the order it keeps stays bounded)", () => {
    const cap = 1000
    let s = fresh(8, { failing: cap })
    // Worst case: 20,000 files failing, each once, then again the newest, and files routed in between.
    for (let i = 0; i < 20_000; i++) {
      s = S.finished(s, input(`f${i}.json`), failed(`E${i}`), i)[1]
      if (i % 3 === 0) s = S.finished(s, input(`f${i - 1}.json`), failed(`E${i - 1}`), i)[1]
      if (i % 7 === 0) s = S.finished(s, input(`f${i - 2}.json`), validated, i)[1]
      expect(Chunk.size(s.failingOrder)).toBeLessThanOrEqual(2 * cap + 65)
      expect(Chunk.size(s.reportedOrder)).toBeLessThanOrEqual(2 * cap + 65)
    }
    // (the last file was routed after the last failure)
    expect(HashMap.size(s.failing)).toBe(cap - 1)
    // The newest thousand written: each remembered one was written after every forgotten one.
    const remembered = [...HashMap.values(s.failing)].map((f) => f.seq)
    expect(Math.min(...remembered)).toBeGreaterThan(s.failedAttempts - cap - 2000)
  })

  it("finished: a file failing after its claim keeps its attempts under its claimed name", () => {
    const [, s1] = S.finished(fresh(), input("f.json"), failed("EIO"), 0)
    const [again, s2] = S.finished(s1, input("f.json"), failed("EIO", "1-1_f.json"), 1)
    expect(again.failure?.attempts).toBe(2)
    expect([...HashMap.keys(s2.failing)]).toEqual(["1-1_f.json"])
    expect(s2.summary.failed).toBe(1)
  })

  it("heldForWriter: files waiting for their writer hold at most half the window; the rest are deferred (capped) until a full pass", () => {
    const names = Array.from({ length: 8 }, (_, i) => `w${i}.json`)
    const [, s1] = fullPass(fresh(8, { deferred: 2 }), names, 0)
    let s = s1
    const thens: Array<string> = []
    let deferred = 0
    for (const name of names) {
      const [done, next] = S.finished(s, input(name), pending(0), 100)
      thens.push(done.then._tag)
      if (done.deferred) deferred++
      s = next
    }
    expect(thens.filter((t) => t === "WaitForWriter")).toHaveLength(4)
    expect(deferred).toBe(4)
    expect(HashSet.size(s.waitingHeld)).toBe(4)
    // The deferred set keeps its cap.
    expect(HashSet.size(s.deferred)).toBe(2)
    // A held one's next look: after its quiet period.
    expect(S.finished(s1, input("w0.json"), pending(0), 100)[0].then).toEqual({ _tag: "WaitForWriter", delay: 901 })
    // A deferred name is skipped by events and light listings, looked at again by a full listing.
    const deferredName = [...HashSet.values(s.deferred)][0]!
    expect(S.hinted(s, deferredName, 200)[0]._tag).toBe("Nothing")
    const [, s2] = S.passEnded(s)
    const [light] = S.queued(S.passStarted(S.passRequested(s2, false), undefined, 300)[1], [file(deferredName)], 300)
    expect(light.queued).toEqual([])
    const [full] = fullPass(s2, [deferredName], 400)
    expect(full.queued).toEqual([deferredName])
  })

  it("hinted: an event on a file waiting for its writer brings a look sooner, backing off; a look already due as soon stands", () => {
    const [, s1] = fullPass(fresh(8), ["w.json"], 0)
    const [, s2] = S.finished(s1, input("w.json"), pending(0), 0)
    const [, s3] = S.passEnded(s2)
    // Due in 1,001 ms: an event brings it to 50 ms.
    const [h1, s4] = S.hinted(s3, "w.json", 10)
    expect(h1).toEqual({ _tag: "Recheck", delay: S.eventRecheckDelay(0) })
    // Another event at once: the look due in 50 ms stands.
    expect(S.hinted(s4, "w.json", 20)[0]._tag).toBe("Nothing")
    // The look, when due: the job carries what is known of the file (received at 0, waiting for its writer).
    const [job, due] = S.recheckDue(s4, "w.json")
    expect(job).toMatchObject({ _tag: "Input", name: "w.json", receivedAt: 0, pending: { since: 0 } })
    expect(S.recheckDue(fresh(), "gone.json")[0]).toEqual({ _tag: "Input", name: "gone.json" })
    const [, s5] = S.queued(due, [], 60)
    const [, s6] = S.finished(s5, input("w.json"), pending(0), 70)
    expect(S.hinted(s6, "w.json", 80)[0]).toEqual({ _tag: "Recheck", delay: S.eventRecheckDelay(1) })
  })

  it("hinted: a new name is queued at once between passes, asks for a pass while one runs or the window is full", () => {
    const [h, s1] = S.hinted(fresh(2), "a.json", 0)
    expect(h._tag).toBe("Queue")
    const [, s2] = S.hinted(s1, "b.json", 0)
    const [full, s3] = S.hinted(s2, "c.json", 0)
    expect(full._tag).toBe("Nothing")
    expect(s3.pass.requested).toBe("light")
    const [, running] = S.passStarted(S.passRequested(fresh(8), false), undefined, 0)
    const [during, s4] = S.hinted(running, "d.json", 0)
    expect(during._tag).toBe("Nothing")
    expect(s4.pass.requested).toBe("light")
  })

  it("finished: a hard-linked file is looked at again until its links settle, then parked (at most a window of names) and warned about once", () => {
    const [, s1] = fullPass(fresh(2), ["two.json"], 0)
    const linked: Outcome = { _tag: "Ignored", kind: HARD_LINKED_KIND }
    const [first, s2] = S.finished(s1, input("two.json"), linked, 0)
    expect(first.then).toEqual({ _tag: "LinkSettling", delay: S.EVENT_RECHECK_MS + 1 })
    const [last, s3] = S.finished(S.recheckDue(s2, "two.json")[1], input("two.json"), linked, S.LINK_SETTLE_MS)
    expect(last).toMatchObject({ then: { _tag: "Done" }, warn: true })
    expect(HashSet.has(s3.parked, "two.json")).toBe(true)
    // Worst case: many names found not regular; the parked set keeps the window's cap.
    let s = s3
    for (let i = 0; i < 100; i++) s = S.finished(s, { _tag: "Claimed", name: `x${i}.json` }, { _tag: "Ignored", kind: "Directory" }, 0)[1]
    expect(HashSet.size(s.parked)).toBe(2)
  })

  it("passStarted: a light pass over a folder unchanged since the last pass, which added nothing, is skipped", () => {
    const [, s1] = S.passStarted(S.passRequested(fresh(), false), "stamp", 0)
    const [, s2] = S.passEnded(s1)
    const [skipped, s3] = S.passStarted(S.passRequested(s2, false), "stamp", 10)
    expect(skipped).toBe("skipped")
    expect(s3.pass.passesEnded).toBe(2)
    expect(S.passStarted(S.passRequested(s3, false), "changed", 20)[0]).toBe("opened")
    expect(S.passStarted(S.passRequested(s3, true), "stamp", 20)[0]).toBe("opened")
  })

  it("passEnded: a full pass forgets failing names of the input folder it no longer saw (not claimed ones)", () => {
    const [, s1] = S.finished(fresh(), input("f.json"), failed(), 0)
    const [, s2] = S.finished(s1, { _tag: "Claimed", name: "1-1_g.json" }, failed("EIO", "1-1_g.json"), 0)
    const [, s3] = fullPass(s2, [])
    const [end, s4] = S.passEnded(s3)
    expect(end._tag === "PassEnded" && end.goneWhileFailing.map(([n]) => n)).toEqual(["f.json"])
    expect([...HashMap.keys(s4.failing)]).toEqual(["1-1_g.json"])
    // A claimed one is forgotten when this instance's folder no longer has it.
    const [gone, s5] = S.goneClaimedForgotten(s4, [], s4.failedAttempts)
    expect(gone.map(([n]) => n)).toEqual(["1-1_g.json"])
    expect(HashMap.size(s5.failing)).toBe(0)
  })

  it("stuckCounted: files waiting for their writer too long are reported once each; their outcome ends it", () => {
    const [, s1] = fullPass(fresh(8), ["w.json", "v.json"], 0)
    const [, s2] = S.finished(s1, input("w.json"), pending(0), 0)
    const [newly, s3] = S.stuckCounted(s2, 40_000)
    expect(newly).toEqual([["w.json", 40_000]])
    expect(s3.stuck).toBe(1)
    expect(S.stuckCounted(s3, 50_000)[0]).toEqual([])
    const [done, s4] = S.finished(S.recheckDue(s3, "w.json")[1], input("w.json"), validated, 60_000)
    expect(done.stuckEnded).toBe(0)
    expect(HashSet.size(s4.reportedStuck)).toBe(0)
  })

  it("claimedAdopted: a claimed name is queued once, and not before its retry time", () => {
    const [adopted, s1] = S.claimedAdopted(fresh(), ["1-1_a.json", "1-2_b.json"], 0)
    expect(adopted).toEqual(["1-1_a.json", "1-2_b.json"])
    expect(S.claimedAdopted(s1, ["1-1_a.json"], 0)[0]).toEqual([])
    const [, s2] = S.finished(s1, { _tag: "Claimed", name: "1-1_a.json" }, failed("EIO", "1-1_a.json"), 0)
    expect(S.claimedAdopted(s2, ["1-1_a.json"], 10)[0]).toEqual([])
    expect(S.claimedAdopted(s2, ["1-1_a.json"], S.retryDelayMs(1) + 1)[0]).toEqual(["1-1_a.json"])
  })

  it("waitingOf: what is held, plus what the pass in progress has yet to read (from the last pass's count), plus the deferred", () => {
    const [, s1] = fullPass(S.backlogCounted(fresh(4), 100), ["a.json", "b.json"], 5)
    expect(S.waitingOf(s1)).toEqual({ count: 2 + 98, oldestReceivedAtMs: 5 })
    const [, s2] = S.passEnded(s1)
    expect(S.waitingOf(s2).count).toBe(2)
    // Counted once the first pass has ended: its own count is newer.
    expect(S.backlogCounted(s2, 100).pass.candidatesLastPass).toBe(2)
  })

  it("fillStarted: one filler at a time", () => {
    const [first, s1] = S.fillStarted(fresh())
    expect(first).toBe(true)
    expect(S.fillStarted(s1)[0]).toBe(false)
    expect(S.fillStarted(S.fillEnded(s1))[0]).toBe(true)
  })
})
