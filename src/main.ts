#!/usr/bin/env node
/** Entry point: `node dist/main.js [--once] | validate FILE... | schema`. */
import { PlatformConfigProvider } from "@effect/platform"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { ValidationError } from "@effect/cli"
import { Effect, Exit, Layer } from "effect"
import { cli, EXIT } from "./Cli.js"
import { ConsoleLoggerLive } from "./Logging.js"

const program = cli(process.argv).pipe(
  Effect.as(0),
  Effect.catchTag("ExitCode", (e) => Effect.succeed(e.code)),
  // @effect/cli has printed the problem and the help already.
  Effect.catchIf(ValidationError.isValidationError, () => Effect.succeed(EXIT.usage)),
  Effect.provide(
    Layer.mergeAll(
      // The environment wins over `.env`; a missing `.env` is fine.
      PlatformConfigProvider.layerDotEnvAdd(".env"),
      ConsoleLoggerLive
    ).pipe(Layer.provideMerge(NodeContext.layer))
  )
)

NodeRuntime.runMain(program, {
  disablePrettyLogger: true,
  disableErrorReporting: false,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) onExit(typeof exit.value === "number" ? exit.value : 0)
    else onExit(Exit.isInterrupted(exit) ? 0 : 1)
  }
})
