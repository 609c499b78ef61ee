/**
 * How a partner's file is named inside the daemon (pure). The intake, the
 * Pipeline and the status know a file by one text: its plain name for the
 * implicit partner (no partners file: names as they always were), and
 * `<partner>/<name>` for a partner's file. A `/` is in no file name, and a
 * partner id is `[a-z0-9-]`, so the two never mix. Its claimed name in
 * processing/ records the partner as `<ms>-<seq>.<partner>_<name>` (see
 * Naming's `claimName`): crash recovery and `requeue` know whose it is.
 *
 * @module
 */

/** A partner's id: 1 to 32 lowercase letters, digits and inner hyphens (it names folders, claimed names and metric labels). */
export const PARTNER_ID = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/

/** A partner's file as the daemon names it: `<partner>/<name>`. */
export const qualifiedName = (partner: string, name: string): string => `${partner}/${name}`

/** A name split into its partner (`undefined`: the implicit one) and its name in the inbox. */
export interface SplitName {
  readonly partner: string | undefined
  readonly name: string
}

/**
 * The partner and the inbox name of a name the daemon uses (see
 * `qualifiedName`); a text whose part before its first `/` is no partner id
 * is no partner's name (a name given to the library by hand, say).
 */
export const splitName = (name: string): SplitName => {
  const partner = partnerOfName(name)
  return partner === undefined ? { partner: undefined, name } : { partner, name: name.slice(partner.length + 1) }
}

/** The partner of a name the daemon uses, `undefined` for the implicit one. */
export const partnerOfName = (name: string): string | undefined => {
  const slash = name.indexOf("/")
  if (slash < 0) return undefined
  const partner = name.slice(0, slash)
  return PARTNER_ID.test(partner) ? partner : undefined
}

/** The partner recorded in a claimed name (`<ms>-<seq>.<partner>_…`), `undefined` when none is. */
export const partnerOfClaim = (claimedName: string): string | undefined => {
  const match = CLAIM_PARTNER.exec(claimedName)
  return match === null ? undefined : match[1]
}
const CLAIM_PARTNER = /^\d+-\d+\.([a-z0-9-]+)[_~]/
