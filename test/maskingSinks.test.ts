/**
 * Every output, as the daemon renders it, for card numbers and email
 * addresses in every form contract §7 (revised 2026-12-03) lists, placed in
 * file names (as a producer's bytes, or as literal text), unknown keys,
 * values and free-text messages (issue 27, item 4): the error report, the
 * log line (app.log's JSON and the console's pretty line, cause included),
 * the mail (subject, body, its files for a webhook; the outbox writes the same
 * message), /status.json (which the status page renders) and the stored name
 * itself. None shows more than a card's last four digits or an address's
 * first character; `stored_as` is the stored name exactly. The built daemon
 * over real folders, mail and HTTP is test/e2e/maskingSinks.test.ts.
 */
import { Cause, Effect, FastCheck as fc, Logger } from "effect"
import { describe, expect, it } from "vitest"
import { jsonPathSegment } from "../src/contract/Contract.js"
import { renderReport } from "../src/contract/ErrorReport.js"
import { nameFromBytes, returnedNameCandidate, storedNameCandidate } from "../src/files/Naming.js"
import { buildStatus } from "../src/http/StatusJson.js"
import { jsonLine, logFields, prettyLine, toEvent } from "../src/logging/Logging.js"
import { Masker } from "../src/masking/Masker.js"
import { criticalMessage, rejectedMessage } from "../src/notify/NotificationMessage.js"
import { makeActivity } from "../src/status/Activity.js"
import { anyShownCard, shownEmail, showsCard, showsLocal } from "./support/sensitive.js"

const mask = Masker.live.text
const AT = new Date("2026-11-28T09:30:00.120Z")

/** What a sensitive item looks like, and how to tell a text shows it. */
type Secret = { readonly shown: string; readonly shows: (text: string) => boolean }
const secret: fc.Arbitrary<Secret> = fc.oneof(
  anyShownCard.map(({ card, shown }) => ({ shown, shows: (t: string) => showsCard(t, card) })),
  shownEmail.map(({ local, shown }) => ({ shown, shows: (t: string) => showsLocal(t, local) }))
)

/** Text around it in a name: letters and punctuation, no digit, `%` or `@`. */
const around = fc.string({ maxLength: 12 }).map((t) => t.replace(/[\p{Nd}%@＠﹫/\u0000]/gu, ""))

/**
 * A file name holding the secret, as the daemon reads it: the producer's
 * bytes, its `%XX` either bytes (a Latin-1 no-break space is the byte A0) or
 * literal text, escaped by `nameFromBytes`; at most 255 bytes.
 */
const nameWith = (shown: string) =>
  fc.tuple(around, around, fc.boolean(), fc.constantFrom(".json", ".JSON")).map(([pre, post, asBytes, ext]) => {
    const text = `${pre}${shown}${post}`
    const bytes = asBytes
      ? Buffer.concat(text.split(/(%[0-9A-Fa-f]{2})/).map((part, i) => (i % 2 === 1 ? Buffer.of(Number.parseInt(part.slice(1), 16)) : Buffer.from(part, "utf8"))))
      : Buffer.from(text, "utf8")
    return nameFromBytes(Buffer.concat([bytes.subarray(0, 250), Buffer.from(ext)])).text
  })

/** Where each output holds its text: the JSON ones as written and as their strings read back. */
const textsOf = (rendered: string, json: boolean): ReadonlyArray<string> => {
  if (!json) return [rendered]
  const strings: Array<string> = []
  const walk = (v: unknown): void => {
    if (typeof v === "string") strings.push(v)
    else if (Array.isArray(v)) v.forEach(walk)
    else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) (strings.push(k), walk(x))
  }
  for (const line of rendered.split("\n").filter((l) => l.trim() !== "")) {
    try {
      walk(JSON.parse(line))
    } catch {
      // a multi-line JSON document: parsed whole below
    }
  }
  try {
    walk(JSON.parse(rendered))
  } catch {
    // JSON Lines: parsed line by line above
  }
  return [rendered, strings.join("\n")]
}

