// The public API documents itself (issue 26 item 5): every member the package
// exports (src/index.ts and the modules it re-exports) has a doc comment, each
// re-exported module has a `@module` header, and each namespace export says
// what the module is for. Read with the TypeScript compiler, as an editor would.
import { describe, expect, it } from "vitest"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "..")
const indexPath = Path.join(root, "src", "index.ts")

const program = () => {
  const config = ts.getParsedCommandLineOfConfigFile(Path.join(root, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => expect.fail(ts.flattenDiagnosticMessageText(d.messageText, "\n"))
  })
  if (config === undefined) return expect.fail("no tsconfig.json")
  // Only index.ts as root: the files it reaches are the public surface and what it needs.
  return ts.createProgram({ rootNames: [indexPath], options: config.options })
}

const docOf = (symbol: ts.Symbol, checker: ts.TypeChecker): string =>
  ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim()

const resolved = (symbol: ts.Symbol, checker: ts.TypeChecker): ts.Symbol =>
  symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol

/** The first comment of a file, if it is a `/** … *\/` with a `@module` (or TSDoc's `@packageDocumentation`) tag. */
const moduleComment = (source: ts.SourceFile): string | undefined => {
  const ranges = ts.getLeadingCommentRanges(source.text, 0) ?? []
  const first = ranges[0]
  if (first === undefined) return undefined
  const text = source.text.slice(first.pos, first.end)
  return text.startsWith("/**") && /^\s*\*\s*@(module|packageDocumentation)\b/m.test(text) ? text : undefined
}

describe("the public API's documentation", () => {
  const built = program()
  const checker = built.getTypeChecker()
  const index = built.getSourceFile(indexPath)!
  const indexModule = checker.getSymbolAtLocation(index)!

  /** `export * as X from "./m.js"` in index.ts: the namespace, its module file and the export's own doc. */
  const namespaces = index.statements.filter(ts.isExportDeclaration).flatMap((statement) => {
    const clause = statement.exportClause
    if (clause === undefined || !ts.isNamespaceExport(clause) || statement.moduleSpecifier === undefined) return []
    const target = checker.getSymbolAtLocation(statement.moduleSpecifier)
    const file = target?.valueDeclaration
    const doc = ts.getJSDocCommentsAndTags(statement).map((d) => (ts.isJSDoc(d) ? ts.getTextOfJSDocComment(d.comment) ?? "" : "")).join("").trim()
    return [{ name: clause.name.text, target, file: file !== undefined && ts.isSourceFile(file) ? file : undefined, doc }]
  })

  it("finds the namespaces of src/index.ts", () => {
    expect(namespaces.map((n) => n.name)).toContain("Contract")
    expect(namespaces.every((n) => n.target !== undefined && n.file !== undefined)).toBe(true)
  })

  it("documents every member of every module the package exports", () => {
    const missing: Array<string> = []
    let members = 0
    for (const ns of namespaces) {
      for (const member of checker.getExportsOfModule(ns.target!)) {
        members++
        if (docOf(resolved(member, checker), checker) === "") missing.push(`${ns.name}.${member.name}`)
      }
    }
    const direct = checker.getExportsOfModule(indexModule).filter((s) => !namespaces.some((n) => n.name === s.name))
    for (const symbol of direct) {
      members++
      if (docOf(resolved(symbol, checker), checker) === "") missing.push(symbol.name)
    }
    expect(members).toBeGreaterThan(200)
    expect(missing, `exported without a doc comment:\n${missing.join("\n")}`).toEqual([])
  })

  it("says on each namespace export of src/index.ts what the module is for", () => {
    expect(namespaces.filter((n) => n.doc === "").map((n) => n.name)).toEqual([])
  })

  it("gives each re-exported module a @module header (the first comment of the file)", () => {
    const files = [index, ...namespaces.map((n) => n.file!)]
    expect(files.filter((f) => moduleComment(f) === undefined).map((f) => Path.relative(root, f.fileName))).toEqual([])
    expect(moduleComment(index)).toMatch(/@packageDocumentation/)
  })
})
