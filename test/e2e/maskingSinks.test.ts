/**
 * The built daemon and every output it has, for a handful of generated card
 * numbers and email addresses in the forms contract §7 (revised 2026-12-03)
 * lists (issue 27, item 4): in file names (a producer's bytes, Latin-1 bytes
 * included, or literal `%XX` text), unknown keys and values. One daemon mails
 * a real SMTP server on 127.0.0.1, serves /status.json and the status page,
 * logs with DEBUG to the pretty console; another, without SMTP, writes its
 * mail to the outbox and logs JSON to the console. Then no log file, console,
 * report, stored name, mail (raw and decoded), outbox message, /status.json
 * or status page shows more than a card's last four digits or an address's
 * first character, and every `stored_as` is the exact name of a stored file.
 * The generated cases are fixed (seed 27): what failed once fails again.
 */
import { FastCheck as fc } from "effect"
import { simpleParser } from "mailparser"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { freePort, startSmtp } from "../support/smtp.js"
import type { TestSmtp } from "../support/smtp.js"
import { waitUntil } from "../support/wait.js"
import { anyShownCard, shownEmail, showsCard, showsLocal } from "../support/sensitive.js"
import { cleanUpAfterEach, FOLDER_NAMES, makeRoot, spawnDaemon } from "./support.js"
import type { Daemon } from "./support.js"

const { daemons, roots } = cleanUpAfterEach()
const servers: Array<TestSmtp> = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

interface Case {
  readonly shown: string
  readonly shows: (text: string) => boolean
}

const SEED = 27
// (short enough that a name holds them whole, escapes as literal text included)
const fits = (shown: string) => Buffer.byteLength(shown) <= 200
const cards: ReadonlyArray<Case> = fc.sample(anyShownCard, { seed: SEED, numRuns: 50 }).filter(({ shown }) => fits(shown)).slice(0, 5)
  .map(({ card, shown }) => ({ shown, shows: (t) => showsCard(t, card) }))
const emails: ReadonlyArray<Case> = fc.sample(shownEmail, { seed: SEED, numRuns: 3 }).map(({ local, shown }) => ({ shown, shows: (t) => showsLocal(t, local) }))
// and the forms the review found in clear, whatever the sample holds
const fixed: ReadonlyArray<Case> = [
  { shown: "4111\u00a01111\u20091111\u202f1111", shows: (t) => showsCard(t, "4111111111111111") },
  { shown: "５５５５ - ５５５５ - ５５５５ - ４４４４", shows: (t) => showsCard(t, "5555555555554444") },
  { shown: "3782%A0822463%A010005", shows: (t) => showsCard(t, "378282246310005") },
  { shown: "jane.roe%40example.org", shows: (t) => showsLocal(t, "jane.roe") },
  { shown: "margo＠example.com", shows: (t) => showsLocal(t, "margo") }
]
const CASES = [...fixed, ...cards, ...emails]

/** A name's bytes: `%XX` as the byte XX (a Latin-1 no-break space is the byte A0) for even cases, as literal text for odd ones. */
const nameBytes = (shown: string, i: number): Buffer => {
  const prefix = `case${"abcdefghijklmnopqrstuvwxyz"[i]}-`
  const text = `${prefix}${shown}`
  const body = i % 2 === 0
    ? Buffer.concat(text.split(/(%[0-9A-Fa-f]{2})/).map((part, k) => (k % 2 === 1 ? Buffer.of(Number.parseInt(part.slice(1), 16)) : Buffer.from(part, "utf8"))))
    : Buffer.from(text, "utf8")
  return Buffer.concat([body.subarray(0, 240), Buffer.from(".json")])
}

const record = (shown: string) => JSON.stringify({
  customer_id: "C-1",
  first_name: "Ada",
  last_name: "Byron",
  email: "ada@example.com",
  address: { line1: "1 Main St", city: "London", postal_code: "N1 9GU", country: "GB" },
  created_at: "2026-11-28T09:30:00Z",
  // an unknown key holding it, and an unknown key whose value holds it
  [`note ${shown}`]: 1,
  extra: `value ${shown}`
})

const tree = () => {
  const root = makeRoot()
  roots.push(root)
  for (const dir of FOLDER_NAMES) NFS.mkdirSync(Path.join(root, dir))
  return root
}

const dropAll = (root: string) =>
  CASES.forEach((c, i) => {
    const data = Path.join(root, "data")
    const temp = Path.join(data, `.drop-${i}.tmp`)
    NFS.writeFileSync(temp, record(c.shown))
    NFS.renameSync(temp, Buffer.concat([Buffer.from(`${data}/`), nameBytes(c.shown, i)]))
  })

/** Every file under `dir`, as [path, text]. */
const filesUnder = (dir: string): Array<[string, string]> =>
  NFS.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = Path.join(dir, e.name)
    return e.isDirectory() ? filesUnder(path) : [[path, NFS.readFileSync(path, "utf8")] as [string, string]]
  })

const returned = (root: string) => NFS.readdirSync(Path.join(root, "returns")).filter((n) => !n.endsWith(".error.json"))

