/** Email notifications against a real SMTP server (smtp-server) on 127.0.0.1. */
import { Effect } from "effect"
import { simpleParser } from "mailparser"
import * as NFS from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import * as SmtpDelivery from "../../src/notify/adapters/SmtpDelivery.js"
import { classify, passwordForms } from "../../src/notify/adapters/SmtpDelivery.js"
import { freePort, startSilentServer, startSmtp } from "../support/smtp.js"
import { waitUntil, within } from "../support/wait.js"
import type { TestSmtp } from "../support/smtp.js"
import { critical, notifierRuntime, rejected } from "./support.js"

const FAST = { connectionMs: 500, greetingMs: 500, socketMs: 1000, sendMs: 3000 }
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const smtpNotifier = (server: { port: number }, settings: Record<string, string> = {}, options: Parameters<typeof notifierRuntime>[2] = {}) => {
  const n = notifierRuntime(SmtpDelivery.layer(FAST), { SMTP_SERVER: "127.0.0.1", SMTP_PORT: String(server.port), ...settings }, options)
  cleanups.push(() => n.dispose())
  return n
}
const started = async (options: Parameters<typeof startSmtp>[0] = {}) => {
  const s = await startSmtp(options)
  cleanups.push(() => s.close())
  return s
}
const names = (server: TestSmtp) => server.received.flatMap((r) => [...(r.mail.text ?? "").matchAll(/^File: (.*)$/gm)].map((m) => m[1]!))

describe("the SMTP password in a server's reply", () => {
  it("is redacted in base64 at any offset of a longer encoded text, with anything around it", () => {
    const password = "correct horse battery"
    const forms = passwordForms("robot", password)
    for (let before = 0; before < 6; before++) {
      for (let after = 0; after < 4; after++) {
        const encoded = Buffer.from(`${"x".repeat(before)}${password}${"y".repeat(after)}`).toString("base64")
        const reason = classify({ responseCode: 535, message: `rejected ${encoded}` }, forms).reason
        expect(reason).toContain("<redacted>")
        // no 8 characters in a row that encode the password alone survive
        for (const core of forms.filter((f) => /^[A-Za-z0-9+/]+$/.test(f))) expect(reason).not.toContain(core.slice(0, 8))
      }
    }
  })
})

