import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { FsExtra, FsExtraNode } from "../src/FsExtra.js"

const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-fsextra-"))
NFS.writeFileSync(Path.join(dir, "a.json"), '{"a":1}')
NFS.writeFileSync(Path.join(dir, "empty.json"), "")
NFS.writeFileSync(Path.join(dir, "big.json"), "x".repeat(2000))
NFS.symlinkSync(Path.join(dir, "a.json"), Path.join(dir, "link.json"))
NFS.mkdirSync(Path.join(dir, "dir.json"))
ChildProcess.execFileSync("mkfifo", [Path.join(dir, "fifo.json")])

const readRegular = (name: string, max = 1000) => Effect.flatMap(FsExtra, (e) => e.readRegular(Path.join(dir, name), max)).pipe(Effect.provide(FsExtraNode))

describe("FsExtraNode.readRegular", () => {
  it.effect("reads a regular file with its info", () =>
    Effect.map(readRegular("a.json"), (r) => {
      expect(r._tag).toBe("Read")
      if (r._tag === "Read") {
        expect(Buffer.from(r.bytes).toString()).toBe('{"a":1}')
        expect(Number(r.info.size)).toBe(7)
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
      yield* Effect.flatMap(FsExtra, (e) => e.unlink(Path.join(dir, "x"))).pipe(Effect.provide(FsExtraNode))
      expect(NFS.existsSync(Path.join(dir, "x"))).toBe(false)
    }))
})
