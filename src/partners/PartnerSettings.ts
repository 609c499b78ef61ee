/**
 * A partner's folders as the settings of a command that works on one input
 * and one returns folder (`requeue --partner ID`): the partner's inbox as
 * DATA_DIR, its returns folder as RETURNS_DIR. Pure.
 *
 * @module
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { Settings } from "../Config.js"
import type { Partner } from "./PartnersFile.js"

/** The settings with `id`'s inbox and returns folder, or why not (no such partner: the ids there are). */
export const settingsForPartner = (settings: Settings, partners: ReadonlyArray<Partner>, id: string): Either.Either<Settings, string> => {
  const partner = partners.find((p) => p.id === id)
  if (partner === undefined) {
    return Either.left(`no partner "${id}" in the partners file (its partners: ${partners.map((p) => p.id).join(", ") || "none"})`)
  }
  return Either.right({ ...settings, dataDir: partner.inbox, returnsDir: partner.returns, partnersFile: Option.none() })
}
