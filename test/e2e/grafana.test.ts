/**
 * deploy/grafana/customer-json-processor.json against the real thing: every
 * series its queries name is in a freshly started daemon's /metrics (before
 * any file: a panel must not say "no data" until the first failure), and
 * every query runs in a real Prometheus (Debian's package, installed when
 * missing) scraping the daemon, and returns data.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { fixture } from "../support/fixtures.js"
import { freePort } from "../support/smtp.js"
import { daemonPerTest, drop } from "./support.js"
import { list } from "../support/folders.js"
import { waitUntil } from "../support/wait.js"

const DASHBOARD_PATH = new URL("../../deploy/grafana/customer-json-processor.json", import.meta.url)

interface Target {
  readonly expr: string
  readonly refId: string
  readonly instant?: boolean
}
interface Panel {
  readonly id: number
  readonly type: string
  readonly title: string
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number }
  readonly datasource?: { readonly type: string; readonly uid: string }
  readonly targets?: ReadonlyArray<Target & { readonly datasource: { readonly uid: string } }>
}
interface Dashboard {
  readonly __inputs: ReadonlyArray<{ readonly name: string; readonly type: string; readonly pluginId: string }>
  readonly uid: string
  readonly title: string
  readonly panels: ReadonlyArray<Panel>
  readonly templating: { readonly list: ReadonlyArray<{ readonly name: string; readonly definition: string }> }
}

const dashboard = JSON.parse(NFS.readFileSync(DASHBOARD_PATH, "utf8")) as Dashboard
const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })))

/** PromQL's words the dashboard uses, and the labels it selects or groups by. */
const PROMQL_WORDS = new Set(["sum", "count", "max", "by", "rate", "increase", "histogram_quantile", "time", "label_values"])
const LABELS = new Set(["job", "instance", "outcome", "le", "exported_instance", "version"])

/** The metric names in an expression: every word that is not PromQL's, a label, a number, a quoted value or a Grafana variable. */
export const metricNames = (expr: string): Array<string> =>
  [...expr.replace(/"[^"]*"/g, '""').replace(/\$\w+/g, "").matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w) && !LABELS.has(w))

/** The series names in a Prometheus text exposition. */
const exposedNames = (text: string) =>
  new Set(text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(l)![0]))

const { root, startDaemon } = daemonPerTest()

