import { FetchHttpClient } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { FileSystem } from "@effect/platform"
import { Effect, Exit, Layer } from "effect"
import { simpleParser } from "mailparser"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Crypto from "node:crypto"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { criticalMessage, LINE_TEXT_MAX, rejectedMessage, sanitizeSubject } from "../../src/notify/NotificationMessage.js"
import { maskText } from "../../src/masking/Masking.js"
import * as Outbox from "../../src/notify/adapters/Outbox.js"
import { EML_LINE_MAX, outboxName, randomLetters, wrapForEml, writeNewFile } from "../../src/notify/adapters/Outbox.js"
import * as WebhookDelivery from "../../src/notify/adapters/WebhookDelivery.js"
import { freePort } from "../support/smtp.js"
import { waitUntil } from "../support/wait.js"
import { critical, notifierRuntime, rejected } from "./support.js"
import { withUmask0 } from "../support/umask.js"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe("wrapForEml (pure)", () => {
  it("breaks long lines between words, under their own indentation, and leaves a word longer than a line whole", () => {
    const long = `  $[3].email: ${"word ".repeat(30)}end`
    const wrapped = wrapForEml(`short\n${long}\n${"x".repeat(100)}`)
    const lines = wrapped.split("\n")
    expect(lines[0]).toBe("short")
    expect(lines.slice(1, -1).every((l) => l.length <= EML_LINE_MAX && l.startsWith("  "))).toBe(true)
    expect(lines.slice(2, -1).every((l) => l.startsWith("    "))).toBe(true)
    expect(lines.at(-1)).toBe("x".repeat(100))
    // Joined again, the broken line is the line it was.
    expect([lines[1], ...lines.slice(2, -1).map((l) => ` ${l.trimStart()}`)].join("")).toBe(long)
  })
})

describe("the outbox (default without SMTP_SERVER)", () => {
  it("writes each message as a complete, parseable .eml file and logs where it went", async () => {
    const n = notifierRuntime(Outbox.layerDelivery)
    cleanups.push(() => n.dispose())
    // (the critical's detail a long sentence: a raw .eml shows it as text, broken between words)
    const detail = "the folder returns/ has had less than MIN_FREE_DISK_MB free for the last three checks and files waiting to be returned stay where they are until space returns"
    await n.run((notifier) => Effect.zipRight(notifier.fileRejected(rejected("a.json")), notifier.critical(critical("disk nearly full", detail))))
    await waitUntil(() => n.outboxFiles().length === 2)
    const mails = await Promise.all(n.outboxFiles().map((f) => simpleParser(NFS.readFileSync(f))))
    expect(mails.map((m) => m.subject).sort()).toEqual(["[customer-json] CRITICAL: disk nearly full", "[customer-json] Validation failed: a.json"])
    for (const m of mails) {
      expect(m.from?.text).toBe("processor@example.com")
      expect(m.to && !Array.isArray(m.to) ? m.to.text : "").toBe("ops@example.com, admin@example.com")
      expect(m.date).toBeInstanceOf(Date)
    }
    // One line a message, naming the file it is in (not one from the outbox and another from the notifier).
    const said = n.logs.filter((l) => l.message.startsWith("notification") && l.message !== "notification target reachable")
    expect(said.map((l) => l.message), JSON.stringify(said.map((l) => l.message))).toEqual(["notification sent", "notification sent"])
    expect(said.map((l) => l.annotations["path"]).sort()).toEqual(n.outboxFiles().sort())
    // Read raw, the .eml's text is the message's text, its long lines broken between words, none mid-word.
    for (const file of n.outboxFiles()) {
      const raw = NFS.readFileSync(file, "utf8")
      expect(raw).not.toMatch(/=\r?\n/)
      expect(raw.split(/\r?\n/).every((line) => line.length <= 78)).toBe(true)
    }
    // no temporary names left behind
    expect(NFS.readdirSync(`${n.root}/logs/outbox`).every((f) => f.endsWith(".eml"))).toBe(true)
  })
})

