/**
 * Adoption of a dead instance's claimed files over the in-memory filesystem:
 * what the instance hands out as claimed, and when.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as Path from "node:path"
import { stagesOf } from "../src/files/FileStore.js"
import { HEARTBEAT_FILE, Instance } from "../src/instances/Instance.js"
import * as MemoryFileSystem from "../src/testing/MemoryFileSystem.js"
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
