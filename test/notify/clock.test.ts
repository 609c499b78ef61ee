// Mail is named and dated by effect's Clock, not the wall clock (issue 26 item 5):
// under the TestClock a test decides what time every delivery says.
import { FetchHttpClient } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { simpleParser } from "mailparser"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import * as Config from "../../src/Config.js"
import type { RawSettings } from "../../src/Config.js"
import { Delivery } from "../../src/notify/Delivery.js"
import { criticalMessage } from "../../src/notify/NotificationMessage.js"
import * as Outbox from "../../src/notify/adapters/Outbox.js"
import * as SmtpDelivery from "../../src/notify/adapters/SmtpDelivery.js"
import * as WebhookDelivery from "../../src/notify/adapters/WebhookDelivery.js"
import { startSmtp } from "../support/smtp.js"
import { critical } from "./support.js"

// Neither the wall clock's day nor the TestClock's start (1970).
const AT = new Date("2031-05-06T07:08:09.010Z")
const message = criticalMessage(critical("disk nearly full"), 0, (t) => t, { host: "host-1" })

const scratch = Effect.acquireRelease(
  Effect.sync(() => NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-clock-"))),
  (root) => Effect.sync(() => NFS.rmSync(root, { recursive: true, force: true }))
)

/** Delivers `message` through `delivery` with the TestClock at AT. */
const deliverAt = (delivery: Layer.Layer<Delivery, never, never>) =>
  TestClock.setTime(AT.getTime()).pipe(
    Effect.zipRight(Effect.flatMap(Delivery, (d) => d.deliver(message))),
    Effect.provide(delivery)
  )

const config = (settings: RawSettings) => Config.layerFixed({ EMAIL_SENDER: "processor@example.com", EMAIL_RECEIVER: "ops@example.com", ...settings }).pipe(Layer.orDie)

describe("deliveries take the time from effect's Clock", () => {
  it.scoped("the outbox names and dates its .eml by it", () =>
    Effect.gen(function*() {
      const root = yield* scratch
      const outbox = Outbox.layerDelivery.pipe(
        Layer.provide(Outbox.layer),
        Layer.provide(Layer.merge(config({ LOG_DIR: root }), NodeFileSystem.layer))
      )
      yield* deliverAt(outbox)
      const names = NFS.readdirSync(Path.join(root, "outbox"))
      expect(names).toEqual([expect.stringMatching(/^20310506T070809010Z-critical-[a-p]{32}\.eml$/)])
      const mail = yield* Effect.promise(() => simpleParser(NFS.readFileSync(Path.join(root, "outbox", names[0]!))))
      expect(mail.date?.toISOString()).toBe("2031-05-06T07:08:09.000Z")
    }))

  it.scoped("SMTP mail carries its Date header", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startSmtp()), (s) => Effect.promise(() => s.close()))
      yield* deliverAt(SmtpDelivery.layer().pipe(Layer.provide(config({ SMTP_SERVER: "127.0.0.1", SMTP_PORT: String(server.port) }))))
      expect(server.received.map((r) => r.mail.date?.toISOString())).toEqual(["2031-05-06T07:08:09.000Z"])
    }))

  it.scoped("the webhook's sent_at", () =>
    Effect.gen(function*() {
      const bodies: Array<Record<string, unknown>> = []
      const server = Http.createServer((req, res) => {
        let body = ""
        req.on("data", (c) => (body += c))
        req.on("end", () => {
          bodies.push(JSON.parse(body))
          res.writeHead(200).end()
        })
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
      )
      const url = `http://127.0.0.1:${(server.address() as Net.AddressInfo).port}/hook`
      yield* deliverAt(WebhookDelivery.layer().pipe(Layer.provide(Layer.merge(config({ NOTIFY_WEBHOOK_URL: url }), FetchHttpClient.layer))))
      expect(bodies.map((b) => b["sent_at"])).toEqual([AT.toISOString()])
    }))
})
