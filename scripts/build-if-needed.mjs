// `npm start`'s build step: builds (`npm run build`) only when the build is
// missing or older than something it is built from, so that starting an
// unchanged checkout costs no build (a full one takes half a minute on a small
// machine). Built from: src/ (every file and folder: a removed file changes its
// folder), the TypeScript config, the bundler script, and the installed
// dependencies (package-lock.json and npm's record of node_modules).
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const INPUTS = ["src", "tsconfig.json", "package.json", "package-lock.json", "scripts/bundle.mjs", "node_modules/.package-lock.json"]
/** What a build writes last of all (tsc's output, then the bundles). */
const OUTPUTS = ["dist/index.js", "dist/main.js", "dist/judgeWorker.js"]

/** The newest modification time under `path` (itself included); 0 when it is not there. */
const newestUnder = (path) => {
  let stat
  try {
    stat = NFS.lstatSync(path)
  } catch {
    return 0
  }
  let newest = stat.mtimeMs
  if (stat.isDirectory()) for (const name of NFS.readdirSync(path)) newest = Math.max(newest, newestUnder(Path.join(path, name)))
  return newest
}

/** Why the checkout at `root` needs a build, or `undefined` when its build is up to date. */
export const buildReason = (root) => {
  const built = OUTPUTS.map((o) => NFS.statSync(Path.join(root, o), { throwIfNoEntry: false }))
  const missing = OUTPUTS.filter((_, i) => built[i] === undefined)
  if (missing.length > 0) return `${missing.join(", ")} missing`
  const oldestOutput = Math.min(...built.map((s) => s.mtimeMs))
  const changed = INPUTS.filter((input) => newestUnder(Path.join(root, input)) > oldestOutput)
  return changed.length > 0 ? `${changed.join(", ")} changed since the last build` : undefined
}

if (process.argv[1] !== undefined && Path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
  const reason = buildReason(root)
  if (reason !== undefined) {
    process.stderr.write(`building: ${reason}\n`)
    const r = ChildProcess.spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" })
    process.exit(r.status ?? 1)
  }
}
