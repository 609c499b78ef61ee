import { describe, expect, it } from "@effect/vitest"
import { onTestFinished, vi } from "vitest"
import { Cause, Effect, FastCheck as fc, HashMap, Layer, LogLevel, TestClock } from "effect"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { LogFile } from "../src/logging/LogFile.js"
import * as Logging from "../src/logging/Logging.js"
import { ConsoleSink, escapeForTerminal, fieldsOf, jsonLine, logFields, prettyLine } from "../src/logging/Logging.js"
import type { LogEvent } from "../src/logging/Logging.js"
import * as Masker from "../src/masking/Masker.js"
import { withUmask0 } from "./support/umask.js"

/** A temporary folder, removed when the test that made it ends. */
const tempDir = () => {
  const dir = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-log-"))
  onTestFinished(() => NFS.rmSync(dir, { recursive: true, force: true }))
  return dir
}
const read = (p: string) => (NFS.existsSync(p) ? NFS.readFileSync(p, "utf8") : "")
const lines = (p: string) => read(p).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>)

describe("LogFile", () => {
  it("rotates by size and keeps exactly maxFiles rotated files", async () => {
    const dir = tempDir()
    const path = Path.join(dir, "app.log")
    const file = new LogFile({ path, maxBytes: 1000, maxFiles: 3, onError: () => {} })
    for (let i = 0; i < 100; i++) {
      file.append(`${JSON.stringify({ i, pad: "x".repeat(80) })}\n`)
      if (i % 5 === 4) await file.flush()
    }
    await file.close()
    expect(NFS.readdirSync(dir).sort()).toEqual(["app.log", "app.log.1", "app.log.2", "app.log.3"])
    for (const name of NFS.readdirSync(dir)) expect(NFS.statSync(Path.join(dir, name)).size).toBeLessThanOrEqual(1000)
    // the newest lines are in app.log, in order, the oldest rotated away
    const newest = lines(path).map((l) => l["i"])
    expect(newest[newest.length - 1]).toBe(99)
    const kept = [3, 2, 1].flatMap((n) => lines(`${path}.${n}`).map((l) => l["i"] as number)).concat(newest as Array<number>)
    expect(kept).toEqual([...kept].sort((a, b) => a - b))
  })

  it("reopens its path (SIGHUP after logrotate moved the file)", async () => {
    const dir = tempDir()
    const path = Path.join(dir, "app.log")
    const file = new LogFile({ path, maxBytes: 1e6, maxFiles: 5, onError: () => {} })
    file.append("before\n")
    await file.flush()
    NFS.renameSync(path, `${path}.moved`)
    file.append("queued\n")
    await file.reopen()
    file.append("after\n")
    await file.close()
    // what was queued before the signal still goes to the file logrotate moved
    expect(read(`${path}.moved`)).toBe("before\nqueued\n")
    expect(read(path)).toBe("after\n")
  })

  it("reports a write problem once and carries on", async () => {
    const errors: Array<string> = []
    const file = new LogFile({ path: "/proc/cjp-no-such/app.log", maxBytes: 1e6, maxFiles: 5, onError: (m) => errors.push(m) })
    for (let i = 0; i < 5; i++) {
      file.append("line\n")
      await file.flush()
    }
    await file.close()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^cannot open log file \/proc\/cjp-no-such\/app\.log \(ENOENT\)/)
  })
})

const sampleLogs = Effect.gen(function*() {
  yield* Effect.logDebug("debug detail")
  yield* Effect.logInfo("file processed for ada@example.com").pipe(
    Effect.annotateLogs({ file: "cust 4111 1111 1111 1111.json", record: { card_number: "5555555555554444", phone: "+44 20 7946 0958", cvv: "123" } })
  )
  yield* Effect.logWarning("warned")
  yield* Effect.logError("it broke", Cause.die(new Error("boom for grace@example.org")))
})

const modeOf = (p: string) => NFS.statSync(p).mode & 0o7777

