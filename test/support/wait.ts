/** Polling for a condition, with a deadline: the one way tests wait for something to happen. */

/**
 * Resolves once `predicate` holds, looking every `everyMs` (25 ms; more where
 * each look lists folders over a network filesystem); fails naming `what`
 * after `ms`.
 */
export const waitUntil = async (predicate: () => boolean, ms = 30_000, what = "condition", everyMs = 25) => {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
