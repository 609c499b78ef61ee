// Masker throughput: megabytes of log text per second on one core.
// Run with `npm run bench:masker` (builds first). Not a test: figures only.
import { maskText } from "../dist/masking/Masking.js"

const lines = []
for (let i = 0; i < 200_000; i++) {
  const pii = i % 20 === 0 ? `,"note":"card 4111 1111 1111 1111 from ada.lovelace@example.com"` : ""
  lines.push(
    `{"ts":"2026-11-28T17:55:21.${String(i % 1000).padStart(3, "0")}Z","level":"INFO","msg":"file processed",` +
      `"file":"customers-${String(i).padStart(6, "0")}.json","outcome":"validated","records":${1 + (i % 5)},` +
      `"duration_ms":${i % 50},"error_count":0,"instance":"host-1234-abcdef","received_ms":${1795888521580 + i}${pii}}`
  )
}
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0)
let best = Infinity
for (let round = 0; round < 5; round++) {
  const t0 = process.hrtime.bigint()
  let out = 0
  for (const line of lines) out += maskText(line).length
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  if (out === 0) throw new Error("nothing masked")
  best = Math.min(best, seconds)
}
const mbPerSecond = bytes / 1e6 / best
process.stdout.write(`masker: ${(bytes / 1e6).toFixed(1)} MB of log lines in ${best.toFixed(3)} s = ${mbPerSecond.toFixed(0)} MB/s (best of 5, one core)\n`)
