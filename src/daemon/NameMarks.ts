/**
 * Names as small numbers: a 32-bit hash of a name, for what the intake
 * remembers about names it does not hold (the names warned about are kept as
 * their hashes, see IntakeState: a folder of 100,000 ignored names costs a
 * capped number of small entries, not one string each), and for spreading
 * instances over a listing (`inShare`).
 */

/** FNV-1a over the name's UTF-16 code units: fast, stable across processes and hosts. */
export const nameHash = (name: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * Whether `name` is in the share of the instance of rank `rank` among `count`
 * instances: each name belongs to exactly one rank, the same on every host.
 */
export const inShare = (name: string, rank: number, count: number): boolean =>
  count <= 1 || nameHash(name) % count === rank
