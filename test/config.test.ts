import { PlatformConfigProvider } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Option, Redacted } from "effect"
import * as Path from "node:path"
import { describeSettings, loadSettings, parseSettings, SETTINGS, settingEntries, threadPoolSizeOf, urlForLog } from "../src/Config.js"
import type { RawSettings, VariableName } from "../src/Config.js"
import * as MemoryFileSystem from "../src/files/adapters/MemoryFileSystem.js"

const parsed = (raw: RawSettings) => Effect.runSync(parseSettings(raw))
const problem = (raw: RawSettings) => {
  const result = Effect.runSync(Effect.either(parseSettings(raw)))
  if (Either.isRight(result)) throw new Error("expected a problem")
  return result.left.message
}

describe("parseSettings", () => {
  it("has the documented defaults", () => {
    const s = parsed({})
    expect(s).toMatchObject({
      dataDir: "data",
      processingDir: "processing",
      validatedDir: "validated",
      returnsDir: "returns",
      logDir: "logs",
      debug: false,
      concurrency: 8,
      maxFileSizeBytes: 50 * 1024 * 1024,
      maxRecords: 100_000,
      quietPeriodMs: 2000,
      rescanIntervalMs: 10_000,
      watchMode: "native",
      fsCalls: "auto",
      pollIntervalMs: 1000,
      shutdownTimeoutMs: 10_000,
      minFreeDiskBytes: 100 * 1024 * 1024,
      heartbeatMs: 5000
    })
    expect(s.email.smtpPort).toBe(587)
    expect(Option.isNone(s.email.smtpServer)).toBe(true)
  })

  it("reads every value", () => {
    const s = parsed({ DATA_DIR: "/in", DEBUG: "TRUE", CONCURRENCY: "3", WATCH_MODE: "poll", FS_CALLS: "Async", MAX_FILE_SIZE_MB: "2", EMAIL_RECEIVER: "a@x.org, b@y.org" })
    expect(s).toMatchObject({ dataDir: "/in", debug: true, concurrency: 3, watchMode: "poll", fsCalls: "async", maxFileSizeBytes: 2 * 1024 * 1024 })
    expect(s.email.receivers).toEqual(["a@x.org", "b@y.org"])
  })

  it.each([
    [{ CONCURRENCY: "abc" }, "CONCURRENCY must be a whole number from 1 to 256"],
    [{ CONCURRENCY: "0" }, "CONCURRENCY must be a whole number from 1 to 256"],
    [{ MAX_RECORDS: "-1" }, "MAX_RECORDS must be a whole number"],
    [{ QUIET_PERIOD_MS: "1.5" }, "QUIET_PERIOD_MS must be a whole number"],
    [{ DEBUG: "maybe" }, "DEBUG must be true or false"],
    [{ WATCH_MODE: "inotify" }, "WATCH_MODE must be native or poll"],
    [{ FS_CALLS: "fast" }, "FS_CALLS must be auto, sync or async"],
    [{ SMTP_PORT: "70000" }, "SMTP_PORT must be a whole number from 1 to 65535"],
    [{ EMAIL_SENDER: "not-an-address" }, "EMAIL_SENDER must be an email address"],
    [{ EMAIL_RECEIVER: "a@x.org, nope" }, "EMAIL_RECEIVER must be an email address or a comma-separated list"],
    [{ SMTP_SERVER: "mail.example.com", EMAIL_RECEIVER: "a@x.org" }, "EMAIL_SENDER must be set when SMTP_SERVER is set"],
    [{ SMTP_SERVER: "mail.example.com", EMAIL_SENDER: "a@x.org" }, "EMAIL_RECEIVER must be set when SMTP_SERVER is set"],
    [{ SMTP_SERVER: "smtp://mail.example.com:25" }, "SMTP_SERVER must be a host name or address, without scheme or port"],
    [{ SMTP_SECURE: "sometimes" }, "SMTP_SECURE must be true or false"],
    [{ EMAIL_MAX_PER_HOUR: "0" }, "EMAIL_MAX_PER_HOUR must be a whole number from 1 to 100000"],
    [{ EMAIL_BATCH_WINDOW_MS: "soon" }, "EMAIL_BATCH_WINDOW_MS must be a whole number"],
    [{ NOTIFY_WEBHOOK_URL: "ftp://x" }, "NOTIFY_WEBHOOK_URL must be an http:// or https:// URL"],
    [{ LOG_CONSOLE: "loud" }, "LOG_CONSOLE must be pretty, json or off"],
    [{ LOG_MAX_SIZE_MB: "0" }, "LOG_MAX_SIZE_MB must be a number above 0"],
    [{ LOG_MAX_FILES: "x" }, "LOG_MAX_FILES must be a whole number"]
  ])("names the variable and what it expects: %j", (raw, expected) => {
    const message = problem(raw)
    expect(message).toContain(expected)
    expect(message.split("\n")).toHaveLength(1)
  })

  it("secures SMTP from the first byte on port 465 only, unless told", () => {
    expect(parsed({}).email.smtpSecure).toBe(false)
    expect(parsed({ SMTP_PORT: "465" }).email.smtpSecure).toBe(true)
    expect(parsed({ SMTP_PORT: "465", SMTP_SECURE: "false" }).email.smtpSecure).toBe(false)
    expect(parsed({ SMTP_SECURE: "true" }).email.smtpSecure).toBe(true)
    expect(parsed({}).email).toMatchObject({ batchWindowMs: 10_000, maxPerHour: 30 })
  })

  it("says the value given, quoted and cut at 80 characters; a blank value is the default", () => {
    expect(problem({ CONCURRENCY: "abc" })).toBe('invalid configuration: CONCURRENCY must be a whole number from 1 to 256, not "abc"')
    // as given, spaces and all: the quotes show where it ends
    expect(problem({ WATCH_MODE: " inotify " })).toBe('invalid configuration: WATCH_MODE must be native or poll, not " inotify "')
    expect(problem({ DATA_DIR: `a\0${"b".repeat(100)}` })).toMatch(/^invalid configuration: DATA_DIR must be a folder path, not "a\\u0000b{78}…"$/)
    // a rule joining two settings names the one to set, with nothing given
    expect(problem({ SMTP_SERVER: "mail.example.com", EMAIL_RECEIVER: "a@x.org" })).toBe(
      "invalid configuration: EMAIL_SENDER must be set when SMTP_SERVER is set"
    )
    expect(parsed({ CONCURRENCY: "  ", WATCH_MODE: "", SMTP_PORT: " 25 " })).toMatchObject({ concurrency: 8, watchMode: "native", email: { smtpPort: 25 } })
  })

  it("never echoes a secret's value in its error", () => {
    const message = problem({ NOTIFY_WEBHOOK_URL: "ftp://user:hunter2@hooks.example.com/T0KEN" })
    expect(message).toBe("invalid configuration: NOTIFY_WEBHOOK_URL must be an http:// or https:// URL")
    expect(message).not.toContain("hunter2")
  })

  it("reports the first bad value of several, on one line", () => {
    const message = problem({ CONCURRENCY: "x", LOG_CONSOLE: "loud" })
    expect(message).toContain("CONCURRENCY must be")
    expect(message).not.toContain("LOG_CONSOLE")
  })

  it("stops at a variable that was replaced, saying what replaced it (never silently ignored)", () => {
    const raw = { TRUSTED_PRODUCERS: "true" } as unknown as Parameters<typeof problem>[0]
    expect(problem(raw)).toBe(
      "invalid configuration: TRUSTED_PRODUCERS must be unset: it was replaced by STORE_MODE (STORE_MODE=link does what TRUSTED_PRODUCERS=true did; the default, auto, links files of the daemon's own user), not \"true\""
    )
    expect(parsed({ STORE_MODE: "link" })).toMatchObject({ storeMode: "link" })
    expect(parsed({})).toMatchObject({ storeMode: "auto" })
  })

  it("rejects what Number() would take but a person did not mean", () => {
    for (const text of ["0x10", "1e2", "+8", "-8", "8.0", "Infinity"]) expect(problem({ CONCURRENCY: text })).toContain("CONCURRENCY must be")
  })
})

