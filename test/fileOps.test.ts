import { describe, expect, it } from "@effect/vitest"
import { afterAll } from "vitest"
import { Effect, Layer, Option } from "effect"
import type { PlatformError } from "@effect/platform/Error"
import type { SystemError } from "@effect/platform/Error"
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { chooseMode, classifyFilesystem, detectSyscallMode, syncFileSystem } from "../src/files/SyscallMode.js"
import { parseSettings } from "../src/Config.js"
import { errnoCode, FileOps, isAlreadyExists, isNotFound } from "../src/files/FileOps.js"
import { systemError } from "../src/files/internal/Errno.js"
import { layerAsync } from "../src/files/adapters/NodeAsync.js"
import { layerSync } from "../src/files/adapters/NodeSync.js"
import { fileInfo } from "../src/files/internal/Stats.js"
import { exactStat } from "../src/files/internal/Node.js"

const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-fsextra-"))
afterAll(() => NFS.rmSync(dir, { recursive: true, force: true }))
NFS.writeFileSync(Path.join(dir, "a.json"), '{"a":1}')
NFS.writeFileSync(Path.join(dir, "empty.json"), "")
NFS.writeFileSync(Path.join(dir, "big.json"), "x".repeat(2000))
NFS.symlinkSync(Path.join(dir, "a.json"), Path.join(dir, "link.json"))
NFS.mkdirSync(Path.join(dir, "dir.json"))
ChildProcess.execFileSync("mkfifo", [Path.join(dir, "fifo.json")])

