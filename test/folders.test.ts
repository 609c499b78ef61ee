/**
 * One folder list with roles (issue 26 item 3): the folder checks, the choice
 * of how file calls are made, the built-in destinations and the start-up
 * banner all follow `Folders.FOLDERS`, so a folder is added in one place.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Config from "../src/Config.js"
import { FOLDERS, folderList, foldersByRole, storageFolderList } from "../src/Folders.js"
import { bannerFolders } from "../src/daemon/Banner.js"
import { storageFolders } from "../src/destinations/Destination.js"
import * as FolderChecksModule from "../src/files/FolderChecks.js"
import { FolderChecks, folderSettings } from "../src/files/FolderChecks.js"
import { FileOps } from "../src/files/FileOps.js"
import { detectSyscallMode } from "../src/files/SyscallMode.js"
import * as MemoryFileSystem from "../src/files/adapters/MemoryFileSystem.js"
import { FOLDERS as TEST_FOLDERS } from "./support/app.js"

const settings = {
  dataDir: "/srv/in",
  processingDir: "/srv/claimed",
  validatedDir: "/srv/ok",
  returnsDir: "/srv/back",
  logDir: "/srv/log"
}

describe("the folder list", () => {
  it("declares each folder once, with its role, its setting and what the daemon does there", () => {
    expect(FOLDERS.map((f) => [f.role, f.setting, f.written, f.linked])).toEqual([
      ["data", "DATA_DIR", false, false],
      ["processing", "PROCESSING_DIR", true, true],
      ["validated", "VALIDATED_DIR", true, true],
      ["returns", "RETURNS_DIR", true, true],
      ["logs", "LOG_DIR", true, false]
    ])
    expect(new Set(FOLDERS.map((f) => f.role)).size).toBe(FOLDERS.length)
    // Every folder setting of Config's table is in the list, and nothing else.
    expect(FOLDERS.map((f) => f.setting)).toEqual(Object.entries(Config.SETTINGS).filter(([, s]) => s.group === "folders").map(([name]) => name))
    expect(folderList(settings).map((f) => f.dir)).toEqual(["/srv/in", "/srv/claimed", "/srv/ok", "/srv/back", "/srv/log"])
    expect(storageFolderList(settings).map((f) => [f.role, f.dir, f.stores])).toEqual([
      ["validated", "/srv/ok", { verdict: "validated", report: false }],
      ["returns", "/srv/back", { verdict: "returned", report: true }]
    ])
  })

  it("is what the banner, the built-in destinations and the folder checks' pairs follow, in its order", () => {
    const byRole = foldersByRole(settings)
    expect(Object.keys(bannerFolders(settings))).toEqual(FOLDERS.map((f) => f.role))
    expect(bannerFolders(settings)).toEqual({ data: "/srv/in", processing: "/srv/claimed", validated: "/srv/ok", returns: "/srv/back", logs: "/srv/log" })
    expect(folderSettings(byRole)).toEqual(FOLDERS.map((f) => [f.setting, settings[f.key]]))
    expect(storageFolders(settings).map((f) => f.role)).toEqual(storageFolderList(settings).map((f) => f.role))
  })

  it.effect("is what the folder checks prepare, check for space (the written ones) and probe (the linked ones)", () => {
    const memory = MemoryFileSystem.make()
    const made: Array<string> = []
    const freeAsked: Array<string> = []
    const watched = Layer.effect(
      FileOps,
      Effect.map(FileOps, (ops) => ({
        ...ops,
        makeFolder: (dir: string, mode: number) => Effect.zipRight(Effect.sync(() => made.push(dir)), ops.makeFolder(dir, mode)),
        freeBytes: (dir: string) => Effect.zipRight(Effect.sync(() => freeAsked.push(dir)), ops.freeBytes(dir))
      }))
    ).pipe(Layer.provide(memory.layer))
    return Effect.gen(function*() {
      const checks = yield* FolderChecks
      yield* checks.prepareFolders
      yield* checks.checkDiskSpace
      const probed = yield* checks.probeFilesystems
      const list = folderList(yield* Config.AppConfig)
      expect(made).toEqual(list.map((f) => f.dir))
      expect(freeAsked).toEqual(list.filter((f) => f.written).map((f) => f.dir))
      expect(probed.map((g) => g.path)).toEqual(list.filter((f) => f.linked).map((f) => f.dir))
    }).pipe(
      Effect.provide(
        FolderChecksModule.layer.pipe(Layer.provideMerge(Layer.mergeAll(memory.layer, watched, Config.layerFixed(TEST_FOLDERS))))
      )
    )
  })

  it.effect.each(FOLDERS.map((f) => f.role))("is what FS_CALLS=auto looks at: the folder %s, alone on a tmpfs, is seen", (role) =>
    Effect.gen(function*() {
      const base = yield* Config.parseSettings({ FS_CALLS: "auto" })
      // None of them exists: each is looked at through its nearest parent (/dev/shm is a tmpfs, /work is not).
      const placed = Object.fromEntries(FOLDERS.map((f) => [f.key, f.role === role ? `/dev/shm/cjp-none/${f.role}` : `/work/cjp-none/${f.role}`]))
      const choice = yield* detectSyscallMode({ ...base, ...placed })
      expect(choice.reason).toContain("tmpfs")
      expect(choice.reason).not.toBe("local filesystem: tmpfs")
    }))
})
