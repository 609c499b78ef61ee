/**
 * The Watcher: hints that something changed in the input folder. Events are
 * only hints (the kernel drops them on overflow and the platform's `fs.watch`
 * misreports their kind), so the Watcher also asks for full listings: every
 * RESCAN_INTERVAL_MS, after a watch error, and (in poll mode, for network
 * filesystems that give no events) every POLL_INTERVAL_MS.
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import { isPlainName, nameFromBytes } from "../files/Naming.js"
import { sayOncePerCause } from "../logging/SayOnce.js"
import { untilNext } from "../runtime/AlignedTimers.js"
import { qualifiedName } from "../files/PartnerNames.js"
import { PartnerRoutes } from "../files/PartnerRoutes.js"

/** A reason to look at the input folder again: never the truth about a file, only a nudge. */
export type Hint =
  /** something happened to this name */
  | { readonly _tag: "Name"; readonly name: string }
  /** list the folder; `full` also re-examines names set aside earlier */
  | { readonly _tag: "Rescan"; readonly full: boolean }

/**
 * A watch event's name as the rest of the daemon knows names: Naming's escaped
 * text, as a listing gives it (a `%` in the name is `%25`, a control character
 * `%XX`), never text whose escapes would be decoded into other bytes, or a `/`.
 * A name Node could not decode (not UTF-8) cannot be named from the event: a
 * light listing, which reads names as bytes, finds it.
 */
export const hintOfEvent = (path: string): Hint => {
  const name = Path.basename(path)
  if (isPlainName(name)) return { _tag: "Name", name }
  if (name.includes("\uFFFD")) return { _tag: "Rescan", full: false }
  return { _tag: "Name", name: nameFromBytes(Buffer.from(name, "utf8")).text }
}

/** The Watcher's one operation: an endless stream of hints. */
export interface WatcherService {
  readonly hints: Stream.Stream<Hint>
}

/**
 * Hints that something changed in DATA_DIR: watch events, and full listings
 * every RESCAN_INTERVAL_MS (events get lost). Swap it to drive the daemon from
 * another source of names.
 */
export class Watcher extends Context.Tag("customer-json/Watcher")<Watcher, WatcherService>() {}

/** Builds the Watcher over the FileSystem and the settings (WATCH_MODE, RESCAN_INTERVAL_MS, POLL_INTERVAL_MS). */
export const makeWatcher = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const config = yield* AppConfig

  // At multiples of the period, so that listings share wake-ups with the heartbeat (AlignedTimers).
  const periodic = (ms: number, full: boolean): Stream.Stream<Hint> =>
    Stream.repeatEffect(Effect.as(untilNext(ms), { _tag: "Rescan", full } satisfies Hint as Hint))

  // A failed watch asks for a full listing, then watches again after a pause; a failure that
  // repeats at every try is said once (until an event comes through again).
  /** One folder's watch: its events as hints (`partner`: names qualified as that partner's, see PartnerNames). */
  const watchFolder = (dir: string, partner: string | undefined): Stream.Stream<Hint> => {
    const failures = sayOncePerCause()
    const hintOf = (path: string): Hint => {
      const hint = hintOfEvent(path)
      return partner === undefined || hint._tag !== "Name" ? hint : { _tag: "Name", name: qualifiedName(partner, hint.name) }
    }
    const what = partner === undefined ? "the input folder" : `partner ${partner}'s inbox`
    return fs.watch(dir).pipe(
      // (per chunk of events, not per event: a flood of them is the hot path here). The folder itself
      // named is a watch that let names go (NameWatch's overflow): a listing instead.
      Stream.mapChunksEffect((events) =>
        Effect.as(
          failures.cleared,
          Chunk.map(events, (event): Hint => (event.path === dir ? { _tag: "Rescan", full: false } : hintOf(event.path)))
        )
      ),
      Stream.catchAll((error) =>
        Stream.fromEffect(
          failures.say(
            error.message,
            Effect.logWarning(`watching ${what} failed; listing it and watching again (every second; said again if it changes)`).pipe(
              Effect.annotateLogs({ error: error.message, folder: dir })
            )
          ).pipe(Effect.as<Hint>({ _tag: "Rescan", full: true }))
        ).pipe(Stream.concat(Stream.fromEffect(Effect.sleep("1 second")).pipe(Stream.drain)))
      ),
      Stream.forever
    )
  }

  // Partners (PARTNERS_FILE): every inbox watched, the watches made again at each reload (SIGHUP),
  // which also asks for a listing (a new partner's inbox may hold files already). Events cost
  // nothing while nothing happens: no polling per inbox.
  const routes = yield* PartnerRoutes
  const native: Stream.Stream<Hint> = routes.inboxes() === undefined
    ? watchFolder(config.dataDir, undefined)
    : routes.changes.pipe(
      Stream.flatMap((inboxes) =>
        Stream.merge(
          Stream.succeed<Hint>({ _tag: "Rescan", full: true }),
          Stream.mergeAll(inboxes.map((inbox) => watchFolder(inbox.dir, inbox.partner)), { concurrency: "unbounded" })
        ), { switch: true })
    )
  // In poll mode, one listing of every inbox per POLL_INTERVAL_MS (a reload asks for one at once).
  const polled = routes.inboxes() === undefined
    ? periodic(config.pollIntervalMs, false)
    : Stream.merge(periodic(config.pollIntervalMs, false), Stream.map(Stream.drop(routes.changes, 1), (): Hint => ({ _tag: "Rescan", full: true })))

  const live = config.watchMode === "native" ? native : polled
  return Watcher.of({ hints: Stream.merge(live, periodic(config.rescanIntervalMs, true)) })
})

/** The Watcher as a layer, over `FileSystem` and `AppConfig`. */
export const layer = Layer.effect(Watcher, makeWatcher)