// The same behaviour whether the calls go through the thread pool or are made synchronously.
describe.each([["layerAsync", layerAsync], ["layerSync", layerSync]] as const)("%s", (_, layer) => {
  const readRegular = (name: string, max = 1000) => Effect.flatMap(FileOps, (e) => e.readRegular(Path.join(dir, name), max)).pipe(Effect.provide(layer))

  it.effect("reads a regular file with its size", () =>
    Effect.map(readRegular("a.json"), (r) => {
      expect(r._tag).toBe("Read")
      if (r._tag === "Read") {
        expect(Buffer.from(r.bytes).toString()).toBe('{"a":1}')
        expect(r.meta.size).toBe(7)
      }
    }))
  it.effect("reads an empty file", () => Effect.map(readRegular("empty.json"), (r) => expect(r._tag === "Read" && r.bytes.length).toBe(0)))
  it.effect("never follows a symbolic link", () => Effect.map(readRegular("link.json"), (r) => expect(r).toEqual({ _tag: "NotRegular", type: "SymbolicLink" })))
  it.effect("describes a folder", () => Effect.map(readRegular("dir.json"), (r) => expect(r).toEqual({ _tag: "NotRegular", type: "Directory" })))
  it.effect("does not block on a FIFO", () => Effect.map(readRegular("fifo.json"), (r) => expect(r).toEqual({ _tag: "NotRegular", type: "FIFO" })))
  it.effect("does not read a file over the limit", () => Effect.map(readRegular("big.json", 1000), (r) => expect(r._tag).toBe("TooLarge")))
  it.effect("fails with NotFound for a missing file", () =>
    Effect.map(Effect.flip(readRegular("gone.json")), (e) => expect(e).toMatchObject({ _tag: "SystemError", reason: "NotFound" })))
  it.effect("unlinks one file", () =>
    Effect.gen(function*() {
      NFS.writeFileSync(Path.join(dir, "x"), "")
      yield* Effect.flatMap(FileOps, (e) => e.unlink(Path.join(dir, "x"))).pipe(Effect.provide(layer))
      expect(NFS.existsSync(Path.join(dir, "x"))).toBe(false)
    }))
  it.effect("describes a symbolic link by lstat; unlink of a missing file fails with NotFound", () =>
    Effect.gen(function*() {
      const extra = yield* Effect.provide(FileOps, layer)
      const info = yield* extra.lstat(Path.join(dir, "link.json"))
      expect(info.type).toBe("SymbolicLink")
      const missing = yield* Effect.flip(extra.unlink(Path.join(dir, "never-there")))
      expect(isNotFound(missing)).toBe(true)
    }))
  it.effect("looks a name up: None when nothing has it, a link to nothing described, never followed", () =>
    Effect.gen(function*() {
      const extra = yield* Effect.provide(FileOps, layer)
      expect(yield* extra.lookup(Path.join(dir, "never-there"))).toEqual(Option.none())
      const link = yield* extra.lookup(Path.join(dir, "link.json"))
      expect(Option.map(link, (m) => m.type)).toEqual(Option.some("SymbolicLink"))
      NFS.symlinkSync(Path.join(dir, "nowhere"), Path.join(dir, "dangling"))
      expect(Option.map(yield* extra.lookup(Path.join(dir, "dangling")), (m) => m.type)).toEqual(Option.some("SymbolicLink"))
      NFS.unlinkSync(Path.join(dir, "dangling"))
      // Not an absence: said as the failure it is.
      expect(isNotFound(yield* Effect.flip(extra.lookup(Path.join(dir, "a.json", "below"))))).toBe(false)
    }))
  it.effect("makes a folder (and its parents) with the mode asked less the umask, never more, and keeps a setgid bit its parent gives", () =>
    Effect.gen(function*() {
      const extra = yield* Effect.provide(FileOps, layer)
      const sub = NFS.mkdtempSync(Path.join(dir, "folders-"))
      const modeOf = (p: string) => NFS.statSync(Path.join(sub, p)).mode & 0o7777
      // UMask=0027, as in the systemd unit: nothing for others, no group write
      const saved = process.umask(0o027)
      try {
        yield* extra.makeFolder(Path.join(sub, "a", "b"), 0o755)
        yield* extra.makeFolder(Path.join(sub, "p"), 0o750)
      } finally {
        process.umask(saved)
      }
      expect([modeOf("a"), modeOf("a/b"), modeOf("p")]).toEqual([0o750, 0o750, 0o750])
      // a folder that is there keeps its mode
      NFS.chmodSync(Path.join(sub, "p"), 0o700)
      yield* extra.makeFolder(Path.join(sub, "p"), 0o750)
      expect(modeOf("p")).toBe(0o700)
      // under a setgid parent (the producers' group, README): the new folder keeps the bit, and so its group
      NFS.mkdirSync(Path.join(sub, "shared"))
      NFS.chmodSync(Path.join(sub, "shared"), 0o2770)
      const saved2 = process.umask(0o022)
      try {
        yield* extra.makeFolder(Path.join(sub, "shared", "data"), 0o755)
      } finally {
        process.umask(saved2)
      }
      expect(modeOf("shared/data")).toBe(0o2755)
    }))
  it.effect("creates a new file exclusively with its mode and tells its identity; never over a name or through a link", () =>
    Effect.gen(function*() {
      const extra = yield* Effect.provide(FileOps, layer)
      const sub = NFS.mkdtempSync(Path.join(dir, "new-"))
      const made = yield* extra.writeNew(Path.join(sub, "n.json"), Buffer.from("hello"), 0o640)
      const stats = NFS.lstatSync(Path.join(sub, "n.json"), { bigint: true })
      expect(NFS.readFileSync(Path.join(sub, "n.json"), "utf8")).toBe("hello")
      expect(stats.mode & 0o777n).toBe(0o640n & ~BigInt(process.umask()))
      expect(made).toMatchObject({ type: "File", size: 5, nlink: 1, id: `${stats.dev}:${stats.ino}` })
      const taken = yield* Effect.flip(extra.writeNew(Path.join(sub, "n.json"), Buffer.from("other"), 0o640))
      expect(isAlreadyExists(taken)).toBe(true)
      expect(NFS.readFileSync(Path.join(sub, "n.json"), "utf8")).toBe("hello")
      NFS.symlinkSync(Path.join(sub, "target.json"), Path.join(sub, "via-link.json"))
      const throughLink = yield* Effect.flip(extra.writeNew(Path.join(sub, "via-link.json"), Buffer.from("x"), 0o640))
      expect(throughLink._tag).toBe("SystemError")
      expect(NFS.existsSync(Path.join(sub, "target.json"))).toBe(false)
      // A name that is not UTF-8 travels escaped and is written and read as its bytes.
      const raw = Buffer.concat([Buffer.from(sub + "/caf"), Buffer.from([0xe9]), Buffer.from(".json")])
      yield* extra.writeNew(Path.join(sub, "caf%E9.json"), Buffer.from("{}"), 0o640)
      expect(NFS.readFileSync(raw, "utf8")).toBe("{}")
      const back = yield* extra.readRegular(Path.join(sub, "caf%E9.json"), 100)
      expect(back._tag === "Read" && Buffer.from(back.bytes).toString()).toBe("{}")
      const missingDir = yield* Effect.flip(extra.writeNew(Path.join(sub, "no-such-dir", "x.json"), Buffer.from("x"), 0o640))
      expect(isNotFound(missingDir)).toBe(true)
    }))
})

