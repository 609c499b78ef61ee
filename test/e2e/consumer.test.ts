// A real consumer of the package (issue 26 item 6): `npm pack` makes the
// tarball, an application of its own (test/consumer/, copied to a temporary
// folder, with the README's `file=…` examples added under readme/) installs it
// beside its own effect and @effect/platform, and its own typecheck and vitest
// suite run there: the pipeline over the in-memory filesystem under the
// TestClock, a swapped Contract, an added notification channel, an added
// Destination.
import { execFile } from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { projectRoot, readmeSnippets } from "../support/readmeSnippets.js"

const exec = promisify(execFile)

// The outer `npm test` puts its own settings in npm_* variables (its project's
// prefix among them): the application's npm must not inherit them.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)))

interface Ran {
  readonly ok: boolean
  readonly stdout: string
  /** stdout and stderr, for a failure's message */
  readonly output: string
}

const run = async (command: string, args: ReadonlyArray<string>, cwd: string): Promise<Ran> => {
  try {
    const { stdout, stderr } = await exec(command, [...args], { cwd, env: cleanEnv, maxBuffer: 64 * 1024 * 1024 })
    return { ok: true, stdout, output: stdout + stderr }
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message?: string }
    return { ok: false, stdout: e.stdout ?? "", output: `${e.message ?? ""}\n${e.stdout ?? ""}\n${e.stderr ?? ""}` }
  }
}

interface PackedFile {
  readonly path: string
  readonly size: number
}

interface Packed {
  readonly filename: string
  readonly size: number
  readonly files: ReadonlyArray<PackedFile>
}

/** Every installed copy of a package, by its package.json's name, anywhere under node_modules. */
const copiesOf = (nodeModules: string, name: string): Array<string> => {
  const found: Array<string> = []
  const visit = (dir: string) => {
    for (const entry of NFS.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const path = Path.join(dir, entry.name)
      if (entry.name.startsWith("@")) visit(path)
      else {
        const manifest = Path.join(path, "package.json")
        if (NFS.existsSync(manifest) && (JSON.parse(NFS.readFileSync(manifest, "utf8")) as { name?: string }).name === name) found.push(path)
        if (NFS.existsSync(Path.join(path, "node_modules"))) visit(Path.join(path, "node_modules"))
      }
    }
  }
  visit(nodeModules)
  return found
}

describe("the packed package in an application of its own", () => {
  let root = ""
  let app = ""
  let packed: Packed
  let install: Ran

  beforeAll(async () => {
    expect(NFS.existsSync(Path.join(projectRoot, "dist", "index.js")), "build first: npm run build").toBe(true)
    root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-consumer-"))
    const pack = await run("npm", ["pack", "--json", "--pack-destination", root], projectRoot)
    expect(pack.ok, pack.output).toBe(true)
    packed = (JSON.parse(pack.stdout) as Array<Packed>)[0]!
    app = Path.join(root, "app")
    NFS.cpSync(Path.join(projectRoot, "test", "consumer"), app, { recursive: true })
    NFS.mkdirSync(Path.join(app, "readme"))
    for (const snippet of readmeSnippets()) NFS.writeFileSync(Path.join(app, "readme", snippet.file), snippet.code)
    // From npm's cache alone where it holds everything (metadata included), else the registry fills it in.
    const args = ["install", "--no-audit", "--no-fund", `../${packed.filename}`]
    install = await run("npm", [...args, "--offline"], app)
    if (!install.ok) install = await run("npm", [...args, "--prefer-offline"], app)
  }, 300_000)

  afterAll(() => {
    if (root !== "") NFS.rmSync(root, { recursive: true, force: true })
  })

  it("packs the built library and the daemon, without source maps, sources, tests or benchmarks", () => {
    const paths = packed.files.map((f) => f.path)
    expect(paths).toEqual(expect.arrayContaining(["package.json", "README.md", "docs/CONTRACT.md", "dist/index.js", "dist/index.d.ts", "dist/main.js", "dist/judgeWorker.js"]))
    expect(paths.filter((p) => p.endsWith(".map") || /^(src|test|bench|scripts|deploy|data|logs)\//.test(p))).toEqual([])
    expect(paths.every((p) => p.startsWith("dist/") || ["package.json", "README.md", "docs/CONTRACT.md"].includes(p))).toBe(true)
    // (4.0 MB and 384 files before `files` was set, 16 MB of them source maps unpacked)
    expect(packed.size).toBeLessThan(2 * 1024 * 1024)
  })

  it("installs beside the application's effect and @effect/platform: one copy of each", () => {
    expect(install.ok, install.output).toBe(true)
    const nodeModules = Path.join(app, "node_modules")
    // Peers, not dependencies: with its own copy pinned, an application on another effect 3.x would get two.
    const manifest = JSON.parse(NFS.readFileSync(Path.join(nodeModules, "customer-json-processor", "package.json"), "utf8")) as {
      dependencies: Record<string, string>
      peerDependencies: Record<string, string>
    }
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(["@effect/platform", "effect"])
    expect(Object.keys(manifest.dependencies)).not.toContain("effect")
    expect(Object.keys(manifest.dependencies)).not.toContain("@effect/platform")
    expect(copiesOf(nodeModules, "customer-json-processor")).toHaveLength(1)
    expect(copiesOf(nodeModules, "effect").map((p) => Path.relative(app, p))).toEqual([Path.join("node_modules", "effect")])
    expect(copiesOf(nodeModules, "@effect/platform").map((p) => Path.relative(app, p))).toEqual([Path.join("node_modules", "@effect", "platform")])
  })

  it("runs the packed daemon's command line", async () => {
    const schema = await run("node", [Path.join(app, "node_modules", "customer-json-processor", "dist", "main.js"), "schema"], app)
    expect(schema.ok, schema.output).toBe(true)
    expect(JSON.parse(schema.stdout)).toMatchObject({ $id: "urn:customer-json-processor:customer-file:v1" })
  })

  it("typechecks the application and the README's examples against the package's .d.ts", async () => {
    expect(install.ok).toBe(true)
    const typecheck = await run("npm", ["run", "typecheck"], app)
    expect(typecheck.ok, typecheck.output).toBe(true)
  }, 120_000)

  it("passes the application's own vitest suite", async () => {
    expect(install.ok).toBe(true)
    const results = Path.join(root, "results.json")
    const test = await run("npm", ["test", "--", "--reporter=json", `--outputFile=${results}`], app)
    expect(test.ok, test.output).toBe(true)
    const report = JSON.parse(NFS.readFileSync(results, "utf8")) as {
      testResults: Array<{ name: string; assertionResults: Array<{ fullName: string; status: string }> }>
    }
    const byFile = Object.fromEntries(report.testResults.map((r) => [Path.relative(app, r.name), r.assertionResults]))
    expect(Object.keys(byFile).sort()).toEqual(["pipeline.test.ts", Path.join("readme", "pipeline.test.ts")])
    const statuses = Object.values(byFile).flat().map((t) => [t.fullName, t.status])
    expect(statuses.filter(([, status]) => status !== "passed")).toEqual([])
    expect(statuses.map(([name]) => name)).toEqual(expect.arrayContaining([
      expect.stringContaining("routes files, writes reports dated by the TestClock"),
      expect.stringContaining("a Contract of the application's own is the one that judges"),
      expect.stringContaining("an added notification channel"),
      expect.stringContaining("an added Destination"),
      expect.stringContaining("routes a valid file and returns an invalid one")
    ]))
  }, 120_000)
})
