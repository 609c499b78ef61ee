// The modules of src/ import downwards only (issue 26 item 4): no import
// cycle between modules, none between the folders of the concerns (contract/,
// files/, instances/, notify/, status/, …), and daemon/, which drives them
// all, imported by nothing but the application's composition at the root of
// src/; the adapters/ folders (the implementations of the ports users swap:
// Destination, Delivery, Notifier, FileOps) are imported only by that
// composition, by each other and by the few assemblies listed. Every import
// counts, `import type` and `export … from` included: a type import that runs
// up ties the lower module to the higher one all the same. The imports are
// read with the TypeScript compiler's own pre-processor.
import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { describe, expect, it } from "vitest"

const src = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "..", "src")

/** Every module of src/, as a path relative to it with `/` separators. */
const modules = (NFS.readdirSync(src, { recursive: true, encoding: "utf8" }) as Array<string>)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  .map((f) => f.split(Path.sep).join("/"))
  .sort()

/** The relative imports of one module, resolved to modules of src/ (`./X.js` is `./X.ts`). */
const importsOf = (module: string): ReadonlyArray<string> =>
  ts.preProcessFile(NFS.readFileSync(Path.join(src, module), "utf8"), true, true).importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => Path.posix.normalize(Path.posix.join(Path.posix.dirname(module), name.replace(/\.js$/, ".ts"))))

const graph = new Map(modules.map((m) => [m, [...new Set(importsOf(m))]] as const))

/** The concern a module belongs to: its folder under src/, or undefined for the modules at the root. */
const folderOf = (module: string): string | undefined => (module.includes("/") ? module.split("/")[0] : undefined)

/**
 * Imports that run up and are not fixed yet, each with why. The test fails
 * when one is no longer there, so that the list cannot outlive it.
 */
const PENDING: ReadonlyArray<readonly [from: string, to: string, why: string]> = []
const isPending = (from: string, to: string) => PENDING.some(([f, t]) => f === from && t === to)

/** A module of an `adapters/` folder: an implementation of a port (Destination, Delivery, Notifier, FileOps and FileSystem). */
const isAdapter = (module: string): boolean => module.split("/").slice(0, -1).includes("adapters")

/** The ports users swap or add to: the modules that declare them stay out of adapters/. */
const PORTS: ReadonlyArray<string> = ["destinations/Destination.ts", "notify/Delivery.ts", "notify/Notifier.ts", "files/FileOps.ts"]

/**
 * Core modules that assemble a concern's built-in adapters, each with why:
 * the only imports into adapters/ from outside them but the composition.
 */
const ASSEMBLIES: ReadonlyArray<readonly [from: string, to: string, why: string]> = [
  ["destinations/Destinations.ts", "destinations/adapters/FolderDestination.ts", "builds the two built-in folders beside the added destinations"],
  ["files/SyscallMode.ts", "files/adapters/NodeSync.ts", "picks Node's backend per FS_CALLS and each folder's filesystem"],
  ["files/SyscallMode.ts", "files/adapters/NodeAsync.ts", "picks Node's backend per FS_CALLS and each folder's filesystem"]
]
const isAssembly = (from: string, to: string) => ASSEMBLIES.some(([f, t]) => f === from && t === to)

/** The strongly connected components of more than one node (Tarjan), each in a readable order. */
const cycles = (nodes: ReadonlyArray<string>, next: (node: string) => ReadonlyArray<string>): Array<Array<string>> => {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: Array<string> = []
  const onStack = new Set<string>()
  const found: Array<Array<string>> = []
  const visit = (v: string) => {
    index.set(v, index.size)
    low.set(v, index.get(v)!)
    stack.push(v)
    onStack.add(v)
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const component: Array<string> = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || next(v).includes(v)) found.push(component.sort())
    }
  }
  for (const node of nodes) if (!index.has(node)) visit(node)
  return found
}

/** The folder-to-folder imports, each with the module imports behind it. */
const folderEdges = (): Map<string, Array<string>> => {
  const edges = new Map<string, Array<string>>()
  for (const [from, imports] of graph) {
    for (const to of imports) {
      const a = folderOf(from)
      const b = folderOf(to)
      if (a === undefined || b === undefined || a === b || isPending(from, to)) continue
      const key = `${a} -> ${b}`
      edges.set(key, [...(edges.get(key) ?? []), `${from} -> ${to}`])
    }
  }
  return edges
}

