/**
 * What the built daemon creates honours its umask: run as the systemd unit
 * runs it (UMask=0027), the folders it makes (data/, processing/, validated/,
 * returns/, logs/ and those in them) and the files it writes are never
 * readable by others nor writable by its group (README: Running under systemd).
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { fixture } from "../support/fixtures.js"
import { baseEnv, FOLDER_NAMES, MAIN, rootPerTest } from "./support.js"

const root = rootPerTest()

/** `node dist/main.js ARGS` in `dir` under a umask of 0027, as `UMask=0027` starts it. */
const runUnderUmask = (dir: string, args: ReadonlyArray<string>) =>
  ChildProcess.spawnSync("sh", ["-c", 'umask 0027; exec "$0" "$@"', process.execPath, MAIN, ...args], {
    cwd: dir,
    env: baseEnv({ QUIET_PERIOD_MS: "0" }),
    encoding: "utf8",
    timeout: 120_000
  })

/** Every folder and file under `dir`, with its permission bits. */
const tree = (dir: string, base = dir): Array<{ readonly path: string; readonly folder: boolean; readonly mode: number }> =>
  NFS.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = Path.join(dir, e.name)
    const entry = { path: Path.relative(base, path), folder: e.isDirectory(), mode: NFS.lstatSync(path).mode & 0o7777 }
    return e.isDirectory() ? [entry, ...tree(path, base)] : [entry]
  })

describe("under UMask=0027", () => {
  it("the folders the daemon creates, and what it writes in them, are for its user and group only", () => {
    const dir = root()
    const first = runUnderUmask(dir, ["--once"])
    expect(first.status, first.stdout + first.stderr).toBe(0)
    for (const name of FOLDER_NAMES) expect(NFS.statSync(Path.join(dir, name)).mode & 0o7777, name).toBe(0o750)
    // Files routed both ways: stored files, reports, logs and the outbox mail are written too.
    NFS.writeFileSync(Path.join(dir, "data", "good.json"), fixture("valid-single.json"))
    NFS.writeFileSync(Path.join(dir, "data", "bad.json"), fixture("invalid-luhn.json"))
    const second = runUnderUmask(dir, ["--once"])
    expect(second.status, second.stdout + second.stderr).toBe(0)
    const made = tree(dir).filter((e) => !e.path.startsWith("data/"))
    expect(made.map((e) => e.path)).toEqual(expect.arrayContaining(["validated/good.json", "returns/bad.json", "returns/bad.json.error.json", "logs/app.log"]))
    expect(made.filter((e) => e.path.startsWith("logs/outbox/")).length).toBeGreaterThan(0)
    // (good.json and bad.json are the producer's own files, of the daemon's user here, linked into
    // place as they were written, 0644: the daemon did not create them)
    const created = made.filter((e) => e.path !== "validated/good.json" && e.path !== "returns/bad.json")
    const open = created.filter((e) => (e.mode & 0o027) !== 0).map((e) => `${e.path} ${e.mode.toString(8)}`)
    expect(open).toEqual([])
    expect(created.filter((e) => e.folder).length).toBeGreaterThanOrEqual(6)
  })
})
