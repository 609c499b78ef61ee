/**
 * Asks /healthz every 100 ms from a process of its own (the test process may
 * be busy meanwhile), each answer due within a second. The same process also
 * asks an idle server of its own at the same moments: when that control
 * misses its second too, the machine was starved (other test files run beside
 * this one on two cores), and the daemon is not blamed for it. (The same
 * probe as hostile.test.ts's.)
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"

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

export interface ProbeResult {
  /** answers within a second, in ms */
  readonly latencies: Array<number>
  /** moments the daemon missed its second while the idle control answered */
  readonly failures: Array<string>
  /** moments neither answered: the machine's, not the daemon's */
  readonly starved: Array<string>
}

/** Starts probing `port`; `stop` ends the probe (its process is the caller's to stop, as `child`) and gives what it saw. */
export const healthProbe = (port: number, out: string) => {
  const child = ChildProcess.spawn(process.execPath, ["-e", PROBE, String(port), out], { stdio: "ignore" })
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  return {
    child,
    stop: async (): Promise<ProbeResult> => {
      child.kill("SIGTERM")
      await exited
      return JSON.parse(NFS.readFileSync(out, "utf8")) as ProbeResult
    }
  }
}
