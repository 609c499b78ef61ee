/**
 * Every destination of the daemon, as the Pipeline uses them: for each
 * verdict, the built-in folder that stores it and the destinations of one's
 * own that receive it too (called first, in the order given). Built once, at
 * start: a file's route is two lookups.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { AppConfig } from "../Config.js"
import type { FileStore } from "../files/FileStore.js"
import type { Masker } from "../masking/Masker.js"
import { Destination, storageFolders } from "./Destination.js"
import type { DestinationService, StoringDestination, Verdict } from "./Destination.js"
import { makeFolderDestination } from "./adapters/FolderDestination.js"

/** The destinations by verdict. */
export interface DestinationsService {
  /** the built-in folder that stores files of each verdict: its name for a file is the file's `storedAs` */
  readonly storing: { readonly [V in Verdict]: StoringDestination }
  /** the destinations of one's own that receive files of each verdict, called before the storing one */
  readonly added: { readonly [V in Verdict]: ReadonlyArray<DestinationService> }
  /** every role, the built-in ones first (for logs and status) */
  readonly roles: ReadonlyArray<string>
}

/**
 * Two destinations with one role: a mistake of the application's composition
 * (the roles name destinations in logs, metrics and the status page, and a
 * file's `delivered_to`). It stops the start, like bad settings (exit 78).
 */
export class DuplicateDestinationRole extends Data.TaggedError("DuplicateDestinationRole")<{
  /** the role given twice */
  readonly role: string
  /** the built-in folders' roles */
  readonly builtIn: ReadonlyArray<string>
  /** the added destinations' roles, in the order given */
  readonly added: ReadonlyArray<string>
}> {
  override get message(): string {
    return `two destinations have the role "${this.role}" (added: ${this.added.join(", ")}): ` +
      (this.builtIn.includes(this.role)
        ? `"${this.role}" is the built-in ${this.role} folder's role (the built-in ones: ${this.builtIn.join(", ")}); give the destination of your own (App.Swaps' destinations) another role`
        : "give each destination of your own (App.Swaps' destinations) a role of its own")
  }
}

/**
 * Every destination, by verdict: what the Pipeline routes a judged file
 * through. Built with the Pipeline by `App.layerDaemonWith(added)` (the
 * built-in folders and the `added` ones): add a destination with `App.Swaps`'
 * `destinations`. Read it to see them; a layer of it provided over the
 * application changes nothing (the Pipeline is built over the one built there).
 */
export class Destinations extends Context.Tag("customer-json/Destinations")<Destinations, DestinationsService>() {}

/**
 * The built-in folders and, after them, the `added` destinations (each a
 * layer of `Destination`, built in this layer's scope). A role given twice is
 * a mistake of the composition: it stops the start (`DuplicateDestinationRole`).
 */
export const layer = <R = never>(
  added: ReadonlyArray<Layer.Layer<Destination, never, R>> = []
): Layer.Layer<Destinations, DuplicateDestinationRole, AppConfig | FileStore | Masker | R> =>
  Layer.scoped(
    Destinations,
    Effect.gen(function*() {
      // One per storage folder of the folder list, by the verdict it receives.
      const folders = yield* Effect.forEach(storageFolders(yield* AppConfig), (folder) => makeFolderDestination(folder.role))
      const storingFor = (verdict: Verdict) => folders.find((d) => d.receives.includes(verdict))!
      const validated = storingFor("validated")
      const returned = storingFor("returned")
      const own = yield* Effect.forEach(added, (one) => Effect.map(Layer.build(one), Context.get(Destination)))
      const roles = [...folders.map((d) => d.role), ...own.map((d) => d.role)]
      const twice = roles.find((role, i) => roles.indexOf(role) !== i)
      if (twice !== undefined) {
        return yield* new DuplicateDestinationRole({ role: twice, builtIn: folders.map((d) => d.role), added: own.map((d) => d.role) })
      }
      return Destinations.of({
        storing: { validated, returned },
        added: {
          validated: own.filter((d) => d.receives.includes("validated")),
          returned: own.filter((d) => d.receives.includes("returned"))
        },
        roles
      })
    })
  )

/** The built-in folders only: `layer()`. */
export const layerBuiltIn = layer()
