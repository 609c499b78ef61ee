/** Reading the instances' heartbeats safely, and judging them as Instance does. */
import { Effect, Option } from "effect"
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { MAX_HEARTBEAT_BYTES, MAX_PEERS, parseHeartbeat, peerView, processAlive, readHeartbeatText, scanHeartbeats, updateSightings } from "../src/instances/Peers.js"
import type { PeerContext, Sighting } from "../src/instances/Peers.js"

let root: string
beforeEach(() => {
  root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-peers-"))
})
afterEach(() => NFS.rmSync(root, { recursive: true, force: true }))

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(effect))
const beat = (host: string, pid: number, n: number, stopped?: boolean) => JSON.stringify({ host, pid, beat: n, ...(stopped ? { stopped } : {}) })

describe("readHeartbeatText", () => {
  it("reads a small regular file; a missing one is None", async () => {
    NFS.writeFileSync(Path.join(root, "hb"), beat("h", 1, 2))
    expect(await run(readHeartbeatText(Path.join(root, "hb")))).toMatchObject({ _tag: "Right", right: Option.some(beat("h", 1, 2)) })
    expect(await run(readHeartbeatText(Path.join(root, "none")))).toMatchObject({ _tag: "Right", right: Option.none() })
  })

  it("does not follow a symbolic link", async () => {
    NFS.writeFileSync(Path.join(root, "secret"), beat("h", 1, 2))
    NFS.symlinkSync(Path.join(root, "secret"), Path.join(root, "hb"))
    expect(await run(readHeartbeatText(Path.join(root, "hb")))).toMatchObject({ _tag: "Left", left: { _tag: "HeartbeatUnreadable", reason: "a symbolic link" } })
  })

  it("does not block on a FIFO nor read a directory", async () => {
    ChildProcess.execFileSync("mkfifo", [Path.join(root, "fifo")])
    NFS.mkdirSync(Path.join(root, "dir"))
    // Without O_NONBLOCK the open of a FIFO without a writer would wait for ever (the test would time out).
    expect(await run(readHeartbeatText(Path.join(root, "fifo")))).toMatchObject({ _tag: "Left", left: { reason: "not a regular file" } })
    expect(await run(readHeartbeatText(Path.join(root, "dir")))).toMatchObject({ _tag: "Left", left: { reason: "not a regular file" } })
  })

  it("refuses a file over the size limit without reading it into memory", async () => {
    NFS.writeFileSync(Path.join(root, "big"), "x".repeat(MAX_HEARTBEAT_BYTES + 1))
    NFS.writeFileSync(Path.join(root, "limit"), "x".repeat(MAX_HEARTBEAT_BYTES))
    expect(await run(readHeartbeatText(Path.join(root, "big")))).toMatchObject({ _tag: "Left", left: { reason: `larger than ${MAX_HEARTBEAT_BYTES} bytes` } })
    expect(await run(readHeartbeatText(Path.join(root, "limit")))).toMatchObject({ _tag: "Right" })
  })
})

describe("parseHeartbeat", () => {
  it("accepts the heartbeat's shape only", async () => {
    const parse = (text: string) => Effect.runPromise(parseHeartbeat(text))
    expect(await parse(beat("h", 12, 3))).toEqual(Option.some({ host: "h", pid: 12, beat: 3 }))
    expect(await parse(beat("h", 12, 3, true))).toEqual(Option.some({ host: "h", pid: 12, beat: 3, stopped: true }))
    expect(await parse('{"host":"h","pid":1')).toEqual(Option.none()) // caught half-way through a write
    expect(await parse('{"host":1,"pid":1,"beat":1}')).toEqual(Option.none())
    expect(await parse("[]")).toEqual(Option.none())
    expect(await parse("")).toEqual(Option.none())
  })
})