describe("flush (the daemon's last step before its last line)", () => {
  it("sends what waits at once, without waiting out the batch window, and what comes after is sent as usual", async () => {
    const n = notifierRuntime(Outbox.layerDelivery, { EMAIL_BATCH_WINDOW_MS: "60000" })
    cleanups.push(() => n.dispose())
    await n.run((notifier) => notifier.fileRejected(rejected("a.json")))
    expect(n.outboxFiles()).toHaveLength(0) // waiting out its minute
    // (as the daemon calls it: in a finalizer, where nothing is interruptible)
    await n.run((notifier) => Effect.uninterruptible(notifier.flush ?? Effect.void))
    // Done when flush returns: the message is written and said.
    expect(n.outboxFiles()).toHaveLength(1)
    expect(n.logs.filter((l) => l.message === "notification sent")).toHaveLength(1)
    await n.run((notifier) => notifier.critical(critical("disk nearly full")))
    await waitUntil(() => n.outboxFiles().length === 2)
    // The notifier still closes (its new sender is interrupted with it).
    let timer: NodeJS.Timeout | undefined
    const closed = await Promise.race([
      n.dispose().then(() => "closed"),
      new Promise<string>((resolve) => void (timer = setTimeout(() => resolve("still closing after 5 s"), 5000)))
    ])
    clearTimeout(timer)
    expect(closed).toBe("closed")
  })
})

const modeOf = (p: string) => NFS.lstatSync(p).mode & 0o7777

