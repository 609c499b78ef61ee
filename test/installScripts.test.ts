/** `npm ci` says nothing about install scripts: each dependency that has one is reviewed in package.json's allowScripts. */
import * as ChildProcess from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

it("no dependency has an install script npm would warn about (npm install-scripts ls)", () => {
  const root = fileURLToPath(new URL("..", import.meta.url))
  const r = ChildProcess.spawnSync("npm", ["install-scripts", "ls"], { cwd: root, encoding: "utf8", timeout: 60_000 })
  expect(r.status, r.stderr).toBe(0)
  expect(r.stdout.trim()).toBe("No packages with unreviewed install scripts.")
})
