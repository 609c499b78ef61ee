/**
 * Adoption of a dead instance's claimed files over the in-memory filesystem:
 * what the instance hands out as claimed, and when.
 */
import { describe, expect, it } from "@effect/vitest"
import { SystemError } from "@effect/platform/Error"
import { Deferred, Effect, Fiber, TestClock } from "effect"
import * as OS from "node:os"
import * as Path from "node:path"
import { stagesOf } from "../src/files/FileStore.js"
import { forgetGone, HEARTBEAT_FILE, Instance } from "../src/instances/Instance.js"
import * as MemoryFileSystem from "../src/files/adapters/MemoryFileSystem.js"
import { fixture } from "./support/fixtures.js"
import { FOLDERS, makeTestApp } from "./support/app.js"

const V = FOLDERS.VALIDATED_DIR
const P = FOLDERS.PROCESSING_DIR

describe("instance: adopting a dead instance's files", () => {
  it.scoped("a file whose stage an adopter killed mid-move left apart is handed out only once its stage is beside it again", () => {
    // Instance A died; B took its folder (.adopting-A) and was killed between moving a stored
    // file's stage into its own folder and moving the file itself. B is dead too.
    const valid = fixture("valid-single.json")
    const deadB = `${P}/deadhost-999999-bbb`
    const half = "1795886819898-2_half.json"
    const memory = MemoryFileSystem.make({
      [`${deadB}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "somewhere", pid: 999999, beat: 3, stopped: true }),
      [`${deadB}/.adopting-deadhost-999998-aaa/${half}`]: valid,
      [`${deadB}/1795886819898-1_other.json`]: valid
    })
    // The stage says the file was stored (linked into validated/): it sits in B's folder, under B's target name.
    memory.volume.mkdirSync(V, { recursive: true })
    memory.volume.writeFileSync(stagesOf(`${deadB}/${half}`).data, valid)
    memory.volume.linkSync(stagesOf(`${deadB}/${half}`).data, `${V}/half.json`)

    const paused = Deferred.unsafeMake<void>(undefined as never)
    const go = Deferred.unsafeMake<void>(undefined as never)
    const app = makeTestApp({
      memory,
      wrapExtra: (extra) => ({
        ...extra,
        // Holds the adopter where it moves the hidden files of B's folder (the stray stage among them).
        rename: (from, to) =>
          Path.basename(Path.dirname(from)) === ".adopting-deadhost-999999-bbb" && Path.basename(from).startsWith(".")
            ? Effect.zipRight(Effect.zipRight(Deferred.succeed(paused, undefined), Deferred.await(go)), extra.rename(from, to))
            : extra.rename(from, to)
      })
    })
    return Effect.gen(function*() {
      const instance = yield* Instance
      const adopting = yield* Effect.fork(instance.adoptOrphans)
      yield* Deferred.await(paused)
      // Meanwhile (the adopter held) the intake asks for claimed files nothing works on (its periodic
      // duty): whatever it gets must have its stage beside it, or a stored file would be stored twice.
      const handedOut = (yield* instance.claimedFiles).map((n) => [n, memory.volume.existsSync(stagesOf(Path.join(instance.dir, n)).data)])
      expect(handedOut).not.toContainEqual([half, false])
      yield* Deferred.succeed(go, undefined)
      const adopted = yield* Fiber.join(adopting)
      expect([...adopted].sort()).toEqual(["1795886819898-1_other.json", half])
      // Once the adoption is over, both are claimed files of this instance, the stored one with its stage.
      expect([...(yield* instance.claimedFiles)].sort()).toEqual(["1795886819898-1_other.json", half])
      expect(memory.volume.existsSync(stagesOf(Path.join(instance.dir, half)).data)).toBe(true)
    }).pipe(Effect.provide(app.layer))
  })
})

describe("instance: what a take-over never deletes", () => {
  it.scoped("a claimed folder of a producer's comes along with the claimed files, and the dead folder goes only once empty", () => {
    // Instance A died after claiming a producer's folder named like a file (before putting it back).
    const dead = `${P}/deadhost-999997-ccc`
    const memory = MemoryFileSystem.make({
      [`${dead}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "somewhere", pid: 999997, beat: 3, stopped: true }),
      [`${dead}/1795886819898-1_file.json`]: fixture("valid-single.json"),
      [`${dead}/1795886819898-2_folder.json/inside.txt`]: "the producer's own data"
    })
    const app = makeTestApp({ memory })
    return Effect.gen(function*() {
      const instance = yield* Instance
      const adopted = yield* instance.adoptOrphans
      expect([...adopted].sort()).toEqual(["1795886819898-1_file.json", "1795886819898-2_folder.json"])
      expect(String(memory.volume.readFileSync(`${instance.dir}/1795886819898-2_folder.json/inside.txt`, "utf8"))).toBe("the producer's own data")
      expect(memory.volume.existsSync(dead)).toBe(false)
    }).pipe(Effect.provide(app.layer))
  })

  it.scoped("a claimed name without its claim prefix is renamed by effect's Clock", () => {
    const dead = `${P}/deadhost-999996-ddd`
    const memory = MemoryFileSystem.make({
      [`${dead}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "somewhere", pid: 999996, beat: 3, stopped: true }),
      [`${dead}/loose.json`]: fixture("valid-single.json")
    })
    const app = makeTestApp({ memory })
    const at = Date.parse("2031-05-06T07:08:09.010Z")
    // (set before the layer starts: moving it later would replay every heartbeat in between)
    return TestClock.setTime(at).pipe(Effect.zipRight(Effect.gen(function*() {
      const instance = yield* Instance
      const adopted = yield* instance.adoptOrphans
      expect([...adopted]).toEqual([`${at}-1_loose.json`])
    }).pipe(Effect.provide(app.layer))))
  })

  it.scoped("a dead folder still holding something after its drain stays, and the take-over says so", () => {
    const dead = `${P}/deadhost-999996-ddd`
    const memory = MemoryFileSystem.make({
      [`${dead}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "somewhere", pid: 999996, beat: 3, stopped: true }),
      [`${dead}/1795886819898-1_file.json`]: fixture("valid-single.json")
    })
    const app = makeTestApp({
      memory,
      // A listing that misses a name (as one through a network filesystem may): the drain must not delete it.
      wrapExtra: (extra) => ({
        ...extra,
        list: (dir) => Effect.map(extra.list(dir), (entries) => (dir.includes(".adopting-") ? entries.filter((e) => !e.name.endsWith("_late.json")) : entries))
      })
    })
    return Effect.gen(function*() {
      const instance = yield* Instance
      memory.volume.writeFileSync(`${dead}/1795886819898-3_late.json`, fixture("valid-single.json"))
      const failed = yield* Effect.flip(instance.adoptOrphans)
      expect(failed._tag).toBe("SystemError")
      const taken = (memory.volume.readdirSync(instance.dir) as Array<string>).map(String)
      const adopting = taken.find((n) => n.startsWith(".adopting-"))
      expect(adopting).toBeDefined()
      expect(String(memory.volume.readFileSync(`${instance.dir}/${adopting}/1795886819898-3_late.json`, "utf8"))).toBe(fixture("valid-single.json"))
    }).pipe(Effect.provide(app.layer))
  })
})

