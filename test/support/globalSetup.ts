/**
 * The test run's own folder and its check at the end (vitest globalSetup, in
 * vitest's main process, before any test file and after the last).
 *
 * Setup: a folder for the run (mode 1777, as /tmp, in the system's temporary folder),
 * which becomes TMPDIR of every test (vitest's workers are started after this,
 * with this environment), so that every temporary folder, mount and process of
 * the run is known to be the run's (see leftovers.ts); and in it a
 * world-readable copy of what tests run as another user (the service user
 * 65534, producers): dist/main.js, dist/judgeWorker.js and
 * test/e2e/support/*.mjs. A checkout under a private folder (a home folder of
 * mode 0700) cannot be reached by those users; the copy can, and the setup
 * checks that the service user can run it, or says in one line why not
 * (`serviceBuild.problem`, which the tests that need it fail with).
 *
 * Teardown: processes and mounts the run left (the summary reporter has
 * stopped and counted them already, unless it was not used) are stopped and
 * the run fails naming them; the run's folder is removed.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"
import { describeLeftovers, leftMounts, RUN_MARKER, settleLeftovers } from "./leftovers.js"
import type { RunScope } from "./leftovers.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** the run's world-readable copy of the build and the e2e scripts, or why the service user cannot run it */
    readonly serviceBuild: { readonly dir: string; readonly problem: string | undefined }
  }
}

export const CHECKOUT = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** The service user the deployment tests run the daemon as. */
export const SERVICE_UID = 65534

/** What the tests run as other users, relative to the checkout. */
const FOR_OTHER_USERS = ["dist/main.js", "dist/judgeWorker.js", "test/e2e/support"]

/** Copies `from` (a file, or a folder's .mjs files) under `to`, readable by everyone. */
const copyReadable = (from: string, to: string) => {
  if (NFS.statSync(from).isDirectory()) {
    NFS.mkdirSync(to, { recursive: true, mode: 0o755 })
    for (const name of NFS.readdirSync(from).filter((n) => n.endsWith(".mjs"))) copyReadable(Path.join(from, name), Path.join(to, name))
    return
  }
  NFS.mkdirSync(Path.dirname(to), { recursive: true, mode: 0o755 })
  NFS.copyFileSync(from, to)
  NFS.chmodSync(to, 0o644)
}

/** Why the service user cannot run `main` (one line), or `undefined` when it can. */
export const serviceUserProblem = (main: string, uid = SERVICE_UID): string | undefined => {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return `the tests run as uid ${process.getuid?.() ?? "?"}, not root: they cannot run anything as uid ${uid}`
  if (!NFS.existsSync(main)) return `${main} is not there: run \`npm run build\` before the tests`
  const r = ChildProcess.spawnSync("setpriv", ["--reuid", String(uid), "--regid", String(uid), "--clear-groups", process.execPath, main, "--version"], {
    encoding: "utf8",
    timeout: 60_000
  })
  if (r.status === 0) return undefined
  // The folder it cannot pass through, if one is closed to others (a home folder of mode 0700).
  let closed: string | undefined
  for (let dir = Path.dirname(main); closed === undefined; dir = Path.dirname(dir)) {
    if ((NFS.statSync(dir).mode & 0o001) === 0) closed = `${dir} is mode ${(NFS.statSync(dir).mode & 0o7777).toString(8).padStart(4, "0")}`
    if (dir === Path.dirname(dir)) break
  }
  const said = `${r.error?.message ?? ""}${r.stderr}`.split("\n").find((l) => /Error|EACCES/.test(l)) ?? `exit ${r.status}`
  return `the service user (uid ${uid}) cannot run ${main}: ${closed ?? said.trim()} (every folder above it must be searchable by others: o+x)`
}

interface RunState {
  readonly scope: RunScope
  readonly serviceBuild: { readonly dir: string; readonly problem: string | undefined }
  /** projects set up and not yet torn down (vitest sets up the root project and each project run) */
  users: number
}

/** The run set up in this process, shared by the projects of one vitest run (a nested run is another process). */
const RUN = Symbol.for("customer-json-processor/test-run")
const runState = globalThis as typeof globalThis & { [RUN]?: RunState | undefined }

const startRun = (): RunState => {
  const since = Date.now()
  const runDir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-run-"))
  // A temporary folder as /tmp is (the tests were written for one): anyone may pass through and
  // create (a producer's test writes beside its tree), only an entry's owner may remove it.
  NFS.chmodSync(runDir, 0o1777)
  process.env.TMPDIR = runDir
  process.env[RUN_MARKER] = runDir
  process.env[`${RUN_MARKER}_SINCE`] = String(since)
  const build = Path.join(runDir, "build")
  NFS.mkdirSync(build, { mode: 0o755 })
  NFS.chmodSync(build, 0o755)
  for (const path of FOR_OTHER_USERS) {
    if (NFS.existsSync(Path.join(CHECKOUT, path))) copyReadable(Path.join(CHECKOUT, path), Path.join(build, path))
  }
  return {
    scope: { runDir, checkout: CHECKOUT, self: process.pid, since },
    serviceBuild: { dir: build, problem: serviceUserProblem(Path.join(build, "dist", "main.js")) },
    users: 0
  }
}

export default function setup(project: TestProject) {
  const run = (runState[RUN] ??= startRun())
  run.users++
  project.provide("serviceBuild", run.serviceBuild)
  return async () => {
    if (--run.users > 0) return
    runState[RUN] = undefined
    const left = await settleLeftovers(run.scope)
    // Never remove through a live mount (that would delete through it, or hang on a dead one).
    if (leftMounts(run.scope).length === 0) NFS.rmSync(run.scope.runDir, { recursive: true, force: true })
    const lines = describeLeftovers(left)
    if (lines.length > 0) throw new Error(`the test run left ${lines.length} thing(s) behind (now stopped):\n${lines.join("\n")}`)
  }
}