describe("the Grafana dashboard", () => {
  it("is an importable dashboard over a Prometheus data source chosen at import", () => {
    expect(dashboard.uid).toBe("customer-json-processor")
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" })])
    const ids = dashboard.panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24)
      if (p.type === "row") continue
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" })
      expect(p.targets?.length, p.title).toBeGreaterThan(0)
      for (const t of p.targets!) expect(t.datasource.uid).toBe("${DS_PROMETHEUS}")
    }
    // what the issue asks for, each in some panel
    const exprs = targets.map((t) => t.expr).join("\n")
    for (const needed of ["cjp_files_processed_total", "cjp_files_failed_total", "cjp_files_failing", "cjp_file_processing_seconds_bucket", "cjp_files_waiting", "cjp_oldest_waiting_file_age_seconds", "cjp_notifications_sent_total", "cjp_notifications_failed_total", "cjp_instance_info"]) {
      expect(exprs).toContain(needed)
    }
    expect(exprs).toMatch(/histogram_quantile\(0\.99,/)
    // files, not attempts: failed files are their own counter, no longer an outcome of the processed ones
    expect(exprs).not.toContain('outcome="failed"')
  })

  it("queries only series a freshly started daemon exposes", async () => {
    const { daemon, port } = await startDaemon()
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const exposed = exposedNames(text)
    const used = new Set([...targets.map((t) => t.expr), ...dashboard.templating.list.map((v) => v.definition)].flatMap(metricNames))
    expect(used.size).toBeGreaterThanOrEqual(10)
    expect([...used].filter((name) => !exposed.has(name))).toEqual([])
    // and the extraction is not vacuous: a name the daemon does not expose is caught
    expect(metricNames('sum(rate(cjp_files_processed{job=~"$job"}[$__rate_interval]))').filter((n) => !exposed.has(n))).toEqual(["cjp_files_processed"])
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  })

  it("runs every query in a real Prometheus scraping the daemon, with data", async () => {
    if (!NFS.existsSync("/usr/bin/prometheus")) {
      const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
      ChildProcess.execFileSync("apt-get", ["update"], { stdio: "ignore", env, timeout: 600_000 })
      ChildProcess.execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "prometheus"], { stdio: "ignore", env, timeout: 900_000 })
    }
    const { port } = await startDaemon()
    const promPort = await freePort()
    const promDir = Path.join(root(), "prometheus")
    NFS.mkdirSync(promDir)
    NFS.writeFileSync(
      Path.join(promDir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: customer-json-processor",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${port}"]`,
        ""
      ].join("\n")
    )
    const prometheus = ChildProcess.spawn("/usr/bin/prometheus", [
      `--config.file=${Path.join(promDir, "prometheus.yml")}`,
      `--storage.tsdb.path=${Path.join(promDir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`
    ], { stdio: ["ignore", "ignore", "pipe"] })
    let promLog = ""
    prometheus.stderr.on("data", (c: Buffer) => void (promLog += c.toString("utf8")))
    const promExited = new Promise<void>((resolve) => prometheus.on("exit", () => resolve()))
    try {
      const api = async (path: string) => {
        const r = await fetch(`http://127.0.0.1:${promPort}${path}`)
        return (await r.json()) as { status: string; error?: string; data: unknown }
      }
      const query = async (expr: string) =>
        (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)) as { status: string; error?: string; data: { result: ReadonlyArray<{ metric: Record<string, string>; value: [number, string] }> } }

      const waitFor = async (what: string, predicate: () => Promise<boolean>) => {
        const deadline = Date.now() + 45_000
        while (!(await predicate().catch(() => false))) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; Prometheus's log:\n${promLog.slice(-3000)}`)
          await new Promise((r) => setTimeout(r, 250))
        }
      }
      const validatedSeen = async (n: number, samples: number) => {
        const r = await query(`count_over_time(cjp_files_processed_total{outcome="validated"}[1m]) >= ${samples}`)
        return r.data.result.length === 1 && (await query('cjp_files_processed_total{outcome="validated"}')).data.result[0]?.value[1] === String(n)
      }
      // Scraped at 0 before the first file (the series exist from the start), so that increase() sees the files.
      await waitFor("scrapes before any file", () => validatedSeen(0, 2))
      for (let i = 0; i < 4; i++) drop(root(), `good-${i}.json`, fixture("valid-batch.json"))
      drop(root(), "bad.json", fixture("invalid-luhn.json"))
      await waitUntil(() => list(Path.join(root(), "validated")).length === 4 && list(Path.join(root(), "returns")).length === 2)
      await waitFor("scrapes after the files", async () => (await validatedSeen(4, 3)) && (await query('cjp_files_processed_total{outcome="validated"} offset 2s')).data.result[0]?.value[1] === "4")

      // Grafana's variables as they are with "All" selected and a short range
      const grafana = (expr: string) =>
        expr.replaceAll("$__rate_interval", "30s").replaceAll("$__range", "5m").replaceAll("$job", ".*").replaceAll("$instance", ".*")
      for (const t of targets) {
        const r = await query(grafana(t.expr))
        expect(r.status, `${t.panel} ${t.refId}: ${t.expr}: ${r.error}`).toBe("success")
        expect(r.data.result.length, `${t.panel} ${t.refId}: ${t.expr} returned no data`).toBeGreaterThan(0)
      }
      const value = async (expr: string) => Number((await query(grafana(expr))).data.result[0]!.value[1])
      const byTitle = (title: string) => targets.find((t) => t.panel === title)!.expr
      expect(await value(byTitle("Instances up"))).toBe(1)
      expect(Math.round(await value(byTitle("Validated")))).toBeGreaterThanOrEqual(4)
      expect(await value(byTitle("Failed / failing now"))).toBe(0)
      expect(await value(byTitle("Since last file"))).toBeLessThan(120)

      // the variables' queries: the job and the scrape target
      const jobs = (await api("/api/v1/label/job/values?match[]=cjp_instance_info")) as { data: ReadonlyArray<string> }
      expect(jobs.data).toEqual(["customer-json-processor"])
      const instances = (await api(`/api/v1/label/instance/values?match[]=${encodeURIComponent('cjp_instance_info{job=~".*"}')}`)) as { data: ReadonlyArray<string> }
      expect(instances.data).toEqual([`127.0.0.1:${port}`])
      // the daemon's own instance label comes out renamed, as the Instances table expects
      const info = await query("cjp_instance_info")
      expect(info.data.result[0]!.metric["exported_instance"]).toMatch(/-\d+-[0-9a-f]{6}$/)
    } finally {
      prometheus.kill("SIGTERM")
      await promExited
    }
  }, 180_000)
})
