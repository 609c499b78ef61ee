/**
 * The other instances on the same folders, as this one sees them, for the
 * status page: every `PROCESSING_DIR/<instance>/.heartbeat` is read every
 * HEARTBEAT_MS by a background fiber (so no HTTP request ever reads a file),
 * and each is shown with how long its content has gone unchanged as observed
 * here: hosts' clocks are never compared, as in Instance.
 *
 * A heartbeat is a file any process with access to the folder can replace, so
 * it is read defensively: opened without following a link and without
 * blocking (a FIFO), fstat must say a regular file of at most 4 KB, and the
 * JSON is checked against the heartbeat's shape.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import { parseHeartbeat as parseOne } from "./Heartbeat.js"
import type { Heartbeat } from "./Heartbeat.js"
import { HEARTBEAT_FILE, Instance } from "./Instance.js"
import { onEvery } from "../runtime/AlignedTimers.js"

export const MAX_HEARTBEAT_BYTES = 4096
/** Instances shown at most (a processing folder holds one folder per instance). */
export const MAX_PEERS = 64
/** As Instance: an instance on another host is stale after three unchanged beats. */
const STALE_AFTER_BEATS = 3

export class HeartbeatUnreadable extends Data.TaggedError("HeartbeatUnreadable")<{
  readonly path: string
  readonly reason: string
}> {
  override get message() {
    return `heartbeat ${this.path} not read: ${this.reason}`
  }
}


const codeOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : "error"

const describeCode = (code: string): string =>
  code === "ELOOP" ? "a symbolic link" : code === "EACCES" || code === "EPERM" ? "permission denied" : code

/** The text of a heartbeat file, read without following links or blocking; `None` when there is none. */
export const readHeartbeatText = (path: string): Effect.Effect<Option.Option<string>, HeartbeatUnreadable> => {
  const fail = (reason: string) => new HeartbeatUnreadable({ path, reason })
  return Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () => NFS.promises.open(path, NFS.constants.O_RDONLY | NFS.constants.O_NOFOLLOW | NFS.constants.O_NONBLOCK),
      catch: (e) => fail(describeCode(codeOf(e)))
    }),
    (handle) =>
      Effect.gen(function*() {
        const info = yield* Effect.tryPromise({ try: () => handle.stat(), catch: (e) => fail(describeCode(codeOf(e))) })
        if (!info.isFile()) return yield* fail("not a regular file")
        if (info.size > MAX_HEARTBEAT_BYTES) return yield* fail(`larger than ${MAX_HEARTBEAT_BYTES} bytes`)
        const buffer = Buffer.alloc(MAX_HEARTBEAT_BYTES + 1)
        const { bytesRead } = yield* Effect.tryPromise({
          try: () => handle.read(buffer, 0, buffer.length, 0),
          catch: (e) => fail(describeCode(codeOf(e)))
        })
        if (bytesRead > MAX_HEARTBEAT_BYTES) return yield* fail(`larger than ${MAX_HEARTBEAT_BYTES} bytes`)
        return Option.some(buffer.toString("utf8", 0, bytesRead))
      }),
    (handle) => Effect.ignore(Effect.tryPromise(() => handle.close()))
  ).pipe(
    // A folder whose instance just removed it, or has not written its first beat yet.
    Effect.catchIf((e) => e.reason === "ENOENT", () => Effect.succeedNone)
  )
}

/** A heartbeat's content as JSON of the heartbeat's shape; `None` for anything else (a write caught half-way included). */
export const parseHeartbeat = (text: string): Effect.Effect<Option.Option<Heartbeat>> =>
  Effect.sync(() => Option.fromNullable(parseOne(text)))

/** What this instance last saw of another's heartbeat. */
export interface Sighting {
  readonly id: string
  /** the raw content, to notice a change; undefined when unreadable */
  readonly content: string | undefined
  readonly heartbeat: Heartbeat | undefined
  readonly problem: string | undefined
  /** when (this instance's clock) the content was first seen as it is */
  readonly since: number
}

export type PeerState = "this" | "alive" | "stale" | "stopped" | "gone" | "unreadable" | "unknown"

export interface PeerView {
  readonly id: string
  readonly host: string | undefined
  readonly pid: number | undefined
  readonly beat: number | undefined
  readonly state: PeerState
  /** how long its heartbeat has not changed, as seen here */
  readonly unchangedMs: number
  readonly problem: string | undefined
}

export interface PeerContext {
  readonly selfId: string
  readonly host: string
  readonly heartbeatMs: number
  readonly now: number
  /** whether a process of this host is running (same-host instances: the process table decides, as in Instance) */
  readonly processAlive: (pid: number) => boolean
}