describe("instance: its heartbeat", () => {
  it.live("counts up at every beat: instances on other hosts see it alive by the change", () => {
    const memory = MemoryFileSystem.make({})
    const app = makeTestApp({ memory, settings: { HEARTBEAT_MS: "100" } })
    return Effect.gen(function*() {
      const instance = yield* Instance
      const beatNow = () => (JSON.parse(String(memory.volume.readFileSync(`${instance.dir}/${HEARTBEAT_FILE}`, "utf8"))) as { beat: number }).beat
      yield* Effect.sleep("150 millis")
      const first = beatNow()
      yield* Effect.sleep("400 millis")
      const later = beatNow()
      expect(later).toBeGreaterThan(first + 1)
    }).pipe(Effect.provide(app.layer), Effect.scoped)
  })
})

describe("instance: what it remembers of other instances", () => {
  it("forgets the heartbeats of instances whose folders are gone, keeps the others'", () => {
    const seen = new Map<string, unknown>([["hosta-1-aaa", 1], ["hostb-2-bbb", 2], ["hostc-3-ccc", 3]])
    forgetGone(seen, ["hostb-2-bbb", "vm-9-ddd", ".adopting-x"])
    expect([...seen.keys()]).toEqual(["hostb-2-bbb"])
  })
})

describe("instance: a heartbeat read through a network filesystem's other mount", () => {
  // (heartbeats are replaced by rename; through another client, a read may meet a stale
  // handle (ESTALE) or a size not yet updated (an empty read))
  const beat = (host: string, pid: number, n: number) => JSON.stringify({ host, pid, beat: n })
  const stale = (path: string) =>
    new SystemError({ reason: "Unknown", module: "FileSystem", method: "fstat", pathOrDescriptor: path, cause: Object.assign(new Error("stale"), { errno: -116, code: "Unknown system error -116" }) })

  it.scoped("a live instance on this host whose beat reads empty is never taken for dead, however long", () => {
    const alive = `${P}/${OS.hostname().replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 64)}-${process.pid}-abcdef`
    const memory = MemoryFileSystem.make({
      [`${alive}/${HEARTBEAT_FILE}`]: "",
      [`${alive}/1795886819898-1_busy.json`]: fixture("valid-single.json")
    })
    const app = makeTestApp({ memory, settings: { HEARTBEAT_MS: "100" } })
    return Effect.gen(function*() {
      const instance = yield* Instance
      for (let i = 0; i < 40; i++) {
        expect(yield* instance.adoptOrphans).toEqual([])
        yield* TestClock.adjust("100 millis")
      }
      expect(memory.volume.existsSync(`${alive}/1795886819898-1_busy.json`)).toBe(true)
    }).pipe(Effect.provide(app.layer))
  })

  it.scoped("a stale handle on one heartbeat fails no take-over: that instance is not judged this time, a stopped one is still adopted", () => {
    const other = `${P}/elsewhere-4242-aaaaaa`
    const stopped = `${P}/elsewhere-4243-bbbbbb`
    const memory = MemoryFileSystem.make({
      [`${other}/${HEARTBEAT_FILE}`]: beat("elsewhere", 4242, 1),
      [`${other}/1795886819898-1_theirs.json`]: fixture("valid-single.json"),
      [`${stopped}/${HEARTBEAT_FILE}`]: JSON.stringify({ host: "elsewhere", pid: 4243, beat: 9, stopped: true }),
      [`${stopped}/1795886819898-2_left.json`]: fixture("valid-single.json")
    })
    const app = makeTestApp({
      memory,
      settings: { HEARTBEAT_MS: "100" },
      wrapExtra: (extra) => ({
        ...extra,
        readRegular: (path, max) => (path.startsWith(other) ? Effect.fail(stale(path)) : extra.readRegular(path, max))
      })
    })
    return Effect.gen(function*() {
      const instance = yield* Instance
      expect(yield* instance.adoptOrphans).toEqual(["1795886819898-2_left.json"])
      // Stale at every read for a few beats: still no evidence that it stopped.
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust("100 millis")
        expect(yield* instance.adoptOrphans).toEqual([])
      }
      expect(memory.volume.existsSync(`${other}/1795886819898-1_theirs.json`)).toBe(true)
    }).pipe(Effect.provide(app.layer))
  })

  it.scoped("an instance on another host whose beat was seen, then reads empty, keeps its age: taken over only when it has not changed for long", () => {
    const other = `${P}/elsewhere-4244-cccccc`
    const memory = MemoryFileSystem.make({
      [`${other}/${HEARTBEAT_FILE}`]: beat("elsewhere", 4244, 1),
      [`${other}/1795886819898-1_theirs.json`]: fixture("valid-single.json")
    })
    const app = makeTestApp({ memory, settings: { HEARTBEAT_MS: "100" } })
    return Effect.gen(function*() {
      const instance = yield* Instance
      expect(yield* instance.adoptOrphans).toEqual([])
      // Empty reads from now on: three beats later it is not taken (no evidence it stopped beating)…
      memory.volume.writeFileSync(`${other}/${HEARTBEAT_FILE}`, "")
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust("100 millis")
        expect(yield* instance.adoptOrphans).toEqual([])
      }
      // …and a beat that comes back changed restarts its age.
      memory.volume.writeFileSync(`${other}/${HEARTBEAT_FILE}`, beat("elsewhere", 4244, 2))
      yield* TestClock.adjust("100 millis")
      expect(yield* instance.adoptOrphans).toEqual([])
      // A heartbeat that cannot be read for 30 beats counts as stale: its files are not stuck for ever.
      memory.volume.writeFileSync(`${other}/${HEARTBEAT_FILE}`, "")
      yield* TestClock.adjust("3100 millis")
      expect(yield* instance.adoptOrphans).toEqual(["1795886819898-1_theirs.json"])
    }).pipe(Effect.provide(app.layer))
  })
})
