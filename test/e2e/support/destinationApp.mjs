// An application that embeds the built daemon with a destination of its own
// (test/e2e/destination.test.ts): each validated file's document is written to
// copies/<key>.json (whole, under a temporary name first, then renamed: kept
// by key, so a second delivery of one file replaces its copy with the same
// one), and every delivery is noted in deliveries.log. `--once` as the CLI's.
import * as NFS from "node:fs"
import * as Path from "node:path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import { App, Config, Daemon, Destination } from "../../../dist/index.js"

const root = process.cwd()
const copies = Path.join(root, "copies")
NFS.mkdirSync(copies, { recursive: true })

const Copies = Layer.succeed(Destination.Destination, {
  role: "copies",
  receives: ["validated"],
  store: (file) =>
    Effect.try({
      try: () => {
        NFS.appendFileSync(Path.join(root, "deliveries.log"), `${file.key}\n`)
        const temporary = Path.join(copies, `.${file.key}.tmp`)
        NFS.writeFileSync(temporary, JSON.stringify({ name: file.name, document: file.document }))
        NFS.renameSync(temporary, Path.join(copies, `${file.key}.json`))
      },
      catch: (error) => new Destination.DestinationError({ role: "copies", reason: String(error) })
    })
})

Daemon.runDaemon({ once: process.argv.includes("--once") }).pipe(
  Effect.provide(App.layerWith({ destinations: [Copies] }).pipe(Layer.provideMerge(Config.layer))),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
