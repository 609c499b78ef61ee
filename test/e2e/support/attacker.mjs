// A hostile producer, run as an unprivileged user beside the daemon (test/e2e/hostile.test.ts).
// It may write data/ and returns/, and does everything it can there for DURATION ms: sprays
// links at every name the daemon made predictably before, races the daemon's new names with
// inotify, swaps claimed names for links to a secret, rewrites files it still holds open,
// plants FIFOs and hard links. Then it writes what it dropped to OUT (JSON) and exits.
import * as ChildProcess from "node:child_process"
import * as FS from "node:fs"
import * as Path from "node:path"

const [root, canary, secret, durationMs, out] = process.argv.slice(2)
const data = Path.join(root, "data")
const returns = Path.join(root, "returns")
let deadline = Number.POSITIVE_INFINITY
const dropped = [] // { name, content, valid, held? }
/** What a held file becomes once rewritten (its original may or may not have been judged by then). */
const REWRITTEN = "#!/bin/sh\necho owned\n"
const held = [] // { fd, name, at }
let seq = 0
const swapped = new Set()
const tryDo = (f) => {
  try {
    f()
  } catch {
    // every attack may lose its race: that is the point
  }
}

const record = (i, valid) =>
  valid
    ? JSON.stringify({
      customer_id: `H-${i}`,
      first_name: "Ann",
      last_name: "Lee",
      email: "ann@example.com",
      address: { line1: "1 Main St", city: "Springfield", postal_code: "12345", country: "US" },
      created_at: "2026-11-28T09:30:00Z"
    })
    : JSON.stringify({ customer_id: `H-${i}`, email: "not an email" })

const drop = (name, content, valid) => {
  const temp = Path.join(data, `.${name}.part`)
  FS.writeFileSync(temp, content)
  FS.renameSync(temp, Path.join(data, name))
  dropped.push({ name, content, valid })
}

// 1. Sprays at the names the daemon used to make predictably, and at report names it will want.
const now = Date.now()
for (let k = 0; k < 200; k++) {
  tryDo(() => FS.symlinkSync(Path.join(canary, `created-probe-${k}`), Path.join(returns, `.write-probe.${process.pid}-${k}.tmp`)))
  tryDo(() => FS.symlinkSync(Path.join(canary, `created-stage-${k}`), Path.join(returns, `.${now + k}-${k}_v${k}.json.report.tmp`)))
  tryDo(() => FS.symlinkSync(Path.join(canary, `created-report-${k}`), Path.join(returns, `bad${k}.json.error.json`)))
  tryDo(() => FS.symlinkSync(Path.join(canary, "target"), Path.join(returns, `bad${k}.json`)))
  tryDo(() => FS.symlinkSync(secret, Path.join(data, `secret${k}.json`)))
}
for (let k = 0; k < 5; k++) {
  tryDo(() => ChildProcess.execFileSync("mkfifo", [Path.join(data, `fifo${k}.json`)]))
  tryDo(() => ChildProcess.execFileSync("mkfifo", [Path.join(returns, `.cjp-stage-${"0".repeat(31)}${k}.tmp`)]))
  tryDo(() => {
    FS.writeFileSync(Path.join(data, `.h${k}.part`), record(1000 + k, true))
    FS.linkSync(Path.join(data, `.h${k}.part`), Path.join(data, `hard${k}.json`))
  })
}

// The attack's time runs from here, whatever the spray took on a loaded machine.
deadline = Date.now() + Number(durationMs)

// 2. Races through inotify: every new hidden name in returns/ is swapped for a link to the
// canary; every claimed (vanished) data file comes back as a link to the secret.
const watchers = [
  FS.watch(returns, (_event, name) => {
    // (each name once: its own swap is an event too)
    if (typeof name !== "string" || !name.startsWith(".") || name.startsWith(".write-probe.") || swapped.has(name)) return
    swapped.add(name)
    const path = Path.join(returns, name)
    tryDo(() => {
      FS.unlinkSync(path)
      FS.symlinkSync(Path.join(canary, `created-swap-${seq++}`), path)
    })
  }),
  FS.watch(data, (_event, name) => {
    if (typeof name !== "string" || !/^v\d+\.json$/.test(name)) return
    const path = Path.join(data, name)
    if (!FS.existsSync(path)) tryDo(() => FS.symlinkSync(secret, path))
  })
]

// 3. Files dropped meanwhile, some held open to be rewritten after they were judged.
let i = 0
const tick = () => {
  if (Date.now() > deadline) return finish()
  for (let b = 0; b < 5; b++, i++) {
    const valid = i % 3 !== 0
    const name = valid ? `v${i}.json` : `bad${i}.json`
    tryDo(() => {
      drop(name, record(i, valid), valid)
      if (i % 4 === 1) {
        held.push({ fd: FS.openSync(Path.join(data, name), "r+"), at: Date.now() })
        dropped[dropped.length - 1].held = true
      }
    })
  }
  for (const h of held.splice(0)) {
    if (Date.now() - h.at < 300) {
      held.push(h)
      continue
    }
    tryDo(() => {
      FS.ftruncateSync(h.fd, 0)
      FS.writeSync(h.fd, Buffer.from(REWRITTEN), 0, REWRITTEN.length, 0)
      FS.fchmodSync(h.fd, 0o6777)
    })
    tryDo(() => FS.closeSync(h.fd))
  }
  setTimeout(tick, 20)
}

const finish = () => {
  for (const w of watchers) w.close()
  for (const h of held) tryDo(() => FS.closeSync(h.fd))
  FS.writeFileSync(out, JSON.stringify(dropped))
  process.exit(0)
}

tick()
