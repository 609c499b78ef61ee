/**
 * The README's deployment, run as written: each `<!-- recipe:NAME -->` block
 * of README "Deploying" is run as it stands, as root, in the order the README
 * gives — the build installed in /opt, the unit in /etc/systemd/system, the
 * service user, its working folder and settings file, the producers' group —
 * then the daemon is started as its unit would start it, a producer account
 * drops a file and reads what came back, and the operator requeues it.
 *
 * Everything happens in a private mount namespace over scratch copies of /etc,
 * /opt, /var and /home (overlay mounts whose writes land in a temporary
 * folder): useradd, groupadd and the installed files are real to every command
 * run inside it, and nothing of them reaches this machine, even if the test is
 * killed. Where systemd is not PID 1 (this machine, CI), and in any case
 * inside the namespace, which PID 1 does not see, the daemon is started the
 * way the installed unit says: its User, Group (and the user's groups),
 * UMask, Environment and EnvironmentFile (read as root, as systemd does),
 * WorkingDirectory, NoNewPrivileges and ExecStart, through setpriv.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { ensureCommand } from "../support/debian.js"
import { fixture } from "../support/fixtures.js"
import { environmentFile, recipe, recipeNames, serviceSettings, unitWords } from "../support/recipes.js"
import { waitUntil, within } from "../support/wait.js"
import { cleanup, makeRoot } from "./support.js"

const REPO = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const readme = NFS.readFileSync(Path.join(REPO, "README.md"), "utf8")
const isRoot = typeof process.getuid === "function" && process.getuid() === 0

const UNIT = "/etc/systemd/system/customer-json-processor.service"
const HOME = "/var/lib/customer-json-processor"
const SETTINGS = "/etc/customer-json-processor/env"
/** The folders the scratch copies stand in for: everything the recipe writes outside the clone. */
const SCRATCH = ["etc", "opt", "var", "home"]
/** systemd's PATH for services. */
const SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

interface Namespace {
  readonly holder: ChildProcess.ChildProcess
  /** runs argv inside the namespace, as root */
  readonly run: (argv: ReadonlyArray<string>, input?: string) => ChildProcess.SpawnSyncReturns<string>
  /** runs a shell script inside the namespace in `dir`, as root or as `user` (runuser) */
  readonly sh: (script: string, options?: { readonly dir?: string; readonly user?: string; readonly input?: string }) => ChildProcess.SpawnSyncReturns<string>
  /** a path inside the namespace, as this process reaches it */
  readonly path: (inside: string) => string
  readonly enter: ReadonlyArray<string>
}

const started: Array<ChildProcess.ChildProcess> = []
const roots: Array<string> = []

const stop = async (child: ChildProcess.ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once("exit", resolve))
  child.kill("SIGKILL")
  await exited
}

afterEach(async () => {
  // The daemon first, then the holder: once no process is left in it, the namespace and its mounts are gone.
  for (const child of started.splice(0).reverse()) await stop(child)
  for (const root of roots.splice(0)) cleanup(root)
})

/** A mount namespace over scratch copies of /etc, /opt, /var and /home, held open by a sleeping process. */
const scratchNamespace = async (root: string): Promise<Namespace> => {
  const script = [
    "set -e",
    `for d in ${SCRATCH.join(" ")}; do`,
    '  mkdir "$0/$d.upper" "$0/$d.work"',
    '  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$0/$d.upper,workdir=$0/$d.work" "/$d"',
    "done",
    "echo ready",
    "exec sleep infinity"
  ].join("\n")
  const holder = ChildProcess.spawn("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", script, root], { stdio: ["ignore", "pipe", "pipe"] })
  started.push(holder)
  let said = ""
  holder.stdout!.on("data", (chunk: Buffer) => (said += chunk.toString()))
  holder.stderr!.on("data", (chunk: Buffer) => (said += chunk.toString()))
  await within(30_000, "the scratch namespace", new Promise<void>((resolve, reject) => {
    holder.stdout!.on("data", () => said.includes("ready") && resolve())
    holder.once("exit", () => reject(new Error(`the scratch copies of /etc, /opt, /var and /home could not be mounted (unshare, overlay): ${said.trim()}`)))
  }))
  const enter = ["nsenter", `--mount=/proc/${holder.pid}/ns/mnt`, "--"]
  const run = (argv: ReadonlyArray<string>, input?: string) =>
    ChildProcess.spawnSync(enter[0]!, [...enter.slice(1), ...argv], { encoding: "utf8", input: input ?? "", timeout: 120_000 })
  const sh = (script: string, options: { readonly dir?: string; readonly user?: string; readonly input?: string } = {}) =>
    run([...(options.user === undefined ? [] : ["runuser", "-u", options.user, "--"]), "sh", "-ec", `cd "$0"\n${script}`, options.dir ?? "/"], options.input)
  return { holder, run, sh, path: (inside) => `/proc/${holder.pid}/root${inside}`, enter }
}

