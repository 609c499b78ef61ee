/**
 * The Partners service over real folders, real accounts (getent) and a real
 * SIGHUP: loaded at start, refused with a reason, reloaded on a hangup.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { layerSync } from "../../src/files/adapters/NodeSync.js"
import { layerFile, layerImplicit, Partners, partnersChanged, reloadOnHangup } from "../../src/partners/Partners.js"
import { captureLogs } from "../support/logs.js"
import { waitUntil } from "../support/wait.js"

const isRoot = process.getuid?.() === 0
const roots: Array<string> = []
afterEach(() => {
  for (const root of roots.splice(0)) NFS.rmSync(root, { recursive: true, force: true })
})

/** Two partners' folders under a new temporary folder, each pair in the group `gids[i]`, 2770 and 2750. */
const layout = (gids: ReadonlyArray<number> = [1, 2]) => {
  const root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-partners-"))
  roots.push(root)
  for (const [i, id] of ["acme", "globex"].entries()) {
    for (const [folder, mode] of [["data", 0o2770], ["returns", 0o2750]] as const) {
      const dir = Path.join(root, id, folder)
      NFS.mkdirSync(dir, { recursive: true })
      if (isRoot) NFS.chownSync(dir, 0, gids[i]!)
      NFS.chmodSync(dir, mode)
    }
  }
  return root
}
const file = (root: string, body: string) => {
  NFS.writeFileSync(Path.join(root, "partners.yaml"), body)
  return Path.join(root, "partners.yaml")
}
const TWO = `partners:
  - { id: acme, inbox: acme/data, returns: acme/returns, account: daemon }
  - { id: globex, inbox: globex/data, returns: globex/returns, account: bin }
`
const platform = Layer.mergeAll(NodeContext.layer, layerSync)
const loaded = (path: string, root: string) => layerFile(path, root).pipe(Layer.provide(platform))

describe("partners", () => {
  it.scoped("loaded from the file, folders resolved against the working directory, accounts known to the system", () =>
    Effect.gen(function*() {
      const root = layout()
      const set = yield* Effect.flatMap(Partners, (p) => p.current).pipe(Effect.provide(loaded(file(root, TWO), root)))
      expect(set.implicit).toBe(false)
      expect(set.partners.map((p) => [p.id, p.inbox, p.account])).toEqual([
        ["acme", Path.join(root, "acme/data"), "daemon"],
        ["globex", Path.join(root, "globex/data"), "bin"]
      ])
    }))

  it.scoped.skipIf(!isRoot)("a layout where one partner's account reaches another's folder is refused, saying which and how to fix it", () =>
    Effect.gen(function*() {
      // globex's account (bin, primary group 2) is in the group of acme's folders.
      const root = layout([2, 2])
      const error = yield* Effect.flip(Effect.flatMap(Partners, (p) => p.current).pipe(Effect.provide(loaded(file(root, TWO), root))))
      expect(error._tag).toBe("PartnersNotSealed")
      expect(error.message).toMatch(
        /partner globex \(account bin\) can list, create and delete files in, open files by name in acme's inbox .*acme\/data \(mode 2770\): it is in the folder's group bin: give acme a group of its own \(chgrp\) or take bin out of it \(gpasswd -d bin bin\)/
      )
    }))

  it.scoped("a missing folder, an unknown account and a mistake in the file each stop the start with their reason", () =>
    Effect.gen(function*() {
      const root = layout()
      const failure = (body: string) =>
        Effect.flip(Effect.flatMap(Partners, (p) => p.current).pipe(Effect.provide(loaded(file(root, body), root))))
      expect((yield* failure(TWO.replace("globex/returns", "globex/gone"))).message).toMatch(/partner globex in .*partners\.yaml: its returns .*globex\/gone cannot be used/)
      expect((yield* failure(TWO.replace("account: bin", "account: no-such-user"))).message).toMatch(/partner globex .*: its account no-such-user is not known to this system/)
      expect((yield* failure(TWO.replace("id: globex", "id: Globex"))).message).toMatch(/partners\.yaml line 3, column 11: partners\[1\]\.id: expected a partner id/)
      expect((yield* Effect.flip(Effect.flatMap(Partners, (p) => p.current).pipe(Effect.provide(loaded(Path.join(root, "none.yaml"), root))))).message).toMatch(
        /invalid partners file .*none\.yaml: it cannot be read/
      )
    }))

  it.scoped("SIGHUP reloads the file: a good one replaces the partners (logged with what changed), a bad one leaves them as they were", () =>
    Effect.gen(function*() {
      const root = layout()
      const path = file(root, TWO)
      const logs = captureLogs()
      const partners = yield* Effect.provide(Partners, loaded(path, root))
      yield* reloadOnHangup.pipe(Effect.provideService(Partners, partners), Effect.provide(logs.layer))
      NFS.writeFileSync(path, TWO.split("\n").slice(0, 2).join("\n") + "\n")
      process.kill(process.pid, "SIGHUP")
      yield* Effect.promise(() => waitUntil(() => logs.lines.some((l) => l.message === "partners reloaded"), 5000, "the reload"))
      expect((yield* partners.current).partners.map((p) => p.id)).toEqual(["acme"])
      expect(logs.lines.find((l) => l.message === "partners reloaded")!.annotations).toMatchObject({ partners: 1, added: [], removed: ["globex"], changed: [] })

      NFS.writeFileSync(path, "partners: [\n")
      process.kill(process.pid, "SIGHUP")
      yield* Effect.promise(() => waitUntil(() => logs.lines.some((l) => l.level === "ERROR"), 5000, "the refusal"))
      expect(logs.lines.find((l) => l.level === "ERROR")!.message).toMatch(/^partners not reloaded, those of before stay: invalid partners file .*partners\.yaml line 2/)
      expect((yield* partners.current).partners.map((p) => p.id)).toEqual(["acme"])
    }))

  it.scoped("without a partners file: one implicit partner, the settings' input and returns folders", () =>
    Effect.gen(function*() {
      const set = yield* Effect.flatMap(Partners, (p) => p.current).pipe(Effect.provide(layerImplicit({ inbox: "/srv/data", returns: "/srv/returns" })))
      expect(set).toMatchObject({ implicit: true, partners: [{ id: "default", inbox: "/srv/data", returns: "/srv/returns", validated: "shared" }] })
    }))

  it("what a reload changed", () => {
    const p = (id: string, inbox = `/${id}`) => ({ id, inbox, returns: `/${id}r`, validated: "shared" as const, contract: "1" as const, account: undefined, notify: { to: [], administrators: true } })
    expect(partnersChanged({ partners: [p("a"), p("b")], implicit: false }, { partners: [p("b", "/moved"), p("c")], implicit: false })).toEqual({
      added: ["c"],
      removed: ["a"],
      changed: ["b"]
    })
  })
})
