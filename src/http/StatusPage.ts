/**
 * `GET /`: the live status page, one self-contained document (no CDN, fonts
 * or files of its own: servers are often offline). Its script fetches
 * `status.json` every few seconds and builds everything with DOM calls and
 * `textContent` (never `innerHTML`: names come from producers), the chart as
 * inline SVG. The Content-Security-Policy allows exactly this style and this
 * script by their SHA-256 hashes, and fetching from the same origin.
 */
import * as Crypto from "node:crypto"
import { OUTCOME_KINDS } from "../status/Activity.js"
import type { OutcomeKind } from "../status/Activity.js"

export const REFRESH_MS = 3000

const STYLE = `
:root{--bg:#f5f6f8;--fg:#1d2330;--muted:#5d6677;--card:#fff;--line:#dde1e8;--ok:#1f9d55;--warn:#c77c02;--bad:#d0343a;--info:#2f6fd6;--idle:#8a93a3;--grid:#e6e9ee;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#12151b;--fg:#e4e8ef;--muted:#98a1b2;--card:#1b2029;--line:#2c333f;--ok:#3fbf77;--warn:#e0a030;--bad:#f0595f;--info:#6a9cf0;--idle:#6d7585;--grid:#262c37}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:6px 16px;padding:12px 20px;background:var(--card);border-bottom:1px solid var(--line)}
h1{font-size:17px;margin:0;font-weight:600;display:flex;align-items:center;gap:10px}
h2{font-size:13px;margin:0 0 10px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;display:flex;flex-wrap:wrap;gap:4px 14px;align-items:baseline}
h2 .aside{font-weight:400;text-transform:none;letter-spacing:0}
.meta{display:flex;flex-wrap:wrap;gap:4px 14px;color:var(--muted);font-size:13px}
.meta b{color:var(--fg);font-weight:600}
.dot{width:12px;height:12px;border-radius:50%;background:var(--idle);flex:none}
.dot.ok{background:var(--ok);box-shadow:0 0 0 4px color-mix(in srgb,var(--ok) 20%,transparent)}
.dot.warn{background:var(--warn)}.dot.bad{background:var(--bad)}
main{max-width:1240px;margin:0 auto;padding:16px 20px;display:grid;gap:16px}
.banner{max-width:1200px;margin:14px auto 0;padding:10px 14px;border-radius:8px;font-weight:500;width:calc(100% - 40px)}
.banner.bad{background:color-mix(in srgb,var(--bad) 14%,var(--card));border:1px solid var(--bad)}
.banner.warn{background:color-mix(in srgb,var(--warn) 14%,var(--card));border:1px solid var(--warn)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}
.card,.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;min-width:0}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em;display:flex;align-items:center;gap:6px}
.card .big{font-size:30px;font-weight:650;line-height:1.2;margin:4px 0 2px;font-variant-numeric:tabular-nums}
.card .sub{color:var(--muted);font-size:12.5px}
.card .sub.trouble{color:var(--warn);font-weight:600}
.card .sub b{color:var(--fg);font-variant-numeric:tabular-nums}
.sw{width:10px;height:10px;border-radius:2px;display:inline-block;flex:none}
.sw.validated{background:var(--ok)}.sw.returned{background:var(--warn)}.sw.failed{background:var(--bad)}.sw.waiting{background:var(--info)}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:16px}
#chart{width:100%;min-height:170px}
#chart svg{display:block;width:100%}
#chart .validated{fill:var(--ok)}#chart .returned{fill:var(--warn)}#chart .failed{fill:var(--bad)}
#chart .gridline{stroke:var(--grid);stroke-width:1}
#chart text{fill:var(--muted);font-size:11px;font-family:inherit}
#chart .hit{fill:transparent}#chart .hit:hover{fill:color-mix(in srgb,var(--fg) 8%,transparent)}
.legend{display:inline-flex;gap:12px;align-items:center;font-weight:400;text-transform:none;letter-spacing:0}
.legend span{display:inline-flex;gap:5px;align-items:center}
.scroll{overflow-x:auto}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th{font-size:12px;text-align:left;color:var(--muted);font-weight:500;padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
td{padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right}
td.name{overflow-wrap:anywhere;min-width:140px}
td.time{white-space:nowrap;color:var(--muted)}
.why{display:block;color:var(--bad);font-size:12px;overflow-wrap:anywhere}
.note{display:block;color:var(--muted);font-size:12px}
body.stale main{opacity:.6;filter:grayscale(1)}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap;border:1px solid currentColor}
.pill.ok{color:var(--ok)}.pill.warn{color:var(--warn)}.pill.bad{color:var(--bad)}.pill.info{color:var(--info)}.pill.idle{color:var(--idle)}
ul.events{list-style:none;margin:0;padding:0}
ul.events li{padding:8px 0;border-bottom:1px solid var(--line);display:grid;gap:2px}
ul.events li:last-child{border-bottom:0}
.line1{display:flex;flex-wrap:wrap;gap:4px 10px;align-items:baseline}
.line1 .what{font-weight:600;overflow-wrap:anywhere}
.small{font-size:12.5px;color:var(--muted);overflow-wrap:anywhere}
.meta b{overflow-wrap:anywhere}
.empty{color:var(--muted);font-style:italic;padding:6px 0}
footer{max-width:1240px;margin:0 auto;padding:4px 20px 24px;color:var(--muted);font-size:12px}
footer a{color:inherit}
@media (max-width:600px){header,main{padding-left:12px;padding-right:12px}.banner{width:calc(100% - 24px)}.card .big{font-size:24px}.cards{grid-template-columns:repeat(2,1fr)}.grid2{grid-template-columns:1fr}th.opt,td.opt{display:none}th,td{padding:6px 4px}th{white-space:normal}td.name{min-width:96px}
table.stack thead{display:none}
table.stack tr{display:grid;grid-template-columns:auto auto 1fr;align-items:baseline;gap:2px 10px;padding:8px 0;border-bottom:1px solid var(--line)}
table.stack tr:last-child{border-bottom:0}
table.stack td{border:0;padding:0;min-width:0}
table.stack td.name{grid-column:1/-1;order:-1;font-weight:500}
table.stack td.num{text-align:left}
table.stack td[data-label]::after{content:" " attr(data-label);color:var(--muted)}}
`

