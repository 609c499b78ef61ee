/**
 * The direct path (hot path 11, see WorkerPool): on synchronous file calls, a
 * fresh small file's look, claim, check and (valid, placed as itself) store
 * are plain function calls. These tests run the daemon in-process over a real
 * folder with Node's synchronous calls, and show that it takes those calls
 * for the common case, that it leaves the folders exactly as the composed
 * steps do for every kind of entry, and that a failing direct call leaves the
 * file to the composed steps (stored once, never lost).
 */
import { describe, expect, it } from "@effect/vitest"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Either, Layer, Logger } from "effect"
import type { PlatformError } from "@effect/platform/Error"
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import * as App from "../src/App.js"
import * as Config from "../src/Config.js"
import { runDaemon } from "../src/daemon/Daemon.js"
import { FileOps } from "../src/files/FileOps.js"
import type { DirectFileOps, FileOpsService } from "../src/files/FileOps.js"
import { layerSync } from "../src/files/adapters/NodeSync.js"
import { systemError } from "../src/files/internal/Errno.js"
import { SyscallMode } from "../src/files/SyscallMode.js"
import { recordingNotifier } from "./support/app.js"
import { fixture } from "./support/fixtures.js"

type Calls = Record<string, number>

/** A fresh folder tree with `files` (name → content) in data/. */
const makeTree = (files: Record<string, string | Buffer>) => {
  const root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-direct-"))
  NFS.mkdirSync(Path.join(root, "data"))
  for (const [name, content] of Object.entries(files)) NFS.writeFileSync(Path.join(root, "data", name), content)
  return root
}

const folders = (root: string) => ({
  DATA_DIR: Path.join(root, "data"),
  PROCESSING_DIR: Path.join(root, "processing"),
  VALIDATED_DIR: Path.join(root, "validated"),
  RETURNS_DIR: Path.join(root, "returns"),
  LOG_DIR: Path.join(root, "logs")
})

const nodeSyncOps: FileOpsService = Effect.runSync(Effect.provide(FileOps, layerSync))

/** Counts the Effect calls (by name) and the direct ones (`direct.` + name) of `ops`. */
const counting = (calls: Calls, ops: FileOpsService): FileOpsService => {
  const count = (name: string) => void (calls[name] = (calls[name] ?? 0) + 1)
  const counted: Record<string, unknown> = {}
  for (const [name, op] of Object.entries(ops)) {
    counted[name] = typeof op === "function"
      ? (...args: Array<unknown>) => {
        count(name)
        return (op as (...a: Array<unknown>) => unknown)(...args)
      }
      : op
  }
  const direct = ops.direct
  if (direct !== undefined) {
    const d: Record<string, unknown> = {}
    for (const [name, op] of Object.entries(direct)) {
      d[name] = (...args: Array<unknown>) => {
        count(`direct.${name}`)
        return (op as (...a: Array<unknown>) => unknown)(...args)
      }
    }
    counted["direct"] = d
  }
  return counted as unknown as FileOpsService
}

/** One `--once` run of the daemon over `root` with `ops` (Node's synchronous calls, counted or altered). */
const runOver = (root: string, ops: FileOpsService, settings: Record<string, string> = {}) => {
  const filesystem = Layer.mergeAll(
    NodeFileSystem.layer,
    Layer.succeed(FileOps, ops),
    Layer.succeed(SyscallMode, { mode: "sync", reason: "a test of the direct path" })
  )
  const notifier = recordingNotifier()
  const layer = App.layerOver(filesystem, { notifier: notifier.layer }).pipe(
    Layer.provideMerge(Config.layerFixed({ ...folders(root), QUIET_PERIOD_MS: "0", CONCURRENCY: "4", LOG_CONSOLE: "off", ...settings }))
  )
  // (the daemon's lines go to its log file; effect's default logger would print them too)
  return Effect.map(Effect.scoped(runDaemon({ once: true })).pipe(Effect.provide(layer), Effect.provide(Logger.remove(Logger.defaultLogger))), (summary) => ({
    summary,
    rejected: notifier.recorded.rejected
  }))
}

/** Without the direct calls: the composed steps only. */
const composedOnly = (ops: FileOpsService): FileOpsService => ({ ...ops, direct: undefined })