describe("judging an instance from its heartbeat", () => {
  const HEARTBEAT_MS = 5000
  const context = (now: number, alive: ReadonlySet<number> = new Set()): PeerContext => ({
    selfId: "me-1-aaa",
    host: "me",
    heartbeatMs: HEARTBEAT_MS,
    now,
    processAlive: (pid) => alive.has(pid)
  })
  const sighting = (id: string, content: string | undefined, since: number, problem?: string): Sighting => ({
    id,
    content,
    heartbeat: content === undefined ? undefined : JSON.parse(content) as Sighting["heartbeat"],
    problem,
    since
  })

  it("goes by the process table on this host and by unchanged beats on another", () => {
    const now = 100_000
    const view = (s: Sighting, alive?: ReadonlySet<number>) => peerView(s, context(now, alive)).state
    expect(view(sighting("me-1-aaa", beat("me", 1, 9), now))).toBe("this")
    expect(view(sighting("me-2-bbb", beat("me", 2, 1), now - 60_000), new Set([2]))).toBe("alive") // busy, but its process runs
    expect(view(sighting("me-3-ccc", beat("me", 3, 1), now))).toBe("gone")
    expect(view(sighting("far-4-ddd", beat("far", 4, 1), now - 3 * HEARTBEAT_MS + 1))).toBe("alive")
    expect(view(sighting("far-4-ddd", beat("far", 4, 1), now - 3 * HEARTBEAT_MS))).toBe("stale")
    expect(view(sighting("far-5-eee", beat("far", 5, 1, true), now))).toBe("stopped")
    expect(view(sighting("x", undefined, now, "a symbolic link"))).toBe("unreadable")
    expect(view(sighting("y", undefined, now))).toBe("unknown")
    expect(peerView(sighting("far-4-ddd", beat("far", 4, 7), now - 7_000), context(now))).toEqual({
      id: "far-4-ddd",
      host: "far",
      pid: 4,
      beat: 7,
      state: "alive",
      unchangedMs: 7_000,
      problem: undefined
    })
  })

  it("measures how long a heartbeat has not changed from when this instance saw it change", () => {
    const read = (id: string, content: string) => ({ id, content, heartbeat: JSON.parse(content) as Sighting["heartbeat"], problem: undefined })
    let seen = updateSightings(new Map(), [read("a", beat("h", 1, 1)), read("b", beat("h", 2, 1))], 1000)
    seen = updateSightings(seen, [read("a", beat("h", 1, 1)), read("b", beat("h", 2, 2))], 6000)
    expect(seen.get("a")!.since).toBe(1000)
    expect(seen.get("b")!.since).toBe(6000)
    // a folder gone is forgotten
    seen = updateSightings(seen, [read("a", beat("h", 1, 1))], 11_000)
    expect([...seen.keys()]).toEqual(["a"])
    expect(seen.get("a")!.since).toBe(1000)
  })

  it("knows whether a process of this host runs", () => {
    expect(processAlive(process.pid)).toBe(true)
    const child = ChildProcess.spawnSync(process.execPath, ["-e", "0"])
    expect(processAlive(child.pid!)).toBe(false)
  })
})

describe("scanHeartbeats", () => {
  it("reads each instance folder's heartbeat and skips loose files and hidden entries", async () => {
    for (const [id, content] of [["h-1-aaa", beat("h", 1, 4)], ["h-2-bbb", "garbage"]] as const) {
      NFS.mkdirSync(Path.join(root, id))
      NFS.writeFileSync(Path.join(root, id, ".heartbeat"), content)
    }
    NFS.mkdirSync(Path.join(root, "h-3-ccc")) // starting: no heartbeat yet
    NFS.mkdirSync(Path.join(root, "h-4-ddd"))
    NFS.symlinkSync("/etc/hostname", Path.join(root, "h-4-ddd", ".heartbeat"))
    NFS.writeFileSync(Path.join(root, "1700000000000-1_loose.json"), "{}")
    NFS.mkdirSync(Path.join(root, ".hidden"))
    const reads = await Effect.runPromise(scanHeartbeats(root))
    expect(reads).toEqual([
      { id: "h-1-aaa", content: beat("h", 1, 4), heartbeat: { host: "h", pid: 1, beat: 4 }, problem: undefined },
      { id: "h-2-bbb", content: "garbage", heartbeat: undefined, problem: undefined },
      { id: "h-3-ccc", content: undefined, heartbeat: undefined, problem: undefined },
      { id: "h-4-ddd", content: undefined, heartbeat: undefined, problem: "a symbolic link" }
    ])
  })

  it("looks at no more than MAX_PEERS folders", async () => {
    for (let i = 0; i < MAX_PEERS + 10; i++) NFS.mkdirSync(Path.join(root, `h-${String(i).padStart(3, "0")}`))
    expect(await Effect.runPromise(scanHeartbeats(root))).toHaveLength(MAX_PEERS)
  })

  it("fails with a typed error when the processing folder cannot be listed", async () => {
    expect(await run(scanHeartbeats(Path.join(root, "missing")))).toMatchObject({ _tag: "Left", left: { _tag: "HeartbeatUnreadable", reason: "ENOENT" } })
  })
})