describe("loadSettings", () => {
  it.effect("reads the environment, and .env behind it", () =>
    Effect.gen(function*() {
      const settings = yield* loadSettings
      expect(settings.concurrency).toBe(4) // the environment wins
      expect(settings.maxRecords).toBe(10) // from .env
      expect(Redacted.value(Option.getOrThrow(settings.email.password))).toBe("s3cret")
    }).pipe(
      Effect.provide(
        PlatformConfigProvider.layerDotEnvAdd(".env").pipe(
          Layer.provide(
            MemoryFileSystem.make({ [Path.resolve(".env")]: "CONCURRENCY=2\nMAX_RECORDS=10\nEMAIL_PASSWORD=s3cret\n" }).layer
          ),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["CONCURRENCY", "4"]]))))
        )
      )
    ))

  it.effect("never puts the password in an error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadSettings)
      expect(error.message).toContain("SMTP_PORT")
      expect(JSON.stringify(error)).not.toContain("s3cret")
    }).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["SMTP_PORT", "x"], ["EMAIL_PASSWORD", "s3cret"]])))
    ))
})

describe("describeSettings (the start-up line)", () => {
  const SECRET_URL = "https://hook-user:hook-pass@hooks.example.com:8443/services/T0KEN1/B0KEN2/XyZsEcReT?token=q5ecret&sig=abc#frag"

  it("shows a webhook URL as scheme://host[:port]/… only: no path, query, fragment or userinfo", () => {
    const shown = describeSettings(parsed({ NOTIFY_WEBHOOK_URL: SECRET_URL }))
    expect(shown["NOTIFY_WEBHOOK_URL"]).toBe("https://hooks.example.com:8443/…")
    const text = JSON.stringify(shown)
    for (const secret of ["hook-user", "hook-pass", "T0KEN1", "B0KEN2", "XyZsEcReT", "q5ecret", "sig=", "frag"]) expect(text).not.toContain(secret)
  })

  it.each([
    ["http://127.0.0.1:9000/hook?k=v", "http://127.0.0.1:9000/…"],
    ["https://hooks.example.com", "https://hooks.example.com/…"],
    ["http://[::1]:8080/x", "http://[::1]:8080/…"],
    ["https://user@h.example.org/", "https://h.example.org/…"],
    ["not a url", "<redacted>"]
  ])("urlForLog(%s) = %s", (url, shown) => {
    expect(urlForLog(url)).toBe(shown)
  })

  it("shows the SMTP password as <redacted>, never its value", () => {
    const settings = Effect.runSync(parseSettings({}, Option.some(Redacted.make("pa55-w0rd-xyz"))))
    const shown = describeSettings(settings)
    expect(shown["EMAIL_PASSWORD"]).toBe("<redacted>")
    expect(JSON.stringify(shown)).not.toContain("pa55-w0rd-xyz")
    expect(describeSettings(parsed({}))["EMAIL_PASSWORD"]).toBe("")
  })
})

