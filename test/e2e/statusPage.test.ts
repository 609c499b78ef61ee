/// <reference lib="dom" />
/**
 * The live status page in a real browser: headless Chromium (Debian's
 * package, installed when missing) loads `/` from the built daemon; files are
 * dropped, a second instance starts and stops, a folder becomes unusable and
 * usable again, and the page follows it all through `status.json`. Screenshots
 * (desktop, light; phone, dark) are written to `$TMPDIR/cjp-status-page/`.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import type { Browser, Page } from "puppeteer-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fixture } from "../support/fixtures.js"
import { ensureChromium, launchChromium } from "../support/chromium.js"
import { appLogLines, daemonPerTest, drop, spawnDaemon } from "./support.js"
import { list } from "../support/folders.js"
import { waitUntil, within } from "../support/wait.js"

const CARD = "4111111111111111"
export const SHOTS = Path.join(OS.tmpdir(), "cjp-status-page")
/** An application embedding the built package with a destination of its own, `copies` (see test/e2e/destination.test.ts). */
const DESTINATION_APP = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "support", "destinationApp.mjs")

let browser: Browser
let profile: string
beforeAll(async () => {
  ensureChromium()
  profile = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-chromium-"))
  browser = await launchChromium(profile)
}, 1_200_000)
afterAll(async () => {
  await browser?.close()
  if (profile !== undefined) NFS.rmSync(profile, { recursive: true, force: true })
})

const { root, daemons, startDaemon } = daemonPerTest()

const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent ?? "")
/** Waits until the page's state (read in the browser) satisfies `predicate`; says what it saw last on timeout. */
const until = async <A>(page: Page, read: (page: Page) => Promise<A>, predicate: (a: A) => boolean, what: string, ms = 20_000): Promise<A> => {
  const deadline = Date.now() + ms
  let last = await read(page)
  while (!predicate(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 100))
    last = await read(page)
  }
  return last
}

const cards = (page: Page) =>
  page.evaluate(() => {
    const t = (id: string) => document.getElementById(id)?.textContent ?? ""
    return { validated: t("c-validated"), returned: t("c-returned"), failed: t("c-failed"), hourValidated: t("h-validated"), waiting: t("q-waiting") }
  })
const outcomeRows = (page: Page) =>
  page.$$eval("#outcomes tr", (rows) => rows.map((r) => Array.from(r.querySelectorAll("td"), (td) => td.textContent ?? "")))
const chart = (page: Page) =>
  page.evaluate(() => {
    const svg = document.querySelector("#chart svg")
    return {
      total: svg?.getAttribute("data-total") ?? null,
      validatedBars: document.querySelectorAll("#chart rect.bar.validated").length,
      returnedBars: document.querySelectorAll("#chart rect.bar.returned").length,
      // the current minute's (or the previous minute's, across a minute boundary) stacked height
      heights: Array.from(document.querySelectorAll("#chart rect.bar"), (r) => Number(r.getAttribute("height")))
    }
  })
const badge = (page: Page) =>
  page.evaluate(() => ({
    phase: document.getElementById("phase")?.textContent ?? "",
    phaseClass: document.getElementById("phase")?.className ?? "",
    dot: document.getElementById("dot")?.className ?? "",
    title: document.title
  }))
/**
 * How the browser laid out each `selector` element's own text (not the lines
 * under it: a reason, a note): its text, and for each line break the text on
 * either side of it, as `before|after` (from each character's rectangle).
 */
const lineBreaks = (page: Page, selector: string) =>
  page.$$eval(selector, (elements) =>
    elements.map((element) => {
      const chars: Array<{ readonly ch: string; readonly top: number | undefined }> = []
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT)
      for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
        const parent = node.parentElement
        if (parent === null || parent.classList.contains("why") || parent.classList.contains("note")) continue
        const text = node.textContent ?? ""
        for (let i = 0; i < text.length; i++) {
          const range = document.createRange()
          range.setStart(node, i)
          range.setEnd(node, i + 1)
          const rect = range.getClientRects()[0]
          chars.push({ ch: text[i]!, top: rect === undefined || rect.width === 0 ? undefined : Math.round(rect.top) })
        }
      }
      const text = chars.map((c) => c.ch).join("")
      const breaks: Array<string> = []
      let lastTop: number | undefined
      for (let i = 0; i < chars.length; i++) {
        const top = chars[i]!.top
        if (top === undefined) continue
        if (lastTop !== undefined && top > lastTop + 2) breaks.push(`${text.slice(0, i)}|${text.slice(i)}`)
        lastTop = top
      }
      return { text, breaks }
    }))