/** The log line the logger writes for an effect's log, as app.log (JSON, cause included) and as the pretty console. */
const logged = (effect: Effect.Effect<void>): string => {
  const out: Array<string> = []
  const logger = Logger.make((options) => {
    const event = toEvent(options, Masker.live)
    out.push(jsonLine(event, true), prettyLine(event, false))
  })
  Effect.runSync(effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))))
  return out.join("")
}

describe("no output shows a card number or an address in any form of §7 (issue 27)", () => {
  it("reports, log lines, mail, status and stored names, for secrets in names, keys, values and messages", () => {
    fc.assert(
      fc.property(secret.chain((s) => fc.tuple(fc.constant(s), nameWith(s.shown))), ([s, name]) => {
        const key = `note ${s.shown}`
        const path = `$[0]${jsonPathSegment(key)}`
        const message = `cannot open ${name}: ${s.shown} refused`
        const stored = returnedNameCandidate(name, 0, AT)
        const valid = storedNameCandidate(name, 1, AT)
        const rejected = { file: name, storedAs: stored, receivedAt: AT, processedAt: AT, errorCount: 2, errors: [{ record: 0, path, rule: "unknown-field" as const, message: "is not an allowed field" }] }

        const report = renderReport({ file: name, storedAs: stored, receivedAt: AT, processedAt: AT, errors: rejected.errors }, mask)
        const logs = logged(
          Effect.logInfo("file processed", logFields({ file: name, outcome: "returned", stored_as: stored, value: { note: s.shown } })).pipe(
            Effect.zipRight(Effect.logError(`file ${name} could not be stored`).pipe(Effect.annotateLogs({ reason: message }))),
            Effect.zipRight(Effect.logError("a defect", Cause.die(new Error(message))))
          )
        )
        const mail = rejectedMessage([rejected], 0, "returns", mask)
        const criticalMail = criticalMessage({ summary: `file ${name} could not be processed`, detail: message, at: AT }, 0, mask, { host: "host-1" })
        const activity = makeActivity(() => AT.getTime())
        activity.outcome({ _tag: "Input", name }, { _tag: "Returned", storedAs: stored, records: 1, errorCount: 2 })
        activity.outcome({ _tag: "Input", name }, { _tag: "Failed", reason: message, cause: "EACCES" })
        activity.critical({ summary: `file ${name} could not be processed`, detail: message, at: AT }, false)
        activity.notification(mail, "retrying", `550 ${message}`)
        const status = JSON.stringify(buildStatus({
          nowMs: AT.getTime(),
          version: "1.0.0",
          instance: { id: "host-1-abc", host: "host", pid: 1 },
          phase: "watching",
          healthProblem: message,
          inFlight: 0,
          failingFiles: 1,
          stuckFiles: 0,
          waiting: { count: 0, oldestReceivedAtMs: undefined },
          activity: activity.snapshot(),
          destinationRoles: ["validated", "returns"],
          peers: [],
          notificationsQueued: 0
        }, mask))

        const outputs: ReadonlyArray<readonly [string, string, boolean]> = [
          ["report", report, true],
          ["log lines", logs, true],
          ["mail", `${mail.subject}\n${mail.text}\n${JSON.stringify(mail.files)}\n${criticalMail.subject}\n${criticalMail.text}`, false],
          ["status.json", status, true],
          ["stored names", `${stored}\n${valid}`, false]
        ]
        for (const [where, rendered, json] of outputs) {
          for (const text of textsOf(rendered, json)) expect(s.shows(text), `${where} shows ${JSON.stringify(s.shown)}:\n${text}`).toBe(false)
        }
        // stored_as is the stored name exactly, everywhere it is given
        expect((JSON.parse(report) as { stored_as: string }).stored_as).toBe(stored)
        expect(mail.files[0]!.storedAs).toBe(stored)
        expect(mail.text).toContain(`Now at:    returns/${stored} `)
        expect((JSON.parse(status) as { outcomes: Array<{ stored_as: string | null }> }).outcomes.map((o) => o.stored_as)).toContain(stored)
        expect(logs).toContain(`${JSON.stringify(stored).slice(1, -1)}`)
      }),
      { numRuns: 400 }
    )
  })
})
