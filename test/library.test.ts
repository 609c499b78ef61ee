/** The README's "adding a service layer" example, through the package's public surface. */
import { expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { App, Config, Daemon, MemoryFileSystem, Notifier } from "../src/index.js"
import { fixture } from "./support/fixtures.js"
import { setToday } from "./support/today.js"

it.scoped("a notifier of one's own, plugged into the daemon over the in-memory filesystem", () => {
  const seen: Array<string> = []
  const MyNotifier = Layer.succeed(Notifier.Notifier, {
    fileRejected: (event) => Effect.sync(() => void seen.push(`rejected ${event.file}: ${event.errorCount} errors`)),
    critical: (event) => Effect.sync(() => void seen.push(`CRITICAL ${event.summary}`))
  })
  const memory = MemoryFileSystem.make({ "/in/bad.json": fixture("invalid-luhn.json") })
  const app = App.DaemonServices.pipe(
    Layer.provideMerge(MyNotifier),
    Layer.provideMerge(Layer.mergeAll(Config.AppConfigFrom({ DATA_DIR: "/in", PROCESSING_DIR: "/p", VALIDATED_DIR: "/ok", RETURNS_DIR: "/ret", LOG_DIR: "/logs" }), memory.layer))
  )
  return Effect.gen(function*() {
    yield* setToday
    const summary = yield* Effect.provide(Daemon.runDaemon({ once: true }), app)
    expect(summary.returned).toBe(1)
    expect(seen).toEqual(["rejected bad.json: 1 errors"])
    expect(memory.volume.readdirSync("/ret")).toEqual(["bad.json", "bad.json.error.json"])
  })
})
