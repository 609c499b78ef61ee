import { onTestFinished } from "vitest"
import { NodeFileSystem } from "@effect/platform-node"
import type { Duration } from "effect"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import * as Config from "../../src/Config.js"
import { AppConfig } from "../../src/Config.js"
import type { RawSettings } from "../../src/Config.js"
import type { Delivery } from "../../src/notify/Delivery.js"
import * as Activity from "../../src/status/Activity.js"
import * as Masker from "../../src/masking/Masker.js"
import { captureLogs } from "../support/logs.js"
import type { CriticalEvent, RejectedFile } from "../../src/notify/Notifier.js"
import { Notifier } from "../../src/notify/Notifier.js"
import * as BatchingNotifier from "../../src/notify/adapters/BatchingNotifier.js"
import * as Outbox from "../../src/notify/adapters/Outbox.js"

export const rejected = (file: string, errors = 1): RejectedFile => ({
  file,
  storedAs: file,
  receivedAt: new Date("2026-11-28T09:30:00.120Z"),
  processedAt: new Date("2026-11-28T09:30:00.135Z"),
  errorCount: errors,
  errors: Array.from({ length: Math.min(errors, 20) }, (_, i) => ({ record: i, path: `$[${i}].email`, rule: "email-format", message: "must be an email address" }))
})

export const critical = (summary: string, detail = "details"): CriticalEvent => ({ summary, detail, at: new Date("2026-11-28T10:00:00Z") })

/**
 * The live Notifier over a given Delivery layer, with the outbox in a
 * temporary folder, fast retries, and the log captured.
 */
export const notifierRuntime = (
  delivery: Layer.Layer<Delivery, never, AppConfig | Outbox.Outbox>,
  settings: RawSettings = {},
  options: { password?: string; retryBase?: Duration.DurationInput; retryFor?: Duration.DurationInput } = {}
) => {
  const root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-notify-"))
  // (removed when the test that made it ends)
  onTestFinished(() => NFS.rmSync(root, { recursive: true, force: true }))
  const { lines: logs, layer: logger } = captureLogs()
  const config = Config.layerFixed(
    {
      LOG_DIR: Path.join(root, "logs"),
      EMAIL_SENDER: "processor@example.com",
      EMAIL_RECEIVER: "ops@example.com, admin@example.com",
      EMAIL_BATCH_WINDOW_MS: "150",
      SHUTDOWN_TIMEOUT_MS: "3000",
      ...settings
    },
    options.password === undefined ? undefined : Redacted.make(options.password)
  ).pipe(Layer.orDie)
  const layer = BatchingNotifier.layer({ retryBase: options.retryBase ?? "100 millis", retryFor: options.retryFor ?? "20 seconds" }).pipe(
    Layer.provide(delivery),
    Layer.provideMerge(Outbox.layer),
    Layer.provideMerge(Layer.mergeAll(Masker.layer, Activity.layer, config, NodeFileSystem.layer)),
    Layer.provideMerge(logger)
  )
  const runtime = ManagedRuntime.make(layer)
  const run = <A>(f: (notifier: Notifier["Type"]) => Effect.Effect<A>) => runtime.runPromise(Effect.flatMap(Notifier, f))
  const outboxFiles = () => {
    const dir = Path.join(root, "logs", "outbox")
    return NFS.existsSync(dir) ? NFS.readdirSync(dir).filter((n) => n.endsWith(".eml")).map((n) => Path.join(dir, n)) : []
  }
  return { root, logs, runtime, run, outboxFiles, dispose: () => runtime.dispose() }
}
