/**
 * The partners file as the daemon's routes (files/PartnerRoutes, a port):
 * the inboxes follow each reload (SIGHUP); a partner removed by a reload
 * stays known for the rest of the run, so that its files already listed or
 * claimed finish where they belong. Also who is told about a partner's
 * returned files (`recipientsOf`).
 *
 * @module
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as NodeCommandExecutor from "@effect/platform-node/NodeCommandExecutor"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Path from "node:path"
import { AppConfig } from "../Config.js"
import type { InboxToList } from "../files/FairListing.js"
import { FileOps } from "../files/FileOps.js"
import { layerNone, PartnerRoutes } from "../files/PartnerRoutes.js"
import type { PartnerRoute, PartnerRoutesService } from "../files/PartnerRoutes.js"
import * as PartnersService from "./Partners.js"
import { Partners } from "./Partners.js"
import type { PartnerSet, PartnersRefused } from "./Partners.js"

/** Pure: the inboxes of a partner set, in the file's order; none for the implicit partner (its inbox is DATA_DIR). */
export const inboxesOf = (set: PartnerSet): ReadonlyArray<InboxToList> | undefined =>
  set.implicit ? undefined : set.partners.map((p) => ({ partner: p.id, dir: p.inbox }))

/**
 * Pure: who is told about a partner's returned files: its own addresses, and
 * the administrators unless it says `administrators: false`; the
 * administrators when that leaves no one (a returned file is never told to nobody).
 */
export const recipientsOf = (partner: PartnerRoute, administrators: ReadonlyArray<string>): ReadonlyArray<string> => {
  const to = partner.notify.administrators ? [...partner.notify.to, ...administrators.filter((a) => !partner.notify.to.includes(a))] : partner.notify.to
  return to.length > 0 ? to : administrators
}

/** Pure: where a partner's validated files go under VALIDATED_DIR `validatedDir`. */
export const validatedDirOf = (validatedDir: string, partner: PartnerRoute): string =>
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
    const known = new Map<string, PartnerRoute>()
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