describe("the outbox's files: private, exclusive, unpredictable", () => {
  it("creates the folder 0750 and each .eml 0640 (umask 0), under random names, leaving no temporary file", async () => {
    await withUmask0(async () => {
      const n = notifierRuntime(Outbox.layerDelivery)
      cleanups.push(() => n.dispose())
      await n.run((notifier) =>
        Effect.zipRight(notifier.critical(critical("disk nearly full")), notifier.critical(critical("returns/ is not writable")))
      )
      // Written once logged: the .eml is linked into place, then its temporary name removed.
      await waitUntil(() => n.logs.filter((l) => l.message === "notification sent").length === 2)
      expect(n.outboxFiles()).toHaveLength(2)
      const dir = Path.join(n.root, "logs", "outbox")
      expect(modeOf(dir)).toBe(0o750)
      expect(modeOf(Path.join(n.root, "logs"))).toBe(0o750)
      const names = NFS.readdirSync(dir)
      expect(names).toHaveLength(2)
      for (const name of names) {
        expect(name).toMatch(/^\d{8}T\d{9}Z-critical-[a-p]{32}\.eml$/)
        expect(modeOf(Path.join(dir, name))).toBe(0o640)
        expect(NFS.lstatSync(Path.join(dir, name)).nlink).toBe(1)
      }
      expect(names[0]!.slice(-37)).not.toBe(names[1]!.slice(-37))
    })
  })

  it("names carry 128 random bits as letters: never two alike, never touched by the masker", () => {
    const at = new Date("2026-11-28T09:30:00.120Z")
    expect(outboxName(at, "rejected", "a".repeat(32))).toBe(`20261128T093000120Z-rejected-${"a".repeat(32)}.eml`)
    expect(randomLetters(Uint8Array.from([0x00, 0x0f, 0xf0, 0xff]))).toBe("aaappapp")
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const name = outboxName(at, "critical", randomLetters(Crypto.randomBytes(16)))
      expect(maskText(name)).toBe(name)
      seen.add(name)
    }
    expect(seen.size).toBe(2000)
  })

  describe("writeNewFile", () => {
    const run = <A, E>(effect: Effect.Effect<A, E, FileSystem.FileSystem>) =>
      Effect.runPromiseExit(Effect.provide(effect, NodeFileSystem.layer))
    const setup = () => {
      const root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-outbox-"))
      cleanups.push(async () => NFS.rmSync(root, { recursive: true, force: true }))
      const outbox = Path.join(root, "outbox")
      const elsewhere = Path.join(root, "elsewhere")
      NFS.mkdirSync(outbox)
      NFS.mkdirSync(elsewhere)
      return { outbox, elsewhere }
    }
    const write = (temp: string, path: string) =>
      run(Effect.flatMap(FileSystem.FileSystem, (fs) => writeNewFile(fs, temp, path, new TextEncoder().encode("mail"), 0o640)))

    it("writes a new file with the given mode (umask 0) and removes the temporary name", async () => {
      await withUmask0(async () => {
        const { outbox } = setup()
        const exit = await write(Path.join(outbox, ".t.tmp"), Path.join(outbox, "m.eml"))
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(NFS.readdirSync(outbox)).toEqual(["m.eml"])
        expect(NFS.readFileSync(Path.join(outbox, "m.eml"), "utf8")).toBe("mail")
        expect(modeOf(Path.join(outbox, "m.eml"))).toBe(0o640)
      })
    })

    it("never writes through a link at the temporary name (dangling or not), nor removes it", async () => {
      const { outbox, elsewhere } = setup()
      const existing = Path.join(elsewhere, "existing")
      NFS.writeFileSync(existing, "keep")
      for (const target of [Path.join(elsewhere, "created"), existing]) {
        const temp = Path.join(outbox, ".t.tmp")
        NFS.rmSync(temp, { force: true })
        NFS.symlinkSync(target, temp)
        const exit = await write(temp, Path.join(outbox, "m.eml"))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(NFS.lstatSync(temp).isSymbolicLink()).toBe(true)
      }
      expect(NFS.readdirSync(elsewhere)).toEqual(["existing"])
      expect(NFS.readFileSync(existing, "utf8")).toBe("keep")
      expect(NFS.existsSync(Path.join(outbox, "m.eml"))).toBe(false)
    })

    it("never replaces or follows an entry at the final name, and leaves no temporary file", async () => {
      const { outbox, elsewhere } = setup()
      const existing = Path.join(elsewhere, "existing")
      NFS.writeFileSync(existing, "keep")
      NFS.symlinkSync(existing, Path.join(outbox, "m.eml"))
      const exit = await write(Path.join(outbox, ".t.tmp"), Path.join(outbox, "m.eml"))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(NFS.readlinkSync(Path.join(outbox, "m.eml"))).toBe(existing)
      expect(NFS.readFileSync(existing, "utf8")).toBe("keep")
      expect(NFS.readdirSync(outbox)).toEqual(["m.eml"])
    })
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
  const webhook = WebhookDelivery.layer(2000).pipe(Layer.provide(FetchHttpClient.layer))

  it("posts batched, masked JSON", async () => {
    const http = await startHttp(() => 200)
    const n = notifierRuntime(webhook, { NOTIFY_WEBHOOK_URL: http.url })
    cleanups.push(() => n.dispose())
    await n.run((notifier) => Effect.forEach(["one.json", "two 4111111111111111.json"], (f) => notifier.fileRejected(rejected(f)), { discard: true }))
    await waitUntil(() => http.bodies.length === 1)
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
    await waitUntil(() => http.bodies.length === 1)
    expect(calls).toBe(3)
  })

  it("does not retry a 400; the message goes to the outbox", async () => {
    let calls = 0
    const http = await startHttp(() => (++calls, 400))
    const n = notifierRuntime(webhook, { NOTIFY_WEBHOOK_URL: http.url })
    cleanups.push(() => n.dispose())
    await n.run((notifier) => notifier.fileRejected(rejected("r.json")))
    await waitUntil(() => n.outboxFiles().length === 1)
    expect(calls).toBe(1)
  })
})

describe("the webhook's secrets", () => {
  const webhook = WebhookDelivery.layer(2000).pipe(Layer.provide(FetchHttpClient.layer))

  it("a refused connection: the reason says what failed, and no log line, reason or outbox mail holds the URL's path, query or userinfo", async () => {
    const port = await freePort()
    const url = `http://hook-user:hook-pass@127.0.0.1:${port}/services/T0KEN1/XyZsEcReT?token=q5ecret`
    const n = notifierRuntime(webhook, { NOTIFY_WEBHOOK_URL: url }, { retryBase: "50 millis", retryFor: "300 millis" })
    cleanups.push(() => n.dispose())
    await n.run((notifier) => notifier.fileRejected(rejected("r.json")))
    const kept = () => n.logs.find((l) => l.message === "notification could not be delivered; it is kept in the outbox")
    await waitUntil(() => kept() !== undefined, 20_000, "the message in the outbox after the retries")
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
    await waitUntil(() => seen.length === 1)
    expect(seen[0]).toEqual({ url: "/services/T0KEN1?token=q5ecret", authorization: `Basic ${Buffer.from("hook-user:höok@pass").toString("base64")}` })
    await waitUntil(() => n.logs.some((l) => l.message === "notification sent"))
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
  it("shows no bidirectional override, isolate or mark of a name in the subject or body", () => {
    const name = "invoice\u202Egnp\u2066x\u2069\u200F\u061C.json"
    const m = rejectedMessage([rejected(name)], 0, "returns", maskText)
    expect(m.subject).toBe("[customer-json] Validation failed: invoice gnp x .json")
    expect(m.text).toContain("File: invoice?gnp?x???.json")
    expect(m.subject + m.text).not.toMatch(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/)
  })
  it("lists at most 20 errors per file and says how many more", () => {
    const m = rejectedMessage([rejected("big.json", 20)].map((f) => ({ ...f, errorCount: 57 })), 0, "returns", maskText)
    expect(m.text.match(/^ {4}\$\[/gm)).toHaveLength(20)
    expect(m.text).toContain("… and 37 more errors (see the report)")
  })
  it("names a returned file by its stored name exactly (contract §5), its received name masked", () => {
    const file = { ...rejected("orders-jane.doe@example.com.json"), storedAs: "orders-jXXXXXXX@example.com.json" }
    const m = rejectedMessage([file], 0, "returns", maskText)
    expect(m.text).toContain("File: orders-j***@example.com.json")
    expect(m.text).toContain("Now at:    returns/orders-jXXXXXXX@example.com.json (report: orders-jXXXXXXX@example.com.json.error.json)")
    expect(m.files).toEqual([{ file: "orders-j***@example.com.json", storedAs: "orders-jXXXXXXX@example.com.json", errorCount: 1 }])
  })
  it("shows a path of any length in at most LINE_TEXT_MAX characters, masked before it is cut", () => {
    const path = `$['${"a".repeat(LINE_TEXT_MAX - 10)}4111 1111 1111 1111${"a".repeat(1 << 20)}@']`
    const m = rejectedMessage([{ ...rejected("a.json"), errors: [{ record: 0, path, rule: "unknown-field", message: "is not an allowed field" }] }], 0, "returns", maskText)
    expect(m.text).toMatch(/^ {4}\$\['a+\*+…: is not an allowed field$/m)
    expect(m.text).not.toContain("4111")
    expect(m.text.length).toBeLessThan(3 * LINE_TEXT_MAX)
  })
  it("counts files it does not name", () => {
    const m = rejectedMessage([rejected("a.json")], 41, "returns", maskText)
    expect(m.subject).toBe("[customer-json] 42 files failed validation")
    expect(m.text).toContain("… and 41 more files failed validation")
  })
  it("reports repeats of a critical error", () => {
    const m = criticalMessage(critical("disk full"), 3, maskText, { host: "host-1" })
    expect(m.text).toContain("The same error happened 3 more time(s)")
  })
})
