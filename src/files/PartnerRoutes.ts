/**
 * Where partners' files come from and go (PARTNERS_FILE): the inboxes the
 * intake lists and the Watcher watches, and each partner's folders for the
 * FileStore (its inbox, its returns folder, `validated/` or
 * `validated/<partner>/`). A port: partners/Routing.ts provides it from the
 * partners file (`Routing.layer`).
 *
 * A `Context.Reference`: without a partners file nothing provides it and its
 * default says "no partners" (`inboxes()` is `undefined`), so the FileStore,
 * the intake and the Watcher keep DATA_DIR, VALIDATED_DIR and RETURNS_DIR,
 * with no cost per file. A partner a reload removed stays known (its folders
 * resolvable) for the rest of the run, so that its files already listed or
 * claimed finish where they belong.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type { InboxToList } from "./FairListing.js"

/** What routing needs of a partner (the partners file's `Partner` has it all). */
export interface PartnerRoute {
  readonly id: string
  /** the folder it delivers into: its `data/` */
  readonly inbox: string
  /** where its returned files and reports go */
  readonly returns: string
  /** `own`: its validated files go to `validated/<id>/`; `shared`: to `validated/` */
  readonly validated: "shared" | "own"
  /** who is told about its returned files: these addresses, and the administrators unless `administrators: false` */
  readonly notify: { readonly to: ReadonlyArray<string>; readonly administrators: boolean }
}

/** Where partners' files come from and go. */
export interface PartnerRoutesService {
  /** the inboxes to list and watch now; `undefined` without a partners file (DATA_DIR alone) */
  readonly inboxes: () => ReadonlyArray<InboxToList> | undefined
  /** the inboxes, then each change of them (a reload) */
  readonly changes: Stream.Stream<ReadonlyArray<InboxToList>>
  /** a partner served since the start (one a reload removed too), `undefined` if none has that id */
  readonly partner: (id: string) => PartnerRoute | undefined
  /** the folder a partner's validated files go to: VALIDATED_DIR, or VALIDATED_DIR/<partner> (`validated: own`) */
  readonly validatedDir: (partner: PartnerRoute) => string
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

/** No partners file: DATA_DIR, VALIDATED_DIR and RETURNS_DIR (the default of `PartnerRoutes`, provided as a layer). */
export const layerNone: Layer.Layer<PartnerRoutes> = Layer.succeed(PartnerRoutes, none)
