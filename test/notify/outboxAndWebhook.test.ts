import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { simpleParser } from "mailparser"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as NFS from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { criticalMessage, rejectedMessage, sanitizeSubject } from "../../src/NotificationMessage.js"
import { maskText } from "../../src/Masking.js"
import { OutboxDelivery } from "../../src/Outbox.js"
import { WebhookDelivery } from "../../src/WebhookDelivery.js"
import { freePort, waitFor } from "../support/smtp.js"
import { critical, notifierRuntime, rejected } from "./support.js"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe("the outbox (default without SMTP_SERVER)", () => {
  it("writes each message as a complete, parseable .eml file and logs where it went", async () => {
    const n = notifierRuntime(OutboxDelivery)
    cleanups.push(() => n.dispose())
    await n.run((notifier) => Effect.zipRight(notifier.fileRejected(rejected("a.json")), notifier.critical(critical("disk nearly full"))))
    await waitFor(() => n.outboxFiles().length === 2)
    const mails = await Promise.all(n.outboxFiles().map((f) => simpleParser(NFS.readFileSync(f))))
    expect(mails.map((m) => m.subject).sort()).toEqual(["[customer-json] CRITICAL: disk nearly full", "[customer-json] Validation failed: a.json"])
    for (const m of mails) {
      expect(m.from?.text).toBe("processor@example.com")
      expect(m.to && !Array.isArray(m.to) ? m.to.text : "").toBe("ops@example.com, admin@example.com")
      expect(m.date).toBeInstanceOf(Date)
    }
    expect(n.logs.filter((l) => l.message === "notification written to the outbox").map((l) => l.annotations["path"])).toHaveLength(2)
    // no temporary names left behind
    expect(NFS.readdirSync(`${n.root}/logs/outbox`).every((f) => f.endsWith(".eml"))).toBe(true)
  })
})

