/**
 * Ends the run with the plain line `N passed, N failed` (and `, N skipped`)
 * that CI reads, after the default reporter's summary. A test file that fails
 * to load counts as one failure.
 */
import type { File, Task } from "@vitest/runner"
import type { Reporter } from "vitest/reporters"

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
  onFinished(files: ReadonlyArray<File> = [], errors: ReadonlyArray<unknown> = []): void {
    const totals = { passed: 0, failed: errors.length, skipped: 0 }
    for (const file of files) count(file, totals)
    process.stdout.write(
      `${totals.passed} passed, ${totals.failed} failed${totals.skipped > 0 ? `, ${totals.skipped} skipped` : ""}\n`
    )
  }
}
