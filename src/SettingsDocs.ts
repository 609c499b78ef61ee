/**
 * README's settings table and `.env.example`, rendered from the settings table
 * in Config.ts: `npm run docs:settings` writes them (scripts/settings-docs.mjs),
 * and test/settingsDocs.test.ts fails when the files differ from what this
 * renders, so a setting cannot be added in one place and forgotten in another.
 * Pure functions of the table.
 */
import { settingEntries } from "./Config.js"
import type { Setting, SettingGroup, VariableName } from "./Config.js"

type Entries = ReadonlyArray<readonly [VariableName | string, Setting<unknown>]>

/** Each group's heading in `.env.example`, in the order the groups come. */
export const GROUP_INTROS: Readonly<Record<SettingGroup, string>> = {
  folders: "Folders, relative to the working directory (or absolute). Created if missing.",
  processing: "Processing: how files are taken, checked and stored.",
  http:
    "The status page, health and metrics over HTTP (GET /, /status.json, /healthz, /metrics): off when METRICS_PORT is empty.",
  logs:
    "Logs: LOG_DIR/app.log (INFO+), error.log (ERROR+ with causes), debug.log (only with DEBUG=true), all JSON Lines, rotated by size; plus the console.",
  notifications:
    "Notifications about rejected files and critical errors: by SMTP when SMTP_SERVER is set, as JSON POSTs with NOTIFY_WEBHOOK_URL, otherwise as .eml files in LOG_DIR/outbox/."
}

/** The markers around the generated table in README.md. */
export const README_BEGIN = "<!-- settings:begin: generated from src/Config.ts by `npm run docs:settings`; edit the table there -->"
export const README_END = "<!-- settings:end -->"

const cell = (text: string): string => text.replaceAll("|", "\\|")

/** The Markdown table, one row per setting, in the table's order. */
export const renderReadmeTable = (entries: Entries = settingEntries): string =>
  [
    "| variable | default | must be | meaning |",
    "|---|---|---|---|",
    ...entries.map(([name, s]) =>
      `| \`${name}\` | ${s.defaultText ?? (s.default === "" ? "—" : `\`${s.default}\``)} | ${cell(s.rule)} | ${cell(s.meaning)} |`
    )
  ].join("\n")

/** README with the text between the markers replaced by the table; undefined when a marker is missing. */
export const updateReadme = (readme: string, entries: Entries = settingEntries): string | undefined => {
  const begin = readme.indexOf(README_BEGIN)
  const end = readme.indexOf(README_END)
  if (begin < 0 || end < begin) return undefined
  return `${readme.slice(0, begin)}${README_BEGIN}\n${renderReadmeTable(entries)}\n${readme.slice(end)}`
}

/** `text` as `# ` comment lines of at most 80 characters. */
const comment = (text: string): Array<string> => {
  const lines: Array<string> = []
  let line = "#"
  for (const word of text.split(" ")) {
    if (line.length + 1 + word.length > 80 && line !== "#") {
      lines.push(line)
      line = "#"
    }
    line += ` ${word}`
  }
  return [...lines, line]
}

/** `.env.example`: every setting with its default, meaning and rule, grouped. */
export const renderEnvExample = (entries: Entries = settingEntries): string => {
  const out = [
    ...comment(
      "customer-json-processor configuration. Copy to .env (or set in the environment: the environment wins over .env). Every value below is the default; an empty value is the same as leaving the variable out."
    ),
    ...comment("Generated from src/Config.ts by `npm run docs:settings`: change the table there.")
  ]
  let group: SettingGroup | undefined
  for (const [name, s] of entries) {
    if (s.group !== group) {
      group = s.group
      out.push("", ...comment(GROUP_INTROS[group]))
    }
    out.push(...comment(`${name}: ${s.meaning.replaceAll("`", "")}. Must be ${s.rule}.`), `${name}=${s.default}`)
  }
  return out.join("\n") + "\n"
}
