// A one-file-at-a-time processor of the original design, the baseline of
// issue 25's "≥ 3 × the naive processor": list data/, and for each file in
// turn copy it into processing/, remove it from data/, read it, parse and
// validate it with the daemon's own contract (the built one, from dist/), and
// move it into validated/ or into returns/ with its error report beside it
// (`<name>.error.json`, masked as the daemon masks it). No watcher, no
// concurrency, no fsync, no log: blocking calls, one after the other.
//
//   node bench/naive.mjs ROOT [DIST]     (DIST: the build to take the contract from; default dist/)
import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

/**
 * Drains `root`/data/ one file at a time. `contract`: `{ judgeBytes,
 * renderReport, maskText, maxRecords }` (the daemon's functions of the same
 * names); `clock` gives the time of each file. Returns the counts
 * `{ validated, returned }`.
 */
export const processBacklog = (root, contract, clock = () => new Date()) => {
  const data = Path.join(root, "data")
  const processing = Path.join(root, "processing")
  const validated = Path.join(root, "validated")
  const returns = Path.join(root, "returns")
  for (const dir of [processing, validated, returns]) NFS.mkdirSync(dir, { recursive: true })
  const counts = { validated: 0, returned: 0 }
  for (const name of NFS.readdirSync(data)) {
    if (name.startsWith(".")) continue
    const claimed = Path.join(processing, name)
    const receivedAt = clock()
    NFS.copyFileSync(Path.join(data, name), claimed, NFS.constants.COPYFILE_EXCL)
    NFS.unlinkSync(Path.join(data, name))
    const bytes = NFS.readFileSync(claimed)
    const { validation } = contract.judgeBytes({ bytes, maxRecords: contract.maxRecords, today: receivedAt.toISOString().slice(0, 10) })
    if (validation.errorCount === 0) {
      NFS.renameSync(claimed, Path.join(validated, name))
      counts.validated++
    } else {
      NFS.renameSync(claimed, Path.join(returns, name))
      const report = { file: name, storedAs: name, receivedAt, processedAt: clock(), errors: validation.errors, errorCount: validation.errorCount }
      NFS.writeFileSync(Path.join(returns, `${name}.error.json`), contract.renderReport(report, contract.maskText))
      counts.returned++
    }
  }
  return counts
}

/** The daemon's contract functions and its default MAX_RECORDS, from the build in `dist`. */
export const contractFrom = async (dist) => {
  const load = (file) => import(pathToFileURL(Path.join(dist, file)).href)
  const [{ judgeBytes }, { renderReport }, { maskText }, config] = await Promise.all([
    load("contract/JudgeBytes.js"),
    load("contract/ErrorReport.js"),
    load("masking/Masking.js"),
    load("Config.js")
  ])
  const maxRecords = Number(config.SETTINGS?.MAX_RECORDS?.default ?? config.DEFAULTS?.MAX_RECORDS ?? 100_000)
  return { judgeBytes, renderReport, maskText, maxRecords }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(Path.resolve(process.argv[1])).href) {
  const [root, dist = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "..", "dist")] = process.argv.slice(2)
  if (root === undefined) {
    process.stderr.write("usage: node bench/naive.mjs ROOT [DIST]\n")
    process.exit(2)
  }
  processBacklog(root, await contractFrom(dist))
}
