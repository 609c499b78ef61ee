/**
 * The daemon over the in-memory filesystem: pipeline outcomes, the quiet
 * period under TestClock, retries, crash recovery and several instances.
 */
import { SystemError } from "@effect/platform/Error"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Stream, TestClock, TestServices } from "effect"
import * as OS from "node:os"
import * as Path from "node:path"
import { retryDelayMs, runDaemon } from "../src/daemon/Daemon.js"
import { LINK_SETTLE_MS } from "../src/daemon/Intake.js"
import * as MemoryFileSystem from "../src/files/adapters/MemoryFileSystem.js"
import { stagesOf } from "../src/files/FileStore.js"
import { HEARTBEAT_FILE } from "../src/instances/Instance.js"
import { Status } from "../src/status/Status.js"
import { fixture } from "./support/fixtures.js"
import { FOLDERS, listing, makeTestApp } from "./support/app.js"
import { captureLogs } from "./support/logs.js"
import { provideToday, setToday } from "./support/today.js"

const D = FOLDERS.DATA_DIR
const V = FOLDERS.VALIDATED_DIR
const R = FOLDERS.RETURNS_DIR
const P = FOLDERS.PROCESSING_DIR

const once = runDaemon({ once: true })
/** For the tests that run the daemon watching, on real time: its services, logs captured, a bound. */
const liveOn = (app: { readonly layer: ReturnType<typeof makeTestApp>["layer"] }) =>
  <A, E>(effect: Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof makeTestApp>["layer"]>>) =>
    effect.pipe(Effect.provide(app.layer), Effect.provide(captureLogs().layer), Effect.timeout("20 seconds"))

