/**
 * Runs `f` with a umask of 0, so the modes a test sees are the modes the code
 * asked for, not what the process's umask left of them; restores the umask
 * after. Tests run in forked processes (vitest.config.ts), where umask may be set.
 */
export const withUmask0 = async <A>(f: () => Promise<A>): Promise<A> => {
  const saved = process.umask(0)
  try {
    return await f()
  } finally {
    process.umask(saved)
  }
}
