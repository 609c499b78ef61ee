// A hostile producer's attacks on the daemon's work per file (issue: bounded work per file), run as the
// producer's user (setpriv). usage: producerAttacks.mjs ATTACK ROOT [args...]; the umask is the producer's
// (0027, as the README sets it). Each writes what the test needs to OUT as JSON, where it says so.
//   sparse ROOT                      a 15 TB file of no disk space, data/big.json (written aside, renamed)
//   touch ROOT COUNT READY           COUNT half-written files (`[`), their mtime touched every 0.5 s until SIGTERM;
//                                    READY is written once they are all there
//   flood ROOT MS OUT                names created and removed as fast as it can for MS, five honest files dropped
//                                    a second apart meanwhile; OUT: { drops: [{ name, at }], events }
//   delete-stages ROOT DIR           every `.cjp-stage-*` that appears in DIR removed at once, until SIGTERM
import * as fs from "node:fs"
import * as path from "node:path"

process.umask(0o027)
const [attack, root, ...args] = process.argv.slice(2)
const data = path.join(root, "data")
const VALID = JSON.stringify({
  customer_id: "C-1",
  first_name: "Ada",
  last_name: "Lovelace",
  email: "ada@example.com",
  address: { line1: "1 Main St", city: "London", postal_code: "N1 9GU", country: "GB" },
  created_at: "2026-11-28T09:30:00Z"
})
const dropAside = (name, write) => {
  const temp = path.join(data, `.${name}.tmp`)
  write(temp)
  fs.renameSync(temp, path.join(data, name))
}
let running = true
process.on("SIGTERM", () => { running = false })

if (attack === "sparse") {
  dropAside("big.json", (temp) => {
    fs.writeFileSync(temp, "")
    fs.truncateSync(temp, 15 * 1024 ** 4)
  })
} else if (attack === "touch") {
  const [count, ready] = [Number(args[0]), args[1]]
  for (let i = 0; i < count; i++) dropAside(`w${i}.json`, (temp) => fs.writeFileSync(temp, "["))
  fs.writeFileSync(ready, "ready")
  const touch = () => {
    if (!running) return
    const now = new Date()
    for (let i = 0; i < count; i++) fs.utimesSync(path.join(data, `w${i}.json`), now, now)
    setTimeout(touch, 500)
  }
  touch()
} else if (attack === "flood") {
  const [ms, out] = [Number(args[0]), args[1]]
  const started = Date.now()
  const drops = []
  let events = 0
  let n = 0
  while (Date.now() - started < ms) {
    // Names the daemon takes for candidates, each there for a moment.
    for (let k = 0; k < 200; k++) {
      const name = path.join(data, `flood-${n++ % 5000}.json`)
      fs.closeSync(fs.openSync(name, "w"))
      fs.unlinkSync(name)
      events += 3
    }
    const due = Math.floor((Date.now() - started) / 1000)
    if (drops.length < 5 && due >= drops.length + 1) {
      const name = `honest${drops.length}.json`
      dropAside(name, (temp) => fs.writeFileSync(temp, VALID))
      drops.push({ name, at: Date.now() })
    }
  }
  fs.writeFileSync(out, JSON.stringify({ drops, events, seconds: (Date.now() - started) / 1000 }))
} else if (attack === "delete-stages") {
  const dir = args[0]
  const sweep = () => {
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(".cjp-stage-")) fs.rmSync(path.join(dir, name), { force: true })
    }
  }
  // As fast as it can: a busy loop of listings, with a turn of the event loop (for SIGTERM) every 20 ms.
  const loop = () => {
    const until = Date.now() + 20
    while (running && Date.now() < until) sweep()
    if (running) setImmediate(loop)
  }
  loop()
} else {
  process.stderr.write(`unknown attack ${attack}\n`)
  process.exit(2)
}
