/**
 * What the intake remembers about names it does not hold, in bounded memory:
 * a 32-bit hash of the name and the number of the listing that last saw it,
 * for at most `cap` names. Used for the names already warned about (a
 * folder of 100,000 ignored names costs `cap` small entries, not one string
 * each), and for spreading instances over a listing (`inShare`).
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

export type MarkResult =
  /** first seen: now remembered */
  | "new"
  /** remembered already (its listing number is updated) */
  | "known"
  /** not remembered, and no room to remember it */
  | "full"

export interface NameMarks {
  /** Remembers `name` as seen by listing `pass`. */
  readonly mark: (name: string, pass: number) => MarkResult
  readonly has: (name: string) => boolean
  /** Forgets the names no listing since `pass` (excluded) has seen. */
  readonly forgetBefore: (pass: number) => void
  readonly size: () => number
}

/** Marks for at most `cap` names (distinct names of equal hash count as one). */
export const makeNameMarks = (cap: number): NameMarks => {
  const marks = new Map<number, number>()
  return {
    mark: (name, pass) => {
      const h = nameHash(name)
      if (marks.has(h)) {
        marks.set(h, pass)
        return "known"
      }
      if (marks.size >= cap) return "full"
      marks.set(h, pass)
      return "new"
    },
    has: (name) => marks.has(nameHash(name)),
    forgetBefore: (pass) => {
      for (const [h, seen] of marks) if (seen < pass) marks.delete(h)
    },
    size: () => marks.size
  }
}

/** Drops the oldest entries of a Map (insertion order) until it holds at most `cap`. */
export const trimOldest = <K, V>(map: Map<K, V>, cap: number): void => {
  if (map.size <= cap) return
  for (const key of map.keys()) {
    map.delete(key)
    if (map.size <= cap) return
  }
}
