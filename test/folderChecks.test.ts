import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { AppConfigFrom } from "../src/Config.js"
import { FolderChecks, FolderChecksLive } from "../src/files/FolderChecks.js"
import * as MemoryFileSystem from "../src/testing/MemoryFileSystem.js"
import { FOLDERS } from "./support/app.js"

const withChecks = <A, E>(memory: MemoryFileSystem.MemoryFileSystem, f: (checks: FolderChecks["Type"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(FolderChecks, f).pipe(
    Effect.provide(FolderChecksLive.pipe(Layer.provide(Layer.merge(memory.layer, AppConfigFrom(FOLDERS)))))
  )

const STALE = ".cjp-probe-0123456789abcdef0123456789abcdef.tmp"
const FRESH = ".cjp-fsprobe-fedcba9876543210fedcba9876543210.tmp"

describe("FolderChecks: the folder checks as a service of their own", () => {
  it.effect("prepares the folders, and sweeps only the probes an instance killed mid-probe left behind", () => {
    const memory = MemoryFileSystem.make({
      [`${FOLDERS.VALIDATED_DIR}/${STALE}`]: "",
      [`${FOLDERS.VALIDATED_DIR}/${FRESH}`]: "",
      [`${FOLDERS.VALIDATED_DIR}/.cjp-probe-planted.tmp`]: ""
    })
    const old = new Date(Date.now() - 10 * 60_000)
    memory.volume.utimesSync(`${FOLDERS.VALIDATED_DIR}/${STALE}`, old, old)
    return withChecks(memory, (checks) => checks.prepareFolders).pipe(
      Effect.map(() => {
        for (const dir of Object.values(FOLDERS)) expect(memory.volume.statSync(dir).isDirectory()).toBe(true)
        // a probe still in progress (recent) and a name that is not a probe's stay
        expect((memory.volume.readdirSync(FOLDERS.VALIDATED_DIR) as Array<string>).map(String).sort()).toEqual([FRESH, ".cjp-probe-planted.tmp"])
      })
    )
  })

  it.effect("checks free space on the output folders only, and probes the filesystems routing relies on", () => {
    const memory = MemoryFileSystem.make()
    memory.setFreeBytes(50 * 1024 * 1024)
    return withChecks(memory, (checks) =>
      Effect.gen(function*() {
        yield* checks.prepareFolders
        const low = yield* Effect.flip(checks.checkDiskSpace)
        expect(low).toMatchObject({ _tag: "DiskSpaceLow", setting: "PROCESSING_DIR", freeMb: 50, requiredMb: 100 })
        const guarantees = yield* checks.probeFilesystems
        expect(guarantees.map((g) => g.setting)).toEqual(["PROCESSING_DIR", "VALIDATED_DIR", "RETURNS_DIR"])
        expect(checks.folders).toEqual({ data: "/srv/data", processing: "/srv/processing", validated: "/srv/validated", returns: "/srv/returns", logs: "/srv/logs" })
      }))
  })
})
