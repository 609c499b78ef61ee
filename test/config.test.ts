import { PlatformConfigProvider } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Option, Redacted } from "effect"
import * as Path from "node:path"
import { DEFAULTS, describeSettings, loadSettings, parseSettings, urlForLog } from "../src/Config.js"
import * as MemoryFileSystem from "../src/testing/MemoryFileSystem.js"

const parsed = (raw: Record<string, string>) => Either.getOrThrow(parseSettings(raw))
const problem = (raw: Record<string, string>) => {
  const result = parseSettings(raw)
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

  it("documents every variable in .env.example", async () => {
    const { readFileSync } = await import("node:fs")
    const example = readFileSync(new URL("../.env.example", import.meta.url), "utf8")
    for (const name of [...Object.keys(DEFAULTS), "EMAIL_PASSWORD"]) expect(example).toContain(`${name}=`)
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
    const settings = Either.getOrThrow(parseSettings({}, Option.some(Redacted.make("pa55-w0rd-xyz"))))
    const shown = describeSettings(settings)
    expect(shown["EMAIL_PASSWORD"]).toBe("<redacted>")
    expect(JSON.stringify(shown)).not.toContain("pa55-w0rd-xyz")
    expect(describeSettings(parsed({}))["EMAIL_PASSWORD"]).toBe("")
  })
})
