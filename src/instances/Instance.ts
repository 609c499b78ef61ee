/**
 * This daemon instance among others on the same folders. Each instance keeps
 * its claimed files in its own `processing/<id>/` folder beside a heartbeat
 * file; an instance is dead when its process is gone (same host), when it
 * stopped cleanly, or when its heartbeat has not changed for three beats as
 * observed here (hosts' clocks are never compared).
 *
 * @module
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Crypto from "node:crypto"
import * as OS from "node:os"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import { errnoCode, FileOps, isNotFound, isStale, unlinkIfThere } from "../files/FileOps.js"
import { describeIoError } from "../files/IoRetry.js"
import { sayOncePerCause } from "../logging/SayOnce.js"
import { PROCESSING_MODE, stagesOf } from "../files/FileStore.js"
import type { Entry } from "../files/FileOps.js"
import { claimSidecarName, parseProcessingName, processingName } from "../files/Naming.js"
import { onEvery } from "../runtime/AlignedTimers.js"
import { parseHeartbeat } from "./Heartbeat.js"
import type { Heartbeat } from "./Heartbeat.js"

/** The heartbeat file in each instance's processing folder: other instances watch it change. */
export const HEARTBEAT_FILE = ".heartbeat"
/** A dead instance's folder, taken over whole and being emptied (see `adoptOrphans`). */
const ADOPTING = ".adopting-"
const STALE_AFTER_BEATS = 3
/** Beats after which a heartbeat that cannot be read at all counts as stale too (a deleted one, say). */
const NO_EVIDENCE_BEATS = 10 * STALE_AFTER_BEATS

/** This instance: its id and processing folder, its claimed files, and the dead instances' files it adopts. */
export interface InstanceService {
  readonly id: string
  /** `processing/<id>`: where this instance's claimed files live */
  readonly dir: string
  /** A fresh path in `dir` for a file claimed now; it counts as being worked on until `release`. */
  readonly claimPath: (original: string, receivedAtMs: number) => string
  /** Marks a claimed file as being worked on (recovery), so no listing hands it out twice. */
  readonly hold: (claimedName: string) => void
  readonly release: (claimedPathOrName: string) => void
  /** The claimed names being worked on right now (from `claimPath` or `hold` until `release`). */
  readonly inUse: () => Iterable<string>
  /** Claimed files in `dir` that nothing is working on (left by a failure or an earlier run). */
  readonly claimedFiles: Effect.Effect<ReadonlyArray<string>, PlatformError>
  /**
   * Moves the claimed files of dead instances (and loose files directly in
   * `processing/`) into `dir`, one atomic rename each; returns their names.
   */
  readonly adoptOrphans: Effect.Effect<ReadonlyArray<string>, PlatformError>
  /**
   * This instance's place among the instances on the folder tree: `count`
   * instance folders in `processing/` (live ones, and dead ones until they are
   * adopted), `rank` the place of this one's id among them in sorted order.
   * The same on every instance that lists the folder at the same moment;
   * `{ rank: 0, count: 1 }` when the folder cannot be read.
   */
  readonly share: Effect.Effect<Share>
}

/** This instance's place among those on the folder tree (`rank` of `count`). */
export interface Share {
  readonly rank: number
  readonly count: number
}

/** The share of instance `id` given the entries of `processing/` (pure). */
export const shareOf = (id: string, entries: ReadonlyArray<Entry>): Share => {
  const ids = entries.filter((e) => e.type === "Directory" && !e.name.startsWith(".")).map((e) => e.name).sort()
  const rank = ids.indexOf(id)
  return rank < 0 ? { rank: 0, count: 1 } : { rank, count: ids.length }
}

/** This daemon instance among others on the same folders (its processing folder, heartbeat and adoptions). */
export class Instance extends Context.Tag("customer-json/Instance")<Instance, InstanceService>() {}

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return typeof error === "object" && error !== null && "code" in error && error.code === "EPERM"
  }
}

/** A heartbeat is a few dozen bytes; anything larger is not one and is not read. */
const HEARTBEAT_MAX_BYTES = 4096

/**
 * Forgets the heartbeats seen of instances whose folders are gone (stopped
 * cleanly, or taken over): ids are per process, so a daemon running for months
 * beside restarting instances would otherwise remember every one.
 */
