/** The built daemon with email: a real SMTP server on 127.0.0.1, up and down. */
import { simpleParser } from "mailparser"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { fixture } from "../support/fixtures.js"
import { freePort, startSmtp } from "../support/smtp.js"
import { appLogLines, drop, rootPerTest, spawnDaemon } from "./support.js"
import { list } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"

const root = rootPerTest()
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

const smtpEnv = (port: number) => ({
  SMTP_SERVER: "127.0.0.1",
  SMTP_PORT: String(port),
  EMAIL_SENDER: "processor@example.com",
  EMAIL_RECEIVER: "ops@example.com",
  EMAIL_BATCH_WINDOW_MS: "300"
})

describe("the daemon's email", () => {
  it("emails the administrators about an invalid file", async () => {
    const server = await startSmtp()
    cleanups.push(() => server.close())
    const daemon = spawnDaemon(root(), [], smtpEnv(server.port))
    await daemon.waitFor(/customer-json-processor started/)
    drop(root(), "bad.json", fixture("invalid-luhn.json"))
    await waitUntil(() => server.received.length === 1, 20_000, "the email")
    const mail = server.received[0]!.mail
    expect(mail.subject).toBe("[customer-json] Validation failed: bad.json")
    expect(mail.text).toContain("$.payment.card_number: card number fails the Luhn check (************1882)")
    expect(mail.text).toContain("Now at:    returns/bad.json")
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    expect(daemon.output()).toMatch(/notification sent/)
  })

  it("a critical mail names the host and the instance, and an all-clear follows when the condition clears", async () => {
    const server = await startSmtp()
    cleanups.push(() => server.close())
    const daemon = spawnDaemon(root(), [], { ...smtpEnv(server.port), HEALTH_CHECK_INTERVAL_MS: "300" })
    // (stopped before the server closes, which waits for its connections)
    cleanups.unshift(async () => {
      daemon.child.kill("SIGKILL")
      await daemon.exited
    })
    await daemon.waitFor(/customer-json-processor started/)
    const instance = /instance=(\S+)/.exec(daemon.output())?.[1] ?? /"instance":"([^"]+)"/.exec(daemon.output())?.[1]
    expect(instance).toMatch(/-\d+-[0-9a-f]{6}$/)
    // validated/ becomes unusable (a file where the folder was), then usable again
    const validated = Path.join(root(), "validated")
    NFS.renameSync(validated, `${validated}.away`)
    NFS.writeFileSync(validated, "not a folder")
    const subjects = () => server.received.map((r) => r.mail.subject ?? "")
    await waitUntil(() => subjects().some((s) => s.startsWith("[customer-json] CRITICAL: folder not usable")), 20_000, "the critical mail")
    const critical = server.received.find((r) => r.mail.subject?.startsWith("[customer-json] CRITICAL"))!.mail
    expect(critical.text).toContain(`Host:     ${OS.hostname()}\n`)
    expect(critical.text).toContain(`Instance: ${instance}\n`)
    NFS.rmSync(validated)
    NFS.renameSync(`${validated}.away`, validated)
    await waitUntil(() => subjects().some((s) => s.startsWith("[customer-json] All clear")), 20_000, "the all-clear mail")
    const clear = server.received.find((r) => r.mail.subject?.startsWith("[customer-json] All clear"))!.mail
    expect(clear.subject).toBe("[customer-json] All clear: folder not usable: validated")
    expect(clear.text).toContain(`Host:     ${OS.hostname()}\nInstance: ${instance}\n`)
    expect(clear.text).toContain("the health check passes again")
    // one critical and one all-clear, however many checks failed or passed meanwhile
    await new Promise((r) => setTimeout(r, 1000))
    expect(subjects().filter((s) => s.includes("folder not usable"))).toHaveLength(2)
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    const clearLines = appLogLines(root(), "logs").filter((l) => l["msg"] === "all clear: the health check passes again")
    expect(clearLines).toHaveLength(1)
    expect(clearLines[0]!["was"]).toMatch(/validated/)
  })

  it("keeps processing with the mail server down, and keeps the messages in the outbox at shutdown", async () => {
    const port = await freePort()
    const daemon = spawnDaemon(root(), [], { ...smtpEnv(port), SHUTDOWN_TIMEOUT_MS: "2000" })
    await daemon.waitFor(/customer-json-processor started/)
    for (let i = 0; i < 20; i++) drop(root(), `bad-${i}.json`, fixture("invalid-luhn.json"))
    drop(root(), "good.json", fixture("valid-single.json"))
    await waitUntil(() => list(Path.join(root(), "returns")).length === 40 && list(Path.join(root(), "validated")).length === 1, 20_000, "all files routed")
    const t0 = Date.now()
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    expect(Date.now() - t0).toBeLessThan(2000 * 2 + 3000)
    const outbox = Path.join(root(), "logs", "outbox")
    const mails = await Promise.all(NFS.readdirSync(outbox).filter((n) => n.endsWith(".eml")).map((n) => simpleParser(NFS.readFileSync(Path.join(outbox, n)))))
    const named = mails.flatMap((m) => [...(m.text ?? "").matchAll(/^File: (.*)$/gm)].map((x) => x[1]))
    expect(named.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `bad-${i}.json`).sort())
  })
})