describe("the import graph of src/", () => {
  it("is read whole: every relative import names a module of src/", () => {
    expect(modules.length).toBeGreaterThan(60)
    expect(modules).toContain("daemon/Pipeline.ts")
    const unresolved = [...graph].flatMap(([from, imports]) => imports.filter((to) => !graph.has(to)).map((to) => `${from} -> ${to}`))
    expect(unresolved).toEqual([])
    // Type imports and re-exports are edges too.
    expect(graph.get("status/Activity.ts")).toContain("events/Notifications.ts")
    expect(graph.get("notify/Notifier.ts")).toContain("events/Notifications.ts")
  })

  it("has no cycle between modules", () => {
    const found = cycles(modules, (m) => graph.get(m) ?? [])
    expect(found, `modules that import each other:\n${found.map((c) => c.join(" <-> ")).join("\n")}`).toEqual([])
  })

  it("has no cycle between the folders of the concerns", () => {
    const edges = folderEdges()
    const folders = [...new Set(modules.flatMap((m) => folderOf(m) ?? []))]
    const next = (folder: string) => [...edges.keys()].filter((k) => k.startsWith(`${folder} -> `)).map((k) => k.split(" -> ")[1]!)
    const found = cycles(folders, next)
    const explain = found.map((c) =>
      [c.join(" <-> "), ...[...edges].filter(([k]) => c.includes(k.split(" -> ")[0]!) && c.includes(k.split(" -> ")[1]!)).flatMap(([, v]) => v.map((e) => `  ${e}`))].join("\n")
    )
    expect(found, `folders that import each other:\n${explain.join("\n")}`).toEqual([])
  })

  it("imports daemon/ only from the application's composition at the root of src/", () => {
    const upward = [...graph].flatMap(([from, imports]) =>
      folderOf(from) === "daemon" || folderOf(from) === undefined
        ? []
        : imports.filter((to) => folderOf(to) === "daemon" && !isPending(from, to)).map((to) => `${from} -> ${to}`)
    )
    expect(upward).toEqual([])
  })

  it.each([
    ["contract/", "daemon/"],
    ["instances/", "daemon/"],
    ["files/", "instances/"],
    ["status/", "notify/"]
  ])("has no import from %s into %s (the ones issue 26 found)", (from, to) => {
    const found = [...graph].flatMap(([m, imports]) =>
      m.startsWith(from) ? imports.filter((i) => i.startsWith(to)).map((i) => `${m} -> ${i}`) : []
    )
    expect(found).toEqual([])
  })

  it("keeps files/internal/ behind the FileOps port: the port imports none of it, and only files/ (its adapters included) does", () => {
    expect(graph.get("files/FileOps.ts")!.filter((m) => m.startsWith("files/internal/"))).toEqual([])
    const users = [...graph].flatMap(([from, imports]) =>
      from.startsWith("files/") || !imports.some((m) => m.startsWith("files/internal/")) ? [] : [from]
    )
    expect(users).toEqual([])
    expect(graph.get("index.ts")!.filter((m) => m.includes("/internal/"))).toEqual([])
  })

  it("keeps the adapters apart from the core: an adapters/ module is imported only by the composition at the root of src/, by adapters, or by an assembly listed in ASSEMBLIES", () => {
    expect(modules.filter(isAdapter)).toEqual(expect.arrayContaining([
      "destinations/adapters/FolderDestination.ts",
      "files/adapters/MemoryFileSystem.ts",
      "files/adapters/NodeSync.ts",
      "notify/adapters/SmtpDelivery.ts"
    ]))
    const intoAdapters = [...graph].flatMap(([from, imports]) =>
      folderOf(from) === undefined || isAdapter(from)
        ? []
        : imports.filter((to) => isAdapter(to) && !isAssembly(from, to)).map((to) => `${from} -> ${to}`)
    )
    expect(intoAdapters).toEqual([])
    // The ports themselves, in particular, know none of their adapters.
    for (const port of PORTS) expect(graph.get(port)!.filter(isAdapter), port).toEqual([])
  })

  it.each(ASSEMBLIES)("still has the assembly import %s -> %s (%s): remove it from ASSEMBLIES once it is gone", (from, to) => {
    expect(graph.get(from)).toContain(to)
  })

  it.each(PENDING)("still has the pending import %s -> %s (%s): remove it from PENDING once it is gone", (from, to) => {
    expect(graph.get(from)).toContain(to)
  })
})