describe("email over SMTP", () => {
  it("one invalid file: one message with the subject, recipients and body of the contract", async () => {
    const server = await started()
    const n = smtpNotifier(server)
    await n.run((notifier) => notifier.fileRejected(rejected("batch-7.json", 2)))
    await waitUntil(() => server.received.length === 1)
    const { mail, rcptTo } = server.received[0]!
    expect(mail.subject).toBe("[customer-json] Validation failed: batch-7.json")
    expect([...rcptTo].sort()).toEqual(["admin@example.com", "ops@example.com"])
    expect(mail.from?.text).toBe("processor@example.com")
    expect(mail.text).toContain("File: batch-7.json")
    expect(mail.text).toContain("Received:  2026-11-28T09:30:00.120Z")
    expect(mail.text).toContain("Processed: 2026-11-28T09:30:00.135Z")
    expect(mail.text).toContain("Now at:    returns/batch-7.json")
    expect(mail.text).toContain("Errors:    2")
    expect(mail.text).toContain("$[1].email: must be an email address")
  })

  it("500 invalid files at once: a handful of batched messages that together name all 500", async () => {
    const server = await started()
    const n = smtpNotifier(server)
    const files = Array.from({ length: 500 }, (_, i) => `f${String(i).padStart(3, "0")}.json`)
    await n.run((notifier) => Effect.forEach(files, (f) => notifier.fileRejected(rejected(f)), { discard: true }))
    await waitUntil(() => names(server).length === 500)
    expect(server.received.length).toBeLessThanOrEqual(6)
    expect(names(server).sort()).toEqual(files)
    expect(server.received[0]!.mail.subject).toMatch(/^\[customer-json\] \d+ files failed validation$/)
  })

  it("rolls what exceeds EMAIL_MAX_PER_HOUR into the last allowed message, counted", async () => {
    const server = await started()
    const n = smtpNotifier(server, { EMAIL_MAX_PER_HOUR: "2" })
    await n.run((notifier) => Effect.forEach(Array.from({ length: 250 }, (_, i) => `r${i}.json`), (f) => notifier.fileRejected(rejected(f)), { discard: true }))
    await waitUntil(() => server.received.length === 2)
    await new Promise((r) => setTimeout(r, 500))
    expect(server.received).toHaveLength(2)
    expect(names(server)).toHaveLength(200)
    expect(server.received[1]!.mail.text).toContain("… and 50 more files failed validation")
    expect(server.received[0]!.mail.subject).toBe("[customer-json] 100 files failed validation")
    expect(server.received[1]!.mail.subject).toBe("[customer-json] 150 files failed validation")
  })

  it("at shutdown, a message held back by EMAIL_MAX_PER_HOUR goes to the outbox with a WARN, not an ERROR", async () => {
    const server = await started()
    const n = smtpNotifier(server, { EMAIL_MAX_PER_HOUR: "1" })
    await n.run((notifier) => notifier.critical(critical("first")))
    await waitUntil(() => server.received.length === 1)
    // The hour's one message is gone: the next waits for the allowance, and the daemon stops meanwhile.
    await n.run((notifier) => notifier.critical(critical("second")))
    await n.dispose()
    expect(server.received).toHaveLength(1)
    expect(n.outboxFiles()).toHaveLength(1)
    expect(NFS.readFileSync(n.outboxFiles()[0]!, "utf8")).toContain("second")
    const held = n.logs.filter((l) => l.message.startsWith("notification held back by EMAIL_MAX_PER_HOUR"))
    expect(held.map((l) => l.level)).toEqual(["WARN"])
    expect(held[0]!.annotations["reason"]).toBe("over EMAIL_MAX_PER_HOUR (1) at shutdown")
    expect(n.logs.filter((l) => l.level === "ERROR")).toEqual([])
  })

  it("authenticates with EMAIL_PASSWORD (AUTH PLAIN/LOGIN required)", async () => {
    const server = await started({ auth: { user: "processor@example.com", pass: "s3cret-pw" } })
    const n = smtpNotifier(server, {}, { password: "s3cret-pw" })
    await n.run((notifier) => notifier.fileRejected(rejected("a.json")))
    await waitUntil(() => server.received.length === 1)
    expect(server.received[0]!.user).toBe("processor@example.com")
    expect(JSON.stringify(n.logs)).not.toContain("s3cret-pw")
  })

  it("a wrong password is permanent: no retries, the message goes to the outbox", async () => {
    const server = await started({ auth: { user: "processor@example.com", pass: "right" } })
    const n = smtpNotifier(server, {}, { password: "wrong" })
    await n.run((notifier) => notifier.fileRejected(rejected("a.json")))
    await waitUntil(() => n.outboxFiles().length === 1)
    expect(n.logs.filter((l) => l.message === "notification not delivered yet; retrying")).toEqual([])
  })

  it("a server reply quoting the password in any encoding reaches no log line, reason or outbox mail", async () => {
    // SMTP_USER of 5 characters and a password of 16: every base64 form below has its `=` padding.
    const user = "robot"
    const password = "Wr0ng s3cret/+&%"
    const b64 = (text: string) => Buffer.from(text).toString("base64")
    const padded = [b64(password), b64(`\u0000${user}\u0000${password}`), b64(`${user}\u0000${password}`)]
    for (const form of padded) expect(form).toMatch(/=$/)
    const forms = [
      password,
      ...padded,
      ...padded.map((f) => f.replace(/=+$/, "")),
      encodeURIComponent(password),
      encodeURIComponent(password).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
      new URLSearchParams({ p: password }).toString().slice(2),
      // the password's base64 inside a longer encoded text, at an offset that is not a whole group
      b64(`AUTH ${password} and more`)
    ]
    const server = await started({
      auth: { user, pass: "right" },
      authFailure: () => `no such login: ${forms.join(" | ")}`
    })
    const n = smtpNotifier(server, { SMTP_USER: user }, { password })
    await n.run((notifier) => notifier.fileRejected(rejected("a.json")))
    const kept = () => n.logs.find((l) => l.message === "notification could not be delivered; it is kept in the outbox")
    await waitUntil(() => kept() !== undefined)
    const reason = String(kept()!.annotations["reason"])
    // every form reached the reason (none cut off by its length limit), each redacted
    expect(reason.match(/<redacted>/g)).toHaveLength(forms.length)
    expect(reason).toMatch(/^SMTP 535: Invalid login: 535 no such login: <redacted> \| <redacted> \| <redacted> \| <redacted> \| <redacted> \|/)
    const kept0 = await simpleParser(NFS.readFileSync(n.outboxFiles()[0]!))
    expect(kept0.headers.get("x-customer-json-undelivered")).toMatch(/^SMTP 535: Invalid login: 535 no such login: <redacted> \|/)
    const everything = JSON.stringify(n.logs) + n.outboxFiles().map((f) => NFS.readFileSync(f, "utf8")).join("")
    for (const form of forms) expect([form, everything.includes(form)]).toEqual([form, false])
    // nor any run of 8 characters of the password's base64 at any offset
    for (const offset of ["", "A", "AB"]) {
      const encoded = b64(`${offset}${password}`)
      const from = Math.ceil((offset.length * 4) / 3)
      expect(everything).not.toContain(encoded.slice(from, from + 8))
    }
  })

  it("a server reply quoting the password (plain or base64, AUTH PLAIN's form) reaches no log line, reason or outbox mail", async () => {
    const server = await started({
      auth: { user: "processor@example.com", pass: "right" },
      authFailure: (user, pass) => `no such login ${user} / ${pass} / ${Buffer.from(`\u0000${user}\u0000${pass}`).toString("base64")} / ${Buffer.from(pass).toString("base64")}`
    })
    const n = smtpNotifier(server, {}, { password: "Wr0ng-s3cret" })
    await n.run((notifier) => notifier.fileRejected(rejected("a.json")))
    const kept = () => n.logs.find((l) => l.message === "notification could not be delivered; it is kept in the outbox")
    await waitUntil(() => kept() !== undefined)
    expect(kept()!.annotations["reason"]).toMatch(/^SMTP 535: Invalid login: 535 no such login p\*\*\*@example\.com \/ <redacted> \/ <redacted> \/ <redacted>/)
    // the reason kept with the mail is masked like the mail (the server quoted the login, an address)
    const kept0 = await simpleParser(NFS.readFileSync(n.outboxFiles()[0]!))
    expect(kept0.headers.get("x-customer-json-undelivered")).toMatch(/^SMTP 535: Invalid login: 535 no such login p\*\*\*@example\.com \/ <redacted>/)
    const everything = JSON.stringify(n.logs) + n.outboxFiles().map((f) => NFS.readFileSync(f, "utf8")).join("")
    expect(everything).not.toContain("processor@example.com /")
    for (const secret of ["Wr0ng-s3cret", Buffer.from("Wr0ng-s3cret").toString("base64"), Buffer.from("\u0000processor@example.com\u0000Wr0ng-s3cret").toString("base64")]) {
      expect(everything).not.toContain(secret)
    }
  })

  it("server down at start, up later: delivered once it is up, and queuing never waits", async () => {
    const port = await freePort()
    const n = smtpNotifier({ port }, {}, { retryBase: "200 millis" })
    // Queuing returns while the server is still down (it is started only after): the caller never waits for delivery.
    await within(10_000, "queuing two rejected files", n.run((notifier) => Effect.forEach(["x.json", "y.json"], (f) => notifier.fileRejected(rejected(f)), { discard: true })))
    expect(n.logs.some((l) => l.message === "notification sent")).toBe(false)
    await new Promise((r) => setTimeout(r, 1200))
    const server = await started({ port })
    await waitUntil(() => server.received.length === 1, 30_000, "delivery after the server came up")
    expect(names(server).sort()).toEqual(["x.json", "y.json"])
    expect(n.logs.some((l) => l.message === "notification not delivered yet; retrying")).toBe(true)
    expect(n.logs.some((l) => l.message === "notification target not reachable at start; notifications will be retried" && l.level === "WARN")).toBe(true)
  })

  it("a 550 reply is not retried, and the message is kept in the outbox", async () => {
    const server = await started({ reject: true })
    const n = smtpNotifier(server)
    await n.run((notifier) => notifier.fileRejected(rejected("refused.json")))
    await waitUntil(() => n.outboxFiles().length === 1)
    await new Promise((r) => setTimeout(r, 500))
    expect(server.attempts).toBe(1)
    const mail = await simpleParser(NFS.readFileSync(n.outboxFiles()[0]!))
    expect(mail.subject).toBe("[customer-json] Validation failed: refused.json")
    expect(n.logs.some((l) => l.level === "ERROR" && l.message === "notification could not be delivered; it is kept in the outbox")).toBe(true)
  })

  it("a server that never answers: timeouts fire, and shutdown completes within its deadline", async () => {
    const silent = await startSilentServer()
    cleanups.push(() => silent.close())
    const n = notifierRuntime(SmtpDelivery.layer(FAST), { SMTP_SERVER: "127.0.0.1", SMTP_PORT: String(silent.port), SHUTDOWN_TIMEOUT_MS: "2000" })
    await n.run((notifier) => notifier.fileRejected(rejected("stuck.json")))
    await waitUntil(() => n.logs.some((l) => l.message === "notification not delivered yet; retrying"), 10_000, "a timeout")
    expect(silent.connections()).toBeGreaterThan(0)
    // SHUTDOWN_TIMEOUT_MS is 2 s: the bound is generous, the point is that a silent server cannot hold shutdown up.
    await within(2000 + 10_000, "shutdown against a silent server", n.dispose())
    expect(n.outboxFiles()).toHaveLength(1)
    expect(n.logs.some((l) => l.message === "notification sent")).toBe(false)
  })

  it("a file name carrying CR LF cannot add a header or a recipient", async () => {
    const server = await started()
    const n = smtpNotifier(server)
    await n.run((notifier) => notifier.fileRejected(rejected("evil.json\r\nBcc: attacker@example.com\r\nX-Evil: 1")))
    await waitUntil(() => server.received.length === 1)
    const { mail, raw, rcptTo } = server.received[0]!
    expect([...rcptTo].sort()).toEqual(["admin@example.com", "ops@example.com"])
    expect(mail.bcc).toBeUndefined()
    expect(mail.headers.has("x-evil")).toBe(false)
    expect(raw).not.toMatch(/^Bcc:/im)
    expect(mail.subject).not.toMatch(/[\r\n]/)
    expect(mail.subject!.length).toBeLessThanOrEqual(150)
  })

  it("cuts long subjects to 150 characters", async () => {
    const server = await started()
    const n = smtpNotifier(server)
    await n.run((notifier) => notifier.fileRejected(rejected(`${"x".repeat(300)}.json`)))
    await waitUntil(() => server.received.length === 1)
    expect(server.received[0]!.mail.subject!.length).toBe(150)
  })

  it("no raw card number, email or phone reaches a message", async () => {
    const server = await started()
    const n = smtpNotifier(server)
    await n.run((notifier) =>
      Effect.zipRight(
        notifier.fileRejected(rejected("cust 4111 1111 1111 1111 ada@example.com.json")),
        notifier.critical(critical("move failed for 5555-5555-5555-4444.json", "owner grace@example.org, card 378282246310005"))
      )
    )
    await waitUntil(() => server.received.length === 2)
    const all = server.received.map((r) => r.raw + (r.mail.text ?? "") + (r.mail.subject ?? "")).join("\n")
    for (const secret of ["4111 1111 1111 1111", "4111111111111111", "ada@example.com", "5555-5555-5555-4444", "grace@example.org", "378282246310005"]) {
      expect(all).not.toContain(secret)
    }
    expect(all).toContain("************1111")
  })

  it("a name with a card number joined to letters (contract §7 revised) is masked in subject, body and every header", async () => {
    const server = await started()
    const n = smtpNotifier(server)
    await n.run((notifier) => notifier.fileRejected(rejected("card4111111111111111.json", 2)))
    await waitUntil(() => server.received.length === 1)
    const { mail, raw } = server.received[0]!
    expect(mail.subject).toBe("[customer-json] Validation failed: card************1111.json")
    expect(mail.text).toContain("File: card************1111.json")
    expect(mail.text).toContain("Now at:    returns/card************1111.json (report: card************1111.json.error.json)")
    expect(raw + (mail.text ?? "") + (mail.subject ?? "")).not.toContain("4111111111111111")
    await waitUntil(() => n.logs.some((l) => l.message === "notification sent"))
    expect(JSON.stringify(n.logs)).not.toContain("4111111111111111")
  })

  it("a critical error is sent at once, and the same one at most once an hour", async () => {
    const server = await started()
    const n = smtpNotifier(server, { EMAIL_BATCH_WINDOW_MS: "60000" })
    await n.run((notifier) => notifier.critical(critical("returns/ is not writable")))
    await waitUntil(() => server.received.length === 1, 5000, "the critical message, without waiting for the batch window")
    await n.run((notifier) => Effect.zipRight(notifier.critical(critical("returns/ is not writable")), notifier.critical(critical("returns/ is not writable"))))
    await new Promise((r) => setTimeout(r, 500))
    expect(server.received).toHaveLength(1)
    expect(server.received[0]!.mail.subject).toBe("[customer-json] CRITICAL: returns/ is not writable")
  })

  it("at shutdown the open batch is sent, and the transport closes", async () => {
    const server = await started()
    const n = smtpNotifier(server, { EMAIL_BATCH_WINDOW_MS: "60000" })
    await n.run((notifier) => notifier.fileRejected(rejected("last.json")))
    await new Promise((r) => setTimeout(r, 200))
    expect(server.received).toHaveLength(0) // still inside its batch window
    await n.dispose()
    expect(names(server)).toEqual(["last.json"])
  })
})
