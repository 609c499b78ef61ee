/**
 * Entry point of the worker thread that judges large files (see
 * OffThreadJudge): parsing 50 MB of JSON takes the better part of a second,
 * which the daemon's event loop must never be held for.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { judgeBytes } from "./JudgeBytes.js"
import type { JudgeRequest } from "./JudgeBytes.js"

WorkerRunner.layer((request: JudgeRequest) => Effect.sync(() => judgeBytes(request))).pipe(
  Layer.provide(NodeWorkerRunner.layer),
  Layer.launch,
  NodeRuntime.runMain
)
