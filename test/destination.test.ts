/**
 * The Destination seam (issue 26 item 3): a destination of one's own, added
 * by a layer through App.Swaps with no module of the daemon changed, gets
 * every judged file of its verdicts with the document as judged (no second
 * read: the filesystem calls are counted), before the file is stored; a
 * failure or a crash before the store delivers it again under the same key,
 * and the file is stored exactly once; a file found stored already is not
 * delivered again.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Metric } from "effect"
import { runDaemon } from "../src/daemon/Daemon.js"
import { EXIT, startupExitCode } from "../src/Cli.js"
import type { FileOpsService } from "../src/files/FileOps.js"
import { stagesOf } from "../src/files/FileStore.js"
import { HEARTBEAT_FILE } from "../src/instances/Instance.js"
import { Activity, Destination, Destinations, MemoryFileSystem } from "../src/index.js"
import * as Metrics from "../src/status/Metrics.js"
import { fixture } from "./support/fixtures.js"
import { FOLDERS, listing, makeTestApp } from "./support/app.js"
import { captureLogs } from "./support/logs.js"
import { provideToday } from "./support/today.js"

const D = FOLDERS.DATA_DIR
const V = FOLDERS.VALIDATED_DIR
const R = FOLDERS.RETURNS_DIR
const P = FOLDERS.PROCESSING_DIR
const once = runDaemon({ once: true })

interface Delivery {
  readonly role: string
  readonly key: string
  readonly name: string
  readonly verdict: Destination.Verdict
  readonly records: number
  readonly errorCount: number
  readonly document: unknown
  readonly bytes: number | undefined
}

/** A recorder of judged files (a table of records, say): every call kept, and what it holds by key. */
const recorder = (
  role: string,
  receives: ReadonlyArray<Destination.Verdict>,
  before: (file: Destination.JudgedFile) => Effect.Effect<void, Destination.DestinationError> = () => Effect.void
) => {
  const calls: Array<Delivery> = []
  const byKey = new Map<string, unknown>()
  const layer = Layer.succeed(Destination.Destination, {
    role,
    receives,
    store: (file) =>
      Effect.zipRight(
        Effect.sync(() => {
          calls.push({
            role,
            key: file.key,
            name: file.name,
            verdict: file.verdict,
            records: file.records,
            errorCount: file.errorCount,
            document: file.document,
            bytes: file.bytes?.length
          })
        }),
        Effect.zipRight(before(file), Effect.sync(() => void byKey.set(file.key, file.document)))
      )
  })
  return { calls, byKey, layer }
}

type Calls = Record<string, number>

/** Counts every FileOps call by its name. */
const counting = (calls: Calls) => (ops: FileOpsService): FileOpsService => {
  const counted = { ...ops } as Record<string, unknown>
  for (const [name, op] of Object.entries(ops)) {
    if (typeof op !== "function") continue
    counted[name] = (...args: Array<unknown>) => {
      calls[name] = (calls[name] ?? 0) + 1
      return (op as (...a: Array<unknown>) => unknown)(...args)
    }
  }
  return counted as unknown as FileOpsService
}

const claimedNames = (volume: MemoryFileSystem.MemoryVolume) =>
  listing(volume, P).flatMap((dir) => listing(volume, `${P}/${dir}`).filter((n) => n !== HEARTBEAT_FILE).map((n) => `${dir}/${n}`))