describe("the settings table", () => {
  /** A value other than the default for every setting, and how the start-up line shows it. */
  const SAMPLES: Record<VariableName, readonly [given: string, shown: string | number | boolean]> = {
    DATA_DIR: ["/srv/in", "/srv/in"],
    PROCESSING_DIR: ["/srv/p", "/srv/p"],
    VALIDATED_DIR: ["/srv/ok", "/srv/ok"],
    RETURNS_DIR: ["/srv/ret", "/srv/ret"],
    LOG_DIR: ["/srv/logs", "/srv/logs"],
    PARTNERS_FILE: ["/etc/cjp/partners.yaml", "/etc/cjp/partners.yaml"],
    DEBUG: ["yes", true],
    CONCURRENCY: ["3", 3],
    INSTANCES: ["2", 2],
    MAX_FILE_SIZE_MB: ["7", 7],
    MAX_RECORDS: ["12", 12],
    QUIET_PERIOD_MS: ["0", 0],
    RESCAN_INTERVAL_MS: ["500", 500],
    WATCH_MODE: ["POLL", "poll"],
    POLL_INTERVAL_MS: ["20", 20],
    FS_CALLS: ["sync", "sync"],
    STORE_MODE: ["COPY", "copy"],
    SHUTDOWN_TIMEOUT_MS: ["1500", 1500],
    MIN_FREE_DISK_MB: ["0", 0],
    HEARTBEAT_MS: ["250", 250],
    HEALTH_CHECK_INTERVAL_MS: ["1000", 1000],
    METRICS_PORT: ["9464", "9464"],
    METRICS_HOST: ["::1", "::1"],
    STATUS_HOSTS: ["Status.Example.org, proxy.internal:8443,[::1]:9464", "status.example.org,proxy.internal:8443,[::1]:9464"],
    LOG_CONSOLE: ["json", "json"],
    LOG_MAX_SIZE_MB: ["0.5", 0.5],
    LOG_MAX_FILES: ["0", 0],
    NO_COLOR: ["1", true],
    EMAIL_SENDER: ["from@example.com", "from@example.com"],
    EMAIL_RECEIVER: ["a@example.com, b@example.org", "a@example.com,b@example.org"],
    EMAIL_PASSWORD: ["pa55-w0rd-xyz", "<redacted>"],
    SMTP_SERVER: ["mail.example.com", "mail.example.com"],
    SMTP_PORT: ["2525", 2525],
    SMTP_USER: ["robot", "robot"],
    SMTP_SECURE: ["true", true],
    EMAIL_BATCH_WINDOW_MS: ["0", 0],
    EMAIL_MAX_PER_HOUR: ["5", 5],
    NOTIFY_WEBHOOK_URL: ["https://hooks.example.com/T0KEN?x=1", "https://hooks.example.com/…"]
  }

  it("reads every setting into Settings and shows it back in the start-up line, in the table's order", () => {
    const raw = Object.fromEntries(Object.entries(SAMPLES).map(([name, [given]]) => [name, given]))
    const shown = describeSettings(parsed(raw))
    expect(Object.keys(shown)).toEqual(Object.keys(SETTINGS))
    expect(shown).toEqual(Object.fromEntries(Object.entries(SAMPLES).map(([name, [, show]]) => [name, show])))
  })

  it("every default keeps its own rule, and every rule rejects something", () => {
    const defaults = describeSettings(parsed({}))
    for (const [name, spec] of settingEntries) {
      expect(spec.parse(spec.default)._tag, name).toBe("Some")
      expect(spec.meaning, name).not.toContain("\n")
      expect(typeof defaults[name], name).not.toBe("undefined")
    }
    // the rules that reject nothing are the ones said to take any text
    const lenient = settingEntries.filter(([, spec]) => spec.parse("\u0000 not a valid value @:/ -1 x")._tag === "Some").map(([name]) => name)
    expect(lenient.sort()).toEqual(["EMAIL_PASSWORD", "METRICS_HOST", "NO_COLOR", "SMTP_USER"])
    for (const name of lenient) expect(SETTINGS[name].rule).toMatch(/any text|an address/)
  })
})

describe("threadPoolSizeOf: the thread pool's size as libuv takes it from UV_THREADPOOL_SIZE", () => {
  it("is Node's default, 4, when unset or not a positive whole number", () => {
    expect(threadPoolSizeOf(undefined)).toBe(4)
    expect(threadPoolSizeOf("")).toBe(4)
    expect(threadPoolSizeOf("0")).toBe(4)
    expect(threadPoolSizeOf("lots")).toBe(4)
    expect(threadPoolSizeOf("-3")).toBe(4)
  })
  it("is the number given, at most libuv's 1024", () => {
    expect(threadPoolSizeOf("16")).toBe(16)
    expect(threadPoolSizeOf(" 8 ")).toBe(8)
    expect(threadPoolSizeOf("5000")).toBe(1024)
  })
})