export const forgetGone = (seen: Map<string, unknown>, present: ReadonlyArray<string>): void => {
  if (seen.size === 0) return
  const there = new Set(present)
  for (const other of seen.keys()) if (!there.has(other)) seen.delete(other)
}

/** The host and process id an instance folder's name (`<host>-<pid>-<random>`) carries. */
export const instanceOfId = (id: string): { readonly host: string; readonly pid: number } | undefined => {
  const m = /^(.+)-(\d{1,10})-[0-9a-f]{6}$/.exec(id)
  return m === null ? undefined : { host: m[1]!, pid: Number(m[2]) }
}

const safeHost = (host: string) => host.replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 64) || "host"

/** Builds this instance (its folder and heartbeat, scoped) over `FileOps` and `AppConfig`. */
export const makeInstance = Effect.gen(function*() {
  const extra = yield* FileOps
  const config = yield* AppConfig
  const host = OS.hostname()
  const id = `${safeHost(host)}-${process.pid}-${Crypto.randomBytes(3).toString("hex")}`
  const root = config.processingDir
  const dir = Path.join(root, id)
  const heartbeatPath = Path.join(dir, HEARTBEAT_FILE)
  let beat = 0
  let seq = 0

  // In the instance's private folder, readable by the daemon's group only.
  /**
   * Written whole under a fresh name, then renamed over the last one: another
   * host reading through its own mount never sees a half-written (empty) beat.
   */
  const putHeartbeat = (content: string) =>
    Effect.suspend(() => {
      const temp = Path.join(dir, `.heartbeat.${Crypto.randomBytes(8).toString("hex")}.tmp`)
      return Effect.zipRight(extra.writeNew(temp, Buffer.from(content), 0o640), extra.rename(temp, heartbeatPath)).pipe(
        Effect.tapError(() => Effect.ignore(extra.unlink(temp)))
      )
    })

  /** A heartbeat with the next count: built when it runs (each beat must differ, or other hosts see this instance dead). */
  const writeHeartbeat = (stopped: boolean) =>
    Effect.suspend(() =>
      putHeartbeat(JSON.stringify({ host, pid: process.pid, beat: ++beat, ...(stopped ? { stopped } : {}) } satisfies Heartbeat))
    ).pipe(
      // Taken for dead by another host and its folder adopted: come back to life.
      Effect.catchIf(isNotFound, () =>
        Effect.zipRight(
          extra.makeFolder(dir, PROCESSING_MODE),
          Effect.suspend(() => putHeartbeat(JSON.stringify({ host, pid: process.pid, beat: ++beat } satisfies Heartbeat)))
        ))
    )

  yield* extra.makeFolder(dir, PROCESSING_MODE)
  yield* writeHeartbeat(false)
  yield* Effect.addFinalizer(() =>
    Effect.gen(function*() {
      const entries = yield* extra.list(dir)
      // Files interrupted at shutdown stay; "stopped" lets the next instance adopt them at once.
      if (entries.some((e) => !e.name.startsWith(HEARTBEAT_FILE))) return yield* writeHeartbeat(true)
      for (const e of entries) yield* unlinkIfThere(extra, Path.join(dir, e.name))
      yield* extra.removeFolder(dir)
    }).pipe(
      Effect.catchAll((e) =>
        Effect.logWarning("could not tidy this instance's folder at shutdown; the next instance takes it over").pipe(
          Effect.annotateLogs({ folder: dir, error: describeIoError(e) })
        )
      )
    )
  )
  // A heartbeat that cannot be written is said (once per cause): other hosts may take this instance for dead.
  const heartbeatFailure = sayOncePerCause()
  const beatOrSay = writeHeartbeat(false).pipe(
    Effect.zipLeft(heartbeatFailure.cleared),
    Effect.catchAll((e) =>
      heartbeatFailure.say(
        // (by its cause: each beat's file has a fresh name)
        errnoCode(e) ?? e._tag,
        Effect.logWarning(
          "could not write this instance's heartbeat; instances on other hosts may take it for dead and take over its files (tried every HEARTBEAT_MS)"
        ).pipe(Effect.annotateLogs({ folder: dir, error: describeIoError(e) }))
      )
    )
  )
  yield* onEvery(config.heartbeatMs, beatOrSay).pipe(Effect.forkScoped)

  // Heartbeat contents as last seen, and since when (by this instance's clock).
  const seen = new Map<string, { readonly content: string; readonly since: number }>()

  const isDead = (other: string) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // Never followed, never waited for (a FIFO), never more than a heartbeat's size.
      const read = yield* extra.readRegular(Path.join(root, other, HEARTBEAT_FILE), HEARTBEAT_MAX_BYTES).pipe(
        Effect.map((read) => (read._tag === "Read" ? Buffer.from(read.bytes).toString("utf8") : "")),
        Effect.catchIf(isNotFound, () => Effect.succeed("")),
        // A beat renamed over the one being read, through another mount of a network filesystem.
        Effect.catchIf(isStale, () => Effect.succeed(undefined))
      )
      const content = read ?? ""
      const heartbeat = parseHeartbeat(content)
      if (heartbeat?.stopped === true) return true
      // On this host the process table is the truth: a busy instance whose heartbeat
      // lags is alive. Heartbeat staleness is for instances on other hosts.
      if (heartbeat !== undefined && heartbeat.host === host) return !processAlive(heartbeat.pid)
      // The folder's name says the same (when the heartbeat could not be read whole).
      const named = instanceOfId(other)
      if (named !== undefined && named.host === safeHost(host) && processAlive(named.pid)) return false
      // A read that saw no beat (a stale handle, a size not yet updated through this mount)
      // is no evidence either way: the beat last seen keeps its age.
      const last = seen.get(other)
      if (read === undefined || (content === "" && last !== undefined && last.content !== "")) {
        return last !== undefined && now - last.since >= NO_EVIDENCE_BEATS * config.heartbeatMs
      }
      if (last === undefined || last.content !== content) {
        seen.set(other, { content, since: now })
        return false
      }
      return now - last.since >= STALE_AFTER_BEATS * config.heartbeatMs
    })

  /**
   * Claimed files moved in by an adoption that has not finished: not handed out
   * by `claimedFiles` until it has. An adopter killed between moving a file's
   * stages and the file itself leaves the stages in its own folder, outside the
   * `.adopting-*` folder that holds the file: the next adopter brings the file
   * in first and those stages only at the end (hidden files go last). Handed
   * out in between, a stored file would look unstored and be stored again.
   * Kept when a drain fails: the next adoption drains the rest first.
   */
  const arriving = new Set<string>()

  /**
   * Moves a claimed file from `folder` into `dir` together with its stages and
   * note (found by its name, so renamed with it if its name is taken here).
   */
  const moveClaim = (folder: string, name: string): Effect.Effect<ReadonlyArray<string>, PlatformError> =>
    Effect.gen(function*() {
      const parsed = parseProcessingName(name)
      const now = yield* Clock.currentTimeMillis
      let target = parsed === undefined ? processingName(now, ++seq, name) : name
      const taken = yield* extra.identify(Path.join(dir, target)).pipe(Effect.as(true), Effect.catchIf(isNotFound, () => Effect.succeed(false)))
      if (taken) target = processingName(now, ++seq, parsed?.original ?? name)
      arriving.add(target)
      const from = stagesOf(Path.join(folder, name))
      const to = stagesOf(Path.join(dir, target))
      for (const kind of ["data", "report", "xdata", "xreport", "rtarget"] as const) {
        yield* extra.rename(from[kind], to[kind]).pipe(Effect.catchIf(isNotFound, () => Effect.void))
      }
      const newParsed = parseProcessingName(target)
      if (parsed?.shortened === true && newParsed !== undefined) {
        yield* extra.rename(
          Path.join(folder, claimSidecarName(parsed.receivedAtMs, parsed.seq)),
          Path.join(dir, claimSidecarName(newParsed.receivedAtMs, newParsed.seq))
        ).pipe(Effect.catchIf(isNotFound, () => Effect.void))
      }
      return yield* extra.rename(Path.join(folder, name), Path.join(dir, target)).pipe(
        Effect.as([target]),
        Effect.catchIf(isNotFound, () => Effect.succeed([]))
      )
    })

  /**
   * Empties a folder this instance has taken over into `dir`: claimed files
   * with their stages, claimed folders (a producer's folder taken for a file
   * by an instance that died before putting it back), then whatever hidden
   * files are left (stages of files released already: swept later), then the
   * folder, once it holds nothing but heartbeats: anything a listing missed
   * fails the drain (said by the take-over), to be moved at the next one. A
   * folder taken over by an instance that died doing it is inside, as
   * `.adopting-*`: drained too.
   */
  const drain = (folder: string): Effect.Effect<ReadonlyArray<string>, PlatformError> =>
    Effect.gen(function*() {
      const entries = yield* extra.list(folder).pipe(Effect.catchIf(isNotFound, () => Effect.succeed<ReadonlyArray<Entry>>([])))
      const adopted: Array<string> = []
      for (const e of entries) {
        if (e.type === "Directory" && e.name.startsWith(ADOPTING)) adopted.push(...(yield* drain(Path.join(folder, e.name))))
      }
      for (const e of entries) {
        if (e.name.startsWith(".")) continue
        if (e.type !== "Directory") adopted.push(...(yield* moveClaim(folder, e.name)))
        else {
          // (a claimed folder is handed out like a claimed file: recovery puts it back into data/)
          const moved = yield* extra.rename(Path.join(folder, e.name), Path.join(dir, e.name)).pipe(
            Effect.as(true),
            Effect.catchIf(isNotFound, () => Effect.succeed(false))
          )
          if (moved) adopted.push(e.name)
        }
      }
      for (const e of yield* extra.list(folder).pipe(Effect.catchIf(isNotFound, () => Effect.succeed<ReadonlyArray<Entry>>([])))) {
        if (!e.name.startsWith(".") || e.type === "Directory") continue
        const path = Path.join(folder, e.name)
        yield* (e.name.startsWith(HEARTBEAT_FILE) ? extra.unlink(path) : extra.rename(path, Path.join(dir, e.name))).pipe(
          Effect.catchIf(isNotFound, () => Effect.void)
        )
      }
      yield* extra.removeFolder(folder).pipe(Effect.catchIf(isNotFound, () => Effect.void))
      return adopted
    })

  /** A taken-over folder emptied to the end: what came in with it is complete (see `arriving`). */
  const drainWhole = (folder: string) => Effect.tap(drain(folder), () => Effect.sync(() => arriving.clear()))

  const adoptOrphans = Effect.gen(function*() {
    const adopted: Array<string> = []
    // Taken over by an earlier run of this process's folder and not finished: finish it.
    for (const e of yield* extra.list(dir)) {
      if (e.type === "Directory" && e.name.startsWith(ADOPTING)) adopted.push(...(yield* drainWhole(Path.join(dir, e.name))))
    }
    const listed = yield* extra.list(root)
    forgetGone(seen, listed.map((e) => e.name))
    for (const { name: entry, type } of listed) {
      if (entry === id || entry.startsWith(".")) continue
      const path = Path.join(root, entry)
      if (type === "File") {
        adopted.push(...(yield* moveClaim(root, entry)))
        continue
      }
      if (type !== "Directory" || !(yield* isDead(entry))) continue
      // One rename takes the whole folder: of several instances adopting at once, exactly one
      // gets it, claimed files and stages together (file by file, they could be split up).
      const taken = Path.join(dir, `${ADOPTING}${entry}`)
      const won = yield* extra.rename(path, taken).pipe(Effect.as(true), Effect.catchIf(isNotFound, () => Effect.succeed(false)))
      seen.delete(entry)
      if (!won) continue
      const files = yield* drainWhole(taken)
      adopted.push(...files)
      yield* Effect.logInfo("recovered the files of a stopped instance").pipe(
        Effect.annotateLogs({ dead_instance: entry, files: files.length })
      )
    }
    arriving.clear()
    return adopted
  })

  // Claimed files being worked on right now: a listing of `dir` must not hand them out again.
  const active = new Set<string>()

  return Instance.of({
    id,
    dir,
    claimPath: (original, receivedAtMs) => {
      const name = processingName(receivedAtMs, ++seq, original)
      active.add(name)
      return Path.join(dir, name)
    },
    hold: (name) => void active.add(name),
    release: (pathOrName) => void active.delete(Path.basename(pathOrName)),
    inUse: () => active.keys(),
    claimedFiles: Effect.map(
      extra.list(dir),
      (entries) => entries.map((e) => e.name).filter((n) => !n.startsWith(".") && !active.has(n) && !arriving.has(n))
    ),
    adoptOrphans,
    share: Effect.map(extra.list(root), (entries) => shareOf(id, entries)).pipe(Effect.orElseSucceed((): Share => ({ rank: 0, count: 1 })))
  })
})

/** This instance as a scoped layer: the heartbeat runs, and stops with a clean mark, with the scope. */
export const layer = Layer.scoped(Instance, makeInstance)
