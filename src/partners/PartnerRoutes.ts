/**
 * Where a partner's files come from and go: the inboxes the intake lists and
 * the Watcher watches, and each partner's folders for the FileStore (its
 * inbox, its returns folder, `validated/` or `validated/<partner>/`).
 *
 * A `Context.Reference`: without a partners file nothing provides it and its
 * default says "no partners" (`inboxes()` is `undefined`), so the FileStore
 * and the Watcher keep DATA_DIR, VALIDATED_DIR and RETURNS_DIR, with no cost
 * per file. `layer` provides it from the `Partners` service: the inboxes
 * follow each reload (SIGHUP); a partner removed by a reload stays known
 * (its folders resolvable) for the rest of the run, so that its files already
 * listed or claimed finish where they belong.
 *
 * @module
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as NodeCommandExecutor from "@effect/platform-node/NodeCommandExecutor"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import { FileOps } from "../files/FileOps.js"
import type { InboxToList } from "./FairListing.js"
import * as PartnersService from "./Partners.js"
import { Partners } from "./Partners.js"
import type { PartnerSet, PartnersRefused } from "./Partners.js"
import type { Partner } from "./PartnersFile.js"

/** Where partners' files come from and go. */
export interface PartnerRoutesService {
  /** the inboxes to list and watch now; `undefined` without a partners file (DATA_DIR alone) */
  readonly inboxes: () => ReadonlyArray<InboxToList> | undefined
  /** the inboxes, then each change of them (a reload) */
  readonly changes: Stream.Stream<ReadonlyArray<InboxToList>>
  /** a partner served since the start (one a reload removed too), `undefined` if none has that id */
  readonly partner: (id: string) => Partner | undefined
  /** the folder a partner's validated files go to: VALIDATED_DIR, or VALIDATED_DIR/<partner> (`validated: own`) */
  readonly validatedDir: (partner: Partner) => string
}

/** No partners file: DATA_DIR, VALIDATED_DIR and RETURNS_DIR, as always. */
const none: PartnerRoutesService = {
  inboxes: () => undefined,
  changes: Stream.empty,
  partner: () => undefined,
  validatedDir: () => ""
}

/** Where partners' files come from and go (default: no partners). */
export class PartnerRoutes extends Context.Reference<PartnerRoutes>()("customer-json/PartnerRoutes", { defaultValue: () => none }) {}

/** Pure: the inboxes of a partner set, in the file's order; none for the implicit partner (its inbox is DATA_DIR). */
export const inboxesOf = (set: PartnerSet): ReadonlyArray<InboxToList> | undefined =>
  set.implicit ? undefined : set.partners.map((p) => ({ partner: p.id, dir: p.inbox }))

/**
 * Pure: who is told about a partner's returned files: its own addresses, and
 * the administrators unless it says `administrators: false`; the
 * administrators when that leaves no one (a returned file is never told to nobody).
 */
export const recipientsOf = (partner: Partner, administrators: ReadonlyArray<string>): ReadonlyArray<string> => {
  const to = partner.notify.administrators ? [...partner.notify.to, ...administrators.filter((a) => !partner.notify.to.includes(a))] : partner.notify.to
  return to.length > 0 ? to : administrators
}

/** Pure: where a partner's validated files go under VALIDATED_DIR `validatedDir`. */
export const validatedDirOf = (validatedDir: string, partner: Partner): string =>
  partner.validated === "own" ? Path.join(validatedDir, partner.id) : validatedDir

/**
 * The routes of the `Partners` served, following each reload; the folders
 * `validated/<partner>/` of partners that ask for them are made (0755, as
 * the daemon's other folders) at start and at each reload that adds one.
 */
export const layer: Layer.Layer<PartnerRoutes, never, Partners | AppConfig | FileOps> = Layer.scoped(
  PartnerRoutes,
  Effect.gen(function*() {
    const partners = yield* Partners
    const config = yield* AppConfig
    const ops = yield* FileOps
    const first = yield* partners.current
    const known = new Map<string, Partner>()
    const inboxes = yield* SubscriptionRef.make(inboxesOf(first) ?? [])
    let now: ReadonlyArray<InboxToList> | undefined = inboxesOf(first)
    const take = (set: PartnerSet) =>
      Effect.gen(function*() {
        for (const p of set.partners) {
          known.set(p.id, p)
          if (p.validated === "own") {
            yield* ops.makeFolder(validatedDirOf(config.validatedDir, p), 0o755).pipe(
              Effect.catchAll((e) =>
                Effect.logError(`partner ${p.id}: its folder ${validatedDirOf(config.validatedDir, p)} cannot be made; its valid files stay claimed until it can`).pipe(
                  Effect.annotateLogs({ error: e.message })
                )
              )
            )
          }
        }
        now = inboxesOf(set)
        yield* SubscriptionRef.set(inboxes, now ?? [])
      })
    yield* take(first)
    if (!first.implicit) {
      yield* Effect.logInfo("partners served").pipe(
        Effect.annotateLogs({ partners: first.partners.length, ids: first.partners.slice(0, 20).map((p) => p.id), more: Math.max(0, first.partners.length - 20) })
      )
    }
    // Each reload (`changes` gives the current set again first: taking a set twice changes nothing).
    yield* Effect.forkScoped(Stream.runForEach(partners.changes, take))
    return {
      inboxes: () => now,
      changes: inboxes.changes,
      partner: (id) => known.get(id),
      validatedDir: (p) => validatedDirOf(config.validatedDir, p)
    } satisfies PartnerRoutesService
  })
)

/** No partners file: DATA_DIR, VALIDATED_DIR and RETURNS_DIR (the default of `PartnerRoutes`, provided as a layer). */
export const layerNone: Layer.Layer<PartnerRoutes> = Layer.succeed(PartnerRoutes, none)

/**
 * The routes as the settings say: PARTNERS_FILE's partners (checked at start:
 * a mistake or an unsealed layout stops the start, naming the partner, the
 * folder and the fix), read again on each SIGHUP; no PARTNERS_FILE, `layerNone`.
 */
export const layerFromConfig: Layer.Layer<PartnerRoutes, PartnersRefused, AppConfig | FileSystem.FileSystem | FileOps> = Layer.unwrapEffect(
  Effect.map(AppConfig, (settings) =>
    Option.match(settings.partnersFile, {
      onNone: () => layerNone,
      onSome: (path) =>
        Layer.merge(layer, Layer.scopedDiscard(PartnersService.reloadOnHangup)).pipe(
          Layer.provide(PartnersService.layerFile(path).pipe(Layer.provide(NodeCommandExecutor.layer)))
        )
    }))
)