describe("log files are private to the daemon's user and group", () => {
  it("LogFile creates its file 0640, and so are the files rotation leaves (umask 0)", () =>
    withUmask0(async () => {
      const dir = tempDir()
      const path = Path.join(dir, "app.log")
      const file = new LogFile({ path, maxBytes: 300, maxFiles: 2, onError: () => {} })
      for (let i = 0; i < 20; i++) {
        file.append(`${JSON.stringify({ i, pad: "x".repeat(60) })}\n`)
        await file.flush()
      }
      await file.close()
      expect(NFS.readdirSync(dir).sort()).toEqual(["app.log", "app.log.1", "app.log.2"])
      for (const name of NFS.readdirSync(dir)) expect([name, modeOf(Path.join(dir, name))]).toEqual([name, 0o640])
    }))

  it("Logging.layer creates the log folder 0750 and app.log, error.log, debug.log 0640 (umask 0)", () =>
    withUmask0(async () => {
      const dir = Path.join(tempDir(), "logs")
      await Effect.runPromise(
        Effect.scoped(
          Layer.build(Logging.layer({ logDir: dir, debug: true, console: "off", noColor: true, maxBytes: 1e6, maxFiles: 5 }).pipe(Layer.provide(Masker.layer))).pipe(
            Effect.flatMap((context) => Effect.provide(sampleLogs, context))
          )
        )
      )
      expect(modeOf(dir)).toBe(0o750)
      expect(NFS.readdirSync(dir).sort().map((n) => [n, modeOf(Path.join(dir, n))])).toEqual([
        ["app.log", 0o640],
        ["debug.log", 0o640],
        ["error.log", 0o640]
      ])
    }))
})

const runWithLogging = (dir: string, debug: boolean) =>
  Effect.scoped(
    Layer.build(Logging.layer({ logDir: dir, debug, console: "off", noColor: true, maxBytes: 1e6, maxFiles: 5 }).pipe(Layer.provide(Masker.layer))).pipe(
      Effect.flatMap((context) => Effect.provide(sampleLogs, context))
    )
  )

describe("Logging.layer", () => {
  it.effect("says it cannot write its log on stderr, stamped by effect's Clock", () => {
    const stderr: Array<string> = []
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (stderr.push(String(chunk)), true))
    onTestFinished(() => spy.mockRestore())
    // A log folder under a regular file: nothing can be created there.
    const blocker = Path.join(tempDir(), "not-a-folder")
    NFS.writeFileSync(blocker, "")
    const layer = Logging.layer({ logDir: Path.join(blocker, "logs"), debug: false, console: "off", noColor: true, maxBytes: 1e6, maxFiles: 5 })
    return TestClock.setTime(Date.parse("2031-05-06T07:08:09.010Z")).pipe(
      Effect.zipRight(Effect.scoped(Layer.build(layer.pipe(Layer.provide(Masker.layer))).pipe(
        Effect.flatMap((context) => Effect.provide(Effect.logInfo("a line for a log that cannot be written"), context))
      ))),
      Effect.map(() => {
        spy.mockRestore()
        const warnings = stderr.join("").split("\n").filter((l) => l.includes(" WARN  "))
        expect(warnings.length).toBeGreaterThan(0)
        for (const line of warnings) expect(line.startsWith("2031-05-06T07:08:09.010Z WARN  ")).toBe(true)
      })
    )
  })

  it.live("writes each sink's levels as JSON Lines, masked; no debug.log without DEBUG", () => {
    const dir = tempDir()
    return runWithLogging(dir, false).pipe(
      Effect.map(() => {
        expect(NFS.readdirSync(dir).sort()).toEqual(["app.log", "error.log"])
        const app = lines(Path.join(dir, "app.log"))
        expect(app.map((l) => [l["level"], l["msg"]])).toEqual([
          ["INFO", "file processed for a***@example.com"],
          ["WARN", "warned"],
          ["ERROR", "it broke"]
        ])
        expect(app[0]).toMatchObject({
          ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          file: "cust ************1111.json",
          record: { card_number: "************4444", phone: "********0958" }
        })
        expect(JSON.stringify(app[0])).not.toContain("cvv")
        const errors = lines(Path.join(dir, "error.log"))
        expect(errors).toHaveLength(1)
        expect(errors[0]!["cause"]).toMatch(/boom for g\*\*\*@example\.org/)
        expect(errors[0]!["cause"]).toMatch(/at .*logging\.test\.ts/) // the stack trace
        const all = NFS.readdirSync(dir).map((f) => read(Path.join(dir, f))).join("")
        for (const secret of ["4111 1111 1111 1111", "5555555555554444", "ada@", "grace@", "7946 0958", "123\""]) expect(all).not.toContain(secret)
      })
    )
  })

  it.live("writes debug.log with every level when DEBUG=true", () => {
    const dir = tempDir()
    return runWithLogging(dir, true).pipe(
      Effect.map(() => {
        expect(NFS.readdirSync(dir).sort()).toEqual(["app.log", "debug.log", "error.log"])
        expect(lines(Path.join(dir, "debug.log")).map((l) => l["level"])).toEqual(["DEBUG", "INFO", "WARN", "ERROR"])
        expect(lines(Path.join(dir, "app.log")).map((l) => l["level"])).toEqual(["INFO", "WARN", "ERROR"])
      })
    )
  })

  it.live("flushes within a second, before the scope closes", () => {
    const dir = tempDir()
    return Effect.scoped(
      Effect.gen(function*() {
        const context = yield* Layer.build(
          Logging.layer({ logDir: dir, debug: false, console: "off", noColor: true, maxBytes: 1e6, maxFiles: 5, flushEveryMs: 1000 }).pipe(
            Layer.provide(Masker.layer)
          )
        )
        yield* Effect.provide(Effect.logInfo("soon on disk"), context)
        expect(read(Path.join(dir, "app.log"))).toBe("") // queued, not yet written
        yield* Effect.sleep("1200 millis")
        expect(read(Path.join(dir, "app.log"))).toContain("soon on disk")
      })
    )
  })
})

