/**
 * One composition, layers that really swap (issue 26 item 1): the daemon as
 * App.ts composes it, through the package's public surface, with each port
 * swapped by a layer of one's own, whose calls are counted: the swap is the
 * one every part uses. The filesystem is swapped in every test (the in-memory
 * one), and the clock is the TestClock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { App, Config, Contract, Daemon, Delivery, Destination, Masker, MemoryFileSystem, Notifier } from "../src/index.js"
import { fixture } from "./support/fixtures.js"

const FOLDERS = { DATA_DIR: "/in", PROCESSING_DIR: "/p", VALIDATED_DIR: "/ok", RETURNS_DIR: "/ret", LOG_DIR: "/logs" }
const settings = Config.layerFixed(FOLDERS)
const NOW = Date.parse("2026-11-28T12:00:00.000Z")
const once = Daemon.runDaemon({ once: true })

const run = (memory: MemoryFileSystem.MemoryFileSystem, swaps: App.Swaps) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW)
    return yield* Effect.provide(once, App.layerMemory(memory, swaps).pipe(Layer.provideMerge(settings)))
  })

const silentNotifier = Layer.succeed(Notifier.Notifier, { fileRejected: () => Effect.void, critical: () => Effect.void })

describe("App: each port swapped by a layer of one's own is the one used", () => {
  it.scoped("a Notifier", () => {
    const seen: Array<string> = []
    const MyNotifier = Layer.succeed(Notifier.Notifier, {
      fileRejected: (event) => Effect.sync(() => void seen.push(`rejected ${event.file}: ${event.errorCount} errors`)),
      critical: (event) => Effect.sync(() => void seen.push(`CRITICAL ${event.summary}`))
    })
    const memory = MemoryFileSystem.make({ "/in/bad.json": fixture("invalid-luhn.json") })
    return Effect.map(run(memory, { notifier: MyNotifier }), (summary) => {
      expect(summary.returned).toBe(1)
      expect(seen).toEqual(["rejected bad.json: 1 errors"])
      expect(memory.volume.readdirSync("/ret")).toEqual(["bad.json", "bad.json.error.json"])
    })
  })

  it.scoped("a Contract: every file is judged by it, and its own rules route them", () => {
    let calls = 0
    const builtIn = Contract.Contract.make(100)
    const strict = (document: unknown, verdict: Contract.Validation): Contract.Validation => {
      const id = typeof document === "object" && document !== null ? String((document as Record<string, unknown>)["customer_id"]) : ""
      return id.startsWith("C-") ? verdict : { ...verdict, errors: [...verdict.errors, { record: 0, path: "$.customer_id", rule: "house-prefix", message: "must start with C-" }], errorCount: verdict.errorCount + 1 }
    }
    const MyContract = Layer.succeed(Contract.Contract, {
      validate: (document, now) => (calls++, strict(document, builtIn.validate(document, now))),
      validateEffect: (document, now) => Effect.sync(() => (calls++, strict(document, builtIn.validate(document, now)))),
      jsonSchema: builtIn.jsonSchema
    })
    const valid = JSON.parse(fixture("valid-single.json")) as Record<string, unknown>
    const memory = MemoryFileSystem.make({
      "/in/ours.json": JSON.stringify({ ...valid, customer_id: "C-7" }),
      "/in/theirs.json": JSON.stringify({ ...valid, customer_id: "X-7" })
    })
    return Effect.map(run(memory, { contract: MyContract, notifier: silentNotifier }), (summary) => {
      expect(calls).toBe(2)
      expect(summary).toMatchObject({ validated: 1, returned: 1 })
      const report = JSON.parse(String(memory.volume.readFileSync("/ret/theirs.json.error.json", "utf8")))
      expect(report.errors).toEqual([{ record: 0, path: "$.customer_id", message: "must start with C-" }])
    })
  })

  it.scoped("a Destination: added beside the two folders, it gets every judged file of its verdicts", () => {
    const seen: Array<string> = []
    const Archive = Layer.succeed(Destination.Destination, {
      role: "archive",
      receives: ["validated", "returned"],
      store: (file) => Effect.sync(() => void seen.push(`${file.verdict} ${file.name} ${file.records}`))
    })
    const memory = MemoryFileSystem.make({ "/in/bad.json": fixture("invalid-luhn.json"), "/in/good.json": fixture("valid-single.json") })
    return Effect.map(run(memory, { destinations: [Archive], notifier: silentNotifier }), (summary) => {
      expect(summary).toMatchObject({ validated: 1, returned: 1 })
      expect(seen.sort()).toEqual(["returned bad.json 1", "validated good.json 1"])
      expect(memory.volume.readdirSync("/ok")).toEqual(["good.json"])
    })
  })

  it.scoped("a Masker: reports and notifications are masked by it", () => {
    let calls = 0
    const builtIn = Masker.Masker.live
    const MyMasker = Layer.succeed(Masker.Masker, {
      text: (text) => (calls++, builtIn.text(text).replaceAll("bad", "[b]")),
      value: builtIn.value
    })
    const delivered: Array<string> = []
    const Recording = Layer.succeed(Delivery.Delivery, {
      target: "a recorder",
      deliver: (message) => Effect.sync(() => void delivered.push(message.subject)),
      verify: Effect.void
    })
    const memory = MemoryFileSystem.make({ "/in/bad.json": fixture("invalid-luhn.json") })
    return Effect.map(run(memory, { masker: MyMasker, delivery: Recording }), () => {
      expect(calls).toBeGreaterThan(0)
      expect(JSON.parse(String(memory.volume.readFileSync("/ret/bad.json.error.json", "utf8"))).file).toBe("[b].json")
      expect(delivered).toEqual(["[customer-json] Validation failed: [b].json"])
    })
  })

  it.scoped("a Delivery under the built-in notifier: batched, masked messages, dated by the clock", () => {
    const delivered: Array<{ subject: string; text: string }> = []
    const Recording = Layer.succeed(Delivery.Delivery, {
      target: "a recorder",
      deliver: (message) => Effect.sync(() => void delivered.push({ subject: message.subject, text: message.text })),
      verify: Effect.void
    })
    const memory = MemoryFileSystem.make({ "/in/card4111111111111111.json": fixture("invalid-luhn.json") })
    return Effect.map(run(memory, { delivery: Recording }), () => {
      expect(delivered.map((m) => m.subject)).toEqual(["[customer-json] Validation failed: card************1111.json"])
      expect(JSON.stringify(delivered)).not.toContain("4111111111111111")
      // The report's processed_at is the TestClock's.
      const stored = (memory.volume.readdirSync("/ret") as Array<string>).find((n) => n.endsWith(".error.json"))!
      expect(JSON.parse(String(memory.volume.readFileSync(`/ret/${stored}`, "utf8"))).processed_at).toBe(new Date(NOW).toISOString())
    })
  })
})