// A folder of many names, one of them not UTF-8: read in pieces, it gives what a whole listing gives.
const many = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-pieces-"))
afterAll(() => NFS.rmSync(many, { recursive: true, force: true }))
for (let i = 0; i < 700; i++) NFS.writeFileSync(Path.join(many, `f${i}.json`), "{}")
NFS.writeFileSync(Buffer.concat([Buffer.from(many + "/caf"), Buffer.from([0xe9]), Buffer.from(".json")]), "{}")
NFS.mkdirSync(Path.join(many, "sub"))
// Valid UTF-8 that holds U+FFFD itself, and a name with the escape character.
NFS.writeFileSync(Path.join(many, "real\uFFFD.json"), "{}")
NFS.writeFileSync(Path.join(many, "50%.json"), "{}")

describe.each([["layerAsync", layerAsync], ["layerSync", layerSync]] as const)("%s listPieces", (_, layer) => {
  it.effect("reads a folder in pieces of at most the size asked, every entry once, names escaped as `list` escapes them", () =>
    Effect.gen(function*() {
      const ops = yield* Effect.provide(FileOps, layer)
      const listing = yield* ops.listPieces(many)
      const pieces: Array<number> = []
      const names: Array<string> = []
      const types = new Map<string, string>()
      while (true) {
        const piece = yield* listing.next(100)
        if (piece.length === 0) break
        pieces.push(piece.length)
        for (const e of piece) {
          names.push(e.name)
          types.set(e.name, e.type)
        }
      }
      yield* listing.close
      yield* listing.close // twice is harmless
      expect(yield* listing.next(10)).toEqual([])
      expect(Math.max(...pieces)).toBe(100)
      expect(names).toHaveLength(704)
      const whole = yield* ops.list(many)
      expect([...names].sort()).toEqual(whole.map((e) => e.name).sort())
      expect(names).toContain("caf%E9.json")
      expect(names.filter((n) => n.startsWith("real"))).toHaveLength(1)
      expect(names).toContain("50%25.json")
      expect(types.get("sub")).toBe("Directory")
      expect(types.get("f1.json")).toBe("File")
    }))
  it.effect("fails with NotFound for a missing folder", () =>
    Effect.map(Effect.flip(Effect.flatMap(Effect.provide(FileOps, layer), (ops) => ops.listPieces(Path.join(many, "missing")))), (e) =>
      expect(isNotFound(e)).toBe(true)))
})