/** An instance's state as Instance would judge it, from what was seen of its heartbeat. */
export const peerView = (sighting: Sighting, context: PeerContext): PeerView => {
  const hb = sighting.heartbeat
  const unchangedMs = Math.max(0, context.now - sighting.since)
  const state: PeerState = sighting.id === context.selfId
    ? "this"
    : sighting.problem !== undefined
    ? "unreadable"
    : hb === undefined
    ? "unknown"
    : hb.stopped === true
    ? "stopped"
    : hb.host === context.host
    ? (context.processAlive(hb.pid) ? "alive" : "gone")
    : unchangedMs >= STALE_AFTER_BEATS * context.heartbeatMs
    ? "stale"
    : "alive"
  return {
    id: sighting.id,
    host: hb?.host,
    pid: hb?.pid,
    beat: hb?.beat,
    state,
    unchangedMs,
    problem: sighting.problem
  }
}

/** Next sightings from the previous ones and what a scan read: `since` moves only when the content changed. */
export interface HeartbeatRead {
  readonly id: string
  readonly content: string | undefined
  readonly heartbeat: Heartbeat | undefined
  readonly problem: string | undefined
}

export const updateSightings = (
  previous: ReadonlyMap<string, Sighting>,
  reads: ReadonlyArray<HeartbeatRead>,
  now: number
): Map<string, Sighting> => {
  const next = new Map<string, Sighting>()
  for (const read of reads) {
    const last = previous.get(read.id)
    const same = last !== undefined && last.content === read.content && last.problem === read.problem
    next.set(read.id, {
      id: read.id,
      content: read.content,
      heartbeat: read.heartbeat,
      problem: read.problem,
      since: same ? last.since : now
    })
  }
  return next
}

/** The instance folders in `root` (at most MAX_PEERS, by name) and what their heartbeats hold. */
export const scanHeartbeats = (root: string) =>
  Effect.gen(function*() {
    const entries = yield* Effect.tryPromise({
      try: () => NFS.promises.readdir(root, { withFileTypes: true }),
      catch: (e) => new HeartbeatUnreadable({ path: root, reason: describeCode(codeOf(e)) })
    })
    const ids = entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name).sort().slice(0, MAX_PEERS)
    return yield* Effect.forEach(ids, (id): Effect.Effect<HeartbeatRead> =>
      readHeartbeatText(Path.join(root, id, HEARTBEAT_FILE)).pipe(
        Effect.flatMap(Option.match({
          // no heartbeat (yet): a starting instance, or a folder left behind
          onNone: () => Effect.succeed<HeartbeatRead>({ id, content: undefined, heartbeat: undefined, problem: undefined }),
          onSome: (content) =>
            Effect.map(parseHeartbeat(content), (hb): HeartbeatRead => ({ id, content, heartbeat: Option.getOrUndefined(hb), problem: undefined }))
        })),
        Effect.catchAll((e) => Effect.succeed<HeartbeatRead>({ id, content: undefined, heartbeat: undefined, problem: e.reason }))
      ), { concurrency: 4 })
  })

export interface PeerWatchService {
  /** the instances seen at the last scan, judged now */
  readonly views: Effect.Effect<ReadonlyArray<PeerView>>
}

/** The heartbeats of all instances, read every HEARTBEAT_MS by a fiber of the layer's scope. */
export class PeerWatch extends Context.Tag("customer-json/PeerWatch")<PeerWatch, PeerWatchService>() {}

export const layer: Layer.Layer<PeerWatch, never, AppConfig | Instance> = Layer.scoped(
    PeerWatch,
    Effect.gen(function*() {
      const config = yield* AppConfig
      const instance = yield* Instance
      const host = OS.hostname()
      const sightings = yield* Ref.make<ReadonlyMap<string, Sighting>>(new Map())
      const scan = scanHeartbeats(config.processingDir).pipe(
        Effect.flatMap((reads) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(sightings, (previous) => updateSightings(previous, reads, now)))
        ),
        Effect.catchAll((e) => Effect.logDebug("the instances' heartbeats could not be listed").pipe(Effect.annotateLogs({ error: e.message })))
      )
      yield* Effect.forkScoped(onEvery(config.heartbeatMs, scan))
      return PeerWatch.of({
        views: Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const seen = yield* Ref.get(sightings)
          const context: PeerContext = { selfId: instance.id, host, heartbeatMs: config.heartbeatMs, now, processAlive }
          return [...seen.values()].map((s) => peerView(s, context))
        })
      })
    })
  )

/** Whether a process of this host exists (EPERM: it does, but belongs to someone else). */
export const processAlive = (pid: number): boolean =>
  Either.match(Either.try(() => process.kill(pid, 0)), {
    onRight: () => true,
    onLeft: (error) => codeOf(error) === "EPERM"
  })
