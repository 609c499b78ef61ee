// The README's library section cannot drift (issue 26 item 5): each of its
// TypeScript blocks is marked `file=NAME` and is typechecked here as a module
// of its own, importing "customer-json-processor" (the sources, src/index.ts),
// with the project's compiler options. (test/consumer.test.ts checks them again
// against the packed package.)
import { describe, expect, it } from "vitest"
import * as Path from "node:path"
import ts from "typescript"
import { librarySection, projectRoot, readmeSnippets } from "./support/readmeSnippets.js"

/** Diagnostics of the snippets, compiled as files of a folder inside the project (so that node_modules resolves). */
const typecheck = (snippets: ReadonlyArray<{ readonly file: string; readonly code: string }>): ReadonlyArray<string> => {
  const config = ts.getParsedCommandLineOfConfigFile(Path.join(projectRoot, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: () => {}
  })
  if (config === undefined) return ["no tsconfig.json"]
  const dir = Path.join(projectRoot, "test", ".readme-snippets")
  const files = new Map(snippets.map((s) => [Path.join(dir, s.file), s.code]))
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    declaration: false,
    rootDir: projectRoot,
    baseUrl: projectRoot,
    paths: { "customer-json-processor": ["src/index.ts"] }
  }
  const host = ts.createCompilerHost(options)
  const { fileExists, readFile, getSourceFile } = host
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f)
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f)
  host.getSourceFile = (f, language, onError, fresh) => {
    const code = files.get(f)
    return code !== undefined ? ts.createSourceFile(f, code, language, true) : getSourceFile.call(host, f, language, onError, fresh)
  }
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host })
  return ts.getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && files.has(d.file.fileName))
    .map((d) => {
      const { line, character } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0)
      return `${Path.basename(d.file!.fileName)}:${line + 1}:${character + 1} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
    })
}

describe("the README's library section", () => {
  const snippets = readmeSnippets()

  it("is a set of complete modules: every TypeScript block of it is marked with its file name", () => {
    const section = librarySection()
    expect(section).not.toBe("")
    const blocks = [...section.matchAll(/^```ts(.*)$/gm)].map((m) => m[1]!.trim())
    expect(blocks.length).toBeGreaterThanOrEqual(4)
    expect(blocks.filter((info) => !/^file=[A-Za-z0-9._-]+\.ts$/.test(info))).toEqual([])
    expect(snippets.map((s) => s.file)).toContain("pipeline.test.ts")
    expect(new Set(snippets.map((s) => s.file)).size).toBe(snippets.length)
  })

  it("compiles against the package's sources", () => {
    expect(typecheck(snippets)).toEqual([])
  }, 120_000)

  it("fails on a snippet that does not compile (the check is real)", () => {
    const broken = { file: "broken.ts", code: 'import { validateText } from "customer-json-processor"\nexport const n: number = validateText("{}")\n' }
    expect(typecheck([broken])).toEqual([expect.stringMatching(/^broken\.ts:2:14 Type 'Effect<Verdict/)])
  }, 120_000)
})