describe("SyscallMode: synchronous calls on local filesystems only", () => {
  it("classifies filesystems by their statfs type; anything unknown counts as remote", () => {
    expect(classifyFilesystem(0xef53)).toEqual({ local: true, name: "ext4" })
    expect(classifyFilesystem(0x01021994)).toEqual({ local: true, name: "tmpfs" })
    expect(classifyFilesystem(0x6969)).toEqual({ local: false, name: "nfs" })
    expect(classifyFilesystem(0xff534d42)).toEqual({ local: false, name: "cifs" })
    expect(classifyFilesystem(0x12345)).toEqual({ local: false, name: "unknown (0x12345)" })
  })

  it("is synchronous only when every folder is local, or when forced", () => {
    const ext4 = { local: true, name: "ext4" }
    const nfs = { local: false, name: "nfs" }
    expect(chooseMode("auto", [ext4, ext4])).toEqual({ mode: "sync", reason: "local filesystem: ext4" })
    expect(chooseMode("auto", [ext4, nfs]).mode).toBe("async")
    expect(chooseMode("auto", [ext4, nfs]).reason).toContain("nfs")
    expect(chooseMode("auto", []).mode).toBe("async")
    expect(chooseMode("sync", [nfs])).toEqual({ mode: "sync", reason: "FS_CALLS=sync" })
    expect(chooseMode("async", [ext4])).toEqual({ mode: "async", reason: "FS_CALLS=async" })
  })

  it.effect("detects the filesystem of folders that do not exist yet from their nearest parent", () =>
    Effect.gen(function*() {
      const settings = yield* parseSettings({ DATA_DIR: Path.join(dir, "not", "yet", "data"), PROCESSING_DIR: dir, VALIDATED_DIR: dir, RETURNS_DIR: dir, LOG_DIR: dir })
      const type = NFS.statfsSync(dir).type
      const choice = yield* detectSyscallMode(settings)
      expect(choice.mode).toBe(classifyFilesystem(type).local ? "sync" : "async")
      expect(choice.reason).toContain(classifyFilesystem(type).name)
    }))

  it.effect("the synchronous FileSystem maps errors as the platform does (never replacing, not found, exists)", () =>
    Effect.gen(function*() {
      const fs = syncFileSystem(yield* FileSystem.FileSystem)
      const a = Path.join(dir, "sync-a"), b = Path.join(dir, "sync-b")
      yield* fs.writeFileString(a, "one")
      yield* fs.writeFileString(b, "two")
      expect(isAlreadyExists(yield* Effect.flip(fs.link(a, b)))).toBe(true)
      expect(isAlreadyExists(yield* Effect.flip(fs.writeFileString(b, "three", { flag: "wx" })))).toBe(true)
      expect(NFS.readFileSync(b, "utf8")).toBe("two")
      expect(yield* fs.exists(a)).toBe(true)
      yield* fs.rename(a, Path.join(dir, "sync-c"))
      expect(yield* fs.exists(a)).toBe(false)
      expect(isNotFound(yield* Effect.flip(fs.rename(a, b)))).toBe(true)
      expect(isNotFound(yield* Effect.flip(fs.link(a, Path.join(dir, "sync-d"))))).toBe(true)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

// The platform's own mapper (internal to @effect/platform-node-shared): loaded by path, so an upgrade that
// changes how errno codes are labelled fails here rather than drifting from FileOps' copy.
const platformMapper = async () => {
  const url = new URL("../node_modules/@effect/platform-node-shared/dist/esm/internal/error.js", import.meta.url).href
  const mod = (await import(url)) as { handleErrnoException: (module: string, method: string) => (err: NodeJS.ErrnoException, args: [string]) => SystemError }
  return mod.handleErrnoException
}

describe("FileOps' error mapping and file info agree with @effect/platform's", () => {
  it("labels every errno code as the platform does (EPERM, ENOTEMPTY, EXDEV stay Unknown; EACCES is PermissionDenied), keeping syscall and message", async () => {
    const handle = await platformMapper()
    const codes = Object.keys(OS.constants.errno)
    expect(codes).toEqual(expect.arrayContaining(["EPERM", "EACCES", "ENOTEMPTY", "EXDEV", "ENOENT", "EEXIST", "ELOOP", "EBUSY", "EISDIR", "ENOTDIR"]))
    for (const code of codes) {
      const err = Object.assign(new Error(`${code}: failed, link '/x'`), { code, syscall: "link" }) as NodeJS.ErrnoException
      const theirs = handle("FileSystem", "link")(err, ["/x"])
      const ours = systemError("link", "/x", err)
      expect({ code, reason: ours.reason, syscall: ours.syscall, description: ours.description, path: ours.pathOrDescriptor, module: ours.module })
        .toEqual({ code, reason: theirs.reason, syscall: theirs.syscall, description: theirs.description, path: theirs.pathOrDescriptor, module: theirs.module })
      expect(ours.cause).toBe(err)
    }
    expect(systemError("link", "/x", { code: "EACCES" }).reason).toBe("PermissionDenied")
    expect(systemError("link", "/x", { code: "EPERM" }).reason).toBe("Unknown")
  })

  it.effect("real failures: the platform's FileSystem and FileOps give the same reason for the same errno", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const ops = yield* FileOps
      const root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-errmap-"))
      const file = Path.join(root, "f"), folder = Path.join(root, "d"), full = Path.join(root, "full")
      NFS.writeFileSync(file, "x")
      NFS.mkdirSync(folder)
      NFS.mkdirSync(full)
      NFS.writeFileSync(Path.join(full, "inside"), "")
      const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, PlatformError>, Effect.Effect<unknown, PlatformError>]> = [
        ["ENOENT", fs.link(Path.join(root, "missing"), Path.join(root, "m2")), ops.link(Path.join(root, "missing"), Path.join(root, "m2"))],
        ["EEXIST", fs.link(file, folder), ops.link(file, folder)],
        ["EPERM", fs.link(folder, Path.join(root, "d2")), ops.link(folder, Path.join(root, "d2"))],
        ["ENOTDIR", fs.rename(Path.join(file, "x"), Path.join(root, "y")), ops.rename(Path.join(file, "x"), Path.join(root, "y"))],
        ["ENOTEMPTY", fs.rename(folder, full), ops.rename(folder, full)],
        ["EISDIR", fs.rename(file, folder), ops.rename(file, folder)]
      ]
      for (const [code, platform, mine] of cases) {
        const theirs = yield* Effect.flip(platform)
        const ours = yield* Effect.flip(mine)
        expect([code, errnoCode(theirs), errnoCode(ours)]).toEqual([code, code, code])
        expect([code, ours._tag === "SystemError" && ours.reason]).toEqual([code, theirs._tag === "SystemError" && theirs.reason])
      }
      NFS.rmSync(root, { recursive: true, force: true })
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, layerSync))))

  it.effect("fileInfo builds the platform's File.Info from the same stats (number and bigint)", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      for (const name of ["a.json", "dir.json", "fifo.json"]) {
        const path = Path.join(dir, name)
        const theirs = yield* fs.stat(path)
        expect(fileInfo(NFS.statSync(path))).toEqual(theirs)
        // Node's bigint stats build their Dates from nanoseconds, truncated: the times may differ by up to 1 ms (rounded, not truncated, in number stats).
        const times = ["mtime", "atime", "birthtime"] as const
        const big = fileInfo(NFS.statSync(path, { bigint: true }))
        const withoutTimes = (info: FileSystem.File.Info) => ({ ...info, mtime: undefined, atime: undefined, birthtime: undefined })
        expect(withoutTimes(big)).toEqual(withoutTimes(theirs))
        for (const t of times) {
          expect(Math.abs(Option.getOrThrow(big[t]).getTime() - Option.getOrThrow(theirs[t]).getTime())).toBeLessThanOrEqual(1)
        }
      }
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("layerAsync interrupted (a shutdown's timeout)", () => {
  const openFds = () => NFS.readdirSync("/proc/self/fd").length
  it.live("never leaves a descriptor open, whenever a read or a new file's write is interrupted", () =>
    Effect.gen(function*() {
      const ops = yield* FileOps
      const before = openFds()
      for (let i = 0; i < 300; i++) {
        const read = yield* Effect.fork(ops.readRegular(Path.join(dir, "big.json"), 10_000))
        const write = yield* Effect.fork(ops.writeNew(Path.join(dir, `new-${i}.tmp`), Buffer.from("x".repeat(100)), 0o600, true))
        // interrupted at a different point of each: before the open, during it, after it
        if (i % 3 > 0) yield* Effect.sleep(`${(i % 7) * 50} micros`)
        yield* Effect.all([read.interruptAsFork(read.id()), write.interruptAsFork(write.id())])
        yield* Effect.all([Effect.exit(read.await), Effect.exit(write.await)])
      }
      // (descriptors of calls still in the thread pool when interrupted are closed once they return)
      yield* Effect.sleep("200 millis")
      expect(openFds()).toBe(before)
    }).pipe(Effect.provide(layerAsync)), 30_000)
})

describe("exact identity at less cost", () => {
  it("a number stat is kept when its device and inode fit in 2^53, and taken again with bigint fields when not", () => {
    const stat = (ino: number, dev = 2049) => ({ ino, dev }) as NFS.Stats
    const exact = { ino: 2n ** 60n + 3n, dev: 2049n } as NFS.BigIntStats
    let again = 0
    const reread = () => (again++, exact)
    const small = stat(123456)
    expect(exactStat(small, reread)).toBe(small)
    expect(exactStat(stat(Number.MAX_SAFE_INTEGER), reread)).not.toBe(exact)
    expect(again).toBe(0)
    // GlusterFS: 64-bit inode numbers, which a double rounds.
    expect(exactStat(stat(2 ** 60), reread)).toBe(exact)
    expect(exactStat(stat(2 ** 53), reread)).toBe(exact)
    expect(exactStat(stat(5, 2 ** 62), reread)).toBe(exact)
    expect(again).toBe(3)
    expect(exactStat(undefined, reread)).toBeUndefined()
  })

  it.effect("layerSync's Meta is the one bigint stats give (identity, owner, size, whole-millisecond mtime)", () =>
    Effect.gen(function*() {
      const ops = yield* FileOps
      const path = Path.join(dir, "a.json")
      NFS.utimesSync(path, 1_700_000_000.1239, 1_700_000_000.1239)
      const meta = yield* ops.identify(path)
      const b = NFS.lstatSync(path, { bigint: true })
      expect(meta).toEqual({
        type: "File",
        nlink: Number(b.nlink),
        uid: Number(b.uid),
        gid: Number(b.gid),
        mode: Number(b.mode),
        size: Number(b.size),
        mtimeMs: b.mtime.getTime(),
        blocks: Number(b.blocks),
        id: `${b.dev}:${b.ino}`
      })
      expect(meta.mtimeMs).toBe(1_700_000_000_123)
    }).pipe(Effect.provide(layerSync)))
})