describe("console order", () => {
  it("lines keep the order they were logged in across stdout and stderr, each run of one stream in one write", () => {
    const writes: Array<[string, string]> = []
    const sink = new ConsoleSink((error, text) => void writes.push([error ? "err" : "out", text]))
    sink.append("1 INFO\n", false)
    sink.append("2 ERROR\n", true)
    sink.append("3 INFO\n", false)
    sink.append("4 INFO\n", false)
    sink.append("5 ERROR\n", true)
    sink.flush()
    expect(writes).toEqual([["out", "1 INFO\n"], ["err", "2 ERROR\n"], ["out", "3 INFO\n4 INFO\n"], ["err", "5 ERROR\n"]])
    sink.flush()
    expect(writes).toHaveLength(4)
  })

  it.live("Logging.layer: an ERROR logged before an INFO line reaches the terminal before it", () => {
    const dir = tempDir()
    const order: Array<string> = []
    const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (order.push(`out ${String(chunk)}`), true))
    const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (order.push(`err ${String(chunk)}`), true))
    onTestFinished(() => {
      out.mockRestore()
      err.mockRestore()
    })
    return Effect.scoped(
      Effect.gen(function*() {
        const context = yield* Layer.build(
          Logging.layer({ logDir: dir, debug: false, console: "pretty", noColor: true, maxBytes: 1e6, maxFiles: 5 }).pipe(Layer.provide(Masker.layer))
        )
        yield* Effect.provide(Effect.zipRight(Effect.logError("first, an error"), Effect.logInfo("then a notification")), context)
      })
    ).pipe(
      Effect.map(() => {
        expect(order).toEqual([expect.stringMatching(/^err .* ERROR first, an error\n$/), expect.stringMatching(/^out .* INFO  then a notification\n$/)])
      })
    )
  })
})