const stop = async (daemon: Daemon) => {
  daemon.child.kill("SIGTERM")
  expect(await daemon.exited).toBe(0)
}

describe("every output of the built daemon, for card numbers and addresses in every form of §7", () => {
  it("no log, console, report, stored name, mail, outbox message, status.json or status page shows them; stored_as is exact", async () => {
    const smtp = await startSmtp()
    servers.push(smtp)
    const port = await freePort()
    const mailing = tree()
    const outboxing = tree()
    const email = { EMAIL_SENDER: "processor@example.com", EMAIL_RECEIVER: "ops@example.com", EMAIL_BATCH_WINDOW_MS: "300" }
    const a = spawnDaemon(mailing, [], {
      ...email,
      SMTP_SERVER: "127.0.0.1",
      SMTP_PORT: String(smtp.port),
      METRICS_PORT: String(port),
      LOG_CONSOLE: "pretty",
      DEBUG: "true",
      QUIET_PERIOD_MS: "300"
    })
    const b = spawnDaemon(outboxing, [], { ...email, LOG_CONSOLE: "json", QUIET_PERIOD_MS: "300" })
    daemons.push(a, b)
    await Promise.all([a.waitFor(/customer-json-processor started/), b.waitFor(/customer-json-processor started/)])
    dropAll(mailing)
    dropAll(outboxing)

    const n = CASES.length
    const mailedFiles = () => smtp.received.reduce((sum, r) => sum + [...(r.mail.text ?? "").matchAll(/^File: /gm)].length, 0)
    const outbox = Path.join(outboxing, "logs", "outbox")
    await waitUntil(() => returned(mailing).length === n && returned(outboxing).length === n, 30_000, `${n} files returned twice`, 100)
    await waitUntil(() => mailedFiles() === n, 20_000, `${n} files mailed`, 100)
    await waitUntil(() => NFS.existsSync(outbox) && NFS.readdirSync(outbox).some((f) => f.endsWith(".eml")), 20_000, "the outbox", 100)
    const statusJson = await (await fetch(`http://127.0.0.1:${port}/status.json`)).text()
    const statusPage = await (await fetch(`http://127.0.0.1:${port}/`)).text()
    await Promise.all([stop(a), stop(b)])

    const mails = await Promise.all(filesUnder(outbox).filter(([p]) => p.endsWith(".eml")).map(async ([path, raw]) => {
      const parsed = await simpleParser(raw)
      return [[path, raw], [`${path} (decoded)`, `${parsed.subject ?? ""}\n${parsed.text ?? ""}`]] as Array<[string, string]>
    }))
    const outputs: Array<[string, string]> = [
      ...filesUnder(Path.join(mailing, "logs")),
      ...filesUnder(Path.join(mailing, "returns")).filter(([p]) => p.endsWith(".error.json")),
      ...filesUnder(Path.join(outboxing, "logs")),
      ...filesUnder(Path.join(outboxing, "returns")).filter(([p]) => p.endsWith(".error.json")),
      ...mails.flat(),
      ["console (pretty, DEBUG)", a.output()],
      ["console (json)", b.output()],
      ["stored names", [...returned(mailing), ...returned(outboxing), ...NFS.readdirSync(Path.join(mailing, "returns"))].join("\n")],
      ...smtp.received.flatMap((r, i): Array<[string, string]> => [[`mail ${i} (raw)`, r.raw], [`mail ${i}`, `${r.mail.subject ?? ""}\n${r.mail.text ?? ""}`]]),
      ["status.json", statusJson],
      ["status.json (strings)", JSON.stringify(JSON.parse(statusJson), null, 0)],
      ["status page", statusPage]
    ]
    expect(outputs.filter(([p]) => p.includes("outbox")).length).toBeGreaterThan(0)
    for (const c of CASES) {
      for (const [where, text] of outputs) {
        const line = c.shows(text) ? text.split("\n").find((l) => c.shows(l)) ?? "(across lines)" : ""
        expect(c.shows(text), `${where} shows ${JSON.stringify(c.shown)}: ${line}`).toBe(false)
      }
    }

    // stored_as is the exact name of a stored file: in reports, log lines, status and mail
    const storedA = new Set(returned(mailing))
    for (const name of storedA) {
      const report = JSON.parse(NFS.readFileSync(Path.join(mailing, "returns", `${name}.error.json`), "utf8")) as { stored_as: string }
      expect(report.stored_as).toBe(name)
    }
    const logged = NFS.readFileSync(Path.join(mailing, "logs", "app.log"), "utf8").split("\n").filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l["msg"] === "file processed").map((l) => l["stored_as"])
    expect(new Set(logged)).toEqual(storedA)
    const status = JSON.parse(statusJson) as { outcomes: Array<{ stored_as: string | null }> }
    expect(new Set(status.outcomes.map((o) => o.stored_as))).toEqual(storedA)
    const nowAt = smtp.received.flatMap((r) => [...(r.mail.text ?? "").matchAll(/^ {2}Now at: {4}returns\/(.*) \(report: /gm)].map((m) => m[1]))
    expect(new Set(nowAt)).toEqual(storedA)
  }, 120_000)
})