const ok = (r: ChildProcess.SpawnSyncReturns<string>, what: string) => {
  expect(r.status, `${what}: exit ${r.status}\n${r.stdout}${r.stderr}`).toBe(0)
  return r.stdout
}

/**
 * Starts the installed daemon inside the namespace as its unit would start it:
 * its User, Group (and the user's groups), UMask, Environment and
 * EnvironmentFile (read as root, as systemd does), WorkingDirectory,
 * NoNewPrivileges and ExecStart, through setpriv; once it says it started.
 */
const startAsUnit = async (ns: Namespace) => {
  const unit = serviceSettings(NFS.readFileSync(ns.path(UNIT), "utf8"))
  const one = (key: string) => {
    const values = unit.get(key) ?? []
    expect(values, `${key}= in the unit`).toHaveLength(1)
    return values[0]!
  }
  const [user, group, umask, workingDirectory] = [one("User"), one("Group"), one("UMask"), one("WorkingDirectory")]
  const account = ok(ns.run(["getent", "passwd", user]), `getent passwd ${user}`).trim().split(":")
  const environment: Array<[string, string]> = [["PATH", SERVICE_PATH], ["HOME", account[5]!], ["USER", user], ["LOGNAME", user], ["SHELL", account[6]!]]
  for (const value of unit.get("Environment") ?? []) {
    for (const word of unitWords(value)) environment.push([word.slice(0, word.indexOf("=")), word.slice(word.indexOf("=") + 1)])
  }
  for (const value of unit.get("EnvironmentFile") ?? []) {
    const file = value.replace(/^-/, "")
    if (value.startsWith("-") && !NFS.existsSync(ns.path(file))) continue
    environment.push(...environmentFile(NFS.readFileSync(ns.path(file), "utf8")))
  }
  const execStart = unitWords(one("ExecStart"))
  const daemon = ChildProcess.spawn(ns.enter[0]!, [
    ...ns.enter.slice(1),
    "sh", "-c", 'umask "$0" && cd "$1" && shift && exec "$@"', umask, workingDirectory,
    "setpriv", "--reuid", user, "--regid", group, "--init-groups", ...(one("NoNewPrivileges") === "true" ? ["--no-new-privs"] : []), "--",
    "env", "-i", ...environment.map(([k, v]) => `${k}=${v}`), ...execStart
  ], { stdio: ["ignore", "pipe", "pipe"] })
  started.push(daemon)
  let output = ""
  daemon.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  daemon.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | string>((resolve) => daemon.once("exit", (code, signal) => resolve(code ?? signal ?? "?")))
  const lines = () => output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>)
  await waitUntil(() => lines().some((l) => l.msg === "customer-json-processor started") || daemon.exitCode !== null, 30_000, "the daemon's start")
  return { daemon, exited, lines, one, output: () => output }
}