describe("console formats", () => {
  const event: LogEvent = {
    ts: "2026-11-28T09:30:00.000Z",
    level: LogLevel.Warning,
    msg: "not a regular file; left where it is",
    fields: { file: "my file.json", kind: "Directory" },
    cause: undefined
  }
  it("pretty: one human line, coloured only when asked", () => {
    expect(prettyLine(event, false)).toBe('2026-11-28T09:30:00.000Z WARN  not a regular file; left where it is file="my file.json" kind=Directory\n')
    expect(prettyLine(event, true)).toContain("\u001b[33mWARN \u001b[0m")
  })
  it("pretty: nested fields as key=value on indented lines (an object of plain values on one, if it fits), never escaped JSON", () => {
    const started: LogEvent = {
      ts: "2026-11-28T09:30:00.000Z",
      level: LogLevel.Info,
      msg: "customer-json-processor started",
      fields: {
        version: "1.0.0",
        folders: { data: "data", returns: "/srv/my returns" },
        mode: "daemon",
        settings: { DATA_DIR: "data", DEBUG: false, CONCURRENCY: 8, METRICS_PORT: "", EMAIL_RECEIVER: "a@x.org,b@y.org", EMAIL_PASSWORD: "<redacted>" },
        files: ["a.json", "b c.json"],
        filesystems: [{ folder: "data", type: "ext4" }, { folder: "returns", type: "nfs", options: { local: false } }],
        empty: {}
      },
      cause: undefined
    }
    expect(prettyLine(started, false)).toBe([
      "2026-11-28T09:30:00.000Z INFO  customer-json-processor started version=1.0.0 mode=daemon empty={}",
      '    folders: data=data returns="/srv/my returns"',
      "    settings:",
      "      DATA_DIR=data",
      "      DEBUG=false",
      "      CONCURRENCY=8",
      '      METRICS_PORT=""',
      "      EMAIL_RECEIVER=a@x.org,b@y.org",
      "      EMAIL_PASSWORD=<redacted>",
      "    files:",
      "      - a.json",
      '      - "b c.json"',
      "    filesystems:",
      "      - folder=data type=ext4",
      "      -",
      "        folder=returns",
      "        type=nfs",
      "        options: local=false",
      ""
    ].join("\n"))
  })
  it("pretty: the cause comes after the nested fields", () => {
    const line = prettyLine({ ...event, fields: { folders: { data: "in" } }, cause: "Error: boom" }, false)
    expect(line.split("\n").slice(1)).toEqual(["    folders: data=in", "    Error: boom", ""])
  })
  it("json: the same fields as the files", () => {
    expect(JSON.parse(jsonLine(event, false))).toEqual({
      ts: "2026-11-28T09:30:00.000Z",
      level: "WARN",
      msg: "not a regular file; left where it is",
      file: "my file.json",
      kind: "Directory"
    })
  })
  it("fields carried in the message (logFields): masked, in the order given, after the annotations, never in msg", () => {
    const dir = tempDir()
    const line = Effect.logInfo("file processed", logFields({ file: "cust 4111 1111 1111 1111.json", outcome: "returned", msg: "fake", records: 2 }))
      .pipe(Effect.annotateLogs({ instance: "a", outcome: "overridden" }))
    return Effect.runPromise(
      Effect.scoped(
        Layer.build(Logging.layer({ logDir: dir, debug: false, console: "off", noColor: true, maxBytes: 1e6, maxFiles: 5 }).pipe(Layer.provide(Masker.layer))).pipe(
          Effect.flatMap((ctx) => Effect.provide(line, ctx))
        )
      )
    ).then(() => {
      const text = read(Path.join(dir, "app.log"))
      expect(Object.entries(JSON.parse(text) as Record<string, unknown>).slice(2)).toEqual([
        ["msg", "file processed"],
        ["instance", "a"],
        ["outcome", "returned"],
        ["file", "cust ************1111.json"],
        ["records", 2]
      ])
      expect(text).not.toContain("4111 1111")
      // and a logger of your own finds them with fieldsOf
      expect(fieldsOf({ annotations: HashMap.make(["a", 1]), message: ["m", logFields({ b: 2 })] })).toEqual({ a: 1, b: 2 })
    })
  })
  it("an annotation cannot overwrite ts, level or msg", () => {
    const dir = tempDir()
    return Effect.runPromise(
      Effect.scoped(
        Layer.build(Logging.layer({ logDir: dir, debug: false, console: "off", noColor: true, maxBytes: 1e6, maxFiles: 5 }).pipe(Layer.provide(Masker.layer))).pipe(
          Effect.flatMap((ctx) => Effect.provide(Effect.logInfo("real").pipe(Effect.annotateLogs({ msg: "fake", level: "x" })), ctx))
        )
      )
    ).then(() => expect(lines(Path.join(dir, "app.log"))[0]).toMatchObject({ msg: "real", level: "INFO" }))
  })
})

/** Characters a terminal acts on (contract of prettyLine): C0, DEL, C1, bidi controls, line/paragraph separators. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/
const NASTY = ["\u001b[31m", "\u001b]0;title\u0007", "\u009b2K", "\u0085", "\r", "\n", "\t", "\u0000", "\u007f", "\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c", "\u2028", "\u2029"]
/** Text mixing any characters with the ones a terminal acts on. */
const hostile = fc.array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: "binary", maxLength: 4 })), { maxLength: 12 }).map((p) => p.join(""))

