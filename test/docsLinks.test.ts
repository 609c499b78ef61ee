/** The README's and docs' links between themselves point at files and headings that exist. */
import { describe, expect, it } from "vitest"
import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const REPO = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const DOCS = ["README.md", ...NFS.readdirSync(Path.join(REPO, "docs")).filter((n) => n.endsWith(".md")).map((n) => `docs/${n}`)]

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string): string =>
  heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")

/** Headings outside fenced code blocks. */
const anchors = (markdown: string): Set<string> => {
  const found = new Set<string>()
  let fenced = false
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced
    const heading = /^#{1,6} (.*)$/.exec(line)
    if (!fenced && heading !== null) found.add(anchorOf(heading[1]!))
  }
  return found
}

/** Relative Markdown links `[text](target)` outside fenced code blocks. */
const links = (markdown: string): Array<string> =>
  markdown
    .split(/^```.*$/m)
    .filter((_, i) => i % 2 === 0)
    .flatMap((text) => [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!))
    .filter((target) => !/^[a-z]+:/.test(target))

describe("links between the README and docs/", () => {
  it("anchors are made as GitHub makes them", () => {
    expect(anchorOf("Requeue: sending returned files through again")).toBe("requeue-sending-returned-files-through-again")
    expect(anchorOf("1. Build, and install the build")).toBe("1-build-and-install-the-build")
    expect(anchorOf("`GET /status.json`")).toBe("get-statusjson")
    expect(anchorOf("Backlog: 10,000 files")).toBe("backlog-10000-files")
  })

  it.each(DOCS)("every link of %s names a file that exists and a heading in it", (doc) => {
    const text = NFS.readFileSync(Path.join(REPO, doc), "utf8")
    const broken: Array<string> = []
    for (const target of links(text)) {
      const [file, anchor] = target.split("#") as [string, string | undefined]
      const path = file === "" ? Path.join(REPO, doc) : Path.resolve(Path.dirname(Path.join(REPO, doc)), file)
      if (!NFS.existsSync(path)) broken.push(`${target}: no such file`)
      else if (anchor !== undefined && path.endsWith(".md") && !anchors(NFS.readFileSync(path, "utf8")).has(anchor)) broken.push(`${target}: no such heading`)
    }
    expect(broken).toEqual([])
  })
})
