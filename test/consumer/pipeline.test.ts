// The package as an application uses it (issue 26 item 6): only the package's
// exports, the application's own effect, @effect/vitest and the TestClock.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, TestClock } from "effect"
import type { FileSystem } from "@effect/platform"
import {
  Activity,
  App,
  BatchingNotifier,
  Config,
  Contract,
  Daemon,
  Delivery,
  Destination,
  Masker,
  MemoryFileSystem,
  Notifier,
  Outbox,
  validateText
} from "customer-json-processor"
import type { NotificationMessage, ValidationError } from "customer-json-processor"

const NOW = "2026-11-28T12:00:00.000Z"
const FOLDERS = {
  DATA_DIR: "/srv/data",
  PROCESSING_DIR: "/srv/processing",
  VALIDATED_DIR: "/srv/validated",
  RETURNS_DIR: "/srv/returns",
  LOG_DIR: "/srv/logs"
} as const

const customer = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    customer_id: "ACME-1",
    first_name: "Ada",
    last_name: "Byron",
    email: "ada@example.com",
    date_of_birth: "1985-12-10",
    address: { line1: "1 Main St", city: "London", postal_code: "N1 9GU", country: "GB" },
    created_at: "2026-11-28T09:30:00Z",
    ...overrides
  })

const listing = (memory: MemoryFileSystem.MemoryFileSystem, dir: string): Array<string> =>
  memory.volume.existsSync(dir) ? (memory.volume.readdirSync(dir) as Array<string>).map(String).sort() : []

/** The daemon over `memory` as App.ts composes it, with the application's Notifier (and any other port it swaps). */
const daemonOver = (
  memory: MemoryFileSystem.MemoryFileSystem,
  notifier: Layer.Layer<Notifier.Notifier, never, Config.AppConfig | FileSystem.FileSystem | Masker.Masker | Activity.Activity>,
  swaps: App.Swaps = {}
) => App.layerMemory(memory, { ...swaps, notifier }).pipe(Layer.provideMerge(Config.layerFixed(FOLDERS)))

const recordingNotifier = () => {
  const rejected: Array<Notifier.RejectedFile> = []
  const layer = Layer.succeed(Notifier.Notifier, {
    fileRejected: (event) => Effect.sync(() => void rejected.push(event)),
    critical: () => Effect.void
  })
  return { rejected, layer }
}

/** The TestClock at NOW: set before the daemon's layers start (later, it would replay every heartbeat since 1970). */
const setNow = TestClock.setTime(Date.parse(NOW))
const once = Daemon.runDaemon({ once: true })

describe("the pipeline over the in-memory filesystem, under the TestClock", () => {
  it.scoped("routes files, writes reports dated by the TestClock, and tells the Notifier", () => {
    const memory = MemoryFileSystem.make({
      "/srv/data/good.json": customer(),
      "/srv/data/card4111111111111111.json": customer({ payment: { card_number: "4111 1111 1111 1112", card_holder: "A BYRON", expiry: "09/28" } })
    })
    const notifier = recordingNotifier()
    return Effect.gen(function*() {
      yield* setNow
      const summary = yield* Effect.provide(once, daemonOver(memory, notifier.layer))
      expect(summary).toMatchObject({ validated: 1, returned: 1, failed: 0, leftBehind: 0 })
      expect(listing(memory, "/srv/validated")).toEqual(["good.json"])
      // Stored with its card number masked with X (contract §5): the report's stored_as is that very name.
      expect(listing(memory, "/srv/returns")).toEqual(["cardXXXXXXXXXXXX1111.json", "cardXXXXXXXXXXXX1111.json.error.json"])
      const report = JSON.parse(String(memory.volume.readFileSync("/srv/returns/cardXXXXXXXXXXXX1111.json.error.json", "utf8")))
      expect(report).toMatchObject({ file: "card************1111.json", processed_at: NOW, error_count: 1 })
      // The Notifier's events are unmasked (its type says so), and their errors carry rule codes.
      expect(notifier.rejected.map((e) => [e.file, e.errors.map((x: ValidationError) => x.rule)])).toEqual([
        ["card4111111111111111.json", ["card-number-luhn"]]
      ])
    })
  })

  it.scoped("without setting the clock, today is 1970-01-01 and a date of birth is after it", () => {
    const memory = MemoryFileSystem.make({ "/srv/data/good.json": customer() })
    const notifier = recordingNotifier()
    return Effect.gen(function*() {
      const summary = yield* Effect.provide(once, daemonOver(memory, notifier.layer))
      expect(summary).toMatchObject({ validated: 0, returned: 1 })
      expect(notifier.rejected[0]?.errors.map((e) => e.rule)).toEqual(["date-of-birth-not-after-processing-day"])
    })
  })

  it.effect("validateText judges JSON text as the daemon does, today from the TestClock", () =>
    Effect.gen(function*() {
      const duplicate = yield* validateText('{"customer_id": "A", "customer_id": "B"}')
      expect(duplicate.errors.map((e) => [e.rule, e.message])).toEqual([
        ["duplicate-key", "a key given twice in one object, at line 1, column 22 (each key may appear once)"]
      ])
      expect((yield* validateText(customer())).valid).toBe(false)
      yield* TestClock.setTime(Date.parse(NOW))
      const verdict = yield* validateText(customer())
      expect(verdict.valid).toBe(true)
      expect(Option.isSome(verdict.document)).toBe(true)
    }))
})