/** A folder's entries (hidden ones too), sorted, each with its bytes; reports without their times. */
const contents = (dir: string): Array<readonly [string, string]> =>
  NFS.existsSync(dir)
    ? NFS.readdirSync(dir).sort().map((name) => {
      const path = Path.join(dir, name)
      const st = NFS.lstatSync(path)
      if (!st.isFile()) return [name, st.isDirectory() ? "(folder)" : st.isSymbolicLink() ? "(link)" : "(other)"] as const
      const text = NFS.readFileSync(path, "utf8")
      return [name, text.replace(/"(received_at|processed_at)": "[^"]*"/g, `"$1": "…"`)] as const
    })
    : []

/** Every folder's contents but the instance folders of processing/ (whose names differ by run). */
const outcome = (root: string) => ({
  data: contents(Path.join(root, "data")),
  validated: contents(Path.join(root, "validated")),
  returns: contents(Path.join(root, "returns")),
  processingLeft: NFS.existsSync(Path.join(root, "processing"))
    ? NFS.readdirSync(Path.join(root, "processing")).flatMap((d) => {
      const dir = Path.join(root, "processing", d)
      return NFS.lstatSync(dir).isDirectory() ? NFS.readdirSync(dir).filter((n) => !n.startsWith(".")) : []
    })
    : []
})

const removeTree = (root: string) => Effect.sync(() => NFS.rmSync(root, { recursive: true, force: true }))

/** What one more file costs, call by call, over `files(i)` for N and 2N files. */
const perFile = (file: (i: number) => readonly [string, string], settings: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const n = 40
    const run = (count: number) =>
      Effect.acquireUseRelease(
        Effect.sync(() => makeTree(Object.fromEntries(Array.from({ length: count }, (_, i) => file(i))))),
        (root) => {
          const calls: Calls = {}
          return Effect.as(runOver(root, counting(calls, nodeSyncOps), settings), calls)
        },
        removeTree
      )
    const small = yield* run(n)
    const large = yield* run(2 * n)
    const each: Calls = {}
    for (const name of new Set([...Object.keys(small), ...Object.keys(large)])) {
      const extra = ((large[name] ?? 0) - (small[name] ?? 0)) / n
      if (extra > 0.05) each[name] = Math.round(extra * 100) / 100
    }
    return each
  })

const eio = (method: string, path: string): PlatformError =>
  systemError(method, path, Object.assign(new Error(`EIO: i/o error, ${method} '${path}'`), { code: "EIO", syscall: method }))

/** `ops` whose direct call `name` fails with EIO the first `times` times. */
const failingDirect = (ops: FileOpsService, name: keyof DirectFileOps, times: number): FileOpsService => {
  let left = times
  const direct = ops.direct!
  const failing = (...args: Array<unknown>) => {
    if (left > 0) {
      left--
      return Either.left(eio(name, String(args[0])))
    }
    return (direct[name] as (...a: Array<unknown>) => unknown)(...args)
  }
  return { ...ops, direct: { ...direct, [name]: failing } }
}

const isRoot = process.geteuid?.() === 0

