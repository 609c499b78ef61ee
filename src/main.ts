#!/usr/bin/env node
/** Entry point: `node dist/main.js [--once] | validate FILE... | schema`. */
import * as PlatformConfigProvider from "@effect/platform/PlatformConfigProvider"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { cli, EXIT } from "./Cli.js"
import * as Logging from "./logging/Logging.js"
import * as NameWatch from "./files/NameWatch.js"
import { withSlices } from "./runtime/SliceScheduler.js"

const program = cli(process.argv).pipe(
  Effect.as(0),
  Effect.catchTag("ExitCode", (e) => Effect.succeed(e.code)),
  // @effect/cli has printed the problem and the help already.
  Effect.catchIf(ValidationError.isValidationError, () => Effect.succeed(EXIT.usage)),
  Effect.provide(
    Layer.mergeAll(
      // The environment wins over `.env`; a missing `.env` is fine.
      PlatformConfigProvider.layerDotEnvAdd(".env"),
      Logging.layerConsole
    ).pipe(Layer.provideMerge(NodeContext.layer.pipe(Layer.provide(NameWatch.layer))))
  ),
  // Every fiber of the process, the layers' included, gives the event loop its turn (SliceScheduler).
  withSlices
)

NodeRuntime.runMain(program, {
  disablePrettyLogger: true,
  disableErrorReporting: false,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) onExit(typeof exit.value === "number" ? exit.value : 0)
    else onExit(Exit.isInterrupted(exit) ? 0 : 1)
  }
})