describe("extending it", () => {
  /** The built-in rules and one of the application's own: every customer_id starts with "ACME-". */
  const acmeContract = () => {
    const calls = { validate: 0, validateEffect: 0 }
    const builtIn = Contract.Contract.make(100)
    const acme = (document: unknown, verdict: Contract.Validation): Contract.Validation => {
      const records = Array.isArray(document) ? document : [document]
      const errors: Array<ValidationError> = records.flatMap((record, i) =>
        typeof record === "object" && record !== null && !String((record as Record<string, unknown>)["customer_id"]).startsWith("ACME-")
          ? [{ record: i, path: Array.isArray(document) ? `$[${i}].customer_id` : "$.customer_id", rule: "acme-customer-id", message: "must start with ACME-" }]
          : []
      )
      return { records: verdict.records, errors: [...verdict.errors, ...errors], errorCount: verdict.errorCount + errors.length }
    }
    const layer = Layer.succeed(Contract.Contract, {
      validate: (document, now) => (calls.validate++, acme(document, builtIn.validate(document, now))),
      validateEffect: (document, now) =>
        Effect.map(Effect.sync(() => calls.validateEffect++), () => acme(document, builtIn.validate(document, now))),
      jsonSchema: builtIn.jsonSchema
    })
    return { calls, layer }
  }

  it.scoped("a Contract of the application's own is the one that judges (issue 26 item 1)", () => {
    const memory = MemoryFileSystem.make({
      "/srv/data/acme.json": customer(),
      "/srv/data/other.json": customer({ customer_id: "OTHER-1" })
    })
    const contract = acmeContract()
    const notifier = recordingNotifier()
    return Effect.gen(function*() {
      yield* setNow
      const summary = yield* Effect.provide(once, daemonOver(memory, notifier.layer, { contract: contract.layer }))
      expect(contract.calls.validate + contract.calls.validateEffect).toBe(2)
      expect(summary).toMatchObject({ validated: 1, returned: 1 })
      expect(listing(memory, "/srv/returns")).toEqual(["other.json", "other.json.error.json"])
      expect(notifier.rejected.flatMap((e) => e.errors.map((x) => x.rule))).toEqual(["acme-customer-id"])
    })
  })

  it.scoped("an added notification channel: a Delivery beside the outbox, under BatchingNotifier.layer, gets masked messages", () => {
    const memory = MemoryFileSystem.make({ "/srv/data/card4111111111111111.json": customer({ email: "not-an-address" }) })
    const chat: Array<NotificationMessage.Outgoing> = []
    const chatAndOutbox = Layer.effect(
      Delivery.Delivery,
      Effect.map(Outbox.Outbox, (outbox) =>
        Delivery.Delivery.of({
          target: `chat, and the outbox ${outbox.dir}`,
          deliver: (message) => Effect.zipRight(Effect.sync(() => void chat.push(message)), Effect.asVoid(outbox.write(message))),
          verify: Effect.void
        }))
    )
    const notifier = BatchingNotifier.layer().pipe(
      Layer.provide(chatAndOutbox),
      Layer.provideMerge(Outbox.layer)
    )
    return Effect.gen(function*() {
      // The layers close when runDaemon returns: BatchingNotifier.layer sends its open batch then.
      yield* setNow
      const summary = yield* Effect.provide(once, daemonOver(memory, notifier))
      expect(summary).toMatchObject({ returned: 1 })
      expect(chat.map((m) => [m.kind, m.subject])).toEqual([["rejected", "[customer-json] Validation failed: card************1111.json"]])
      expect(JSON.stringify(chat)).not.toContain("4111111111111111")
      // The outbox's file, named by the TestClock.
      expect(listing(memory, "/srv/logs/outbox")).toEqual([expect.stringMatching(/^20261128T120000000Z-rejected-[a-p]{32}\.eml$/)])
    })
  })

  it.scoped("an added Destination: a recorder of validated records gets each one's document, before the file is stored (issue 26 item 3)", () => {
    const memory = MemoryFileSystem.make({
      "/srv/data/one.json": customer(),
      "/srv/data/two.json": `[${customer({ customer_id: "ACME-2" })},${customer({ customer_id: "ACME-3" })}]`,
      "/srv/data/bad.json": customer({ email: "not-an-address" })
    })
    // Kept by the file's key, as a table would upsert them: exactly once, however often a file is delivered.
    const table = new Map<string, { readonly file: string; readonly ids: ReadonlyArray<unknown>; readonly stored: boolean }>()
    const RecordsTable = Layer.succeed(Destination.Destination, {
      role: "records-table",
      receives: ["validated"],
      store: (file: Destination.JudgedFile) =>
        Effect.sync(() => {
          const records = Array.isArray(file.document) ? file.document : [file.document]
          table.set(file.key, {
            file: file.name,
            ids: records.map((r) => (r as Record<string, unknown>)["customer_id"]),
            // called before the file is stored: it is not in validated/ yet
            stored: listing(memory, "/srv/validated").includes(file.name)
          })
        })
    })
    const notifier = recordingNotifier()
    return Effect.gen(function*() {
      yield* setNow
      const summary = yield* Effect.provide(once, daemonOver(memory, notifier.layer, { destinations: [RecordsTable] }))
      expect(summary).toMatchObject({ validated: 2, returned: 1 })
      expect([...table.values()].sort((a, b) => a.file.localeCompare(b.file))).toEqual([
        { file: "one.json", ids: ["ACME-1"], stored: false },
        { file: "two.json", ids: ["ACME-2", "ACME-3"], stored: false }
      ])
      expect(listing(memory, "/srv/validated")).toEqual(["one.json", "two.json"])
      expect(listing(memory, "/srv/returns")).toEqual(["bad.json", "bad.json.error.json"])
    })
  })
})
