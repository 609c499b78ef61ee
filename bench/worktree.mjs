// `npm run bench -- --against REF`: REF built in a temporary git worktree, to
// run side by side with the working tree. Its dependencies are the working
// tree's node_modules (a symbolic link) when its package-lock.json is the same
// byte for byte, and its own `npm ci` otherwise; it is built with its own
// `npm run build`. `remove()` takes the worktree away again (and is called on
// failure and on SIGINT/SIGTERM by bench/run.mjs).
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"

const git = (repo, args) => ChildProcess.spawnSync("git", args, { cwd: repo, encoding: "buffer", stdio: ["ignore", "pipe", "pipe"] })

/** The commit `ref` names in `repo`; a ref that names none is an error saying so. */
export const resolveRef = (repo, ref) => {
  const r = git(repo, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])
  if (r.status !== 0) throw new Error(`--against: "${ref}" names no commit in ${repo}`)
  return r.stdout.toString("utf8").trim()
}

/** Whether `sha`'s package-lock.json is byte for byte the one in `repo`'s working tree. */
export const sameLockfile = (repo, sha) => {
  const theirs = git(repo, ["show", `${sha}:package-lock.json`])
  const ours = Path.join(repo, "package-lock.json")
  return theirs.status === 0 && NFS.existsSync(ours) && Buffer.compare(theirs.stdout, NFS.readFileSync(ours)) === 0
}

/**
 * Runs a command to its end, its output to our stderr (stdout is the
 * benchmark's table), in a process group of its own handed to `onChild` (so
 * that an interrupted benchmark can stop it before removing the worktree).
 */
const run = (command, args, cwd, onChild) =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(command, args, { cwd, stdio: ["ignore", 2, 2], detached: true })
    onChild(child)
    child.on("error", reject)
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} in ${cwd} ${signal ? `was ended by ${signal}` : `exited ${code}`}`))
    )
  })

/**
 * Checks `ref` out in a new temporary worktree of `repo` and builds it.
 * `onWorktree(remove)` is called as soon as there is something to remove, so a
 * failure or a signal during the install or the build still removes it;
 * `onChild(child)` is given each process it starts.
 * Returns `{ sha, dir, dist, main, linkedModules }`.
 */
export const buildRef = async (repo, ref, { log, onWorktree, onChild = () => {} }) => {
  const sha = resolveRef(repo, ref)
  const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-bench-against-"))
  let removed = false
  const remove = () => {
    if (removed) return
    removed = true
    const r = git(repo, ["worktree", "remove", "--force", dir])
    if (r.status !== 0 || NFS.existsSync(dir)) {
      NFS.rmSync(dir, { recursive: true, force: true })
      git(repo, ["worktree", "prune"])
    }
  }
  onWorktree(remove)
  NFS.rmdirSync(dir) // git worktree add makes it again
  const added = git(repo, ["worktree", "add", "--detach", dir, sha])
  if (added.status !== 0) throw new Error(`git worktree add ${dir} ${sha} failed: ${added.stderr.toString("utf8").trim()}`)
  const linkedModules = sameLockfile(repo, sha) && NFS.existsSync(Path.join(repo, "node_modules"))
  if (linkedModules) {
    log(`against: ${ref} (${sha.slice(0, 7)}) has the working tree's package-lock.json: its node_modules are the working tree's`)
    NFS.symlinkSync(Path.join(repo, "node_modules"), Path.join(dir, "node_modules"), "dir")
  } else {
    log(`against: ${ref} (${sha.slice(0, 7)}) has its own package-lock.json: npm ci in ${dir}`)
    await run("npm", ["ci", "--no-audit", "--no-fund"], dir, onChild)
  }
  log(`against: building ${sha.slice(0, 7)} (its npm run build)`)
  await run("npm", ["run", "build"], dir, onChild)
  const main = Path.join(dir, "dist", "main.js")
  if (!NFS.existsSync(main)) throw new Error(`against: the build of ${sha.slice(0, 7)} made no dist/main.js`)
  return { sha, dir, dist: Path.join(dir, "dist"), main, linkedModules }
}
