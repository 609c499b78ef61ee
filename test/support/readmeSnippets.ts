/** The README's compiled examples: fenced ```ts blocks marked `file=NAME`, each a complete module. */
import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const projectRoot = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "..", "..")

export interface Snippet {
  /** the file name the marker gives (`pipeline.test.ts`) */
  readonly file: string
  readonly code: string
  /** 1-based line of the block's first code line in README.md */
  readonly line: number
}

const FENCE = /^```ts file=([A-Za-z0-9._-]+\.ts)\n([\s\S]*?)^```$/gm

/** Every marked block of the README, in order. */
export const readmeSnippets = (readme = NFS.readFileSync(Path.join(projectRoot, "README.md"), "utf8")): ReadonlyArray<Snippet> =>
  [...readme.matchAll(FENCE)].map((m) => ({
    file: m[1]!,
    code: m[2]!,
    line: readme.slice(0, m.index).split("\n").length + 1
  }))

/** The README's library section ("## Using it as a library" up to the next `## `). */
export const librarySection = (readme = NFS.readFileSync(Path.join(projectRoot, "README.md"), "utf8")): string => {
  const start = readme.indexOf("\n## Using it as a library\n")
  const end = readme.indexOf("\n## ", start + 1)
  return start < 0 ? "" : readme.slice(start, end < 0 ? undefined : end)
}
