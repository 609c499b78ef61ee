/**
 * The partners file as the daemon's routes (partners/Routing over files/PartnerRoutes): the inboxes follow each reload of the partners, and a
 * partner a reload removed stays resolvable, so that its files already listed
 * or claimed finish in its folders (nothing in flight is dropped).
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Stream, SubscriptionRef } from "effect"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import * as Config from "../../src/Config.js"
import { layerSync } from "../../src/files/adapters/NodeSync.js"
import { Partners } from "../../src/partners/Partners.js"
import type { PartnerSet } from "../../src/partners/Partners.js"
import type { Partner } from "../../src/partners/PartnersFile.js"
import { PartnerRoutes } from "../../src/files/PartnerRoutes.js"
import * as Routing from "../../src/partners/Routing.js"

const partner = (id: string, validated: "shared" | "own" = "shared"): Partner => ({
  id,
  inbox: `/srv/${id}/in`,
  returns: `/srv/${id}/returns`,
  validated,
  contract: "1",
  account: undefined,
  notify: { to: [], administrators: true }
})

describe("PartnerRoutes", () => {
  it.scoped("follows reloads, keeps removed partners resolvable, and makes validated/<partner>/ for `validated: own`", () =>
    Effect.gen(function*() {
      const root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-routes-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => NFS.rmSync(root, { recursive: true, force: true })))
      const validatedDir = Path.join(root, "validated")
      const ref = yield* SubscriptionRef.make<PartnerSet>({ partners: [partner("acme")], implicit: false })
      const partners = Layer.succeed(Partners, { current: SubscriptionRef.get(ref), changes: ref.changes, reload: SubscriptionRef.get(ref) })
      // Built in the test's scope: the routes follow the reloads for as long as it lasts.
      const context = yield* Layer.build(
        Routing.layer.pipe(Layer.provide(Layer.mergeAll(partners, layerSync, Config.layerFixed({ VALIDATED_DIR: validatedDir }))))
      )
      const routes = Context.get(context, PartnerRoutes)
      expect(routes.inboxes()).toEqual([{ partner: "acme", dir: "/srv/acme/in" }])

      yield* SubscriptionRef.set(ref, { partners: [partner("globex", "own")], implicit: false })
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
      expect(routes.inboxes()).toEqual([{ partner: "globex", dir: "/srv/globex/in" }])
      // acme is no longer listed, but its files in flight still find its folders.
      expect(routes.partner("acme")?.returns).toBe("/srv/acme/returns")
      expect(routes.partner("nobody")).toBeUndefined()
      expect(routes.validatedDir(routes.partner("globex")!)).toBe(Path.join(validatedDir, "globex"))
      expect(routes.validatedDir(routes.partner("acme")!)).toBe(validatedDir)
      expect(NFS.statSync(Path.join(validatedDir, "globex")).isDirectory()).toBe(true)
    }))

  it("says no partners (DATA_DIR and RETURNS_DIR) when nothing provides it", () =>
    Effect.gen(function*() {
      const routes = yield* PartnerRoutes
      expect(routes.inboxes()).toBeUndefined()
      expect(yield* Stream.runCollect(routes.changes)).toHaveLength(0)
    }).pipe(Effect.runPromise))
})
