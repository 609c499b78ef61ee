/**
 * The partners the daemon serves, now: read from the partners file at start
 * and again on SIGHUP, or (no partners file) the one implicit partner of the
 * input and returns folders. A reload that fails (a mistake in the file, a
 * folder another partner could reach) keeps the partners as they were and
 * says why; a good one is logged with what it added and removed.
 *
 * @module
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { FileOps } from "../files/FileOps.js"
import type { Partner } from "./PartnersFile.js"
import { parsePartners, PartnersFileInvalid } from "./PartnersFile.js"
import { accountsFrom, sealedLayoutProblems } from "./SealedLayout.js"
import type { FolderFacts, LayoutProblem } from "./SealedLayout.js"

/** The partners served: those of the partners file, or the one implicit partner when there is none. */
export interface PartnerSet {
  readonly partners: ReadonlyArray<Partner>
  /** no partners file: one partner, the input and returns folders of the settings */
  readonly implicit: boolean
}

/** A partner's folder another partner (or anyone) could reach: what, and how to close it. */
export class PartnersNotSealed extends Data.TaggedError("PartnersNotSealed")<{
  readonly path: string
  readonly problems: ReadonlyArray<LayoutProblem>
}> {
  override get message(): string {
    return `partners in ${this.path} are not sealed off from each other: ${this.problems.map((p) => p.message).join("; ")}`
  }
}

/** A partner's folder or account that is not there. */
export class PartnerMissing extends Data.TaggedError("PartnerMissing")<{
  readonly path: string
  readonly partner: string
  readonly what: string
}> {
  override get message(): string {
    return `partner ${this.partner} in ${this.path}: ${this.what}`
  }
}

/** Why a partners file was not taken. */
export type PartnersRefused = PartnersFileInvalid | PartnersNotSealed | PartnerMissing

/** The partners now, and each change (a reload on SIGHUP). */
export interface PartnersService {
  readonly current: Effect.Effect<PartnerSet>
  /** the current set, then each new one */
  readonly changes: Stream.Stream<PartnerSet>
  /** reads the partners file again: the new set, or why it was refused (the current set stays) */
  readonly reload: Effect.Effect<PartnerSet, PartnersRefused>
}

/** The partners the daemon serves. */
export class Partners extends Context.Tag("customer-json/Partners")<Partners, PartnersService>() {}

/** The partners file's partners, checked against the system: their folders exist and no other partner reaches them. */
const load = (path: string, cwd: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const ops = yield* FileOps
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((e) => new PartnersFileInvalid({ path, line: 0, column: 0, problem: `it cannot be read (${e.message})` }))
    )
    const partners = yield* Either.match(parsePartners(text, path, cwd), { onLeft: Effect.fail, onRight: Effect.succeed })
    const facts = new Map<string, FolderFacts>()
    for (const p of partners) {
      for (const folder of ["inbox", "returns"] as const) {
        const meta = yield* ops.identify(p[folder]).pipe(
          Effect.mapError((e) => new PartnerMissing({ path, partner: p.id, what: `its ${folder} ${p[folder]} cannot be used (${e.message})` }))
        )
        if (meta.type !== "Directory") return yield* new PartnerMissing({ path, partner: p.id, what: `its ${folder} ${p[folder]} is not a folder` })
        facts.set(p[folder], { uid: meta.uid, gid: meta.gid, mode: meta.mode & 0o7777 })
      }
    }
    const names = partners.flatMap((p) => (p.account === undefined ? [] : [p.account]))
    const getent = (...args: Array<string>) => Command.string(Command.make("getent", ...args)).pipe(Effect.orElseSucceed(() => ""))
    const groupLines = names.length === 0 ? "" : yield* getent("group")
    const accounts = names.length === 0 ? new Map() : accountsFrom(yield* getent("passwd", ...names), groupLines, names)
    for (const p of partners) {
      if (p.account !== undefined && !accounts.has(p.account)) {
        return yield* new PartnerMissing({ path, partner: p.id, what: `its account ${p.account} is not known to this system (getent passwd ${p.account})` })
      }
    }
    const groups = new Map<number, string>()
    for (const line of groupLines.split("\n")) {
      const [name, , gid] = line.split(":")
      if (name !== undefined && gid !== undefined) groups.set(Number(gid), name)
    }
    const problems = sealedLayoutProblems(partners, facts, accounts, (gid) => groups.get(gid) ?? String(gid))
    if (problems.length > 0) return yield* new PartnersNotSealed({ path, problems })
    return { partners, implicit: false } satisfies PartnerSet
  })