describe("daemon --once over the in-memory filesystem", () => {
  it.scoped("routes valid and invalid files byte for byte and writes reports", () => {
    const valid = fixture("valid-batch.json")
    const invalid = fixture("invalid-mixed-batch.json")
    const app = makeTestApp({ files: { [`${D}/good.json`]: valid, [`${D}/bad.json`]: invalid } })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const summary = yield* once
      expect(summary).toEqual({ validated: 1, returned: 1, failed: 0, leftBehind: 0 })
      expect(app.volume.readFileSync(`${V}/good.json`, "utf8")).toBe(valid)
      expect(app.volume.readFileSync(`${R}/bad.json`, "utf8")).toBe(invalid)
      const report = JSON.parse(String(app.volume.readFileSync(`${R}/bad.json.error.json`, "utf8")))
      expect(report).toMatchObject({ file: "bad.json", stored_as: "bad.json", error_count: 7 })
      expect(report.errors[0]).toEqual({ record: 1, path: "$[1].first_name", message: expect.any(String) })
      expect(Date.parse(report.received_at)).toBeLessThanOrEqual(Date.parse(report.processed_at))
      expect(listing(app.volume, D)).toEqual([])
      expect(app.recorded.rejected.map((r) => [r.file, r.storedAs, r.errorCount])).toEqual([["bad.json", "bad.json", 7]])
      const processed = logs.lines.filter((l) => l.message === "file processed")
      expect(processed.map((l) => l.annotations)).toEqual(expect.arrayContaining([
        expect.objectContaining({ file: "good.json", outcome: "validated", records: 3, error_count: 0, duration_ms: expect.any(Number) }),
        expect.objectContaining({ file: "bad.json", outcome: "returned", records: 3, error_count: 7 })
      ]))
      expect(processed.every((l) => l.level === "INFO")).toBe(true)
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.scoped("processes a complete file at once, with no waiting time", () => {
    const app = makeTestApp({ files: { [`${D}/a.json`]: fixture("valid-single.json") } })
    // No TestClock adjustment: if the daemon waited for any timer, this would never finish.
    return once.pipe(
      Effect.map((summary) => {
        expect(summary.validated).toBe(1)
        expect(listing(app.volume, V)).toEqual(["a.json"])
      }),
      provideToday(app.layer)
    )
  })

  it.scoped("waits for a slow writer, restarting the quiet period on each change", () => {
    const app = makeTestApp({ files: { [`${D}/slow.json`]: '[{"customer_id": "C-1",' } })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(once)
      yield* TestClock.adjust("1500 millis")
      expect(listing(app.volume, D)).toEqual(["slow.json"])
      app.volume.appendFileSync(`${D}/slow.json`, ' "first_name": "A')
      yield* TestClock.adjust("1500 millis")
      // modified 1.5 s ago: still the writer's
      expect(listing(app.volume, D)).toEqual(["slow.json"])
      expect(listing(app.volume, R)).toEqual([])
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("1 second")
      const summary = yield* Fiber.join(fiber)
      expect(summary.returned).toBe(1)
      const report = JSON.parse(String(app.volume.readFileSync(`${R}/slow.json.error.json`, "utf8")))
      expect(report.errors).toEqual([{ record: null, path: "$", message: "malformed JSON at line 1, column 41: unterminated string" }])
      // The Notifier's event carries the rule code the report leaves out.
      expect(app.recorded.rejected.map((e) => e.errors.map((x) => x.rule))).toEqual([["syntax"]])
    }).pipe(provideToday(app.layer))
  })

  it.scoped("routes a slow writer's file as soon as it is complete", () => {
    const whole = fixture("valid-single.json")
    const app = makeTestApp({ files: { [`${D}/slow.json`]: whole.slice(0, 100) } })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(once)
      yield* TestClock.adjust("1 second")
      app.volume.writeFileSync(`${D}/slow.json`, whole)
      yield* TestClock.adjust("2 seconds")
      yield* TestClock.adjust("1 second")
      const summary = yield* Fiber.join(fiber)
      expect(summary).toEqual({ validated: 1, returned: 0, failed: 0, leftBehind: 0 })
      expect(app.volume.readFileSync(`${V}/slow.json`, "utf8")).toBe(whole)
    }).pipe(provideToday(app.layer))
  })

  it.scoped("rejects a file over MAX_FILE_SIZE_MB without reading it", () => {
    const big = "[" + " ".repeat(1024 * 1024 + 10) + "]"
    const reads: Array<string> = []
    const app = makeTestApp({
      files: { [`${D}/big.json`]: big },
      settings: { MAX_FILE_SIZE_MB: "1", QUIET_PERIOD_MS: "0" },
      wrapFs: (fs) => ({ ...fs, readFile: (p) => Effect.zipRight(Effect.sync(() => reads.push(p)), fs.readFile(p)) }),
      wrapExtra: (extra) => ({
        ...extra,
        readRegular: (p, max) => Effect.tap(extra.readRegular(p, max), (r) => Effect.sync(() => r._tag === "Read" && reads.push(p))),
        copyNew: (from, size, to, mode, sync) => Effect.zipRight(Effect.sync(() => reads.push(from)), extra.copyNew(from, size, to, mode, sync))
      })
    })
    return Effect.gen(function*() {
      const inode = app.volume.statSync(`${D}/big.json`).ino
      yield* once
      expect(reads).toEqual([])
      const report = JSON.parse(String(app.volume.readFileSync(`${R}/big.json.error.json`, "utf8")))
      expect(report.errors).toEqual([{ record: null, path: "$", message: "file is 1.0 MB; larger than MAX_FILE_SIZE_MB (1 MB): it was not read, and is returned as it is" }])
      expect(app.recorded.rejected.map((e) => e.errors.map((x) => x.rule))).toEqual([["file-too-large"]])
      // Returned as it is: the very file, moved, not copied.
      expect(app.volume.statSync(`${R}/big.json`).ino).toBe(inode)
      expect(app.volume.readFileSync(`${R}/big.json`, "utf8")).toBe(big)
    }).pipe(provideToday(app.layer))
  })

  it.scoped("leaves what it must not take, and warns once per name", () => {
    const app = makeTestApp({
      files: {
        [`${D}/notes.txt`]: "x",
        [`${D}/a.json.tmp`]: "{",
        [`${D}/.hidden.json`]: "{}",
        [`${D}/y.json/inner.json`]: "{}",
        "/elsewhere/target.json": fixture("valid-single.json")
      }
    })
    app.volume.symlinkSync("/elsewhere/target.json", `${D}/x.json`)
    const logs = captureLogs()
    return Effect.gen(function*() {
      yield* once
      yield* once
      expect(listing(app.volume, D)).toEqual(["a.json.tmp", "notes.txt", "x.json", "y.json"])
      expect(listing(app.volume, V)).toEqual([])
      expect(listing(app.volume, R)).toEqual([])
      const warnings = logs.lines.filter((l) => l.level === "WARN").map((l) => [l.annotations["file"], l.annotations["kind"]])
      // Two runs, yet each instance of the daemon warns once per name; nothing about temp or hidden files.
      expect(warnings.sort()).toEqual([
        ["notes.txt", "other"],
        ["notes.txt", "other"],
        ["x.json", "SymbolicLink"],
        ["x.json", "SymbolicLink"],
        ["y.json", "Directory"],
        ["y.json", "Directory"]
      ])
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.scoped("leaves a hard-linked file in data/ without claiming it, even where it could not be put back", () => {
    const eperm = (path: string) =>
      new SystemError({ reason: "PermissionDenied", module: "FileSystem", method: "link", pathOrDescriptor: path, cause: Object.assign(new Error("EPERM: operation not permitted"), { code: "EPERM" }) })
    const app = makeTestApp({
      files: { [`${D}/two1.json`]: fixture("valid-single.json"), [`${D}/ok.json`]: fixture("valid-single.json") },
      // As a service user under fs.protected_hardlinks=1, another user's file cannot be linked back into data/.
      wrapExtra: (extra) => ({ ...extra, link: (from, to) => (to.startsWith(`${D}/`) ? Effect.fail(eperm(to)) : extra.link(from, to)) })
    })
    // Two names of one file (its producer's hard link), both in data/.
    app.volume.linkSync(`${D}/two1.json`, `${D}/two2.json`)
    const logs = captureLogs()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(once)
      // looked at again for LINK_SETTLE_MS (it might be a file requeue is moving), then left and said
      for (let waited = 0; waited <= LINK_SETTLE_MS; waited += 250) yield* TestClock.adjust("250 millis")
      const summary = yield* Fiber.join(fiber)
      expect(summary).toMatchObject({ validated: 1, failed: 0, leftBehind: 0 })
      expect(listing(app.volume, D)).toEqual(["two1.json", "two2.json"])
      expect(listing(app.volume, V)).toEqual(["ok.json"])
      const instanceDirs = (app.volume.readdirSync(P) as Array<string>).map(String)
      for (const dir of instanceDirs) expect(listing(app.volume, Path.join(P, dir))).toEqual([])
      const warnings = logs.lines.filter((l) => l.level === "WARN").map((l) => [l.annotations["file"], l.annotations["kind"]])
      expect(warnings.sort()).toEqual([["two1.json", "hard-linked file"], ["two2.json", "hard-linked file"]])
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.scoped("stored files and reports take the group of their folder (producers in returns/'s group read them)", () => {
    const app = makeTestApp({ files: { [`${D}/good.json`]: fixture("valid-single.json"), [`${D}/bad.json`]: fixture("invalid-luhn.json") } })
    const PRODUCERS = 4242
    const CONSUMERS = 4343
    return Effect.gen(function*() {
      // The README's setup: returns/ belongs to the producers' group, validated/ here to a consumers' group.
      for (const dir of [V, R]) app.volume.mkdirSync(dir, { recursive: true })
      app.volume.chownSync(R, 0, PRODUCERS)
      app.volume.chownSync(V, 0, CONSUMERS)
      yield* once
      expect(listing(app.volume, R)).toEqual(["bad.json", "bad.json.error.json"])
      for (const name of ["bad.json", "bad.json.error.json"]) expect(Number(app.volume.statSync(`${R}/${name}`).gid), name).toBe(PRODUCERS)
      expect(Number(app.volume.statSync(`${V}/good.json`).gid)).toBe(CONSUMERS)
    }).pipe(provideToday(app.layer))
  })

  it.scoped("a folder group the daemon may not give is said once, and files are stored all the same", () => {
    const eperm = (path: string) =>
      new SystemError({ reason: "PermissionDenied", module: "FileSystem", method: "lchown", pathOrDescriptor: path, cause: Object.assign(new Error("EPERM: operation not permitted"), { code: "EPERM" }) })
    const app = makeTestApp({
      files: Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`${D}/bad${i}.json`, fixture("invalid-luhn.json")])),
      wrapExtra: (extra) => ({ ...extra, setGroup: (path) => Effect.fail(eperm(path)) })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      app.volume.mkdirSync(R, { recursive: true })
      app.volume.chownSync(R, 0, 4242)
      const summary = yield* once
      expect(summary).toMatchObject({ returned: 3, failed: 0 })
      const said = logs.lines.filter((l) => l.level === "WARN" && l.message.startsWith(`files stored in ${R} keep the daemon's group`))
      expect(said).toHaveLength(1)
      expect(said[0]!.message).toMatch(/add the daemon's user to group 4242/)
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.scoped("returns a file with a key given twice: a card verification code hidden before an accepted field is never validated", () => {
    const smuggled = fixture("valid-single.json").replace(
      '"payment": {',
      '"payment": { "card_number": "4012 8888 8888 1881", "card_holder": "G BREWSTER", "expiry": "11/29", "cvv": "123" },\n  "payment": {'
    )
    const app = makeTestApp({ files: { [`${D}/dup.json`]: smuggled } })
    return Effect.gen(function*() {
      const summary = yield* once
      expect(summary).toMatchObject({ validated: 0, returned: 1 })
      expect(listing(app.volume, V)).toEqual([])
      const report = JSON.parse(String(app.volume.readFileSync(`${R}/dup.json.error.json`, "utf8"))) as { errors: Array<{ message: string }> }
      expect(report.errors.map((e) => e.message).join("\n")).toMatch(/a key given twice in one object/)
      expect(JSON.stringify(report)).not.toContain("123")
    }).pipe(provideToday(app.layer))
  })

  it.scoped("skips quietly a file claimed by someone else between listing and claim", () => {
    const memory = MemoryFileSystem.make({ [`${D}/a.json`]: fixture("valid-single.json") })
    const app = makeTestApp({
      memory,
      wrapExtra: (extra) => ({
        ...extra,
        // another instance renames the file away right after we read it
        readRegular: (p, max) => Effect.tap(extra.readRegular(p, max), () => Effect.sync(() => memory.volume.renameSync(p, "/stolen.json")))
      })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const summary = yield* once
      expect(summary).toEqual({ validated: 0, returned: 0, failed: 0, leftBehind: 0 })
      expect(logs.lines.filter((l) => l.level === "WARN" || l.level === "ERROR")).toEqual([])
      expect(app.recorded.critical).toEqual([])
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  const eio = (method: string, path: string) =>
    new SystemError({ reason: "Unknown", module: "FileSystem", method, pathOrDescriptor: path, cause: Object.assign(new Error("EIO: i/o error"), { code: "EIO" }) })

  it.scoped("retries an I/O error and succeeds", () => {
    let failures = 2
    const app = makeTestApp({
      files: { [`${D}/a.json`]: fixture("valid-single.json") },
      // (the start-up probe's own links are left alone)
      wrapExtra: (extra) => ({ ...extra, link: (from, to) => !to.includes(".cjp-fsprobe") && failures-- > 0 ? Effect.fail(eio("link", to)) : extra.link(from, to) })
    })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(once)
      for (let i = 0; i < 5; i++) yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(fiber)).validated).toBe(1)
      expect(listing(app.volume, V)).toEqual(["a.json"])
    }).pipe(provideToday(app.layer))
  })

  it.scoped("after three retries leaves the file claimed, logs an ERROR, tells the Notifier, and goes on", () => {
    let attempts = 0
    const app = makeTestApp({
      files: { [`${D}/stuck.json`]: fixture("valid-single.json"), [`${D}/fine.json`]: fixture("invalid-luhn.json") },
      wrapExtra: (extra) => ({
        ...extra,
        link: (from, to) => to.startsWith(V) && !to.includes(".cjp-fsprobe") ? Effect.suspend(() => (attempts++, Effect.fail(eio("link", to)))) : extra.link(from, to)
      })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(once)
      for (let i = 0; i < 5; i++) yield* TestClock.adjust("1 second")
      const summary = yield* Fiber.join(fiber)
      expect(summary).toEqual({ validated: 0, returned: 1, failed: 1, leftBehind: 1 })
      expect(attempts).toBe(4)
      const instanceDir = (app.volume.readdirSync(P) as Array<string>).map(String)
      expect(instanceDir).toHaveLength(1)
      expect(listing(app.volume, Path.join(P, instanceDir[0]!))).toEqual([expect.stringMatching(/_stuck\.json$/)])
      expect(app.recorded.critical.map((c) => c.summary)).toEqual(["file stuck.json could not be processed"])
      const errors = logs.lines.filter((l) => l.level === "ERROR")
      expect(errors).toHaveLength(2)
      expect(errors[0]!.annotations).toMatchObject({ file: "stuck.json", error: expect.stringContaining("EIO") })
      // --once says that it leaves a file behind (and exits 75, see the CLI tests)
      expect(errors[1]!.message).toMatch(/^finished with files that could not be routed/)
      expect(errors[1]!.annotations).toMatchObject({ left_behind: 1, files: ["stuck.json"] })
      expect(listing(app.volume, R)).toEqual(["fine.json", "fine.json.error.json"])
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.scoped("a failure says where the file is: processing/ once claimed (a denied link into validated/), data/ when the claim itself failed", () => {
    const denied = (method: string, path: string, code: string) =>
      new SystemError({ reason: "PermissionDenied", module: "FileSystem", method, pathOrDescriptor: path, cause: Object.assign(new Error(`${code}: denied`), { code }) })
    const app = makeTestApp({
      files: { [`${D}/claimed.json`]: fixture("valid-single.json"), [`${D}/unclaimed.json`]: fixture("valid-single.json") },
      wrapExtra: (extra) => ({
        ...extra,
        link: (from, to) => (to.startsWith(`${V}/claimed`) ? Effect.fail(denied("link", to, "EACCES")) : extra.link(from, to)),
        rename: (from, to) => (from.endsWith("/unclaimed.json") ? Effect.fail(denied("rename", from, "EACCES")) : extra.rename(from, to))
      })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(once)
      for (let i = 0; i < 5; i++) yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      const said = Object.fromEntries(
        logs.lines.filter((l) => l.message.startsWith("file could not be processed")).map((l) => [l.annotations.file, String(l.annotations.error)])
      )
      expect(said["claimed.json"]).toMatch(new RegExp(`the file stays in ${P}/`))
      expect(said["unclaimed.json"]).toMatch(new RegExp(`the file stays in ${D} `))
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.scoped("every candidate name taken is a failure said as such (the file stays claimed), not an unexpected one", () => {
    const exists = (path: string) =>
      new SystemError({ reason: "AlreadyExists", module: "FileSystem", method: "link", pathOrDescriptor: path, cause: Object.assign(new Error("EEXIST: file already exists"), { code: "EEXIST" }) })
    const app = makeTestApp({
      files: { [`${D}/crowded.json`]: fixture("valid-single.json") },
      // Every name validated/ could take for it is taken (planted, say).
      // (the start-up probe's own names in validated/ are left alone)
      wrapExtra: (extra) => ({
        ...extra,
        link: (from, to) => (to.startsWith(`${V}/`) && !to.includes(".cjp-") ? Effect.fail(exists(to)) : extra.link(from, to))
      })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const summary = yield* once
      expect(summary).toMatchObject({ validated: 0, failed: 1, leftBehind: 1 })
      const said = logs.lines.filter((l) => l.level === "ERROR").map((l) => [l.message, String(l.annotations.error ?? "")])
      expect(said[0]![0]).toBe("file could not be processed; it stays where it is")
      expect(said[0]![1]).toMatch(/^no free name for crowded\.json in \/srv\/validated after \d+ attempts/)
      expect(said.some(([m]) => m!.startsWith("unexpected failure"))).toBe(false)
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  }, 60_000)

  it.scoped("a claimed entry that is not a file (a producer's folder claimed by an instance that died) goes back into data/, and is said", () => {
    // (memfs renames and links through a symbolic link, so the swapped-in link is the e2e hostile suite's)
    const dead = `${P}/deadhost-999995-eee`
    const memory = MemoryFileSystem.make({
      [`${dead}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "somewhere", pid: 999995, beat: 3, stopped: true }),
      [`${dead}/1795886819898-2_folder.json/inside.txt`]: "the producer's own data"
    })
    const app = makeTestApp({ memory })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const summary = yield* once
      expect(summary).toMatchObject({ validated: 0, failed: 0, leftBehind: 0 })
      expect((app.volume.readdirSync(D) as Array<string>).map(String)).toEqual(["folder.json"])
      expect(String(app.volume.readFileSync(`${D}/folder.json/inside.txt`, "utf8"))).toBe("the producer's own data")
      expect(logs.lines.filter((l) => l.level === "WARN").map((l) => [l.annotations.file, l.annotations.kind])).toEqual([["folder.json", "Directory"]])
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.scoped("recovers the files of a dead instance at start, and finishes half-done moves", () => {
    const valid = fixture("valid-single.json")
    const dead = `${P}/deadhost-999999-abc`
    const memory = MemoryFileSystem.make({
      [`${dead}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "somewhere", pid: 999999, beat: 3, stopped: true }),
      [`${dead}/1795886819898-1_recovered.json`]: valid,
      [`${dead}/1795886819898-2_half.json`]: valid,
      [`${P}/loose.json`]: fixture("invalid-luhn.json")
    })
    // half.json was linked into validated/ before the crash (its stage is linked twice); only the unlinks were missing
    memory.volume.mkdirSync(V, { recursive: true })
    const half = stagesOf(`${dead}/1795886819898-2_half.json`)
    memory.volume.writeFileSync(half.data, valid)
    memory.volume.linkSync(half.data, `${V}/half.json`)
    // and a returned file placed with its report, whose stages were not cleared yet
    memory.volume.mkdirSync(R, { recursive: true })
    memory.volume.writeFileSync(`${dead}/1795886819898-3_ret.json`, "null")
    const ret = stagesOf(`${dead}/1795886819898-3_ret.json`)
    memory.volume.writeFileSync(ret.report, '{"stored_as":"ret.json"}')
    memory.volume.writeFileSync(ret.rtarget, "ret.json.error.json")
    memory.volume.linkSync(ret.report, `${R}/ret.json.error.json`)
    memory.volume.writeFileSync(ret.data, "null")
    memory.volume.linkSync(ret.data, `${R}/ret.json`)
    const app = makeTestApp({ memory })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const summary = yield* once
      expect(summary).toEqual({ validated: 1, returned: 1, failed: 0, leftBehind: 0 })
      // Every file's outcome is logged, the two found stored already (the dead instance may not have) marked so.
      const processed = logs.lines.filter((l) => l.message === "file processed").map((l) => l.annotations)
      expect(processed.map((a) => [a.file, a.outcome, a.already_stored ?? false]).sort()).toEqual([
        ["half.json", "validated", true],
        ["loose.json", "returned", false],
        ["recovered.json", "validated", false],
        ["ret.json", "returned", true]
      ])
      expect(listing(app.volume, V)).toEqual(["half.json", "recovered.json"])
      expect(listing(app.volume, R)).toEqual(["loose.json", "loose.json.error.json", "ret.json", "ret.json.error.json"])
      expect(app.volume.readdirSync(R)).toHaveLength(4) // no stage left
      const report = JSON.parse(String(app.volume.readFileSync(`${R}/loose.json.error.json`, "utf8")))
      expect(report.file).toBe("loose.json")
      expect(app.volume.existsSync(dead)).toBe(false)
      const recovered = JSON.parse(String(app.volume.readFileSync(`${V}/recovered.json`, "utf8")))
      expect(recovered.customer_id).toBe("T-100001")
    }).pipe(
      provideToday(app.layer),
      Effect.provide(logs.layer),
      // Once the daemon has stopped, no claimed name is left: the ClaimReleaser removed them all.
      Effect.tap(() => expect(listing(app.volume, P)).toEqual([]))
    )
  })

  it.scoped("does not take the files of a live instance", () => {
    const live = `${P}/otherhost-1-abc`
    const memory = MemoryFileSystem.make({
      [`${live}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "otherhost", pid: 1, beat: 1 }),
      [`${live}/1-1_busy.json`]: fixture("valid-single.json")
    })
    const app = makeTestApp({ memory })
    return Effect.gen(function*() {
      yield* once
      expect(listing(app.volume, live)).toEqual(["1-1_busy.json"])
      expect(listing(app.volume, V)).toEqual([])
    }).pipe(provideToday(app.layer))
  })

  it.scoped("two instances on one folder tree process each file exactly once", () => {
    const files: Record<string, string> = {}
    const valid = fixture("valid-single.json")
    for (let i = 0; i < 200; i++) files[`${D}/f${i}.json`] = valid
    const memory = MemoryFileSystem.make(files)
    const a = makeTestApp({ memory, settings: { CONCURRENCY: "4" } })
    const b = makeTestApp({ memory, settings: { CONCURRENCY: "4" } })
    return Effect.gen(function*() {
      yield* setToday
      const [sa, sb] = yield* Effect.all([Effect.provide(once, a.layer), Effect.provide(once, b.layer)], { concurrency: 2 })
      expect(sa.validated + sb.validated).toBe(200)
      expect(listing(memory.volume, V)).toEqual(Object.keys(files).map((f) => Path.basename(f)).sort())
      expect(listing(memory.volume, D)).toEqual([])
    })
  })
})

describe("nothing stuck without a word (in memory)", () => {
  it.scoped("a defect in one file's job is logged with its cause, the file stays, the workers go on", () => {
    let defects = 0
    const app = makeTestApp({
      files: {
        [`${D}/boom.json`]: fixture("valid-single.json"),
        ...Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`${D}/ok${i}.json`, fixture("valid-single.json")]))
      },
      settings: { CONCURRENCY: "2" },
      // A bug (a throw in a library) while reading one file, every time it is tried.
      wrapExtra: (extra) => ({
        ...extra,
        readRegular: (path, max) => (path.endsWith("_boom.json") ? Effect.sync(() => (defects++, undefined)).pipe(Effect.flatMap(() => Effect.dieMessage("library bug"))) : extra.readRegular(path, max)),
        // (a fresh file read before its claim is looked at once more after it, without a second read)
        identify: (path) => (path.endsWith("_boom.json") ? Effect.sync(() => (defects++, undefined)).pipe(Effect.flatMap(() => Effect.dieMessage("library bug"))) : extra.identify(path))
      })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const summary = yield* once
      // With CONCURRENCY=2, a worker lost to the defect would leave the others' files behind.
      expect(summary).toMatchObject({ validated: 6, failed: 1, leftBehind: 1 })
      expect(defects).toBeGreaterThan(0)
      const errors = logs.lines.filter((l) => l.level === "ERROR" && l.message.startsWith("unexpected failure processing a file"))
      expect(errors).toHaveLength(1)
      expect(errors[0]!.annotations).toMatchObject({ file: "boom.json" })
      expect(listing(app.volume, V)).toHaveLength(6)
      // left claimed, where a later attempt (a full listing) takes it again
      const instanceDir = (app.volume.readdirSync(P) as Array<string>).map(String)
      expect(listing(app.volume, Path.join(P, instanceDir[0]!))).toEqual([expect.stringMatching(/_boom\.json$/)])
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.scoped("a defect while recording a file's outcome is logged, and the worker and `--once` go on", () => {
    const eio = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "read", pathOrDescriptor: path, cause: Object.assign(new Error("EIO: i/o error"), { code: "EIO" }) })
    const app = makeTestApp({
      files: {
        [`${D}/bad-disk.json`]: fixture("valid-single.json"),
        ...Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`${D}/ok${i}.json`, fixture("valid-single.json")]))
      },
      // One worker: lost to the defect, it would route nothing more (and `--once` would wait for it for ever).
      settings: { CONCURRENCY: "1" },
      wrapExtra: (extra) => ({ ...extra, readRegular: (path, max) => (path.includes("bad-disk") ? Effect.fail(eio(path)) : extra.readRegular(path, max)) }),
      // A plugged-in notifier with a bug: the failed file's critical notification dies.
      wrapNotifier: (notifier) => ({ ...notifier, critical: () => Effect.dieMessage("notifier bug") })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(once)
      for (let i = 0; i < 5; i++) yield* TestClock.adjust("1 second")
      // (a worker lost to the defect keeps its job counted in flight: `--once` would never end)
      const summary = yield* TestServices.provideLive(Fiber.join(fiber).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("--once never ended") })))
      expect(summary).toMatchObject({ validated: 4, failed: 1, leftBehind: 1 })
      expect(listing(app.volume, V)).toHaveLength(4)
      const errors = logs.lines.filter((l) => l.level === "ERROR" && l.message.startsWith("unexpected failure recording a file's outcome"))
      expect(errors).toHaveLength(1)
      expect(errors[0]!.annotations).toMatchObject({ file: "bad-disk.json" })
      expect(logs.lines.filter((l) => l.message === "a worker stopped unexpectedly")).toEqual([])
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.scoped("`--once` never says every file was routed when it cannot list its own claimed files at the end", () => {
    const eio = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "readdir", pathOrDescriptor: path, cause: Object.assign(new Error("EIO: i/o error"), { code: "EIO" }) })
    const app = makeTestApp({
      files: { [`${D}/a.json`]: fixture("valid-single.json") },
      wrapExtra: (extra) => ({ ...extra, list: (dir) => (dir.startsWith(`${P}/`) ? Effect.fail(eio(dir)) : extra.list(dir)) })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const summary = yield* once
      expect(summary.validated).toBe(1)
      // Unknown is not none: left behind (exit 75), and said.
      expect(summary.leftBehind).toBe(1)
      const said = logs.lines.filter((l) => l.level === "ERROR" && l.message.startsWith("could not list this instance's claimed files"))
      expect(said).toHaveLength(1)
      expect(said[0]!.annotations.error).toMatch(/EIO/)
    }).pipe(provideToday(app.layer), Effect.provide(logs.layer))
  })

  it.live("a file that keeps failing is reported once per cause and tried again after a growing delay, until it succeeds", () => {
    const failedReads: Array<number> = []
    let healthy = false
    const eioOnce = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "lstat", pathOrDescriptor: path, cause: Object.assign(new Error("EIO: i/o error"), { code: "EIO" }) })
    const app = makeTestApp({
      files: { [`${D}/flaky.json`]: fixture("valid-single.json") },
      settings: { RESCAN_INTERVAL_MS: "100", POLL_INTERVAL_MS: "50", WATCH_MODE: "poll", QUIET_PERIOD_MS: "0" },
      // The claimed file cannot be looked at (an I/O error), until the disk recovers.
      wrapExtra: (extra) => ({
        ...extra,
        identify: (path) =>
          path.endsWith("_flaky.json") && !healthy
            ? Effect.sync(() => failedReads.push(Date.now())).pipe(Effect.flatMap(() => Effect.fail(eioOnce(path))))
            : extra.identify(path)
      })
    })
    const logs = captureLogs()
    const triesLogged = () =>
      logs.lines.filter((l) => l.message === "file still cannot be processed" && l.annotations.file === "flaky.json").map((l) => l.annotations.attempts)
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      // Three tries (the timeout below is the deadline), while rescans run every 100 ms: the first from data/,
      // then the claimed file's, counted on (one file, one count).
      while (triesLogged().length < 2) yield* Effect.sleep("50 millis")
      // One ERROR and one notification for the cause, however many rescans ran; each further try, counted, at DEBUG.
      const errors = logs.lines.filter((l) => l.level === "ERROR" && l.annotations.file === "flaky.json")
      expect(errors).toHaveLength(1)
      expect(app.recorded.critical.filter((c) => c.summary === "file flaky.json could not be processed")).toHaveLength(1)
      expect(triesLogged().slice(0, 2)).toEqual([2, 3])
      // Each try looks 4 times (3 quick I/O retries); each next try waits a growing delay after the last,
      // the claimed file's first one too: 1 s, then 2 s (the daemon's own timers: a slow machine
      // only makes the gaps longer).
      const tries = [0, 1, 2].map((k) => failedReads.slice(4 * k, 4 * k + 4))
      for (const t of tries) expect(t).toHaveLength(4)
      expect(tries[1]![0]! - tries[0]![3]!).toBeGreaterThanOrEqual(retryDelayMs(1))
      expect(tries[2]![0]! - tries[1]![3]!).toBeGreaterThanOrEqual(retryDelayMs(2))
      healthy = true
      while (listing(app.volume, V).length === 0) yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
      expect(listing(app.volume, V)).toEqual(["flaky.json"])
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("50 seconds"))
  })

  it.live("a file still being written after three rescans is reported once as waiting without an outcome", () => {
    const app = makeTestApp({ settings: { RESCAN_INTERVAL_MS: "100", QUIET_PERIOD_MS: "200", WATCH_MODE: "poll", POLL_INTERVAL_MS: "50" } })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      // A writer that never finishes: a partial document, touched again every 50 ms.
      for (let i = 0; i < 40; i++) {
        app.volume.writeFileSync(`${D}/slow.json`, `[{"customer_id": "${"x".repeat(i)}"`)
        yield* Effect.sleep("50 millis")
      }
      yield* Fiber.interrupt(fiber)
      const stuck = logs.lines.filter((l) => l.message === "file has been waiting without an outcome")
      expect(stuck).toHaveLength(1)
      expect(stuck[0]!.annotations).toMatchObject({ file: "slow.json" })
      expect(app.recorded.critical.map((c) => c.summary)).toEqual(["file slow.json has been waiting without an outcome"])
      expect(listing(app.volume, D)).toEqual(["slow.json"])
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("30 seconds"))
  })
})

describe("daemon watching the in-memory filesystem", () => {
  it.live("picks up new files from watch events, once each", () => {
    // A quiet period far longer than the pause between late.json's two writes, however busy the
    // machine: its first, incomplete write must never be judged on its own.
    const app = makeTestApp({ settings: { QUIET_PERIOD_MS: "5000", RESCAN_INTERVAL_MS: "100" } })
    const logs = captureLogs()
    const valid = fixture("valid-single.json")
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("50 millis")
      for (let i = 0; i < 20; i++) {
        app.volume.writeFileSync(`${D}/.n${i}.json.tmp`, valid)
        app.volume.renameSync(`${D}/.n${i}.json.tmp`, `${D}/n${i}.json`)
      }
      app.volume.writeFileSync(`${D}/late.json`, "{")
      yield* Effect.sleep("50 millis")
      app.volume.writeFileSync(`${D}/late.json`, valid)
      while (listing(app.volume, V).length < 21) yield* Effect.sleep("20 millis")
      yield* Effect.sleep("300 millis") // rescans run meanwhile: none may process a file twice
      yield* Fiber.interrupt(fiber)
      const processed = logs.lines.filter((l) => l.message === "file processed")
      expect(processed.map((l) => l.annotations.file).sort()).toEqual([...Array.from({ length: 20 }, (_, i) => `n${i}.json`), "late.json"].sort())
      expect(listing(app.volume, V)).toHaveLength(21)
      expect(listing(app.volume, R)).toEqual([])
      expect(logs.lines.some((l) => l.message === "customer-json-processor stopped")).toBe(true)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })

  it.live("a defect while handling a watch event or listing is said once and survived: later files are still picked up", () => {
    let broken = false
    const bug = Effect.dieMessage("library bug")
    const app = makeTestApp({
      settings: { RESCAN_INTERVAL_MS: "100", POLL_INTERVAL_MS: "30", WATCH_MODE: "poll" },
      wrapExtra: (extra) => ({
        ...extra,
        list: (dir) => (broken && dir === D ? bug : extra.list(dir)),
        listPieces: (dir) => (broken && dir === D ? bug : extra.listPieces(dir))
      })
    })
    const logs = captureLogs()
    const said = () => logs.lines.filter((l) => l.level === "ERROR" && l.message.startsWith("unexpected failure handling a change in the input folder"))
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      app.volume.writeFileSync(`${D}/before.json`, fixture("valid-single.json"))
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("20 millis")
      // Every poll and listing of data/ dies for a while...
      broken = true
      while (said().length < 1) yield* Effect.sleep("20 millis")
      yield* Effect.sleep("400 millis") // more polls and a few full listings, all dying the same way
      expect(said()).toHaveLength(1)
      // ...then works again: a new file is still picked up.
      broken = false
      app.volume.writeFileSync(`${D}/after.json`, fixture("valid-single.json"))
      while (listing(app.volume, V).length < 2) yield* Effect.sleep("20 millis")
      expect(listing(app.volume, V)).toEqual(["after.json", "before.json"])
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })

  it.live("a stored file whose flush to disk fails keeps its claimed name until a later attempt flushes it", () => {
    let failing = true
    let flushes = 0
    const eio = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "fdatasync", pathOrDescriptor: path, cause: Object.assign(new Error("EIO: i/o error"), { code: "EIO" }) })
    const app = makeTestApp({
      // (a copy: a file linked as itself, the daemon's own user's, is the producer's to flush)
      settings: { RESCAN_INTERVAL_MS: "100", POLL_INTERVAL_MS: "30", WATCH_MODE: "poll", STORE_MODE: "copy" },
      wrapExtra: (extra) => ({ ...extra, flush: (path) => Effect.suspend(() => (flushes++, failing ? Effect.fail(eio(path)) : extra.flush(path))) })
    })
    const logs = captureLogs()
    const claimedNames = () => {
      const dirs = app.volume.existsSync(P) ? (app.volume.readdirSync(P) as Array<string>).map(String) : []
      return dirs.flatMap((dir) => listing(app.volume, Path.join(P, dir)).filter((n) => n.endsWith("_a.json")))
    }
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      app.volume.writeFileSync(`${D}/a.json`, fixture("valid-single.json"))
      while (flushes < 1) yield* Effect.sleep("20 millis")
      yield* Effect.sleep("300 millis") // listings and retries meanwhile, every flush failing
      // Stored, but not on disk for sure: its claimed name stays (recovery would find it stored already).
      expect(listing(app.volume, V)).toEqual(["a.json"])
      expect(claimedNames()).toHaveLength(1)
      expect(logs.lines.some((l) => l.message.startsWith("could not flush a stored file to disk"))).toBe(true)
      failing = false
      while (claimedNames().length > 0) yield* Effect.sleep("20 millis")
      expect(listing(app.volume, V)).toEqual(["a.json"])
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })

  it.live("a file whose store keeps failing counts as failing whatever the errno (a stage deleted by a producer is no 'gone'), until it is stored", () => {
    let deleting = true
    let deleted = 0
    const exdev = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "link", pathOrDescriptor: path, cause: Object.assign(new Error("EXDEV: cross-device link"), { code: "EXDEV" }) })
    const app = makeTestApp({
      settings: { RESCAN_INTERVAL_MS: "100", POLL_INTERVAL_MS: "30", WATCH_MODE: "poll", STORE_MODE: "copy" },
      wrapExtra: (extra) => ({
        ...extra,
        // returns/ on another filesystem, group-writable: the producer deletes each stage the daemon makes there.
        link: (from, to) => (from.startsWith(`${P}/`) && to.startsWith(`${R}/`) ? Effect.fail(exdev(from)) : extra.link(from, to)),
        writeNew: (path, bytes, mode, sync) =>
          Effect.tap(extra.writeNew(path, bytes, mode, sync), () =>
            Effect.sync(() => {
              if (deleting && path.startsWith(`${R}/.cjp-stage-`)) {
                app.volume.unlinkSync(path)
                deleted++
              }
            }))
      })
    })
    return Effect.gen(function*() {
      const status = yield* Status
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      app.volume.writeFileSync(`${D}/bad.json`, fixture("invalid-luhn.json"))
      while (deleted < 1 || (yield* status.snapshot).failing === 0) yield* Effect.sleep("10 millis")
      // Retried again and again: never taken for gone meanwhile.
      // Sampled over its first retries (after 1 s, then 2 s more, each from processing/).
      const seen: Array<number> = []
      const until = Date.now() + 3500
      while (Date.now() < until) {
        seen.push((yield* status.snapshot).failing)
        yield* Effect.sleep("10 millis")
      }
      expect(deleted).toBeGreaterThan(2)
      expect(Math.min(...seen)).toBe(1)
      expect(listing(app.volume, R)).toEqual([])
      deleting = false
      while (listing(app.volume, R).length < 2) yield* Effect.sleep("20 millis")
      while ((yield* status.snapshot).failing > 0) yield* Effect.sleep("20 millis")
      expect(listing(app.volume, R)).toEqual(["bad.json", "bad.json.error.json"])
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(captureLogs().layer), Effect.timeout("30 seconds"))
  })

  it.live("a stop does not wait for a copy: a too-large file being copied across filesystems is interrupted, and stays claimed", () => {
    const big = "[" + " ".repeat(1024 * 1024 + 10) + "]"
    let copying = false
    const exdev = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "link", pathOrDescriptor: path, cause: Object.assign(new Error("EXDEV: cross-device link"), { code: "EXDEV" }) })
    const app = makeTestApp({
      files: { [`${D}/big.json`]: big },
      settings: { MAX_FILE_SIZE_MB: "1", QUIET_PERIOD_MS: "0", SHUTDOWN_TIMEOUT_MS: "100" },
      wrapExtra: (extra) => ({
        ...extra,
        // returns/ on another filesystem, and the file dense (the in-memory filesystem says one block for any file)
        link: (from, to) => (from.startsWith(`${P}/`) && !to.startsWith(`${P}/`) ? Effect.fail(exdev(from)) : extra.link(from, to)),
        readRegular: (path, max) =>
          Effect.map(extra.readRegular(path, max), (r) => (r._tag === "TooLarge" ? { ...r, meta: { ...r.meta, blocks: Math.ceil(r.meta.size / 512) } } : r)),
        // a copy that takes for ever (a slow disk, a huge file)
        copyNew: () => Effect.zipRight(Effect.sync(() => void (copying = true)), Effect.never)
      })
    })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      while (!copying) yield* Effect.sleep("10 millis")
      // Within the shutdown timeout and a margin, never for as long as the copy would take.
      const stopped = yield* Effect.timeoutOption(Fiber.interrupt(fiber), "5 seconds")
      expect(stopped._tag).toBe("Some")
      const claimed = (app.volume.readdirSync(P) as Array<string>).flatMap((dir) => listing(app.volume, `${P}/${dir}`))
      expect(claimed.filter((n) => n.endsWith("_big.json"))).toHaveLength(1)
      expect(listing(app.volume, R).filter((n) => n === "big.json")).toEqual([])
    }).pipe(Effect.provide(app.layer), Effect.provide(captureLogs().layer), Effect.timeout("20 seconds"))
  })

  it.live("a watch that fails at every try is said once, and files are still found by listings", () => {
    const app = makeTestApp({
      settings: { RESCAN_INTERVAL_MS: "200", WATCH_MODE: "native" },
      // The platform's watch fails every time it is started (a kernel out of inotify watches, say).
      wrapFs: (fs) => ({
        ...fs,
        watch: (path) =>
          Stream.fail(new SystemError({ reason: "Unknown", module: "FileSystem", method: "watch", pathOrDescriptor: path, cause: Object.assign(new Error("ENOSPC: inotify watch limit"), { code: "ENOSPC" }) }))
      })
    })
    const logs = captureLogs()
    const said = () => logs.lines.filter((l) => l.message.startsWith("watching the input folder failed"))
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      while (said().length < 1) yield* Effect.sleep("20 millis")
      app.volume.writeFileSync(`${D}/found.json`, fixture("valid-single.json"))
      yield* Effect.sleep("2500 millis") // two more tries of the watch, failing alike
      expect(said()).toHaveLength(1)
      expect(listing(app.volume, V)).toEqual(["found.json"])
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })

  it.live("a full listing never hands out a file another worker is routing", () => {
    // Slow moves and a listing every 30 ms: claimed files sit in processing/, linked but
    // not yet unlinked, while listings run. Handed out twice, a file would be stored twice.
    const app = makeTestApp({
      settings: { RESCAN_INTERVAL_MS: "100", POLL_INTERVAL_MS: "30", WATCH_MODE: "poll" },
      wrapFs: (fs) => ({ ...fs, link: (from, to) => Effect.zipRight(Effect.sleep("200 millis"), fs.link(from, to)) }),
      wrapExtra: (extra) => ({ ...extra, unlink: (path) => Effect.zipRight(Effect.sleep("400 millis"), extra.unlink(path)) })
    })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("50 millis")
      for (let i = 0; i < 6; i++) app.volume.writeFileSync(`${D}/s${i}.json`, fixture("valid-single.json"))
      while (listing(app.volume, V).length < 6) yield* Effect.sleep("20 millis")
      yield* Effect.sleep("1500 millis")
      yield* Fiber.interrupt(fiber)
      expect(listing(app.volume, V)).toEqual(["s0.json", "s1.json", "s2.json", "s3.json", "s4.json", "s5.json"])
      expect(logs.lines.filter((l) => l.message === "recovering claimed file")).toEqual([])
      expect(logs.lines.filter((l) => l.message === "file processed")).toHaveLength(6)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })

  it.live("a writer's burst of changes costs a few reads, and the finished file goes at once", () => {
    let reads = 0
    const app = makeTestApp({
      // An hour: the file can only go within the test's deadline if its completeness, not the quiet period, lets it.
      settings: { QUIET_PERIOD_MS: "3600000" },
      wrapExtra: (extra) => ({ ...extra, readRegular: (p, max) => Effect.zipRight(Effect.sync(() => void reads++), extra.readRegular(p, max)) })
    })
    const whole = fixture("valid-batch.json")
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("50 millis")
      app.volume.writeFileSync(`${D}/growing.json`, "")
      for (let i = 0; i < whole.length; i += 20) {
        app.volume.appendFileSync(`${D}/growing.json`, whole.slice(i, i + 20))
        if (i % 200 === 0) yield* Effect.sleep("5 millis")
      }
      // Stored long before the quiet period could end: the last event brought it in (liveOn's deadline bounds the wait).
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(fiber)
      expect(app.volume.readFileSync(`${V}/growing.json`, "utf8")).toBe(whole)
      // about 60 appends, each firing events: far fewer reads
      expect(reads).toBeLessThan(20)
    }).pipe(liveOn(app))
  })

  it.live("a half-written file rewritten again and again costs ever fewer reads (at most one a second), and goes within a second of its last change", () => {
    let reads = 0
    const app = makeTestApp({
      settings: { QUIET_PERIOD_MS: "3600000" },
      wrapExtra: (extra) => ({
        ...extra,
        readRegular: (p, max) => Effect.zipRight(Effect.sync(() => void (p.endsWith("touched.json") && reads++)), extra.readRegular(p, max))
      })
    })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("50 millis")
      // Rewritten every 100 ms for 3 s without ever being finished: 30 events a read each
      // brought on before (one a touch); now 50, 100, 200, 400, 800 ms, then one a second.
      for (let i = 0; i < 30; i++) {
        app.volume.writeFileSync(`${D}/touched.json`, "[")
        yield* Effect.sleep("100 millis")
      }
      expect(reads).toBeGreaterThan(2)
      expect(reads).toBeLessThanOrEqual(9)
      // Its last change noticed within a second (plus the read and the store).
      app.volume.writeFileSync(`${D}/touched.json`, fixture("valid-single.json"))
      const done = Date.now()
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("10 millis")
      expect(Date.now() - done).toBeLessThan(1500)
      yield* Fiber.interrupt(fiber)
    }).pipe(liveOn(app))
  })

  it.live("in poll mode, finds files by listing", () => {
    const app = makeTestApp({ settings: { WATCH_MODE: "poll", POLL_INTERVAL_MS: "20" } })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("50 millis")
      app.volume.writeFileSync(`${D}/p.json`, fixture("valid-single.json"))
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(fiber)
      expect(listing(app.volume, V)).toEqual(["p.json"])
    }).pipe(liveOn(app))
  })

  it.live("a file with a moment of two links (requeue moving it: linked into data/, then its returns/ name removed) is routed, not warned about", () => {
    const app = makeTestApp({ settings: { QUIET_PERIOD_MS: "0", RESCAN_INTERVAL_MS: "100", WATCH_MODE: "poll", POLL_INTERVAL_MS: "20" } })
    const logs = captureLogs()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("100 millis")
      // requeue's move: link into data/ first, its returns/ name removed a moment later (here after several looks)
      app.volume.mkdirSync(`${R}/held`, { recursive: true })
      app.volume.writeFileSync(`${R}/held/moved.json`, fixture("valid-single.json"))
      app.volume.linkSync(`${R}/held/moved.json`, `${D}/moved.json`)
      yield* Effect.sleep("600 millis")
      expect(listing(app.volume, D)).toEqual(["moved.json"])
      app.volume.unlinkSync(`${R}/held/moved.json`)
      while (listing(app.volume, V).length === 0) yield* Effect.sleep("20 millis")
      expect(listing(app.volume, V)).toEqual(["moved.json"])
      expect(logs.lines.filter((l) => l.level === "WARN").map((l) => l.annotations["file"])).toEqual([])
      // A file that keeps its two links is said, once it has had them for LINK_SETTLE_MS.
      app.volume.writeFileSync(`${R}/held/kept.json`, fixture("valid-single.json"))
      app.volume.linkSync(`${R}/held/kept.json`, `${D}/kept.json`)
      const seenAt = Date.now()
      while (!logs.lines.some((l) => l.annotations["file"] === "kept.json" && l.level === "WARN")) yield* Effect.sleep("20 millis")
      expect(Date.now() - seenAt).toBeGreaterThanOrEqual(LINK_SETTLE_MS - 100)
      yield* Fiber.interrupt(fiber)
      const warned = logs.lines.filter((l) => l.level === "WARN").map((l) => [l.annotations["file"], l.annotations["kind"]])
      expect(warned).toEqual([["kept.json", "hard-linked file"]])
      expect(listing(app.volume, D)).toEqual(["kept.json"])
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })

  it.live("tells the Notifier when the disk becomes nearly full (checked every HEALTH_CHECK_INTERVAL_MS, even between rarer listings), and keeps running", () => {
    const app = makeTestApp({ settings: { RESCAN_INTERVAL_MS: "60000", HEALTH_CHECK_INTERVAL_MS: "100" } })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("150 millis")
      expect(app.recorded.critical).toEqual([])
      app.memory.setFreeBytes(10 * 1024 * 1024)
      // within a few health checks, long before the next full listing
      for (let i = 0; i < 50 && app.recorded.critical.length === 0; i++) yield* Effect.sleep("20 millis")
      expect(app.recorded.critical[0]?.summary).toBe(`disk nearly full: ${P}`)
      app.memory.setFreeBytes(1024 ** 4)
      app.volume.writeFileSync(`${D}/after.json`, fixture("valid-single.json"))
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(fiber)
    }).pipe(liveOn(app))
  })

  it.live("never takes the files of a live instance on this host, however late its heartbeat", () => {
    const busy = `${P}/thishost-${process.pid}-abc`
    const memory = MemoryFileSystem.make({
      [`${busy}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: OS.hostname(), pid: process.pid, beat: 1 }),
      [`${busy}/1-1_mine.json`]: fixture("valid-single.json")
    })
    const app = makeTestApp({ memory, settings: { HEARTBEAT_MS: "100" } })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("1 second") // ten beats without a change
      yield* Fiber.interrupt(fiber)
      expect(listing(memory.volume, busy)).toEqual(["1-1_mine.json"])
      expect(listing(memory.volume, V)).toEqual([])
    }).pipe(liveOn(app))
  })

  it.live("never takes the files of an instance on another host while its heartbeat changes, whatever its clock", () => {
    const far = `${P}/farhost-8-def`
    // The other host's beats: only whether the file changes counts, never what time it claims.
    const beat = (n: number) => JSON.stringify({ host: "farhost", pid: 8, beat: n, clock: "1999-01-01T00:00:00Z" })
    const memory = MemoryFileSystem.make({
      [`${far}/${HEARTBEAT_FILE}`]: beat(1),
      [`${far}/1-1_theirs.json`]: fixture("valid-single.json")
    })
    const app = makeTestApp({ memory, settings: { HEARTBEAT_MS: "100" } })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      for (let n = 2; n <= 12; n++) {
        yield* Effect.sleep("100 millis") // ten beats, each seen changed
        memory.volume.writeFileSync(`${far}/${HEARTBEAT_FILE}`, beat(n))
      }
      yield* Fiber.interrupt(fiber)
      expect(listing(memory.volume, far)).toEqual(["1-1_theirs.json"])
      expect(listing(memory.volume, V)).toEqual([])
    }).pipe(liveOn(app))
  })

  it.live("adopts the files of an instance whose heartbeat stops changing", () => {
    const silent = `${P}/farhost-7-abc`
    const memory = MemoryFileSystem.make({
      [`${silent}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "farhost", pid: 7, beat: 9 }),
      [`${silent}/1-1_orphan.json`]: fixture("valid-single.json")
    })
    const app = makeTestApp({ memory, settings: { HEARTBEAT_MS: "100" } })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("150 millis")
      expect(listing(memory.volume, V)).toEqual([]) // not stale yet
      while (listing(memory.volume, V).length < 1) yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(fiber)
      expect(listing(memory.volume, V)).toEqual(["orphan.json"])
      expect(memory.volume.existsSync(silent)).toBe(false)
    }).pipe(liveOn(app))
  })
})

describe("taking over from stopped instances (in memory)", () => {
  it.live("a take-over that fails is said once, not at every beat, and again when it fails anew after working", () => {
    let failing = true
    const eio = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "readdir", pathOrDescriptor: path, cause: Object.assign(new Error("EIO: i/o error"), { code: "EIO" }) })
    const app = makeTestApp({
      settings: { HEARTBEAT_MS: "100" },
      wrapExtra: (extra) => ({ ...extra, list: (dir) => (failing && dir === P ? Effect.fail(eio(dir)) : extra.list(dir)) })
    })
    const logs = captureLogs()
    const said = () => logs.lines.filter((l) => l.message.startsWith("taking over the files of stopped instances failed")).length
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      while (said() < 1) yield* Effect.sleep("20 millis")
      yield* Effect.sleep("500 millis") // five more beats, all failing
      expect(said()).toBe(1)
      expect(logs.lines.find((l) => l.message.startsWith("taking over"))!.annotations.error).toMatch(/EIO/)
      // It works again: a stopped instance's file is taken over and routed.
      failing = false
      const dead = `${P}/deadhost-999999-abc`
      app.volume.mkdirSync(dead, { recursive: true })
      app.volume.writeFileSync(`${dead}/1795886819898-1_late.json`, fixture("valid-single.json"))
      app.volume.writeFileSync(`${dead}/${HEARTBEAT_FILE}`, JSON.stringify({ host: "somewhere", pid: 999999, beat: 3, stopped: true }))
      while (listing(app.volume, V).length < 1) yield* Effect.sleep("20 millis")
      expect(listing(app.volume, V)).toEqual(["late.json"])
      // And fails again: said again.
      failing = true
      while (said() < 2) yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })

  it.live("a heartbeat that cannot be written is said once, not at every beat (other hosts may take the instance for dead)", () => {
    let full = false
    const enospc = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "open", pathOrDescriptor: path, cause: Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }) })
    const app = makeTestApp({
      settings: { HEARTBEAT_MS: "100" },
      wrapExtra: (extra) => ({ ...extra, writeNew: (path, bytes, mode, sync) => (full && path.includes(".heartbeat.") ? Effect.fail(enospc(path)) : extra.writeNew(path, bytes, mode, sync)) })
    })
    const logs = captureLogs()
    const said = () => logs.lines.filter((l) => l.message.startsWith("could not write this instance's heartbeat"))
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      yield* Effect.sleep("150 millis")
      full = true
      while (said().length < 1) yield* Effect.sleep("20 millis")
      yield* Effect.sleep("500 millis") // five more beats, all failing
      expect(said()).toHaveLength(1)
      expect(said()[0]!.annotations.error).toMatch(/ENOSPC/)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })

  it.live("a failing retry of this instance's own claimed files is said once, not at every full listing", () => {
    const eio = (path: string) =>
      new SystemError({ reason: "Unknown", module: "FileSystem", method: "readdir", pathOrDescriptor: path, cause: Object.assign(new Error("EIO: i/o error"), { code: "EIO" }) })
    const app = makeTestApp({
      settings: { RESCAN_INTERVAL_MS: "100" },
      wrapExtra: (extra) => ({ ...extra, list: (dir) => (dir.startsWith(`${P}/`) ? Effect.fail(eio(dir)) : extra.list(dir)) })
    })
    const logs = captureLogs()
    const said = () => logs.lines.filter((l) => l.message.startsWith("could not list this instance's claimed files to try them again"))
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(runDaemon({ once: false }))
      while (said().length < 1) yield* Effect.sleep("20 millis")
      yield* Effect.sleep("500 millis") // five more full listings, all failing
      expect(said()).toHaveLength(1)
      expect(said()[0]!.annotations.error).toMatch(/EIO/)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer), Effect.timeout("20 seconds"))
  })
})

describe("stopping (in memory)", () => {
  /**
   * A daemon whose storing of `a.json` in validated/ (or, with `atRead`, whose read of
   * `a.json`) waits for `gate`; `entered` says it is waiting.
   */
  const gated = (settings: Record<string, string>, atRead = false) =>
    Effect.gen(function*() {
      const entered = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const wait = Effect.zipRight(Deferred.succeed(entered, undefined), Deferred.await(gate))
      const app = makeTestApp({
        files: { [`${D}/a.json`]: fixture("valid-single.json") },
        settings,
        wrapExtra: (extra) => ({
          ...extra,
          link: (from, to) => (!atRead && to.startsWith(V) && !to.includes(".cjp-fsprobe") ? Effect.zipRight(wait, extra.link(from, to)) : extra.link(from, to)),
          readRegular: (path, max) => (atRead && path.endsWith("a.json") ? Effect.zipRight(wait, extra.readRegular(path, max)) : extra.readRegular(path, max))
        })
      })
      return { app, entered, gate }
    })

  it.live("a file in flight at a stop finishes before the workers are interrupted", () =>
    Effect.gen(function*() {
      const { app, entered, gate } = yield* gated({ SHUTDOWN_TIMEOUT_MS: "10000" })
      const logs = captureLogs()
      const daemon = yield* Effect.fork(runDaemon({ once: false }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer)))
      yield* Deferred.await(entered)
      // The stop begins while a.json is being stored; the store goes on a moment later.
      const stopping = yield* Effect.fork(Fiber.interrupt(daemon))
      yield* Effect.sleep("200 millis")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(stopping)
      expect(listing(app.volume, V)).toEqual(["a.json"])
      expect(listing(app.volume, D)).toEqual([])
      expect(logs.lines.filter((l) => l.message === "file processed").map((l) => l.annotations.file)).toEqual(["a.json"])
      expect(logs.lines.some((l) => l.message.startsWith("shutdown timeout reached"))).toBe(false)
    }).pipe(Effect.timeout("20 seconds")))

  it.live("a file that does not finish within SHUTDOWN_TIMEOUT_MS is interrupted, and stays for the next start", () =>
    Effect.gen(function*() {
      const { app, entered } = yield* gated({ SHUTDOWN_TIMEOUT_MS: "300" }, true)
      const logs = captureLogs()
      const daemon = yield* Effect.fork(runDaemon({ once: false }).pipe(Effect.provide(app.layer), Effect.provide(logs.layer)))
      yield* Deferred.await(entered)
      // (the gate never opens: the stop must not wait for the read beyond the timeout)
      yield* Fiber.interrupt(daemon)
      expect(logs.lines.some((l) => l.message.startsWith("shutdown timeout reached"))).toBe(true)
      expect(logs.lines.some((l) => l.message === "customer-json-processor stopped")).toBe(true)
      expect(listing(app.volume, V)).toEqual([])
      // still in data/ (or, had it been claimed, in processing/): exactly once
      const claimed = (app.volume.readdirSync(P, { recursive: true }) as Array<unknown>).map(String).filter((n) => n.endsWith("a.json"))
      expect(listing(app.volume, D).length + claimed.length).toBe(1)
    }).pipe(Effect.timeout("20 seconds")))
})
