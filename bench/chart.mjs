// The scaling chart: peak RSS (MB, left axis) and files/s (right axis) against
// the backlog's size (log scale). A pure function of the points, so it is
// tested directly (test/benchTools.test.ts); bench/run.mjs writes its text.

const WIDTH = 760
const HEIGHT = 440
const M = { left: 78, right: 92, top: 70, bottom: 64 }
const RSS_COLOUR = "#c0392b"
const RATE_COLOUR = "#1f5fa8"

/** Text for XML character data and attribute values. */
export const escapeXml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c])

/** 1234567 -> "1,234,567" (no locale: the same text on every machine). */
export const groupDigits = (n) => {
  const [whole, fraction] = String(Math.abs(n)).split(".")
  return `${n < 0 ? "-" : ""}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${fraction === undefined ? "" : `.${fraction}`}`
}

/** An axis label for a backlog size: 1000 -> "1k", 1000000 -> "1M". */
export const shortCount = (n) => {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`
  return groupDigits(n)
}

/** The smallest 1, 2 or 5 × 10^k at or above `x` (x > 0). */
const niceCeil = (x) => {
  const p = 10 ** Math.floor(Math.log10(x))
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= x * (1 - 1e-12)) ?? 10 * p
}

const round1 = (x) => Math.round(x * 10) / 10

/**
 * SVG text for `points` (`{ files, files_per_s, peak_rss_mb }`, any order).
 * `options.limits`: horizontal RSS lines (`{ mb, label }`, e.g. the targets);
 * `options.title`, `options.subtitle`: the heading (the subtitle says how it was measured).
 */
export const scalingSvg = (points, options = {}) => {
  const title = options.title ?? "Backlog scaling: peak RSS and throughput against backlog size"
  const subtitle = options.subtitle ?? ""
  const limits = options.limits ?? []
  const sorted = [...points].sort((a, b) => a.files - b.files)
  const plotW = WIDTH - M.left - M.right
  const plotH = HEIGHT - M.top - M.bottom
  const out = []
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`)
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`)
  out.push(`<title>${escapeXml(title)}</title>`)
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`)
  out.push(`<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`)
  if (subtitle !== "") out.push(`<text x="${WIDTH / 2}" y="42" text-anchor="middle" fill="#555555">${escapeXml(subtitle)}</text>`)
  if (sorted.length === 0) {
    out.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no measurements</text>`, `</svg>`)
    return out.join("\n") + "\n"
  }

  // x: log scale, a third of a decade of room either side of the sizes
  const logLo = Math.log10(sorted[0].files) - 1 / 3
  const logHi = Math.max(Math.log10(sorted[sorted.length - 1].files) + 1 / 3, logLo + 1)
  const x = (files) => M.left + ((Math.log10(files) - logLo) / (logHi - logLo)) * plotW
  const inside = (files) => Math.log10(files) >= logLo - 1e-9 && Math.log10(files) <= logHi + 1e-9
  // y: from zero, to a round number above the highest value (and the limits)
  const rssMax = niceCeil(Math.max(1, ...sorted.map((p) => p.peak_rss_mb), ...limits.map((l) => l.mb)) * 1.1)
  const rateMax = niceCeil(Math.max(1, ...sorted.map((p) => p.files_per_s)) * 1.1)
  const yRss = (mb) => M.top + plotH - (mb / rssMax) * plotH
  const yRate = (rate) => M.top + plotH - (rate / rateMax) * plotH

  // frame and grid
  out.push(`<g stroke="#dddddd" stroke-width="1">`)
  for (let i = 1; i <= 4; i++) out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${round1(M.top + (plotH * i) / 5)}" y2="${round1(M.top + (plotH * i) / 5)}"/>`)
  out.push(`</g>`)
  out.push(`<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`)

  // x axis: a labelled tick at each size measured and at each decade not
  // crowding one of them, unlabelled ones at 2× and 5×
  const tick = (files, length, label) => {
    const px = round1(x(files))
    out.push(`<line x1="${px}" x2="${px}" y1="${M.top + plotH}" y2="${M.top + plotH + length}" stroke="#333333"/>`)
    if (label) out.push(`<text x="${px}" y="${M.top + plotH + 20}">${escapeXml(shortCount(files))}</text>`)
  }
  out.push(`<g font-size="11" text-anchor="middle">`)
  for (const p of sorted) tick(p.files, 6, true)
  for (let d = 10 ** Math.floor(logLo); d <= 10 ** logHi; d *= 10) {
    if (inside(d)) tick(d, 6, sorted.every((p) => Math.abs(x(p.files) - x(d)) > 36))
    for (const m of [2, 5]) if (inside(d * m)) tick(d * m, 3, false)
  }
  out.push(`</g>`)
  out.push(`<text x="${M.left + plotW / 2}" y="${HEIGHT - 18}" text-anchor="middle">files waiting in data/ at start (log scale)</text>`)

  // y axes: RSS on the left, files/s on the right
  out.push(`<g font-size="11">`)
  for (let i = 0; i <= 5; i++) {
    const mb = (rssMax * i) / 5
    const rate = (rateMax * i) / 5
    const py = round1(yRss(mb))
    out.push(`<text x="${M.left - 8}" y="${py + 4}" text-anchor="end" fill="${RSS_COLOUR}">${escapeXml(groupDigits(round1(mb)))}</text>`)
    out.push(`<text x="${M.left + plotW + 8}" y="${py + 4}" text-anchor="start" fill="${RATE_COLOUR}">${escapeXml(groupDigits(Math.round(rate)))}</text>`)
  }
  out.push(`</g>`)
  out.push(`<text transform="translate(20 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="${RSS_COLOUR}">peak RSS (MB)</text>`)
  out.push(`<text transform="translate(${WIDTH - 16} ${M.top + plotH / 2}) rotate(90)" text-anchor="middle" fill="${RATE_COLOUR}">files per second</text>`)

  // limits (targets) on the RSS axis: dashed, labelled at the right edge
  for (const limit of limits) {
    const py = round1(yRss(limit.mb))
    out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${py}" y2="${py}" stroke="${RSS_COLOUR}" stroke-dasharray="6 4" stroke-opacity="0.6"/>`)
    out.push(`<text x="${M.left + plotW - 4}" y="${py - 4}" text-anchor="end" font-size="10" fill="${RSS_COLOUR}">${escapeXml(limit.label ?? `${limit.mb} MB`)}</text>`)
  }

  // the two series, each point labelled with its value
  const series = [
    { name: "peak RSS (MB)", colour: RSS_COLOUR, y: (p) => yRss(p.peak_rss_mb), label: (p) => `${groupDigits(Math.round(p.peak_rss_mb))} MB`, dy: -10, marker: "circle" },
    { name: "files/s", colour: RATE_COLOUR, y: (p) => yRate(p.files_per_s), label: (p) => `${groupDigits(Math.round(p.files_per_s))} files/s`, dy: 18, marker: "square" }
  ]
  for (const s of series) {
    const coords = sorted.map((p) => `${round1(x(p.files))},${round1(s.y(p))}`)
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">`)
    if (coords.length > 1) out.push(`<polyline points="${coords.join(" ")}" fill="none" stroke="${s.colour}" stroke-width="2"/>`)
    for (const p of sorted) {
      const px = round1(x(p.files))
      const py = round1(s.y(p))
      out.push(
        s.marker === "circle"
          ? `<circle cx="${px}" cy="${py}" r="4" fill="${s.colour}"/>`
          : `<rect x="${round1(px - 4)}" y="${round1(py - 4)}" width="8" height="8" fill="${s.colour}"/>`
      )
      out.push(`<text x="${px}" y="${round1(py + s.dy)}" text-anchor="middle" font-size="11" fill="${s.colour}">${escapeXml(s.label(p))}</text>`)
    }
    out.push(`</g>`)
  }

  // legend
  const lx = M.left + 10
  const ly = M.top - 14
  out.push(`<g font-size="11">`)
  out.push(`<circle cx="${lx}" cy="${ly - 4}" r="4" fill="${RSS_COLOUR}"/><text x="${lx + 10}" y="${ly}">peak RSS of the daemon (VmHWM)</text>`)
  out.push(`<rect x="${lx + 226}" y="${ly - 8}" width="8" height="8" fill="${RATE_COLOUR}"/><text x="${lx + 240}" y="${ly}">files/s (whole process, --once)</text>`)
  out.push(`</g>`)
  out.push(`</svg>`)
  return out.join("\n") + "\n"
}
