/**
 * The health probe of the end-to-end attacks: a process of its own asking
 * /healthz every 100 ms, each answer due within a second.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"

/**
 * Asks /healthz every 100 ms from a process of its own (the test process is
 * busy checking folders meanwhile), each answer due within a second. The same
 * process also asks an idle server of its own at the same moments: when that
 * control misses its second too, the machine was starved (other test files
 * run beside this one on two cores), and the daemon is not blamed for it.
 */
const PROBE = `
const [port, out] = process.argv.slice(1)
const fs = require("node:fs")
const http = require("node:http")
const control = http.createServer((_, res) => res.end("ok")).listen(0, "127.0.0.1")
const latencies = [], failures = [], starved = []
let running = true
process.on("SIGTERM", () => { running = false })
const ask = async (url) => {
  const started = Date.now()
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) })
    await r.text()
    return Date.now() - started
  } catch (e) { return String(e) }
}
const loop = async () => {
  await new Promise((r) => control.on("listening", r))
  const controlUrl = "http://127.0.0.1:" + control.address().port + "/"
  while (running) {
    const [daemon, idle] = await Promise.all([ask("http://127.0.0.1:" + port + "/healthz"), ask(controlUrl)])
    if (typeof daemon === "number" && daemon < 1000) latencies.push(daemon)
    else if (typeof idle === "number" && idle < 1000) failures.push(new Date().toISOString() + ": " + daemon)
    else starved.push(new Date().toISOString())
    await new Promise((r) => setTimeout(r, 100))
  }
  control.close()
  fs.writeFileSync(out, JSON.stringify({ latencies, failures, starved }))
}
loop()
`
export interface HealthAnswers {
  /** answers within a second, in ms */
  readonly latencies: Array<number>
  /** moments the daemon missed its second while an idle server answered */
  readonly failures: Array<string>
  /** moments neither answered: the machine was starved */
  readonly starved: Array<string>
}

/** Starts the probe; `children` (cleanUpAfterEach's) kills it if the test ends first, on failure too. */
export const healthProbe = (port: number, out: string, children: Array<ChildProcess.ChildProcess>) => {
  const child = ChildProcess.spawn(process.execPath, ["-e", PROBE, String(port), out], { stdio: "ignore" })
  children.push(child)
  const started = Date.now()
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  return {
    /** Stops it (after it has asked for at least 3 s: enough answers to judge by) and reads its answers. */
    stop: async () => {
      const left = started + 3000 - Date.now()
      if (left > 0) await new Promise((r) => setTimeout(r, left))
      child.kill("SIGTERM")
      await exited
      return JSON.parse(NFS.readFileSync(out, "utf8")) as HealthAnswers
    }
  }
}


/** What a test requires of the answers: none missed for the daemon's sake, enough of them, few starved moments. */
export const answeredThroughout = (answered: HealthAnswers): string | undefined =>
  answered.failures.length > 0
    ? `/healthz missed its second ${answered.failures.length} times: ${answered.failures.slice(0, 5).join("; ")}`
    : answered.latencies.length <= 10
    ? `only ${answered.latencies.length} answers`
    : answered.starved.length >= answered.latencies.length / 4
    ? `the machine was starved too often (${answered.starved.length} of ${answered.latencies.length})`
    : undefined