describe("a destination of one's own, added by a layer", () => {
  it.effect("gets each judged file of its verdicts with its document, before it is stored, without a second read", () => {
    const files = {
      [`${D}/one.json`]: fixture("valid-single.json"),
      [`${D}/batch.json`]: fixture("valid-batch.json"),
      [`${D}/bad.json`]: fixture("invalid-luhn.json")
    }
    const records = recorder("records", ["validated"])
    const everything = recorder("audit", ["validated", "returned"])
    const withCalls: Calls = {}
    const withoutCalls: Calls = {}
    const added = makeTestApp({ files, wrapExtra: counting(withCalls), swaps: { destinations: [records.layer, everything.layer] } })
    const plain = makeTestApp({ files, wrapExtra: counting(withoutCalls) })
    const delivered = (role = "records") => Effect.map(Metric.value(Metrics.filesDelivered(role)), (state) => state.count)
    return Effect.gen(function*() {
      const before = yield* delivered()
      const [validatedBefore, returnsBefore] = [yield* delivered("validated"), yield* delivered("returns")]
      const logs = captureLogs()
      const [summary, activity] = yield* Effect.all([once, Activity.Activity]).pipe(provideToday(added.layer), Effect.provide(logs.layer))
      // Each file's outcome line names the destinations of one's own that had it.
      expect(logs.lines.filter((l) => l.message === "file processed").map((l) => [l.annotations["file"], l.annotations["delivered_to"]]).sort()).toEqual([
        ["bad.json", ["audit"]],
        ["batch.json", ["records", "audit"]],
        ["one.json", ["records", "audit"]]
      ])
      expect(summary).toMatchObject({ validated: 2, returned: 1, failed: 0 })
      // The status counts files by destination, its own roles included.
      const snapshot = activity.snapshot()
      expect(snapshot.destinations).toEqual([
        { role: "validated", files: 2 },
        { role: "returns", files: 1 },
        { role: "records", files: 2 },
        { role: "audit", files: 3 }
      ])
      expect(snapshot.outcomes.find((o) => o.file === "bad.json")?.deliveredTo).toEqual(["audit"])
      // Only its verdicts, with the document as judged (a single object, or the batch's array).
      expect(records.calls.map((c) => [c.name, c.verdict, c.records]).sort()).toEqual([["batch.json", "validated", 3], ["one.json", "validated", 1]])
      expect(records.calls.find((c) => c.name === "one.json")?.document).toEqual(JSON.parse(fixture("valid-single.json")))
      expect(records.calls.find((c) => c.name === "batch.json")?.document).toEqual(JSON.parse(fixture("valid-batch.json")))
      expect(records.calls.find((c) => c.name === "one.json")?.bytes).toBe(Buffer.byteLength(fixture("valid-single.json")))
      expect(everything.calls.map((c) => [c.name, c.verdict, c.errorCount]).sort()).toEqual([
        ["bad.json", "returned", 1],
        ["batch.json", "validated", 0],
        ["one.json", "validated", 0]
      ])
      // The key is the claimed name: one per file.
      expect(new Set(everything.calls.map((c) => c.key)).size).toBe(3)
      expect(everything.calls.every((c) => c.key.endsWith(`_${c.name}`))).toBe(true)
      expect((yield* delivered()) - before).toBe(2)
      // Every destination by role in cjp_destination_files_total, the storage folders' too.
      expect([(yield* delivered("validated")) - validatedBefore, (yield* delivered("returns")) - returnsBefore]).toEqual([2, 1])
      // Stored as without it: the built-in folders are still where the files go.
      expect(listing(added.volume, V)).toEqual(["batch.json", "one.json"])
      expect(listing(added.volume, R)).toEqual(["bad.json", "bad.json.error.json"])
      // The same filesystem calls, call by call, as the daemon without it: the file is not read again.
      const plainLogs = captureLogs()
      yield* once.pipe(provideToday(plain.layer), Effect.provide(plainLogs.layer))
      expect(withCalls).toEqual(withoutCalls)
      expect(plainLogs.lines.filter((l) => l.message === "file processed").every((l) => !("delivered_to" in l.annotations))).toBe(true)
      expect(withCalls["readRegular"]).toBeGreaterThan(0)
    })
  })

  it.effect("a failure leaves the file claimed and stored nowhere; the next run delivers it again, under the same key, and stores it once", () => {
    let down = true
    const records = recorder("records", ["validated"], () =>
      down ? Effect.fail(new Destination.DestinationError({ role: "records", reason: "the database is down" })) : Effect.void)
    const memory = MemoryFileSystem.make({ [`${D}/one.json`]: fixture("valid-single.json") })
    const first = makeTestApp({ memory, settings: { QUIET_PERIOD_MS: "0" }, swaps: { destinations: [records.layer] } })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const failed = yield* once.pipe(provideToday(first.layer), Effect.provide(logs.layer))
      expect(failed).toMatchObject({ validated: 0, leftBehind: 1 })
      expect(listing(memory.volume, V)).toEqual([])
      expect(claimedNames(memory.volume)).toHaveLength(1)
      const reasons = logs.lines.map((l) => String(l.annotations["error"] ?? "")).filter((r) => r.includes("database"))
      expect(reasons[0]).toContain('the destination "records" could not take the file: the database is down')
      down = false
      const second = makeTestApp({ memory, settings: { QUIET_PERIOD_MS: "0" }, swaps: { destinations: [records.layer] } })
      const summary = yield* once.pipe(provideToday(second.layer))
      expect(summary).toMatchObject({ validated: 1, leftBehind: 0 })
      expect(listing(memory.volume, V)).toEqual(["one.json"])
      expect(claimedNames(memory.volume)).toEqual([])
      // Every delivery of the file had the same key: kept by key, the recorder holds it once.
      expect(records.calls.length).toBeGreaterThanOrEqual(2)
      expect(new Set(records.calls.map((c) => c.key)).size).toBe(1)
      expect([...records.byKey.values()]).toEqual([JSON.parse(fixture("valid-single.json"))])
    })
  })

  it.live("a crash while it takes a file: recovery delivers it again under the same key, and the file is stored exactly once", () => {
    const memory = MemoryFileSystem.make({ [`${D}/one.json`]: fixture("valid-single.json"), [`${D}/two.json`]: fixture("valid-batch.json") })
    return Effect.gen(function*() {
      // First run: the destination has one.json in hand when the daemon is stopped, and never finishes it.
      const taking = yield* Deferred.make<void>()
      let crashed = false
      const records = recorder("records", ["validated"], (file) =>
        file.name === "one.json" && !crashed ? Effect.zipRight(Effect.sync(() => void (crashed = true)), Effect.zipRight(Deferred.succeed(taking, undefined), Effect.never)) : Effect.void)
      const first = makeTestApp({ memory, settings: { QUIET_PERIOD_MS: "0", SHUTDOWN_TIMEOUT_MS: "50" }, swaps: { destinations: [records.layer] } })
      const fiber = yield* Effect.fork(runDaemon({ once: false }).pipe(Effect.provide(first.layer), Effect.provide(captureLogs().layer)))
      yield* Deferred.await(taking)
      yield* Fiber.interrupt(fiber)
      // Delivered, not stored: it stays claimed.
      expect(listing(memory.volume, V).filter((n) => n === "one.json")).toEqual([])
      expect(claimedNames(memory.volume).filter((n) => n.endsWith("_one.json"))).toHaveLength(1)
      const firstKey = records.calls.find((c) => c.name === "one.json")!.key
      // Restarted: recovered, delivered again with the same key, then stored.
      const second = makeTestApp({ memory, settings: { QUIET_PERIOD_MS: "0" }, swaps: { destinations: [records.layer] } })
      const summary = yield* once.pipe(Effect.provide(second.layer), Effect.provide(captureLogs().layer))
      expect(summary.leftBehind).toBe(0)
      expect(listing(memory.volume, V)).toEqual(["one.json", "two.json"])
      expect(claimedNames(memory.volume)).toEqual([])
      const ones = records.calls.filter((c) => c.name === "one.json")
      expect(ones.length).toBe(2)
      expect(ones.every((c) => c.key === firstKey)).toBe(true)
      expect(records.byKey.size).toBe(2)
      expect(records.byKey.get(firstKey)).toEqual(JSON.parse(fixture("valid-single.json")))
    }).pipe(Effect.timeout("30 seconds"))
  })

  it.effect("a file a crashed instance had stored already is released, not delivered again (it had the file before the store)", () => {
    const valid = fixture("valid-single.json")
    const dead = `${P}/deadhost-999999-abc`
    const claimed = `${dead}/1795886819898-1_half.json`
    const memory = MemoryFileSystem.make({
      [`${dead}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "somewhere", pid: 999999, beat: 3, stopped: true }),
      [claimed]: valid,
      [`${D}/new.json`]: valid
    })
    // Linked into validated/ before the crash (its stage is linked twice): only the unlinks were missing.
    memory.volume.mkdirSync(V, { recursive: true })
    memory.volume.writeFileSync(stagesOf(claimed).data, valid)
    memory.volume.linkSync(stagesOf(claimed).data, `${V}/half.json`)
    const records = recorder("records", ["validated"])
    const app = makeTestApp({ memory, swaps: { destinations: [records.layer] } })
    return Effect.gen(function*() {
      const summary = yield* once.pipe(provideToday(app.layer))
      // (a file found stored already is not counted again: the dead instance routed it)
      expect(summary).toMatchObject({ validated: 1, leftBehind: 0 })
      expect(records.calls.map((c) => c.name)).toEqual(["new.json"])
      expect(listing(memory.volume, V)).toEqual(["half.json", "new.json"])
    })
  })

  it.effect("a file too large to read reaches it unread: its verdict and errors, no bytes and no document", () => {
    const big = "[" + " ".repeat(1024 * 1024 + 10) + "]"
    const rules: Array<ReadonlyArray<string>> = []
    const returns = recorder("returns-log", ["returned"], (file) => Effect.sync(() => void rules.push(file.errors.map((e) => e.rule))))
    const app = makeTestApp({ files: { [`${D}/big.json`]: big }, settings: { MAX_FILE_SIZE_MB: "1", QUIET_PERIOD_MS: "0" }, swaps: { destinations: [returns.layer] } })
    return Effect.gen(function*() {
      const summary = yield* once.pipe(provideToday(app.layer))
      expect(summary).toMatchObject({ returned: 1 })
      expect(returns.calls.map((c) => [c.name, c.verdict, c.document, c.bytes])).toEqual([["big.json", "returned", undefined, undefined]])
      expect(rules).toEqual([["file-too-large"]])
      expect(listing(app.volume, R)).toEqual(["big.json", "big.json.error.json"])
    })
  })

  it.effect("a destination with a built-in folder's role stops the start with a typed failure that names it", () => {
    const app = makeTestApp({ swaps: { destinations: [recorder("validated", ["validated"]).layer] } })
    return Effect.gen(function*() {
      const failure = yield* Effect.flip(once.pipe(provideToday(app.layer)))
      if (!(failure instanceof Destinations.DuplicateDestinationRole)) return expect.fail(`not a DuplicateDestinationRole: ${String(failure)}`)
      expect(failure).toMatchObject({ _tag: "DuplicateDestinationRole", role: "validated", builtIn: ["validated", "returns"], added: ["validated"] })
      expect(failure.message).toBe(
        'two destinations have the role "validated" (added: validated): "validated" is the built-in validated folder\'s role ' +
          "(the built-in ones: validated, returns); give the destination of your own (App.Swaps' destinations) another role"
      )
      // The command line's exit code for it: 78, as for bad settings.
      expect(startupExitCode(failure)).toBe(EXIT.config)
    })
  })

  it.effect("two destinations of one's own with one role stop the start, the failure typed, not a defect", () => {
    const app = makeTestApp({ swaps: { destinations: [recorder("crm", ["validated"]).layer, recorder("crm", ["returned"]).layer] } })
    return Effect.gen(function*() {
      const exit = yield* Effect.exit(once.pipe(provideToday(app.layer)))
      expect(Exit.isFailure(exit) && Cause.isFailType(exit.cause) ? exit.cause.error : exit).toMatchObject({ _tag: "DuplicateDestinationRole", role: "crm" })
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
        "two destinations have the role \"crm\" (added: crm, crm): give each destination of your own (App.Swaps' destinations) a role of its own"
      )
    })
  })
})

describe("Destinations", () => {
  it.effect("the built-in folders store, one per verdict, and the added ones come after them, by verdict", () => {
    const archive = recorder("archive", ["returned"])
    const app = makeTestApp({ swaps: { destinations: [archive.layer] } })
    return Effect.gen(function*() {
      const destinations = yield* Destinations.Destinations
      expect(destinations.roles).toEqual(["validated", "returns", "archive"])
      expect([destinations.storing.validated.role, destinations.storing.returned.role]).toEqual(["validated", "returns"])
      expect(destinations.added.validated).toEqual([])
      expect(destinations.added.returned.map((d) => d.role)).toEqual(["archive"])
      expect(Destination.storageFolders({ dataDir: D, processingDir: P, validatedDir: V, returnsDir: R, logDir: FOLDERS.LOG_DIR }).map((f) => [f.role, f.dir, f.receives, f.report])).toEqual([
        ["validated", V, "validated", false],
        ["returns", R, "returned", true]
      ])
    }).pipe(Effect.provide(app.layer), Effect.scoped)
  })
})