const SCRIPT = `
"use strict";
(function () {
  var REFRESH_MS = ${REFRESH_MS};
  var KINDS = ${JSON.stringify(OUTCOME_KINDS)};
  var SVG = "http://www.w3.org/2000/svg";
  var last = null, lastOkAt = 0, failures = 0;
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  // A name that may wrap only after its separators (- _ . / space), never inside a word: text nodes
  // with a <wbr> after each separator. (overflow-wrap:anywhere still breaks a word wider than the line.)
  // (A loop, not a split on a lookbehind: older Safari cannot parse one, and the whole script would fail.)
  function name(tag, cls, text) {
    var e = el(tag, cls), s = String(text), start = 0;
    for (var i = 0; i < s.length - 1; i++) {
      if ("-_./ ".indexOf(s.charAt(i)) < 0) continue;
      e.appendChild(document.createTextNode(s.slice(start, i + 1)));
      e.appendChild(document.createElement("wbr"));
      start = i + 1;
    }
    e.appendChild(document.createTextNode(s.slice(start)));
    return e;
  }
  function plural(n, one, many) { return fmt(n) + " " + (n === 1 ? one : many); }
  function fmt(n) { return Number(n).toLocaleString("en-US"); }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function clock(iso) { var d = new Date(iso); return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }
  function dur(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min " + pad(s % 60) + " s";
    var h = Math.floor(m / 60);
    if (h < 48) return h + " h " + pad(m % 60) + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }
  function ago(s, iso) { return dur((Date.parse(s.now) - Date.parse(iso)) / 1000) + " ago"; }
  function pill(text, tone) { return el("span", "pill " + tone, text); }
  var OUTCOME_TONE = { validated: "ok", returned: "warn", failed: "bad" };
  var STATE_TONE = { "this": "info", alive: "ok", stale: "bad", stopped: "idle", gone: "bad", unreadable: "bad", unknown: "idle" };
  var DELIVERY_TONE = { sending: "info", retrying: "warn", failed: "bad", sent: "ok", outbox: "bad", lost: "bad" };
  var DELIVERY_TEXT = { sending: "sending", retrying: "retrying", failed: "failed", sent: "sent", outbox: "kept in outbox", lost: "lost (see log)" };
  function set(id, text) { var e = $(id); if (e.textContent !== String(text)) e.textContent = String(text); }
  function empty(text) { return el("div", "empty", text); }

  function header(s) {
    document.body.className = "";
    var tone = s.health === "ok" ? "ok" : s.health === "failing" ? "bad" : "warn";
    $("dot").className = "dot " + tone;
    var phase = $("phase");
    phase.className = "pill " + tone;
    phase.textContent = s.health === "failing" || s.health === "degraded" ? s.health : s.phase;
    set("uptime", dur(s.uptime_s));
    set("version", s.version);
    if ($("instance").textContent !== s.instance) clear($("instance")).appendChild(name("span", "", s.instance));
    document.title = (s.health === "ok" ? "" : "\\u26a0 ") + s.phase + (s.queue.waiting > 0 ? " \\u00b7 " + s.queue.waiting + " waiting" : "") + " \\u2014 customer-json-processor";
    var problem = $("problem"), q = s.queue, trouble = [];
    if (q.failing_files > 0) trouble.push(q.failing_files + (q.failing_files === 1 ? " file" : " files") + " could not be processed and " + (q.failing_files === 1 ? "is" : "are") + " tried again from time to time");
    if (q.stuck_files > 0) trouble.push(q.stuck_files + (q.stuck_files === 1 ? " file has" : " files have") + " been waiting too long without an outcome");
    problem.hidden = s.problem === null && trouble.length === 0;
    problem.className = "banner " + (s.problem !== null ? "bad" : "warn");
    problem.textContent = s.problem !== null ? "Failing: " + s.problem : trouble.join("; ") + " (see the log).";
  }

  function cards(s) {
    KINDS.forEach(function (k) {
      set("c-" + k, fmt(s.counts.since_start[k]));
      set("h-" + k, fmt(s.counts.last_hour[k]));
    });
    var q = s.queue;
    set("q-waiting", fmt(q.waiting));
    set("q-oldest", q.oldest_waiting_age_s === null ? "nothing waiting" : "the oldest has waited " + dur(q.oldest_waiting_age_s));
    set("q-inflight", q.in_flight === 0 ? "none being processed now" : plural(q.in_flight, "file", "files") + " being processed now");
    $("q-stuck").hidden = q.stuck_files === 0;
    set("q-stuck", plural(q.stuck_files, "file has", "files have") + " waited too long without an outcome");
    $("f-failing").hidden = q.failing_files === 0;
    set("f-failing", plural(q.failing_files, "is", "are") + " still failing: tried again from time to time");
    set("last-outcome", s.last_outcome_at === null ? "none yet" : ago(s, s.last_outcome_at));
  }

  // A scale whose half is a whole number too: 2, 4, 10, 20, 40, 100, …
  function niceMax(n) {
    var steps = [2, 4, 10];
    var p = Math.pow(10, Math.floor(Math.log10(Math.max(1, n))));
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= n) return steps[i] * p;
    return 20 * p;
  }

  function chart(s) {
    var t = s.throughput, box = $("chart");
    var W = Math.max(280, box.clientWidth), H = 170, L = 34, R = 6, T = 8, B = 22;
    var n = t.validated.length, pw = W - L - R, ph = H - T - B, step = pw / n, bw = Math.max(1, step - (step > 4 ? 2 : 0.5));
    var totals = [], total = 0, peak = 0;
    for (var i = 0; i < n; i++) { var v = 0; KINDS.forEach(function (k) { v += t[k][i]; }); totals.push(v); total += v; if (v > peak) peak = v; }
    var max = niceMax(peak);
    var root = svg("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "files per minute over the last hour", "data-total": total });
    [0, 0.5, 1].forEach(function (f) {
      var y = T + ph - f * ph;
      root.appendChild(svg("line", { "class": "gridline", x1: L, x2: W - R, y1: y, y2: y }));
      var lab = svg("text", { x: L - 6, y: y + 4, "text-anchor": "end" });
      lab.textContent = fmt(Math.round(max * f));
      root.appendChild(lab);
    });
    var from = Date.parse(t.from);
    for (var j = 0; j < n; j++) {
      var x = L + j * step + (step - bw) / 2, y0 = T + ph;
      var g = svg("g", {});
      KINDS.forEach(function (k) {
        var c = t[k][j];
        if (c <= 0) return;
        var h = Math.max(1, c / max * ph);
        y0 -= h;
        g.appendChild(svg("rect", { "class": "bar " + k, x: x.toFixed(1), y: y0.toFixed(1), width: bw.toFixed(1), height: h.toFixed(1), rx: bw > 4 ? 1.5 : 0 }));
      });
      var hit = svg("rect", { "class": "hit", x: (L + j * step).toFixed(1), y: T, width: step.toFixed(1), height: ph });
      var title = svg("title", {});
      var when = new Date(from + j * 60000);
      title.textContent = pad(when.getHours()) + ":" + pad(when.getMinutes()) + "  " + KINDS.map(function (k) { return t[k][j] + " " + k; }).join(", ");
      hit.appendChild(title);
      g.appendChild(hit);
      root.appendChild(g);
    }
    var marks = W < 520
      ? [[0, "\u221260 min", "start"], [30, "\u221230", "middle"], [n, "now", "end"]]
      : [[0, "\u221260 min", "start"], [15, "\u221245", "middle"], [30, "\u221230", "middle"], [45, "\u221215", "middle"], [n, "now", "end"]];
    marks.forEach(function (m) {
      var lab = svg("text", { x: L + m[0] * step, y: H - 6, "text-anchor": m[2] });
      lab.textContent = m[1];
      root.appendChild(lab);
    });
    clear(box).appendChild(root);
    var now = totals[n - 1] + (n > 1 ? totals[n - 2] : 0);
    set("chart-summary", total === 0
      ? "no file in the last hour"
      : plural(total, "file", "files") + " in the last hour \\u00b7 busiest minute: " + plural(peak, "file", "files") + " \\u00b7 last 2 minutes: " + plural(now, "file", "files"));
  }

  function instances(s) {
    var body = clear($("instances"));
    s.instances.forEach(function (p) {
      var tr = el("tr");
      var id = name("td", "name", p.id);
      if (p.problem) id.appendChild(el("span", "why", p.problem));
      tr.appendChild(id);
      tr.appendChild(el("td", "opt", p.host === null ? "\\u2014" : p.host));
      tr.appendChild(el("td", "num opt", p.pid === null ? "\\u2014" : p.pid));
      var st = el("td"); st.appendChild(pill(p["this"] ? "this instance" : p.state, STATE_TONE[p.state] || "idle")); tr.appendChild(st);
      tr.appendChild(el("td", "num", p["this"] ? "\\u2014" : dur(p.unchanged_s)));
      body.appendChild(tr);
    });
    set("instance-count", s.instances.length === 1 ? "1 instance" : s.instances.length + " instances");
  }

  // Partners (PARTNERS_FILE): each one's files since start, and the filter of the outcomes by partner.
  function partners(s) {
    var list = s.partners || [], select = $("partner-filter"), chosen = select.value;
    $("partners-panel").hidden = list.length === 0;
    var body = clear($("partners"));
    clear(select).appendChild(el("option", "", "all partners")).value = "";
    list.forEach(function (p) {
      var tr = el("tr");
      tr.appendChild(name("td", "name", p.id));
      KINDS.forEach(function (k) { tr.appendChild(el("td", "num", fmt(p[k]))); });
      body.appendChild(tr);
      select.appendChild(el("option", "", p.id)).value = p.id;
    });
    // (a partner that is gone from the list stays chosen: its outcomes may still be shown)
    if (chosen !== "" && !list.some(function (p) { return p.id === chosen; })) select.appendChild(el("option", "", chosen)).value = chosen;
    select.value = chosen;
  }

  function outcomes(s) {
    var body = clear($("outcomes")), chosen = $("partner-filter").value;
    var shown = chosen === "" ? s.outcomes : s.outcomes.filter(function (o) { return o.partner === chosen; });
    $("no-outcomes").hidden = shown.length > 0;
    $("no-outcomes").textContent = chosen === "" ? "No file processed since start." : "No file of partner " + chosen + " among the last outcomes.";
    shown.forEach(function (o) {
      var tr = el("tr", o.outcome);
      var time = el("td", "time", clock(o.at)); time.title = o.at; tr.appendChild(time);
      var file = name("td", "name", o.file);
      if (o.partner) file.appendChild(el("span", "note", "partner " + o.partner));
      if (o.reason) file.appendChild(el("span", "why", o.reason));
      if (o.outcome === "failed") {
        file.appendChild(el("span", "note", (o.attempts === 1 ? "1 attempt" : o.attempts + " attempts") + (o.failing_since ? " since " + clock(o.failing_since) : "") + "; it stays where it is and is tried again"));
      }
      tr.appendChild(file);
      var oc = el("td"); oc.appendChild(pill(o.outcome, OUTCOME_TONE[o.outcome] || "idle")); tr.appendChild(oc);
      var errors = el("td", "num", o.outcome === "failed" ? "\\u2014" : o.error_count);
      if (o.outcome !== "failed") errors.setAttribute("data-label", o.error_count === 1 ? "error" : "errors");
      tr.appendChild(errors);
      tr.appendChild(o.stored_as === null ? el("td", "name opt", "\\u2014") : name("td", "name opt", o.stored_as));
      body.appendChild(tr);
    });
  }

  // Every destination of the daemon, as status.json lists them: the folders, then those of the application's own.
  function destinations(s) {
    var body = clear($("destinations")), list = s.destinations || [];
    $("no-destinations").hidden = list.length > 0;
    list.forEach(function (d) {
      var tr = el("tr");
      var role = name("td", "name", d.role);
      role.appendChild(el("span", "note", d.built_in ? "folder" : "of this application's own"));
      tr.appendChild(role);
      var files = el("td", "num", fmt(d.files));
      files.setAttribute("data-label", d.files === 1 ? "file" : "files");
      tr.appendChild(files);
      body.appendChild(tr);
    });
  }

  function events(s) {
    var list = clear($("criticals"));
    if (s.critical_events.length === 0) list.appendChild(empty("No critical event since start."));
    s.critical_events.forEach(function (c) {
      var li = el("li"), l1 = el("div", "line1"), cleared = c.cleared_at !== null && c.cleared_at !== undefined;
      l1.appendChild(cleared ? pill("cleared", "ok") : pill("critical", "bad"));
      l1.appendChild(name("span", "what", c.summary));
      li.appendChild(l1);
      li.appendChild(el("div", "small", c.detail));
      if (cleared) li.appendChild(el("div", "small", "cleared " + clock(c.cleared_at) + " \\u00b7 " + ago(s, c.cleared_at) + (c.cleared_detail ? ": " + c.cleared_detail : "")));
      var when = c.count === 1
        ? clock(c.first_at) + " \\u00b7 " + ago(s, c.first_at)
        : c.count + " times since " + clock(c.first_at) + " \\u00b7 last " + ago(s, c.last_at);
      var told = c.notified === 0 ? "notified earlier this hour" : c.notified === 1 ? "administrators notified" : "administrators notified " + c.notified + " times";
      if (c.count > c.notified && c.notified > 0) told += "; repeats counted in the next report";
      li.appendChild(el("div", "small", when + " \\u00b7 " + told));
      list.appendChild(li);
    });
    var notes = clear($("notifications"));
    set("queued-files", s.notifications.queued_files > 0 ? s.notifications.queued_files + " rejected files waiting to be notified" : "");
    if (s.notifications.recent.length === 0) notes.appendChild(empty("No notification since start."));
    s.notifications.recent.forEach(function (n) {
      var li = el("li"), l1 = el("div", "line1");
      l1.appendChild(pill(DELIVERY_TEXT[n.state] || n.state, DELIVERY_TONE[n.state] || "idle"));
      l1.appendChild(el("span", "what", n.subject));
      li.appendChild(l1);
      var facts = [clock(n.first_at), n.kind === "critical" ? "critical" : n.kind === "cleared" ? "all clear" : n.files + (n.files === 1 ? " file" : " files") + (n.more > 0 ? " + " + n.more + " more" : "")];
      if (n.target) facts.push("to " + n.target);
      if (n.failed_attempts > 0) facts.push(n.failed_attempts + (n.failed_attempts === 1 ? " failed attempt" : " failed attempts"));
      facts.push((n.state === "retrying" ? "last failure " : n.state === "sending" ? "started " : (DELIVERY_TEXT[n.state] || n.state) + " ") + ago(s, n.updated_at));
      li.appendChild(el("div", "small", facts.join(" \\u00b7 ")));
      if (n.error) li.appendChild(el("div", "small why", n.error));
      if (n.outbox_path) li.appendChild(el("div", "small", "outbox: " + n.outbox_path));
      notes.appendChild(li);
    });
  }

  function render(s) {
    last = s;
    header(s); cards(s); chart(s); destinations(s); partners(s); instances(s); outcomes(s); events(s);
  }

  // The daemon does not answer: nothing on the page may still say it is fine.
  function staleness() {
    var b = $("stale");
    if (failures === 0) { b.hidden = true; return; }
    b.hidden = false;
    b.textContent = lastOkAt === 0
      ? "Cannot reach the daemon's status; retrying every " + REFRESH_MS / 1000 + " s."
      : "Connection lost: the daemon does not answer. The figures below are from " + dur((Date.now() - lastOkAt) / 1000) + " ago; retrying every " + REFRESH_MS / 1000 + " s.";
    $("dot").className = "dot";
    var phase = $("phase");
    phase.className = "pill idle";
    phase.textContent = "unreachable";
    $("problem").hidden = true;
    document.body.className = "stale";
    document.title = "\\u26a0 unreachable \\u2014 customer-json-processor";
  }

  var timer = 0;
  function tick() {
    clearTimeout(timer);
    fetch("status.json", { cache: "no-store", headers: { accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (s) { failures = 0; lastOkAt = Date.now(); render(s); set("updated", clock(new Date().toISOString())); })
      .catch(function () { failures++; })
      .then(function () { staleness(); timer = setTimeout(tick, REFRESH_MS); });
  }
  var resizeTimer = 0;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { if (last) chart(last); }, 150);
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
  $("partner-filter").addEventListener("change", function () { if (last) outcomes(last); });
  tick();
})();
`

