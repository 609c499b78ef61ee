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

/**
 * `promise`, or a failure naming `what` once `ms` pass first: a generous upper
 * bound that says what took too long instead of leaving a test to time out.
 */
export const within = async <A>(ms: number, what: string, promise: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}
