/**
 * Ends the run with the plain line `N passed, N failed` (and `, N skipped`)
 * that CI reads, after the default reporter's summary. A test file that fails
 * to load counts as one failure, and so does each process or mount the run
 * left behind (found, named and stopped here: see leftovers.ts).
 */
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import type { File, Task } from "@vitest/runner"
import type { Reporter } from "vitest/reporters"
import { describeLeftovers, runScopeOf, settleLeftovers } from "./leftovers.js"

const CHECKOUT = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..")

const count = (task: Task, totals: { passed: number; failed: number; skipped: number }) => {
  if (task.type === "test") {
    const state = task.result?.state
    if (state === "pass") totals.passed++
    else if (state === "fail") totals.failed++
    else totals.skipped++
    return
  }
  if (task.tasks.length === 0 && task.result?.state === "fail") totals.failed++
  for (const child of task.tasks) count(child, totals)
}

export default class SummaryReporter implements Reporter {
  async onFinished(files: ReadonlyArray<File> = [], errors: ReadonlyArray<unknown> = []): Promise<void> {
    const totals = { passed: 0, failed: errors.length, skipped: 0 }
    for (const file of files) count(file, totals)
    // Every test has ended: anything of the run's still running or mounted was left behind.
    const scope = runScopeOf(process.env, CHECKOUT)
    const left = scope === undefined ? [] : describeLeftovers(await settleLeftovers(scope))
    if (left.length > 0) {
      process.stdout.write(`\nThe run left ${left.length} thing(s) behind (now stopped), each a failure:\n${left.map((l) => `  ${l}\n`).join("")}`)
      totals.failed += left.length
      process.exitCode = 1
    }
    process.stdout.write(
      `${totals.passed} passed, ${totals.failed} failed${totals.skipped > 0 ? `, ${totals.skipped} skipped` : ""}\n`
    )
  }
}