/**
 * The partners of the partners file at `path` (folders relative to `cwd`),
 * checked at start (a mistake fails the layer: the daemon does not start) and
 * read again on each `reload` (SIGHUP, see `reloadOnHangup`).
 */
export const layerFile = (
  path: string,
  cwd: string = process.cwd()
): Layer.Layer<Partners, PartnersRefused, FileSystem.FileSystem | FileOps | CommandExecutor.CommandExecutor> =>
  Layer.effect(
    Partners,
    Effect.gen(function*() {
      const context = yield* Effect.context<FileSystem.FileSystem | FileOps | CommandExecutor.CommandExecutor>()
      const first = yield* load(path, cwd)
      const ref = yield* SubscriptionRef.make<PartnerSet>(first)
      return {
        current: SubscriptionRef.get(ref),
        changes: ref.changes,
        reload: load(path, cwd).pipe(Effect.tap((set) => SubscriptionRef.set(ref, set)), Effect.provide(context))
      }
    })
  )

/** No partners file: the one implicit partner, whose inbox and returns are the given folders. */
export const layerImplicit = (folders: { readonly inbox: string; readonly returns: string }): Layer.Layer<Partners> =>
  Layer.effect(
    Partners,
    Effect.gen(function*() {
      const set: PartnerSet = {
        partners: [{ id: "default", inbox: folders.inbox, returns: folders.returns, validated: "shared", contract: "1", account: undefined, notify: { to: [], administrators: true } }],
        implicit: true
      }
      const ref = yield* SubscriptionRef.make(set)
      return { current: SubscriptionRef.get(ref), changes: ref.changes, reload: Effect.succeed(set) }
    })
  )

/** Pure: what a reload changed, for its log line. */
export const partnersChanged = (before: PartnerSet, after: PartnerSet): { readonly added: ReadonlyArray<string>; readonly removed: ReadonlyArray<string>; readonly changed: ReadonlyArray<string> } => {
  const old = new Map(before.partners.map((p) => [p.id, p]))
  const now = new Map(after.partners.map((p) => [p.id, p]))
  return {
    added: [...now.keys()].filter((id) => !old.has(id)),
    removed: [...old.keys()].filter((id) => !now.has(id)),
    changed: [...now.keys()].filter((id) => old.has(id) && JSON.stringify(old.get(id)) !== JSON.stringify(now.get(id)))
  }
}

/**
 * Reloads the partners on each SIGHUP for as long as the scope lasts, logging
 * what changed, or why the file was refused (the partners stay as they were).
 */
export const reloadOnHangup: Effect.Effect<void, never, Partners | Scope.Scope> = Effect.gen(function*() {
  const partners = yield* Partners
  const hangups = yield* Queue.sliding<void>(1)
  const onHangup = () => void Queue.unsafeOffer(hangups, undefined)
  yield* Effect.acquireRelease(Effect.sync(() => process.on("SIGHUP", onHangup)), () => Effect.sync(() => process.off("SIGHUP", onHangup)))
  const once = Effect.gen(function*() {
    yield* Queue.take(hangups)
    const before = yield* partners.current
    yield* partners.reload.pipe(
      Effect.matchEffect({
        onFailure: (e) => Effect.logError(`partners not reloaded, those of before stay: ${e.message}`),
        onSuccess: (after) => {
          const { added, changed, removed } = partnersChanged(before, after)
          return Effect.logInfo("partners reloaded").pipe(Effect.annotateLogs({ partners: after.partners.length, added, removed, changed }))
        }
      })
    )
  })
  yield* Effect.forkScoped(Effect.forever(once))
})
