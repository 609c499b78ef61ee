/** What the daemon left in a folder tree: names, data files, and whether every input was routed once. */
import * as NFS from "node:fs"
import * as Path from "node:path"
import { sha256 } from "./corpus.js"

const isNotFound = (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOENT"

/**
 * A folder's names; none when it does not exist or goes away while being read
 * (an instance's processing folder, removed as it stops or is recovered from).
 */
const namesIn = (dir: string): Array<string> => {
  try {
    return NFS.readdirSync(dir)
  } catch (error) {
    if (isNotFound(error)) return []
    throw error
  }
}

export const list = (dir: string): Array<string> => namesIn(dir).filter((n) => !n.startsWith(".")).sort()

/** Data files (reports left out) in a folder, recursively for processing/. */
export const dataFiles = (dir: string): Array<string> => {
  const out: Array<string> = []
  for (const name of namesIn(dir)) {
    if (name.startsWith(".")) continue
    const full = Path.join(dir, name)
    // Gone since the listing (claimed, stored or recovered meanwhile): not here any more.
    const stat = NFS.lstatSync(full, { throwIfNoEntry: false })
    if (stat === undefined) continue
    if (stat.isDirectory()) out.push(...dataFiles(full))
    else if (!name.endsWith(".error.json")) out.push(full)
  }
  return out
}

/** Content hash → how many times it appears among the data files of the given folders. */
export const hashCounts = (dirs: ReadonlyArray<string>): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const dir of dirs) {
    for (const file of dataFiles(dir)) {
      const h = sha256(NFS.readFileSync(file))
      counts.set(h, (counts.get(h) ?? 0) + 1)
    }
  }
  return counts
}

/**
 * The corpus files not in validated/ (valid) or returns/ (invalid) exactly
 * once, byte for byte, each with what was found: an empty list when all is well.
 */
export const misrouted = (root: string, corpus: ReadonlyArray<{ readonly name: string; readonly content: string; readonly valid: boolean }>) => {
  const validated = hashCounts([Path.join(root, "validated")])
  const returned = hashCounts([Path.join(root, "returns")])
  const wrong: Array<string> = []
  for (const f of corpus) {
    const h = sha256(f.content)
    const v = validated.get(h) ?? 0
    const r = returned.get(h) ?? 0
    if (v + r !== 1 || (f.valid ? v : r) !== 1) wrong.push(`${f.name}: validated ${v}, returned ${r}`)
  }
  return wrong
}
