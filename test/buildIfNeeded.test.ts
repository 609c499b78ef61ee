/** `npm start` builds only when the build is missing or older than what it is built from (scripts/build-if-needed.mjs). */
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { expect, it, onTestFinished } from "vitest"
import { buildReason } from "../scripts/build-if-needed.mjs"

/** A checkout with every input at t=1000 s and every output at t=2000 s. */
const checkout = () => {
  const root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-build-"))
  onTestFinished(() => NFS.rmSync(root, { recursive: true, force: true }))
  const files = ["src/main.ts", "src/daemon/Daemon.ts", "tsconfig.json", "package.json", "package-lock.json", "scripts/bundle.mjs", "node_modules/.package-lock.json"]
  const outputs = ["dist/index.js", "dist/main.js", "dist/judgeWorker.js"]
  for (const f of [...files, ...outputs]) {
    NFS.mkdirSync(Path.dirname(Path.join(root, f)), { recursive: true })
    NFS.writeFileSync(Path.join(root, f), "x")
  }
  const at = (path: string, seconds: number) => NFS.utimesSync(Path.join(root, path), seconds, seconds)
  for (const f of [...files, "src", "src/daemon", "scripts", "node_modules"]) at(f, 1000)
  for (const f of outputs) at(f, 2000)
  return { root, at }
}

it("an up-to-date build is not built again", () => {
  const { root } = checkout()
  expect(buildReason(root)).toBeUndefined()
})

it("a source changed, added or removed since the build means a build", () => {
  const changed = checkout()
  changed.at("src/daemon/Daemon.ts", 3000)
  expect(buildReason(changed.root)).toBe("src changed since the last build")

  const removed = checkout()
  NFS.unlinkSync(Path.join(removed.root, "src/daemon/Daemon.ts")) // its folder's time changes
  expect(buildReason(removed.root)).toBe("src changed since the last build")

  // built half way: the bundle is newer than the sources, the library modules are not
  const half = checkout()
  half.at("dist/index.js", 500)
  expect(buildReason(half.root)).toMatch(/^src, .* changed since the last build$/)
})

it("new dependencies (npm ci) or a changed build setup mean a build; a missing output too", () => {
  const deps = checkout()
  deps.at("node_modules/.package-lock.json", 3000)
  expect(buildReason(deps.root)).toBe("node_modules/.package-lock.json changed since the last build")
  const config = checkout()
  config.at("tsconfig.json", 3000)
  config.at("scripts/bundle.mjs", 3000)
  expect(buildReason(config.root)).toBe("tsconfig.json, scripts/bundle.mjs changed since the last build")
  const missing = checkout()
  NFS.unlinkSync(Path.join(missing.root, "dist/main.js"))
  expect(buildReason(missing.root)).toBe("dist/main.js missing")
})

it("npm start builds through it", () => {
  const pkg = JSON.parse(NFS.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> }
  expect(pkg.scripts["start"]).toBe("node scripts/build-if-needed.mjs && node dist/main.js")
})