/** The destinations table: each row's role (without its note), its note, and its files. */
const destinationRows = (page: Page) =>
  page.$$eval("#destinations tr", (rows) =>
    rows.map((r) => {
      const [role, files] = Array.from(r.querySelectorAll("td"))
      const own = Array.from(role?.childNodes ?? []).filter((n) => !(n instanceof HTMLElement && n.classList.contains("note")))
      return [own.map((n) => n.textContent ?? "").join(""), role?.querySelector(".note")?.textContent ?? "", files?.textContent ?? ""]
    }))
const instanceRows = (page: Page) =>
  page.$$eval("#instances tr", (rows) => rows.map((r) => Array.from(r.querySelectorAll("td"), (td) => td.textContent ?? "")))

describe("the status page in a real browser", () => {
  it("shows the counts, the outcome table, the chart, the instances, critical events and notifications as they change", async () => {
    const { daemon, base } = await startDaemon({
      HEARTBEAT_MS: "500",
      RESCAN_INTERVAL_MS: "500",
      HEALTH_CHECK_INTERVAL_MS: "500",
      EMAIL_BATCH_WINDOW_MS: "200"
    })

    const page = await browser.newPage()
    const problems: Array<string> = []
    page.on("pageerror", (e) => problems.push(`page error: ${String(e)}`))
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warn") problems.push(`console ${m.type()}: ${m.text()}`)
    })
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`))
    const requests: Array<string> = []
    page.on("request", (r) => requests.push(r.url()))
    await page.setViewport({ width: 1280, height: 900 })
    const response = await page.goto(`${base}/`, { waitUntil: "load" })
    expect(response?.status()).toBe(200)

    // Loaded and rendered from status.json: idle, nothing yet.
    await until(page, (p) => text(p, "#phase"), (t) => t === "watching", "the phase")
    expect(await cards(page)).toMatchObject({ validated: "0", returned: "0", failed: "0", waiting: "0" })
    expect(await outcomeRows(page)).toEqual([])
    expect(await chart(page)).toMatchObject({ total: "0", validatedBars: 0 })
    expect(await text(page, "#instance")).toMatch(/^[\w.-]+-\d+-[0-9a-f]{6}$/)

    // Files arrive: the counts, the table and the chart follow.
    for (let i = 1; i <= 3; i++) drop(root(), `good-${i}.json`, fixture("valid-batch.json"))
    drop(root(), `order ${CARD}.json`, fixture("invalid-luhn.json"))
    drop(root(), "mixed.json", fixture("invalid-mixed-batch.json"))
    await waitUntil(() => list(Path.join(root(), "validated")).length === 3 && list(Path.join(root(), "returns")).length === 4)
    await until(page, cards, (c) => c.validated === "3" && c.returned === "2", "the counts")
    expect(await cards(page)).toMatchObject({ failed: "0", hourValidated: "3", waiting: "0" })
    // Each destination with its files: here the two folders.
    await until(page, destinationRows, (r) => r.length === 2 && r[0]![2] === "3", "the destinations")
    expect(await destinationRows(page)).toEqual([["validated", "folder", "3"], ["returns", "folder", "2"]])
    const rows = await until(page, outcomeRows, (r) => r.length === 5, "five outcome rows")
    expect(rows.map((r) => r[2]).sort()).toEqual(["returned", "returned", "validated", "validated", "validated"])
    const card = rows.find((r) => r[1]!.startsWith("order "))!
    expect(card[1]).toBe("order ************1111.json") // masked like the logs
    expect(card[3]).toBe("1") // error count
    // The stored name as it is (contract §5: its card number masked with X, so the file can be found by it)
    expect(card[4]).toMatch(/^order X{12}1111(-\d{8}T\d{9}Z)?\.json$/)
    expect(list(Path.join(root(), "returns"))).toContain(card[4])
    expect(rows.find((r) => r[1] === "mixed.json")![3]).not.toBe("0")
    const drawn = await until(page, chart, (c) => c.total === "5", "the chart")
    expect(drawn.validatedBars).toBeGreaterThanOrEqual(1)
    expect(drawn.returnedBars).toBeGreaterThanOrEqual(1)
    expect(drawn.heights.every((h) => h > 0)).toBe(true)
    expect(await page.evaluate(() => document.body.innerText)).not.toContain(CARD)

    // The rejected files' notification goes out (to the outbox, as configured by default).
    await until(page, (p) => p.$$eval("#notifications li", (li) => li.map((l) => l.textContent ?? "")), (n) => n.some((t) => t.startsWith("sent")), "a sent notification")

    // A second instance on the same processing folder appears, then leaves.
    NFS.mkdirSync(Path.join(root(), "data-2"))
    const second = spawnDaemon(root(), [], { HEARTBEAT_MS: "500", DATA_DIR: "data-2", LOG_DIR: "logs-2" })
    daemons.push(second)
    await second.waitFor(/customer-json-processor started/)
    const two = await until(page, instanceRows, (r) => r.length === 2 && r.some((c) => c[3] === "alive"), "two instances")
    expect(two[0]![3]).toBe("this instance")
    await page.setViewport({ width: 1280, height: 900 })
    NFS.mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: Path.join(SHOTS, "desktop-light.png"), fullPage: true })
    second.child.kill("SIGTERM")
    expect(await second.exited).toBe(0)
    await until(page, instanceRows, (r) => r.length === 1, "the second instance gone")

    // A folder that becomes unusable: the health problem, the critical event and its notification.
    const validated = Path.join(root(), "validated")
    NFS.renameSync(validated, `${validated}.away`)
    NFS.writeFileSync(validated, "not a folder")
    await until(page, (p) => text(p, "#phase"), (t) => t === "failing", "the failing phase", 30_000)
    expect(await page.$eval("#problem", (e) => (e as HTMLElement).hidden)).toBe(false)
    expect(await text(page, "#problem")).toContain("validated")
    const critical = await until(page, (p) => p.$$eval("#criticals li", (li) => li.map((l) => l.textContent ?? "")), (c) => c.length >= 1, "a critical event")
    expect(critical[0]).toContain("folder not usable")
    // the health check fails at every listing (500 ms here): one entry that counts its repeats
    const repeated = await until(page, (p) => p.$$eval("#criticals li", (li) => li.map((l) => l.textContent ?? "")), (c) => / times since /.test(c[0] ?? ""), "repeats counted")
    expect(repeated).toHaveLength(1)
    await until(
      page,
      (p) => p.$$eval("#notifications li", (li) => li.map((l) => l.textContent ?? "")),
      (n) => n.some((t) => t.includes("CRITICAL") && t.startsWith("sent")),
      "the critical notification sent"
    )
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }])
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
    await new Promise((r) => setTimeout(r, 3500)) // a refresh at the new width
    await page.screenshot({ path: Path.join(SHOTS, "phone-dark.png"), fullPage: true })
    // On a phone the page is not wider than the screen (tables scroll inside their panels).
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    NFS.rmSync(validated)
    NFS.renameSync(`${validated}.away`, validated)
    await until(page, (p) => text(p, "#phase"), (t) => t === "watching", "watching again", 30_000)

    // The page is self-contained: it asked this daemon only for itself and status.json.
    expect(new Set(requests.map((u) => new URL(u).pathname))).toEqual(new Set(["/", "/status.json"]))
    expect(requests.every((u) => u.startsWith(`${base}/`))).toBe(true)
    expect(problems).toEqual([])

    // The CSP is enforced: a script injected into the page does not run.
    await page.evaluate(() => {
      const s = document.createElement("script")
      s.textContent = "document.body.dataset.injected = 'yes'"
      document.body.appendChild(s)
    })
    expect(await page.evaluate(() => document.body.dataset["injected"] ?? "no")).toBe("no")
    expect(problems.some((p) => p.includes("Content Security Policy"))).toBe(true)
    await page.close()

    expect(NFS.statSync(Path.join(SHOTS, "desktop-light.png")).size).toBeGreaterThan(10_000)
    expect(NFS.statSync(Path.join(SHOTS, "phone-dark.png")).size).toBeGreaterThan(10_000)
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  }, 180_000)

  it("says so when the daemon goes away, and recovers when it is back", async () => {
    const { daemon: first, port, base } = await startDaemon()
    const page = await browser.newPage()
    await page.goto(`${base}/`, { waitUntil: "load" })
    await until(page, (p) => text(p, "#phase"), (t) => t === "watching", "the phase")
    expect(await page.$eval("#stale", (e) => (e as HTMLElement).hidden)).toBe(true)
    // The open page's connections do not hold the daemon up (Node would wait ~90 s for an idle spare one).
    first.child.kill("SIGTERM")
    expect(await within(15_000, "stopping with a page open", first.exited)).toBe(0)
    const banner = await until(page, (p) => p.$eval("#stale", (e) => ((e as HTMLElement).hidden ? "" : e.textContent ?? "")), (t) => t !== "", "the connection-lost banner")
    expect(banner).toMatch(/^Connection lost: the daemon does not answer\. The figures below are from \d+ s ago/)
    // Nothing still says it is fine: a grey "unreachable" badge and dot, not the green "watching".
    expect(await badge(page)).toEqual({ phase: "unreachable", phaseClass: "pill idle", dot: "dot", title: "\u26a0 unreachable \u2014 customer-json-processor" })
    // on the same port, as a restarted service would be
    await startDaemon({ METRICS_PORT: String(port) })
    await until(page, (p) => p.$eval("#stale", (e) => (e as HTMLElement).hidden), (hidden) => hidden, "the banner gone")
    expect(await badge(page)).toMatchObject({ phase: "watching", phaseClass: "pill ok", dot: "dot ok" })
    await page.close()
  }, 120_000)

  it("counts files, not attempts: a file retried while returns/ is immutable is one failed file and one row; routed after all, it moves to returned", async () => {
    const { daemon, base } = await startDaemon({ RESCAN_INTERVAL_MS: "500", HEALTH_CHECK_INTERVAL_MS: "500", QUIET_PERIOD_MS: "0" })
    const page = await browser.newPage()
    await page.setViewport({ width: 1280, height: 900 })
    await page.goto(`${base}/`, { waitUntil: "load" })
    await until(page, (p) => text(p, "#phase"), (t) => t === "watching", "the phase")
    const returns = Path.join(root(), "returns")
    // chattr +i: nothing can be created in returns/ (root included), as in issue 28
    ChildProcess.execFileSync("chattr", ["+i", returns])
    try {
      for (let i = 1; i <= 7; i++) drop(root(), `good-${i}.json`, fixture("valid-single.json"))
      drop(root(), "bad.json", fixture("invalid-luhn.json"))
      const failedNote = (p: Page) => p.$$eval("#outcomes tr.failed .note", (n) => n.map((e) => e.textContent ?? ""))
      // tried three times (after 1 s, then 2 s more): still one failed file, one row
      const notes = await until(page, failedNote, (n) => n.length === 1 && /^[3-9] attempts since/.test(n[0]!), "three attempts on one row", 30_000)
      expect(notes[0]).toMatch(/^\d attempts since \d\d:\d\d:\d\d; it stays where it is and is tried again$/)
      expect(await cards(page)).toMatchObject({ validated: "7", returned: "0", failed: "1" })
      expect(await outcomeRows(page)).toHaveLength(8)
      expect(await text(page, "#f-failing")).toBe("1 is still failing: tried again from time to time")
      // the chart counts 8 files (7 passed), not 7 + the attempts
      expect((await chart(page)).total).toBe("8")
      const status = (await (await fetch(`${base}/status.json`)).json()) as { counts: { since_start: Record<string, number> } }
      expect(status.counts.since_start).toEqual({ validated: 7, returned: 0, failed: 1 })
      const metrics = await (await fetch(`${base}/metrics`)).text()
      expect(metrics).toMatch(/^cjp_files_failed_total 1$/m)
      expect(metrics).toMatch(/^cjp_files_failing 1$/m)
      expect(metrics).not.toContain('outcome="failed"')
    } finally {
      ChildProcess.execFileSync("chattr", ["-i", returns])
    }
    // returns/ writable again: returned, no longer failed, and the critical events are marked cleared
    await until(page, cards, (c) => c.returned === "1" && c.failed === "0", "the file returned", 30_000)
    expect(await page.$$eval("#outcomes tr.failed", (r) => r.length)).toBe(0)
    expect((await chart(page)).total).toBe("8")
    const events = await until(
      page,
      (p) => p.$$eval("#criticals li", (li) => li.map((l) => l.textContent ?? "")),
      (c) => c.length >= 2 && c.every((t) => t.startsWith("cleared")),
      "the critical events cleared",
      30_000
    )
    expect(events.some((t) => t.includes("file bad.json could not be processed") && /cleared \d\d:\d\d:\d\d/.test(t) && t.includes("it was returned after"))).toBe(true)
    expect(events.some((t) => t.includes("folder not usable: returns") && t.includes("the health check passes again"))).toBe(true)
    await until(page, (p) => p.$$eval("#notifications li", (li) => li.map((l) => l.textContent ?? "")), (n) => n.some((t) => t.includes("All clear") && t.includes("all clear")), "the all-clear notification")
    await page.close()
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
    const stopped = appLogLines(root(), "logs").find((l) => l["msg"] === "customer-json-processor stopped")
    expect(stopped).toMatchObject({ validated: 7, returned: 1, failed: 0 })
  }, 120_000)

  it("lists a destination of the application's own beside the folders, with its files, from before its first file", async () => {
    const { daemon, base } = await startDaemon({ QUIET_PERIOD_MS: "0" }, DESTINATION_APP)
    const page = await browser.newPage()
    const problems: Array<string> = []
    page.on("pageerror", (e) => problems.push(`page error: ${String(e)}`))
    await page.setViewport({ width: 1280, height: 900 })
    await page.goto(`${base}/`, { waitUntil: "load" })
    // Listed at 0 before any file: every destination of the daemon, the application's own last.
    await until(page, destinationRows, (r) => r.length === 3, "three destinations")
    expect(await destinationRows(page)).toEqual([["validated", "folder", "0"], ["returns", "folder", "0"], ["copies", "of this application's own", "0"]])
    drop(root(), "one.json", fixture("valid-single.json"))
    drop(root(), "two.json", fixture("valid-batch.json"))
    drop(root(), "bad.json", fixture("invalid-luhn.json"))
    await until(page, destinationRows, (r) => r[2]?.[2] === "2" && r[1]?.[2] === "1", "the counts by destination")
    expect(await destinationRows(page)).toEqual([["validated", "folder", "2"], ["returns", "folder", "1"], ["copies", "of this application's own", "2"]])
    expect(problems).toEqual([])
    await page.close()
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  }, 120_000)

  it("breaks the figures down by partner (PARTNERS_FILE), in the page, status.json and /metrics, and filters the outcomes by partner", async () => {
    for (const p of ["acme", "globex"]) {
      for (const folder of ["in", "returns"]) {
        NFS.mkdirSync(Path.join(root(), p, folder), { recursive: true })
        NFS.chmodSync(Path.join(root(), p, folder), 0o700)
      }
    }
    NFS.writeFileSync(Path.join(root(), "partners.yaml"), "partners:\n  - { id: acme, inbox: acme/in, returns: acme/returns }\n  - { id: globex, inbox: globex/in, returns: globex/returns }\n")
    const { daemon, base } = await startDaemon({ QUIET_PERIOD_MS: "0", PARTNERS_FILE: "partners.yaml" })
    const deliver = (partner: string, name: string, body: string) => {
      NFS.writeFileSync(Path.join(root(), partner, "in", `${name}.tmp`), body)
      NFS.renameSync(Path.join(root(), partner, "in", `${name}.tmp`), Path.join(root(), partner, "in", name))
    }
    deliver("acme", "a1.json", fixture("invalid-luhn.json"))
    deliver("acme", "a2.json", fixture("valid-single.json"))
    deliver("globex", "g1.json", fixture("invalid-luhn.json"))
    const page = await browser.newPage()
    const problems: Array<string> = []
    page.on("pageerror", (e) => problems.push(`page error: ${String(e)}`))
    await page.setViewport({ width: 1280, height: 900 })
    await page.goto(`${base}/`, { waitUntil: "load" })
    const partnerRows = (p: Page) => p.$$eval("#partners tr", (rows) => rows.map((r) => Array.from(r.querySelectorAll("td"), (td) => td.textContent ?? "")))
    await until(page, partnerRows, (r) => r.length === 2 && r[0]?.[1] === "1" && r[1]?.[2] === "1", "the partners' counts")
    expect(await partnerRows(page)).toEqual([["acme", "1", "1", "0"], ["globex", "0", "1", "0"]])
    expect(await outcomeRows(page)).toHaveLength(3)
    await page.select("#partner-filter", "globex")
    const rows = await outcomeRows(page)
    expect(rows).toHaveLength(1)
    expect(rows[0]?.[1]).toContain("g1.json")
    expect(rows[0]?.[1]).toContain("partner globex")
    await page.select("#partner-filter", "")
    expect(await outcomeRows(page)).toHaveLength(3)
    expect(problems).toEqual([])
    await page.close()
    const status = (await (await fetch(`${base}/status.json`)).json()) as { partners: Array<unknown>; outcomes: Array<{ partner: string | null }> }
    expect(status.partners).toEqual([{ id: "acme", validated: 1, returned: 1, failed: 0 }, { id: "globex", validated: 0, returned: 1, failed: 0 }])
    expect(status.outcomes.map((o) => o.partner).sort()).toEqual(["acme", "acme", "globex"])
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toContain('cjp_files_processed_total{outcome="returned",partner="acme"} 1')
    expect(metrics).toContain('cjp_files_processed_total{outcome="validated",partner="acme"} 1')
    expect(metrics).toContain('cjp_files_processed_total{outcome="returned",partner="globex"} 1')
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  }, 120_000)

  it("explains its numbers in words, and lays out on a phone without breaking a name inside a word", async () => {
    const { daemon, base } = await startDaemon({ QUIET_PERIOD_MS: "0" })
    const names = [
      "customer-orders-2026-11-28_batch-0007.json",
      "Kundendaten_Export_Dezember_Filiale_Nord_0001.json",
      `order ${CARD} for the northern region.json`,
      "partner.delivery.eu-west.2026-12-03T101500Z.json"
    ]
    for (const n of names) drop(root(), n, n.startsWith("order") ? fixture("invalid-luhn.json") : fixture("valid-single.json"))
    await waitUntil(() => list(Path.join(root(), "validated")).length + list(Path.join(root(), "returns")).length === 5, 20_000, "the files routed")
    const page = await browser.newPage()
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }])
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
    await page.goto(`${base}/`, { waitUntil: "load" })
    await until(page, outcomeRows, (r) => r.length === 4, "four rows")
    // The numbers say what they count.
    expect(await text(page, "#chart-summary")).toMatch(/^4 files in the last hour \u00b7 busiest minute: [1-4] files? \u00b7 last 2 minutes: 4 files$/)
    expect(await text(page, "#q-oldest")).toBe("nothing waiting")
    expect(await text(page, "#q-inflight")).toBe("none being processed now")
    // Each name is on a line of its own over the row's facts, and wraps only after - _ . or a space.
    const laidOut = await lineBreaks(page, "#outcomes td.name:not(.opt), #instances td.name, #instance")
    expect(laidOut.map((l) => l.text)).toEqual(expect.arrayContaining(names.map((n) => n.replace(CARD, "************1111"))))
    // (the long ones do wrap at this width: the check is not vacuous)
    expect(laidOut.filter((l) => l.breaks.length > 0).length, JSON.stringify(laidOut)).toBeGreaterThanOrEqual(3)
    for (const l of laidOut) {
      for (const b of l.breaks) expect(b, `a break inside a word of ${l.text}`).toMatch(/[-_. ]\||\| /)
    }
    // and the page is no wider than the phone
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    NFS.mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: Path.join(SHOTS, "phone-names.png"), fullPage: true })
    await page.close()
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  }, 120_000)
})