describe("console escaping (hostile file names)", () => {
  const event = (msg: string, fields: Record<string, unknown>, cause?: string): LogEvent => ({
    ts: "2026-11-28T09:30:00.000Z",
    level: LogLevel.Info,
    msg,
    fields,
    cause
  })
  const forged = "evil\u001b[2K\r2026-11-28T09:30:00.000Z \u001b[31mERROR\u001b[0m forged\n\u202egnp.json"

  it("pretty: a name cannot end the line, colour it or reorder it; values read back as JSON strings", () => {
    const line = prettyLine(event(`file processed ${forged}`, { file: forged, [`k${forged}`]: 1 }), false)
    expect(line.endsWith("\n")).toBe(true)
    expect(line.slice(0, -1)).not.toMatch(UNSAFE)
    expect(line).toContain("file processed evil\\u001b[2K\\u000d2026")
    // a value with unsafe characters is quoted, and the quoted text is the JSON string of the name
    const shown = /file=("(?:[^"\\]|\\.)*")/.exec(line)![1]!
    expect(JSON.parse(shown)).toBe(forged)
  })

  it("pretty, coloured: the only escape sequences are the line's own colour codes", () => {
    const line = prettyLine(event(forged, { file: forged }), true)
    expect(line.match(/\u001b/g)).toHaveLength(2)
    expect(line).toContain("\u001b[32mINFO \u001b[0m")
  })

  it("pretty: any text in message, key or value is shown escaped, on one line", () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (msg, key, value) => {
        const line = prettyLine(event(msg, { [key]: value, n: 1 }), true)
        expect(line.replaceAll(/\u001b\[(32|0)m/g, "").slice(0, -1)).not.toMatch(UNSAFE)
        expect(line.split("\n")).toHaveLength(2)
      }),
      { numRuns: 500 }
    )
  })

  it("pretty: any text in a nested field's keys and values is shown escaped, one entry per line or one object per line", () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (msg, key, value) => {
        // (`pad` keeps `inner` on lines of its own; `short` is shown on one line when it fits)
        const fields = { settings: { [`k${key}`]: value, inner: { [`k${key}`]: value, pad: "x".repeat(100) } }, list: [value], short: { [`k${key}`]: value } }
        const line = prettyLine(event(msg, fields), true)
        const lines = line.replaceAll(/\u001b\[(32|0)m/g, "").slice(0, -1).split("\n")
        const compact = lines.length === 9
        expect(lines).toHaveLength(compact ? 9 : 10)
        for (const l of lines) expect(l).not.toMatch(UNSAFE)
        // each value reads back as itself (quoted as a JSON string when it needs quotes)
        const shown = lines[2]!.slice(lines[2]!.indexOf("=", `      k${escapeForTerminal(key)}`.length) + 1)
        expect(shown.startsWith('"') ? JSON.parse(shown) : shown).toBe(value)
        expect(lines[7]!.startsWith("      - ")).toBe(true)
        if (compact) {
          const one = lines[8]!.slice(lines[8]!.indexOf("=", `    short: k${escapeForTerminal(key)}`.length) + 1)
          expect(one.startsWith('"') ? JSON.parse(one) : one).toBe(value)
        }
      }),
      { numRuns: 500 }
    )
  })

  it("pretty: the cause keeps its lines, indented, with carriage returns and escapes shown", () => {
    const line = prettyLine(event("it broke", {}, `Error: bad ${forged}\n    at x (file.ts:1:1)`), false)
    const lines = line.slice(0, -1).split("\n")
    expect(lines.slice(1).every((l) => l.startsWith("    "))).toBe(true)
    expect(line.slice(0, -1).replaceAll("\n", "")).not.toMatch(UNSAFE)
  })

  it("json: one object per line that parses back to the same values, with no raw unsafe character", () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (msg, key, value) => {
        const e = event(msg, { [key === "ts" || key === "level" || key === "msg" || key === "cause" ? `_${key}` : key]: value }, value)
        const line = jsonLine(e, true)
        expect(line.endsWith("\n")).toBe(true)
        expect(line.slice(0, -1)).not.toMatch(UNSAFE)
        const parsed = JSON.parse(line) as Record<string, unknown>
        expect(parsed["msg"]).toBe(msg)
        expect(parsed["cause"]).toBe(value)
        expect(Object.values(parsed)).toContain(value)
      }),
      { numRuns: 500 }
    )
  })

  it("escapeForTerminal shows each unsafe character as its \\u escape and leaves the rest", () => {
    expect(escapeForTerminal("a\u001bb\u009bc\u202ed é ✓")).toBe("a\\u001bb\\u009bc\\u202ed é ✓")
  })
})
