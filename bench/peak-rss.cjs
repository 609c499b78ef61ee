// Preloaded into the daemon by bench/run.mjs (`node --require bench/peak-rss.cjs
// dist/main.js`): at the process's "exit" event, the last moment its memory is
// still its own, it writes its VmHWM (peak resident set, kB, from
// /proc/self/status) to the file named by CJP_BENCH_PEAK_FILE. One read, no
// polling; nothing else in the daemon changes. (The daemon's own max_rss_mb in
// its "stopped" line is the same kernel counter read earlier, before its last
// notifications.)
"use strict"
const FS = require("node:fs")

const target = process.env.CJP_BENCH_PEAK_FILE
if (target) {
  process.on("exit", () => {
    const match = /^VmHWM:\s*(\d+)\s*kB/m.exec(FS.readFileSync("/proc/self/status", "utf8"))
    if (match) FS.writeFileSync(target, `${match[1]}\n`)
  })
}
