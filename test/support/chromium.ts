/**
 * A real headless Chromium for the browser tests: Debian's `chromium` package
 * (installed with apt-get when missing: CI runs as root on a machine like
 * this), driven by puppeteer-core, with a fresh profile in `profileDir`.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import puppeteer from "puppeteer-core"
import type { Browser } from "puppeteer-core"

export const CHROMIUM = "/usr/bin/chromium"

/** Installs Debian's chromium if it is not there (minutes on a fresh machine). */
export const ensureChromium = (): void => {
  if (NFS.existsSync(CHROMIUM)) return
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  ChildProcess.execFileSync("apt-get", ["update"], { stdio: "ignore", env, timeout: 600_000 })
  ChildProcess.execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], { stdio: "ignore", env, timeout: 900_000 })
}

export const launchChromium = (profileDir: string): Promise<Browser> =>
  puppeteer.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox", // root, as in CI
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profileDir}`
    ]
  })