describe.skipIf(!isRoot)("README, Deploying: the commands as written", () => {
  it("install, service user, settings file, producers' group, the unit verified and enabled; a producer drops a file and reads its returned file and report; the operator requeues it; all removed after", async () => {
    const tool = ensureCommand("systemd-analyze", "systemd")
    expect(tool, tool.available ? "" : tool.reason).toEqual({ available: true })
    // Debian has no sudo by default: the README's commands use runuser.
    expect(readme).not.toMatch(/sudo -u/)
    for (const name of recipeNames(readme)) expect(recipe(readme, name), name).not.toMatch(/\bsudo\b/)
    const root = makeRoot()
    roots.push(root)
    const ns = await scratchNamespace(root)

    // 1. The build, installed from the clone (the test suite has built it: the README's build step).
    expect(recipe(readme, "build")).toBe("npm ci && npm run build")
    ok(ns.sh(recipe(readme, "install"), { dir: REPO }), "recipe:install")
    // What was installed runs by itself, as ES modules also on a Node 20 that does not guess the module type (before 20.19).
    expect(ok(ns.run(["node", "--no-experimental-detect-module", "/opt/customer-json-processor/dist/main.js", "--version"]), "the installed build").trim()).toMatch(/^\d+\.\d+\.\d+$/)
    ok(ns.run(["systemd-analyze", "verify", UNIT]), "systemd-analyze verify")
    expect(ns.run(["systemd-analyze", "verify", UNIT]).stderr.trim()).toBe("")

    // A producer account that exists already (an SFTP account, say), with the file it will send.
    ok(ns.run(["useradd", "--create-home", "--shell", "/bin/sh", "acme"]), "useradd acme")
    ok(ns.sh("cat > orders.json", { dir: "/home/acme", user: "acme", input: fixture("invalid-luhn.json") }), "acme's file")

    // 2. The service user, its working folder, its settings; then the producers' group and folders.
    ok(ns.sh(recipe(readme, "user"), { dir: REPO }), "recipe:user")
    // The operator edits the settings file (as an editor does: in place) — a password, and console lines as JSON.
    const settingsFile = ns.path(SETTINGS)
    const edited = NFS.readFileSync(settingsFile, "utf8")
      .replace(/^LOG_CONSOLE=.*$/m, "LOG_CONSOLE=json")
      .replace(/^EMAIL_PASSWORD=.*$/m, "EMAIL_PASSWORD=s3cret-of-the-test")
    expect(edited).toContain("EMAIL_PASSWORD=s3cret-of-the-test")
    NFS.writeFileSync(settingsFile, edited)
    ok(ns.sh(recipe(readme, "producers"), { dir: "/" }), "recipe:producers")

    const stat = (...paths: Array<string>) => ok(ns.run(["stat", "-c", "%n %U:%G %a", ...paths]), "stat").trim().split("\n")
    expect(stat(SETTINGS, HOME, ...["data", "returns", "processing", "validated", "logs"].map((d) => `${HOME}/${d}`))).toEqual([
      `${SETTINGS} root:cjp 640`,
      `${HOME} cjp:cjp-producers 750`,
      `${HOME}/data cjp:cjp-producers 2770`,
      `${HOME}/returns cjp:cjp-producers 2750`,
      `${HOME}/processing cjp:cjp 750`,
      `${HOME}/validated cjp:cjp 750`,
      `${HOME}/logs cjp:cjp 750`
    ])
    // The password is the service user's to read (for the command line), nobody else's.
    expect(ns.sh(`cat ${SETTINGS}`, { user: "acme" }).status).not.toBe(0)
    expect(ok(ns.sh(`cat ${SETTINGS}`, { user: "cjp" }), "cjp reads the settings")).toContain("EMAIL_PASSWORD=")

    // 3. Start it: the README's commands; systemd cannot start it here, so it is enabled offline and started as the unit says.
    expect(recipe(readme, "start")).toContain("systemctl daemon-reload && systemctl enable --now customer-json-processor")
    ok(ns.run(["systemctl", "--root=/", "enable", "customer-json-processor"]), "systemctl enable")
    expect(NFS.readlinkSync(ns.path("/etc/systemd/system/multi-user.target.wants/customer-json-processor.service"))).toBe(UNIT)
    const { daemon, exited, lines, one, output } = await startAsUnit(ns)
    expect(daemon.exitCode, output()).toBeNull()
    const startLine = lines().find((l) => l.msg === "customer-json-processor started")!
    expect(JSON.stringify(startLine)).not.toContain("s3cret-of-the-test")

    // A producer drops its file as the README says, and reads its returned file and report.
    ok(ns.sh(recipe(readme, "producer-drop"), { dir: "/home/acme", user: "acme" }), "recipe:producer-drop (as acme)")
    await waitUntil(() => NFS.existsSync(ns.path(`${HOME}/returns/orders.json`)), 30_000, "orders.json returned")
    const report = JSON.parse(ok(ns.sh(recipe(readme, "producer-read"), { dir: "/home/acme", user: "acme" }), "recipe:producer-read (as acme)")) as Record<string, unknown>
    expect(report).toMatchObject({ file: "orders.json", error_count: 1 })
    expect(ok(ns.sh(`cat ${HOME}/returns/orders.json`, { user: "acme" }), "acme reads its returned file")).toBe(fixture("invalid-luhn.json"))
    expect(stat(`${HOME}/returns/orders.json`, `${HOME}/returns/orders.json.error.json`)).toEqual([
      `${HOME}/returns/orders.json cjp:cjp-producers 640`,
      `${HOME}/returns/orders.json.error.json cjp:cjp-producers 640`
    ])
    // Everything installed was there: no warning (the worker script, the folders' group), no error.
    expect(lines().filter((l) => l.level === "WARN" || l.level === "ERROR"), output()).toEqual([])

    // The operator sends it through again with the command line, as the README says.
    const requeued = ok(ns.sh(recipe(readme, "cli"), { dir: "/" }), "recipe:cli")
    expect(requeued).toMatch(/^requeued orders\.json -> data\/orders\.json$/m)
    await waitUntil(
      () => lines().filter((l) => l.msg === "file processed" && l.file === "orders.json").length === 2,
      30_000,
      "the requeued file processed again"
    )

    // Stopped as systemd stops it (KillSignal=SIGTERM), well within TimeoutStopSec.
    expect(one("KillSignal")).toBe("SIGTERM")
    daemon.kill("SIGTERM")
    expect(await within(Number(one("TimeoutStopSec")) * 1000, "the stop", exited)).toBe(0)
    expect(output()).not.toContain("s3cret-of-the-test")

    // The accounts go again; then the namespace, and with it every file the recipe made.
    ok(ns.run(["userdel", "cjp"]), "userdel cjp")
    ok(ns.run(["userdel", "--remove", "acme"]), "userdel acme")
    ok(ns.run(["groupdel", "cjp-producers"]), "groupdel cjp-producers")
    for (const name of ["cjp", "acme"]) expect(ns.run(["id", name]).status).not.toBe(0)
    for (const child of started.splice(0).reverse()) await stop(child)
    expect(ChildProcess.spawnSync("id", ["cjp"]).status).not.toBe(0)
    for (const path of ["/opt/customer-json-processor", UNIT, "/etc/customer-json-processor", HOME]) expect(NFS.existsSync(path), path).toBe(false)
  }, 900_000)

  it("partners sealed off from each other as written (README: Sealed partners): no cross-partner listing, reading, writing or deleting; each reads its own returned file and report; a partner put in another's group stops the start, naming the fix", async () => {
    const root = makeRoot()
    roots.push(root)
    const ns = await scratchNamespace(root)
    ok(ns.sh(recipe(readme, "install"), { dir: REPO }), "recipe:install")
    // The partners' accounts exist already (SFTP accounts, say).
    for (const p of ["acme", "globex"]) ok(ns.run(["useradd", "--create-home", "--shell", "/bin/sh", p]), `useradd ${p}`)
    ok(ns.sh(recipe(readme, "user"), { dir: REPO }), "recipe:user")
    ok(ns.sh(recipe(readme, "partners"), { dir: "/" }), "recipe:partners")
    const settingsFile = ns.path(SETTINGS)
    NFS.writeFileSync(settingsFile, NFS.readFileSync(settingsFile, "utf8").replace(/^LOG_CONSOLE=.*$/m, "LOG_CONSOLE=json"))
    const P = `${HOME}/partners`
    const invalid = fixture("invalid-luhn.json")
    // Each partner delivers as the README says: umask 0027, a temporary name, then a rename.
    const deliver = (p: string, name: string) =>
      ok(ns.sh(`umask 0027\ncat > ${P}/${p}/data/${name}.part\nmv ${P}/${p}/data/${name}.part ${P}/${p}/data/${name}`, { user: p, input: invalid }), `${p} delivers ${name}`)
    deliver("acme", "orders.json")
    deliver("globex", "orders.json")

    const { daemon, exited, lines, output } = await startAsUnit(ns)
    expect(daemon.exitCode, output()).toBeNull()
    for (const p of ["acme", "globex"]) {
      await waitUntil(() => NFS.existsSync(ns.path(`${P}/${p}/returns/orders.json.error.json`)) && NFS.existsSync(ns.path(`${P}/${p}/returns/orders.json`)), 30_000, `${p}'s file returned`)
    }
    expect(lines().filter((l) => l.level === "WARN" || l.level === "ERROR"), output()).toEqual([])
    expect(lines().filter((l) => l.msg === "file processed").map((l) => l.partner).sort()).toEqual(["acme", "globex"])
    daemon.kill("SIGTERM")
    expect(await within(30_000, "the stop", exited)).toBe(0)
    // A file waiting in acme's inbox (the daemon is stopped).
    deliver("acme", "waiting.json")

    // Each partner reads its own returned file and report, and lists its own folders.
    for (const p of ["acme", "globex"]) {
      expect(ok(ns.sh(`cat ${P}/${p}/returns/orders.json`, { user: p }), `${p} reads its returned file`)).toBe(invalid)
      expect(JSON.parse(ok(ns.sh(`cat ${P}/${p}/returns/orders.json.error.json`, { user: p }), `${p} reads its report`))).toMatchObject({ file: "orders.json", error_count: 1 })
      expect(ok(ns.sh(`ls ${P}/${p}/returns`, { user: p }), `${p} lists its returns`).trim().split("\n")).toEqual(["orders.json", "orders.json.error.json"])
    }
    expect(ok(ns.sh(`ls ${P}/acme/data`, { user: "acme" }), "acme lists its inbox").trim()).toBe("waiting.json")

    // Every cross-partner listing, read, write and delete is refused.
    const before = ok(ns.run(["find", P, "-printf", "%p %s\n"]), "the partners' files before")
    for (const [attacker, victim] of [["globex", "acme"], ["acme", "globex"]] as const) {
      const V = `${P}/${victim}`
      const attempts: Record<string, string> = {
        "list the partners": `ls ${P}`,
        "list the working folder": `ls ${HOME}`,
        "list its folder": `ls ${V}`,
        "list its inbox": `ls ${V}/data`,
        "list its returns": `ls ${V}/returns`,
        "read its returned file": `cat ${V}/returns/orders.json`,
        "read its report": `cat ${V}/returns/orders.json.error.json`,
        "read its waiting file": `cat ${V}/data/waiting.json`,
        "write into its inbox": `echo x > ${V}/data/planted.json`,
        "write into its returns": `echo x > ${V}/returns/planted.json`,
        "overwrite its returned file": `echo x > ${V}/returns/orders.json`,
        "delete its returned file": `rm ${V}/returns/orders.json`,
        "delete its report": `rm ${V}/returns/orders.json.error.json`,
        "delete its waiting file": `rm ${V}/data/waiting.json`,
        "move its returned file away": `mv ${V}/returns/orders.json /tmp/taken.json`,
        "look at its returned file": `stat ${V}/returns/orders.json`
      }
      for (const [what, command] of Object.entries(attempts)) {
        const r = ns.sh(command, { user: attacker })
        expect(r.status, `${attacker} could ${what} of ${victim}: ${r.stdout}`).not.toBe(0)
      }
    }
    expect(ok(ns.run(["find", P, "-printf", "%p %s\n"]), "the partners' files after")).toBe(before)

    // The start-up check: a partner's account put in another partner's group is refused, with the fix.
    ok(ns.run(["usermod", "-aG", "cjp-acme", "globex"]), "globex put in acme's group")
    const refused = ns.sh(recipe(readme, "cli").replace(/ requeue --all$/m, " --once"), { dir: "/" })
    expect(refused.status, refused.stdout + refused.stderr).toBe(78)
    expect(refused.stdout + refused.stderr).toContain("partner globex (account globex) can")
    expect(refused.stdout + refused.stderr).toContain(`acme's inbox ${P}/acme/data`)
    expect(refused.stdout + refused.stderr).toContain("gpasswd -d globex cjp-acme")
    expect(NFS.existsSync(ns.path(`${P}/acme/data/waiting.json`))).toBe(true)
    ok(ns.run(["gpasswd", "-d", "globex", "cjp-acme"]), "the fix")

    // The accounts and groups go again; then the namespace.
    ok(ns.run(["userdel", "cjp"]), "userdel cjp")
    for (const p of ["acme", "globex"]) {
      ok(ns.run(["userdel", "--remove", p]), `userdel ${p}`)
      ok(ns.run(["groupdel", `cjp-${p}`]), `groupdel cjp-${p}`)
    }
    for (const child of started.splice(0).reverse()) await stop(child)
    for (const name of ["cjp", "acme", "globex"]) expect(ChildProcess.spawnSync("id", [name]).status).not.toBe(0)
  }, 900_000)
})
