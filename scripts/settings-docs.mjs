// Writes README's settings table and .env.example from the settings table in
// src/Config.ts (run `npm run docs:settings`, which compiles src/ first).
// test/settingsDocs.test.ts fails when either file is out of date.
import * as NFS from "node:fs"
import { renderEnvExample, updateReadme } from "../dist/SettingsDocs.js"

const readme = NFS.readFileSync("README.md", "utf8")
const updated = updateReadme(readme)
if (updated === undefined) {
  process.stderr.write("README.md: the settings markers (<!-- settings:begin … --> and <!-- settings:end -->) are missing\n")
  process.exit(1)
}
NFS.writeFileSync("README.md", updated)
NFS.writeFileSync(".env.example", renderEnvExample())
process.stdout.write("README.md and .env.example written from src/Config.ts\n")
