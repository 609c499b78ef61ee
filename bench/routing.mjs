// After a backlog has been drained (by one instance or several): is every file
// in validated/ or returns/ exactly once, and nothing left behind? The check
// is a pure function of the folders' listings (tested in
// test/benchTools.test.ts); `listTree` reads them.
import * as NFS from "node:fs"
import * as Path from "node:path"

// A private stage holds a copy of a customer file (src/files/FileStore.ts).
const STAGE = /^\.[0-9a-f]{32}\.(data|report)$/
const isCustomerName = (name) => !name.startsWith(".") && !name.endsWith(".error.json")

/**
 * Problems with a drained tree, as sentences (none: all is well).
 * `expected`: Map of each corpus name to whether it is valid;
 * `tree`: `{ data, validated, returns, processing }` listings (names), `processing`
 * an object of each instance folder's names.
 */
export const routingProblems = (expected, tree) => {
  const problems = []
  const seen = new Map()
  for (const [folder, names] of [["validated", tree.validated], ["returns", tree.returns]]) {
    for (const name of names.filter(isCustomerName)) {
      const where = seen.get(name) ?? []
      where.push(folder)
      seen.set(name, where)
    }
  }
  const missing = [...expected.keys()].filter((name) => !seen.has(name))
  const twice = [...seen].filter(([, where]) => where.length > 1).map(([name, where]) => `${name} (${where.join(", ")})`)
  const unexpected = [...seen.keys()].filter((name) => !expected.has(name))
  const misrouted = [...seen]
    .filter(([name, where]) => expected.has(name) && where.length === 1 && where[0] !== (expected.get(name) ? "validated" : "returns"))
    .map(([name, where]) => `${name} (in ${where[0]})`)
  const leftInData = tree.data.filter((name) => !name.startsWith("."))
  const leftClaimed = Object.entries(tree.processing).flatMap(([dir, names]) =>
    names.filter((name) => !name.startsWith(".") || STAGE.test(name)).map((name) => `${dir}/${name}`)
  )
  const list = (names) => `${names.slice(0, 5).join(", ")}${names.length > 5 ? `, … (${names.length})` : ""}`
  if (missing.length > 0) problems.push(`${missing.length} of ${expected.size} files are in neither validated/ nor returns/: ${list(missing)}`)
  if (twice.length > 0) problems.push(`${twice.length} files are stored more than once: ${list(twice)}`)
  if (unexpected.length > 0) problems.push(`${unexpected.length} files in validated/ or returns/ are not from the corpus (a second copy under another name?): ${list(unexpected)}`)
  if (misrouted.length > 0) problems.push(`${misrouted.length} files are in the wrong folder: ${list(misrouted)}`)
  if (leftInData.length > 0) problems.push(`${leftInData.length} files are still in data/: ${list(leftInData)}`)
  if (leftClaimed.length > 0) problems.push(`${leftClaimed.length} customer files or stages are left in processing/: ${list(leftClaimed)}`)
  return problems
}

const namesIn = (dir) => (NFS.existsSync(dir) ? NFS.readdirSync(dir) : [])

/** The listings `routingProblems` checks, read from the tree at `root`. */
export const listTree = (root) => {
  const processing = { ".": [] }
  for (const entry of NFS.existsSync(Path.join(root, "processing")) ? NFS.readdirSync(Path.join(root, "processing"), { withFileTypes: true }) : []) {
    // files directly in processing/ (not where instances keep theirs) are listed under "."
    if (entry.isDirectory()) processing[entry.name] = namesIn(Path.join(root, "processing", entry.name))
    else processing["."].push(entry.name)
  }
  return {
    data: namesIn(Path.join(root, "data")),
    validated: namesIn(Path.join(root, "validated")),
    returns: namesIn(Path.join(root, "returns")),
    processing
  }
}
