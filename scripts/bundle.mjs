// Bundles the daemon's entry point into one file, dist/main.js (after `tsc`
// has emitted the library modules beside it). Resolving and compiling some
// 600 ES modules of effect, @effect/platform and @effect/cli one by one took
// 0.6 s and 35 MB at every start; one bundled module takes a third of that.
// The library surface (dist/index.js and the other modules) stays unbundled.
import * as esbuild from "esbuild"

// The daemon's entry point, and the worker thread that judges large files (src/contract/OffThreadJudge.ts).
for (const [entry, outfile] of [["src/main.ts", "dist/main.js"], ["src/contract/judgeWorker.ts", "dist/judgeWorker.js"]]) await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // jsonc-parser's "main" is a UMD build esbuild cannot follow; its "module" build is plain ESM.
  mainFields: ["module", "main"],
  // CommonJS dependencies (nodemailer) call require() for Node's built-in modules.
  banner: { js: "import { createRequire as __createRequire } from \"node:module\";\nconst require = __createRequire(import.meta.url);" },
  sourcemap: "linked",
  logLevel: "warning"
})