describe("the webhook notifier (extension example)", () => {
  const startHttp = async (status: () => number) => {
    const bodies: Array<Record<string, unknown>> = []
    const server = Http.createServer((req, res) => {
      let body = ""
      req.on("data", (c) => (body += c))
      req.on("end", () => {
        const code = status()
        if (code === 200) bodies.push(JSON.parse(body))
        res.writeHead(code, { "content-type": "application/json" })
        res.end("{}")
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    return { url: `http://127.0.0.1:${(server.address() as Net.AddressInfo).port}/hooks/cjp`, bodies }
  }
  const webhook = WebhookDelivery(2000).pipe(Layer.provide(FetchHttpClient.layer))

  it("posts batched, masked JSON", async () => {
    const http = await startHttp(() => 200)
    const n = notifierRuntime(webhook, { NOTIFY_WEBHOOK_URL: http.url })
    cleanups.push(() => n.dispose())
    await n.run((notifier) => Effect.forEach(["one.json", "two 4111111111111111.json"], (f) => notifier.fileRejected(rejected(f)), { discard: true }))
    await waitFor(() => http.bodies.length === 1)
    const body = http.bodies[0]!
    expect(body).toMatchObject({ kind: "rejected", subject: "[customer-json] 2 files failed validation", more: 0 })
    expect(body["files"]).toEqual([
      { file: "one.json", stored_as: "one.json", error_count: 1 },
      { file: "two ************1111.json", stored_as: "two ************1111.json", error_count: 1 }
    ])
    expect(JSON.stringify(body)).not.toContain("4111111111111111")
  })

  it("retries a 503 and delivers", async () => {
    let calls = 0
    const http = await startHttp(() => (++calls < 3 ? 503 : 200))
    const n = notifierRuntime(webhook, { NOTIFY_WEBHOOK_URL: http.url })
    cleanups.push(() => n.dispose())
    await n.run((notifier) => notifier.fileRejected(rejected("r.json")))
    await waitFor(() => http.bodies.length === 1)
    expect(calls).toBe(3)
  })

  it("does not retry a 400; the message goes to the outbox", async () => {
    let calls = 0
    const http = await startHttp(() => (++calls, 400))
    const n = notifierRuntime(webhook, { NOTIFY_WEBHOOK_URL: http.url })
    cleanups.push(() => n.dispose())
    await n.run((notifier) => notifier.fileRejected(rejected("r.json")))
    await waitFor(() => n.outboxFiles().length === 1)
    expect(calls).toBe(1)
  })
})

describe("the webhook's secrets", () => {
  const webhook = WebhookDelivery(2000).pipe(Layer.provide(FetchHttpClient.layer))

  it("a refused connection: the reason says what failed, and no log line, reason or outbox mail holds the URL's path, query or userinfo", async () => {
    const port = await freePort()
    const url = `http://hook-user:hook-pass@127.0.0.1:${port}/services/T0KEN1/XyZsEcReT?token=q5ecret`
    const n = notifierRuntime(webhook, { NOTIFY_WEBHOOK_URL: url }, { retryBase: "50 millis", retryFor: "300 millis" })
    cleanups.push(() => n.dispose())
    await n.run((notifier) => notifier.fileRejected(rejected("r.json")))
    const kept = () => n.logs.find((l) => l.message === "notification could not be delivered; it is kept in the outbox")
    await waitFor(() => kept() !== undefined, 20_000, "the message in the outbox after the retries")
    expect(n.outboxFiles()).toHaveLength(1)
    const retrying = n.logs.filter((l) => l.message === "notification not delivered yet; retrying")
    expect(retrying.length).toBeGreaterThan(0)
    expect(retrying[0]!.annotations).toMatchObject({ reason: "request failed (Transport ECONNREFUSED)", target: `webhook http://127.0.0.1:${port}/…` })
    expect(kept()!.annotations["reason"]).toBe("request failed (Transport ECONNREFUSED)")
    const everything = JSON.stringify(n.logs) + n.outboxFiles().map((f) => NFS.readFileSync(f, "utf8")).join("")
    for (const secret of ["hook-user", "hook-pass", "T0KEN1", "XyZsEcReT", "q5ecret", "/services"]) expect(everything).not.toContain(secret)
  })
  it("userinfo in the URL is sent as a Basic Authorization header (fetch refuses it in the URL), and the path and query as given", async () => {
    const seen: Array<{ url: string | undefined; authorization: string | undefined }> = []
    const server = Http.createServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization })
      req.resume()
      req.on("end", () => {
        res.writeHead(200)
        res.end("{}")
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const port = (server.address() as Net.AddressInfo).port
    const n = notifierRuntime(webhook, { NOTIFY_WEBHOOK_URL: `http://hook-user:h%C3%B6ok%40pass@127.0.0.1:${port}/services/T0KEN1?token=q5ecret` })
    cleanups.push(() => n.dispose())
    await n.run((notifier) => notifier.fileRejected(rejected("r.json")))
    await waitFor(() => seen.length === 1)
    expect(seen[0]).toEqual({ url: "/services/T0KEN1?token=q5ecret", authorization: `Basic ${Buffer.from("hook-user:höok@pass").toString("base64")}` })
    await waitFor(() => n.logs.some((l) => l.message === "notification sent"))
    expect(JSON.stringify(n.logs)).not.toMatch(/hook-user|h%C3%B6ok|T0KEN1|q5ecret/)
  })
})

describe("message composition", () => {
  it("strips control characters from subjects and cuts them to 150", () => {
    expect(sanitizeSubject("a\r\nBcc: x@y.z\tb\u0000c")).toBe("a Bcc: x@y.z b c")
    const long = sanitizeSubject("y".repeat(400))
    expect(long).toHaveLength(150)
    expect(long.endsWith("…")).toBe(true)
  })
  it("lists at most 20 errors per file and says how many more", () => {
    const m = rejectedMessage([rejected("big.json", 20)].map((f) => ({ ...f, errorCount: 57 })), 0, "returns", maskText)
    expect(m.text.match(/^ {4}\$\[/gm)).toHaveLength(20)
    expect(m.text).toContain("… and 37 more errors (see the report)")
  })
  it("counts files it does not name", () => {
    const m = rejectedMessage([rejected("a.json")], 41, "returns", maskText)
    expect(m.subject).toBe("[customer-json] 42 files failed validation")
    expect(m.text).toContain("… and 41 more files failed validation")
  })
  it("reports repeats of a critical error", () => {
    const m = criticalMessage(critical("disk full"), 3, maskText)
    expect(m.text).toContain("The same error happened 3 more time(s)")
  })
})