describe("the direct path", { timeout: 30_000 }, () => {
  it.live("a valid file of the daemon's own user costs four direct calls and the release: no Effect call", () =>
    Effect.map(perFile((i) => [`f${i}.json`, fixture("valid-single.json")]), (each) => {
      expect(each).toEqual({ "direct.readRegular": 1, "direct.rename": 1, "direct.identify": 1, "direct.link": 1, unlink: 1 })
    }))

  it.live("a valid file copied (STORE_MODE=copy, as another user's is): its copy written and linked by direct calls, then flushed and released", () =>
    Effect.map(perFile((i) => [`f${i}.json`, fixture("valid-single.json")], { STORE_MODE: "copy" }), (each) => {
      expect(each).toEqual({
        "direct.readRegular": 1,
        "direct.rename": 1,
        "direct.identify": 1,
        "direct.writeNew": 1,
        "direct.link": 1,
        flush: 1,
        unlink: 2
      })
    }))

  it.live("a returned file is looked at, claimed and checked by direct calls; its report and store are the composed steps'", () =>
    Effect.map(perFile((i) => [`f${i}.json`, fixture("invalid-luhn.json")]), (each) => {
      expect(each).toEqual({
        "direct.readRegular": 1,
        "direct.rename": 1,
        "direct.identify": 1,
        lookup: 2,
        writeNew: 2,
        link: 2,
        unlink: 3
      })
    }))

  it.live("leaves every folder as the composed steps do, whatever the entry", () =>
    Effect.gen(function*() {
      const batch = JSON.parse(fixture("valid-batch.json")) as Array<unknown>
      const long = JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ ...(batch[0] as object), customer_id: `T-${200000 + i}` })))
      const files: Record<string, string> = {
        "valid.json": fixture("valid-single.json"),
        "batch.json": fixture("valid-batch.json"),
        "luhn.json": fixture("invalid-luhn.json"),
        "mixed.json": fixture("invalid-mixed-batch.json"),
        "truncated.json": fixture("invalid-truncated.json"),
        "empty.json": "",
        "not json.json": "hello",
        "long batch.json": long,
        "100%.json": fixture("valid-single.json"),
        [`${"n".repeat(240)}.json`]: fixture("valid-single.json"),
        "other.json": fixture("valid-single.json"),
        "linked.json": fixture("valid-single.json")
      }
      const setUp = (root: string) => {
        const data = Path.join(root, "data")
        NFS.linkSync(Path.join(data, "linked.json"), Path.join(root, "elsewhere.json"))
        NFS.symlinkSync(Path.join(data, "valid.json"), Path.join(data, "symlink.json"))
        NFS.mkdirSync(Path.join(data, "folder.json"))
        ChildProcess.execFileSync("mkfifo", [Path.join(data, "fifo.json")])
        if (isRoot) NFS.chownSync(Path.join(data, "other.json"), 4242, 4242)
        return root
      }
      const run = (ops: FileOpsService) =>
        Effect.acquireUseRelease(
          Effect.sync(() => setUp(makeTree(files))),
          (root) => Effect.map(runOver(root, ops), ({ rejected, summary }) => ({ summary, rejected: rejected.length, ...outcome(root) })),
          removeTree
        )
      const direct = yield* run(nodeSyncOps)
      const composed = yield* run(composedOnly(nodeSyncOps))
      expect(direct.summary.validated).toBe(6)
      expect(direct.summary.returned).toBe(5)
      expect(direct.validated.map(([name]) => name)).toContain("valid.json")
      expect(direct.data.map(([name]) => name).sort()).toEqual(["fifo.json", "folder.json", "linked.json", "symlink.json"])
      expect(direct).toEqual(composed)
    }), 60_000)

  for (const name of ["readRegular", "rename", "identify", "writeNew", "link"] as const) {
    it.live(`a failing direct ${name} leaves the file to the composed steps: stored once, nothing left behind`, () =>
      Effect.acquireUseRelease(
        Effect.sync(() => makeTree({ "a.json": fixture("valid-single.json"), "b.json": fixture("valid-single.json") })),
        (root) =>
          Effect.map(runOver(root, failingDirect(nodeSyncOps, name, 2), name === "writeNew" ? { STORE_MODE: "copy" } : {}), ({ summary }) => {
            expect(summary.validated).toBe(2)
            const result = outcome(root)
            expect(result.validated.map(([n]) => n)).toEqual(["a.json", "b.json"])
            expect(result.data).toEqual([])
            expect(result.processingLeft).toEqual([])
          }),
        removeTree
      ))
  }

  it.live("a claimed entry that is not the file looked at (swapped between look and claim) is read again where it was claimed", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => makeTree({ "a.json": fixture("valid-single.json") })),
      (root) => {
        // The producer swaps in an invalid file right after the daemon's look, before its claim.
        const direct = nodeSyncOps.direct!
        let swapped = false
        const ops: FileOpsService = {
          ...nodeSyncOps,
          direct: {
            ...direct,
            readRegular: (path, max) => {
              const read = direct.readRegular(path, max)
              if (!swapped && path.endsWith("a.json")) {
                swapped = true
                NFS.writeFileSync(`${path}.new`, fixture("invalid-luhn.json"))
                NFS.renameSync(`${path}.new`, path)
              }
              return read
            }
          }
        }
        return Effect.map(runOver(root, ops), ({ summary }) => {
          expect(swapped).toBe(true)
          // Judged and stored as the file claimed, not as the one looked at.
          expect(summary).toMatchObject({ validated: 0, returned: 1 })
          expect(NFS.readFileSync(Path.join(root, "returns", "a.json"), "utf8")).toBe(fixture("invalid-luhn.json"))
        })
      },
      removeTree
    ))
})
