/**
 * The shell blocks of a Markdown document marked `<!-- recipe:NAME -->` (the
 * README's deployment): tests run them as they are written, so the text and
 * what works cannot drift apart.
 */

/** The `sh` block right after `<!-- recipe:NAME -->`; fails naming the marker when it is missing, repeated or not followed by one. */
export const recipe = (markdown: string, name: string): string => {
  const marker = `<!-- recipe:${name} -->`
  const at = markdown.indexOf(marker)
  if (at < 0) throw new Error(`no block marked ${marker}`)
  if (markdown.indexOf(marker, at + marker.length) >= 0) throw new Error(`${marker} marks more than one block`)
  const block = /^\s*```sh\n([\s\S]*?)\n```/.exec(markdown.slice(at + marker.length))
  if (block === null) throw new Error(`${marker} is not followed by a \`\`\`sh block`)
  return block[1]!
}

/** Every recipe name marked in the document, in order. */
export const recipeNames = (markdown: string): Array<string> =>
  [...markdown.matchAll(/<!-- recipe:([\w-]+) -->/g)].map((m) => m[1]!)

/** A systemd unit's `[Service]` settings: each key's values in order (comments and other sections left out). */
export const serviceSettings = (unit: string): Map<string, Array<string>> => {
  const settings = new Map<string, Array<string>>()
  let section = ""
  for (const raw of unit.split("\n")) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    const header = /^\[(.+)\]$/.exec(line)
    if (header !== null) {
      section = header[1]!
      continue
    }
    const eq = line.indexOf("=")
    if (section !== "Service" || eq < 0) continue
    const key = line.slice(0, eq).trim()
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1).trim()])
  }
  return settings
}

/** Words of a systemd value (`Environment=`, `ExecStart=`): split on spaces, a double-quoted word kept whole. */
export const unitWords = (value: string): Array<string> =>
  [...value.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!)

/** An `EnvironmentFile=`'s assignments, as systemd reads them: `KEY=VALUE` lines, `#`/`;` comments, quotes around a value removed. */
export const environmentFile = (text: string): Array<[string, string]> =>
  text.split("\n").flatMap((raw): Array<[string, string]> => {
    const line = raw.trim()
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
    if (line.startsWith("#") || line.startsWith(";") || m === null) return []
    const value = m[2]!
    const quoted = /^"(.*)"$|^'(.*)'$/.exec(value)
    return [[m[1]!, quoted === null ? value : (quoted[1] ?? quoted[2]!)]]
  })
