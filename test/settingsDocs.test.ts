import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import * as NFS from "node:fs"
import { DEFAULTS, SETTINGS, settingEntries } from "../src/Config.js"
import type { Setting } from "../src/Config.js"
import { README_BEGIN, README_END, renderEnvExample, renderReadmeTable, updateReadme } from "../src/SettingsDocs.js"

const readme = NFS.readFileSync(new URL("../README.md", import.meta.url), "utf8")
const envExample = NFS.readFileSync(new URL("../.env.example", import.meta.url), "utf8")
const HOW = "out of date: run `npm run docs:settings`"

/** The README rows between the markers, as [name, default column]. */
const readmeRows = (text: string): Array<[string, string]> => {
  const section = text.slice(text.indexOf(README_BEGIN), text.indexOf(README_END))
  return [...section.matchAll(/^\| `([A-Z_]+)` \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()])
}

/** The `NAME=value` lines of an env file. */
const envLines = (text: string): Array<[string, string]> =>
  [...text.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!])

describe("README's settings table and .env.example come from the settings table", () => {
  it("README's table is the one the settings table renders", () => {
    expect(updateReadme(readme), HOW).toBe(readme)
  })

  it(".env.example is the one the settings table renders", () => {
    expect(renderEnvExample(), HOW).toBe(envExample)
  })

  it("both list exactly the table's settings, in its order, with its defaults", () => {
    const names = Object.keys(SETTINGS)
    expect(readmeRows(readme).map(([name]) => name)).toEqual(names)
    expect(envLines(envExample)).toEqual(names.map((name) => [name, DEFAULTS[name as keyof typeof DEFAULTS]]))
    for (const [name, shown] of readmeRows(readme)) {
      const spec = SETTINGS[name as keyof typeof SETTINGS] as Setting<unknown>
      expect(shown, name).toBe(spec.defaultText ?? (spec.default === "" ? "—" : `\`${spec.default}\``))
    }
  })

  it("a setting added to the table and not to the files fails the checks above", () => {
    const added: Setting<string> = {
      group: "logs",
      default: "7",
      meaning: "a setting nobody documented",
      rule: "any text",
      secret: false,
      parse: Option.some,
      show: () => ""
    }
    const more = [...settingEntries, ["NEW_SETTING", added] as const]
    expect(updateReadme(readme, more)).not.toBe(readme)
    expect(renderEnvExample(more)).not.toBe(envExample)
    expect(renderReadmeTable(more)).toContain("| `NEW_SETTING` | `7` | any text | a setting nobody documented |")
    expect(envLines(renderEnvExample(more))).toContainEqual(["NEW_SETTING", "7"])
  })

  it("each group's settings are together (one heading each in .env.example)", () => {
    const groups = settingEntries.map(([, s]) => s.group).filter((g, i, all) => i === 0 || all[i - 1] !== g)
    expect(new Set(groups).size).toBe(groups.length)
  })

  it("README without its markers is refused, not rewritten", () => {
    expect(updateReadme("# no table here\n")).toBeUndefined()
  })
})