/** Each outcome kind's card: its label and what its number counts (the failed one also says how many fail now). */
const CARDS: { readonly [K in OutcomeKind]: { readonly label: string; readonly counts: string } } = {
  validated: { label: "Validated", counts: "since start" },
  returned: { label: "Returned", counts: "since start" },
  failed: { label: "Failed", counts: "files that could not be processed, since start" }
}

const card = (kind: OutcomeKind): string =>
  `<div class="card"><div class="label"><span class="sw ${kind}"></span>${CARDS[kind].label}</div><div class="big" id="c-${kind}">\u2014</div>` +
  `<div class="sub">${CARDS[kind].counts} \u00b7 <b id="h-${kind}">\u2014</b> in the last hour</div>` +
  (kind === "failed" ? `<div class="sub trouble" id="f-failing" hidden></div>` : "") + `</div>`

const BODY = `<header>
<h1><span id="dot" class="dot"></span>customer-json-processor</h1>
<div class="meta"><span id="phase" class="pill idle">loading</span><span>up <b id="uptime">\u2014</b></span><span>version <b id="version">\u2014</b></span><span>instance <b id="instance">\u2014</b></span></div>
</header>
<div id="stale" class="banner bad" role="alert" hidden></div>
<div id="problem" class="banner bad" role="alert" hidden></div>
<main>
<section class="cards" aria-label="counts">
${OUTCOME_KINDS.map(card).join("\n")}
<div class="card"><div class="label"><span class="sw waiting"></span>Waiting</div><div class="big" id="q-waiting">\u2014</div><div class="sub" id="q-oldest">\u2014</div><div class="sub" id="q-inflight">\u2014</div><div class="sub trouble" id="q-stuck" hidden></div></div>
</section>
<section class="panel"><h2>Throughput, files per minute <span class="legend">${OUTCOME_KINDS.map((kind) => `<span><i class="sw ${kind}"></i>${kind}</span>`).join("")}</span><span class="aside" id="chart-summary"></span></h2><div id="chart"></div><div class="small">last file <span id="last-outcome">\u2014</span></div></section>
<section class="panel"><h2>Destinations <span class="aside">files since start</span></h2><div class="scroll"><table class="stack"><thead><tr><th>Destination</th><th class="num">Files</th></tr></thead><tbody id="destinations"></tbody></table></div><div class="empty" id="no-destinations" hidden>No destination listed.</div></section>
<section class="panel" id="partners-panel" hidden><h2>Partners <span class="aside">files since start</span></h2><div class="scroll"><table class="stack"><thead><tr><th>Partner</th>${OUTCOME_KINDS.map((kind) => `<th class="num">${kind}</th>`).join("")}</tr></thead><tbody id="partners"></tbody></table></div></section>
<section class="panel"><h2>Last 50 outcomes <label class="aside">show <select id="partner-filter" aria-label="partner"><option value="">all partners</option></select></label></h2><div class="scroll"><table class="stack"><thead><tr><th>Time</th><th>File</th><th>Outcome</th><th class="num">Errors</th><th class="opt">Stored as</th></tr></thead><tbody id="outcomes"></tbody></table></div><div class="empty" id="no-outcomes">No file processed since start.</div></section>
<div class="grid2">
<section class="panel"><h2>Critical events</h2><ul class="events" id="criticals"></ul></section>
<section class="panel"><h2>Notifications <span class="aside" id="queued-files"></span></h2><ul class="events" id="notifications"></ul></section>
</div>
<section class="panel"><h2>Instances <span class="aside" id="instance-count"></span></h2><div class="scroll"><table><thead><tr><th>Instance</th><th class="opt">Host</th><th class="num opt">PID</th><th>State</th><th class="num">Heartbeat unchanged for</th></tr></thead><tbody id="instances"></tbody></table></div></section>
</main>
<footer>Updated <span id="updated">never</span> \u00b7 refreshes every ${REFRESH_MS / 1000} s \u00b7 times are this browser's local time \u00b7 <a href="status.json">status.json</a> \u00b7 <a href="metrics">metrics</a></footer>`

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>customer-json-processor</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`

const sha256 = (text: string) => `'sha256-${Crypto.createHash("sha256").update(text, "utf8").digest("base64")}'`

/**
 * Only this page's own style and script run (by hash), it may fetch only from
 * its origin, and nothing may frame it, submit a form or change its base URL.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join("; ")

/** For every other response: nothing may run or load. */
export const NO_CONTENT_CSP = "default-src 'none'; frame-ancestors 'none'"
