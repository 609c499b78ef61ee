/**
 * The benchmark's pure parts: the scaling chart (bench/chart.mjs), the command
 * line (bench/options.mjs), the exactly-once check of the scale-out scenario
 * (bench/routing.mjs), the streaming corpus, the arithmetic of medians and
 * ratios (bench/stats.mjs), the cgroup settings (bench/quota.mjs), the ref
 * checks of --against (bench/worktree.mjs) and the naive processor's routing
 * (bench/naive.mjs). No timings, no benchmark runs.
 */
import * as ChildProcess from "node:child_process"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { groupDigits, scalingSvg, shortCount } from "../bench/chart.mjs"
import { corpusFiles, makeCorpus } from "../bench/corpus.mjs"
import { processBacklog } from "../bench/naive.mjs"
import { parseOptions, SCENARIOS } from "../bench/options.mjs"
import { detectCgroups, parseCpuStat, quotaSettings } from "../bench/quota.mjs"
import { listTree, routingProblems } from "../bench/routing.mjs"
import { backlogRatios, compareBuilds, median, medianFields, parseRusage, scaleOutEfficiency, speedRatio } from "../bench/stats.mjs"
import { resolveRef, sameLockfile } from "../bench/worktree.mjs"
import { judgeBytes } from "../src/contract/JudgeBytes.js"
import { renderReport } from "../src/contract/ErrorReport.js"
import { maskText } from "../src/masking/Masking.js"
import { xmlProblems } from "./support/xmlCheck.js"

const tempDir = (name: string) => NFS.mkdtempSync(Path.join(OS.tmpdir(), `cjp-${name}-`))

describe("the XML check used on the chart", () => {
  it("accepts well-formed XML", () => {
    expect(xmlProblems(`<?xml version="1.0"?>\n<a x="1" y='2'><!-- c --><b/>t &amp; &#38; &#x26;<c z="&lt;"></c></a>\n`)).toEqual([])
  })

  it.each([
    ["an unclosed element", `<a><b></a>`],
    ["an element never closed", `<a><b>`],
    ["a bare ampersand in text", `<a>R&D</a>`],
    ["a bare ampersand in a value", `<a x="R&D"/>`],
    ["an unquoted attribute", `<a x=1/>`],
    ["a < in a value", `<a x="<"/>`],
    ["an attribute twice", `<a x="1" x="2"/>`],
    ["two roots", `<a/><b/>`],
    ["text outside the root", `<a/>stray`],
    ["an end tag without a start", `</a>`],
    ["no element at all", `just text`]
  ])("rejects %s", (_what, xml) => {
    expect(xmlProblems(xml)).not.toEqual([])
  })
})

describe("scalingSvg", () => {
  const points = [
    { files: 100_000, files_per_s: 5_570, peak_rss_mb: 283 },
    { files: 10_000, files_per_s: 4_450.4, peak_rss_mb: 148 },
    { files: 1_000_000, files_per_s: 4_460, peak_rss_mb: 708.4 }
  ]
  const options = { subtitle: "2 × CPU <virtual> & friends", limits: [{ mb: 200, label: "≤ 200 MB" }, { mb: 256, label: "≤ 256 MB" }] }
  const svg = scalingSvg(points, options)

  it("is well-formed XML with one <svg> root, whatever its text holds", () => {
    expect(xmlProblems(svg)).toEqual([])
    expect(svg).toMatch(/^<\?xml[^>]*\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
    expect(svg).toContain("2 × CPU &lt;virtual&gt; &amp; friends")
  })

  it("labels every point with its value, every size on the axis, and the limits", () => {
    for (const label of ["148 MB", "283 MB", "708 MB", "4,450 files/s", "5,570 files/s", "4,460 files/s", ">10k<", ">100k<", ">1M<", "≤ 200 MB", "≤ 256 MB"]) {
      expect(svg).toContain(label)
    }
    expect(svg).toContain("peak RSS (MB)")
    expect(svg).toContain("files per second")
  })

  it("draws two series, the points in order of size, RSS rising with its value", () => {
    const series = [...svg.matchAll(/<g class="series" data-series="([^"]+)">([\s\S]*?)<\/g>/g)]
    expect(series.map((s) => s[1])).toEqual(["peak RSS (MB)", "files/s"])
    const rss = [...(series[0]?.[2] ?? "").matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }))
    expect(rss).toHaveLength(3)
    // left to right by size; a larger RSS is drawn higher (smaller y)
    expect(rss[0]!.x).toBeLessThan(rss[1]!.x)
    expect(rss[1]!.x).toBeLessThan(rss[2]!.x)
    expect(rss[0]!.y).toBeGreaterThan(rss[1]!.y)
    expect(rss[1]!.y).toBeGreaterThan(rss[2]!.y)
    // log scale: 10k → 100k and 100k → 1M are the same distance
    expect(rss[1]!.x - rss[0]!.x).toBeCloseTo(rss[2]!.x - rss[1]!.x, 0)
    expect(series[1]?.[2]).toMatch(/<polyline points="[\d.,]+ [\d.,]+ [\d.,]+"/)
  })

  it("is a function of the points: their order does not matter", () => {
    expect(scalingSvg([...points].reverse(), options)).toBe(svg)
  })

  it("draws one point, or none, as well-formed XML", () => {
    const one = scalingSvg([{ files: 200, files_per_s: 163, peak_rss_mb: 95 }])
    expect(xmlProblems(one)).toEqual([])
    expect(one).toContain("95 MB")
    expect(one).toContain("163 files/s")
    const none = scalingSvg([])
    expect(xmlProblems(none)).toEqual([])
    expect(none).toContain("no measurements")
  })

  it("formats counts the same on every machine", () => {
    expect(groupDigits(1234567)).toBe("1,234,567")
    expect(groupDigits(999)).toBe("999")
    expect(shortCount(10_000)).toBe("10k")
    expect(shortCount(1_000_000)).toBe("1M")
    expect(shortCount(2_500_000)).toBe("2.5M")
    expect(shortCount(400)).toBe("400")
    expect(shortCount(12_345)).toBe("12,345")
  })
})

describe("parseOptions", () => {
  it("runs every scenario by default", () => {
    expect(parseOptions([])).toEqual({ smoke: false, only: SCENARIOS })
    expect(parseOptions(["--smoke", "--out", "x.json"])).toEqual({ smoke: true, out: "x.json", only: SCENARIOS })
  })

  it("--only picks scenarios in their usual order, under the names of the table too", () => {
    expect(parseOptions(["--only", "scaleout,backlog"]).only).toEqual(["backlog", "scaleout"])
    expect(parseOptions(["--only", "floor,big-file,scale-out"]).only).toEqual(["backlog", "big", "scaleout"])
    expect(() => parseOptions(["--only", "backlog,scalling"])).toThrow(/unknown scenario scalling/)
    expect(() => parseOptions(["--only"])).toThrow(/--only needs a value/)
  })

  it("--scale and --instances take lists and, without --only, run their scenario alone", () => {
    expect(parseOptions(["--scale", "1000000"])).toEqual({ smoke: false, scale: [1_000_000], only: ["scaling"] })
    expect(parseOptions(["--scale", "10_000,100000,1000000"]).scale).toEqual([10_000, 100_000, 1_000_000])
    expect(parseOptions(["--instances", "1,2,4"])).toEqual({ smoke: false, instances: [1, 2, 4], only: ["scaleout"] })
    expect(parseOptions(["--netfs", "gluster"]).only).toEqual(["scaleout"])
    expect(parseOptions(["--scale", "500", "--instances", "2"]).only).toEqual(["scaling", "scaleout"])
    expect(parseOptions(["--only", "backlog,scaling", "--scale", "500"]).only).toEqual(["backlog", "scaling"])
  })

  it("--against, --files, --rounds and --million take their values without restricting the run", () => {
    expect(parseOptions(["--against", "7ec7a9a"])).toEqual({ smoke: false, against: "7ec7a9a", only: SCENARIOS })
    expect(parseOptions(["--files", "500", "--rounds", "1"])).toEqual({ smoke: false, files: 500, rounds: 1, only: SCENARIOS })
    expect(parseOptions(["--million"])).toEqual({ smoke: false, million: true, only: SCENARIOS })
    expect(parseOptions(["--against", "main~2", "--only", "backlog", "--files", "10_000"])).toEqual({ smoke: false, against: "main~2", files: 10_000, only: ["backlog"] })
  })

  it("--quota takes a share of one core and, without --only, runs the quota scenario alone", () => {
    expect(parseOptions(["--quota", "0.45"])).toEqual({ smoke: false, quota: 0.45, only: ["quota"] })
    expect(parseOptions(["--only", "scale-out-quota,backlog"]).only).toEqual(["backlog", "quota"])
    expect(SCENARIOS).toContain("quota")
    expect(() => parseOptions(["--quota", "0"])).toThrow(/"0" is not a share of one core from 0.01 to 64/)
    expect(() => parseOptions(["--quota", "half"])).toThrow(/"half" is not a share of one core/)
  })

  it("refuses what it cannot use, saying how to call it", () => {
    expect(() => parseOptions(["--against"])).toThrow(/--against needs a value/)
    expect(() => parseOptions(["--against", "--smoke"])).toThrow(/--against needs a value/)
    expect(() => parseOptions(["--files", "1,2"])).toThrow(/--files takes one number, not a list/)
    expect(() => parseOptions(["--rounds", "0"])).toThrow(/--rounds: "0" is not a positive whole number/)
    expect(() => parseOptions(["--scale", "0"])).toThrow(/"0" is not a positive whole number[\s\S]*usage:/)
    expect(() => parseOptions(["--scale", "1e6"])).toThrow(/"1e6" is not a positive whole number/)
    expect(() => parseOptions(["--instances"])).toThrow(/--instances needs a value/)
    expect(() => parseOptions(["--netfs", "nfs"])).toThrow(/"nfs" is not supported/)
    expect(() => parseOptions(["--scales", "5"])).toThrow(/unknown argument "--scales"/)
  })
})

describe("routingProblems", () => {
  const expected = new Map([
    ["customers-00000.json", true],
    ["customers-00001.json", false],
    ["customers-00002.json", true]
  ])
  const clean = {
    data: [".gitkeep"],
    validated: ["customers-00000.json", "customers-00002.json", ".gitkeep"],
    returns: ["customers-00001.json", "customers-00001.json.error.json"],
    processing: { ".": [], "host-1-abc": [".heartbeat"] }
  }

  it("finds nothing wrong with a tree where every file is stored once", () => {
    expect(routingProblems(expected, clean)).toEqual([])
  })

  it("finds a file missing", () => {
    expect(routingProblems(expected, { ...clean, validated: ["customers-00000.json"] })).toEqual([
      "1 of 3 files are in neither validated/ nor returns/: customers-00002.json"
    ])
  })

  it("finds a file stored twice, in both folders or under a second name", () => {
    expect(routingProblems(expected, { ...clean, returns: [...clean.returns, "customers-00000.json"] }).join("\n")).toMatch(
      /1 files are stored more than once: customers-00000\.json \(validated, returns\)/
    )
    expect(routingProblems(expected, { ...clean, validated: [...clean.validated, "customers-00000-1.json"] }).join("\n")).toMatch(
      /not from the corpus .*customers-00000-1\.json/
    )
  })

  it("finds a file in the wrong folder", () => {
    const swapped = { ...clean, validated: ["customers-00001.json", "customers-00002.json"], returns: ["customers-00000.json"] }
    expect(routingProblems(expected, swapped).join("\n")).toMatch(/2 files are in the wrong folder: customers-00001\.json \(in validated\), customers-00000\.json \(in returns\)/)
  })

  it("finds files left in data/ or in an instance's processing folder, stages included", () => {
    const leftovers = {
      ...clean,
      data: ["customers-00003.json"],
      processing: { ".": ["stray.json"], "host-1-abc": [".heartbeat", "customers-00004.json", `.${"a".repeat(32)}.data`] }
    }
    const problems = routingProblems(expected, leftovers).join("\n")
    expect(problems).toMatch(/1 files are still in data\/: customers-00003\.json/)
    expect(problems).toMatch(/3 customer files or stages are left in processing\/: .\/stray\.json, host-1-abc\/customers-00004\.json, host-1-abc\/\.a{32}\.data/)
  })

  it("reads the listings from a real tree", () => {
    const root = NFS.mkdtempSync(Path.join(OS.tmpdir(), "cjp-routing-"))
    try {
      for (const dir of ["data", "validated", "returns", "processing/host-1-abc"]) NFS.mkdirSync(Path.join(root, dir), { recursive: true })
      NFS.writeFileSync(Path.join(root, "validated", "customers-00000.json"), "[]")
      NFS.writeFileSync(Path.join(root, "processing", "host-1-abc", ".heartbeat"), "")
      NFS.writeFileSync(Path.join(root, "processing", "loose.json"), "[]")
      const tree = listTree(root)
      expect(tree).toEqual({
        data: [],
        validated: ["customers-00000.json"],
        returns: [],
        processing: { ".": ["loose.json"], "host-1-abc": [".heartbeat"] }
      })
      expect(listTree(Path.join(root, "absent"))).toEqual({ data: [], validated: [], returns: [], processing: { ".": [] } })
    } finally {
      NFS.rmSync(root, { recursive: true, force: true })
    }
  })
})

describe("corpusFiles", () => {
  it("yields the files of makeCorpus one at a time", () => {
    expect([...corpusFiles(300, 9)]).toEqual(makeCorpus(300, 9))
    expect([...corpusFiles(3, 9, 2)]).toEqual(makeCorpus(3, 9, 2))
  })

  it("makes each file only when asked (a billion-file corpus starts at once)", () => {
    const files = corpusFiles(1_000_000_000, 1)
    const first = files.next()
    expect(first.done).toBe(false)
    expect(first.value).toMatchObject({ name: "customers-00000.json" })
  })
})

describe("median and medianFields", () => {
  it("takes the middle value, or the mean of the two middle ones", () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([7])).toBe(7)
    expect(median([])).toBeNaN()
  })

  it("takes each numeric field's median; a field missing in any run is null; text as the first run has it", () => {
    const runs = [
      { seconds: 3, cpu_seconds: 1, outcome: "validated" },
      { seconds: 1, cpu_seconds: null, outcome: "validated" },
      { seconds: 2, cpu_seconds: 2, outcome: "validated" }
    ]
    expect(medianFields(runs)).toEqual({ seconds: 2, cpu_seconds: null, outcome: "validated" })
    expect(medianFields([])).toEqual({})
  })
})

describe("the backlog's ratios (issue 25)", () => {
  it("are speeds relative to the floors and the naive processor, with the targets", () => {
    // times: floor 1.64 s, copy floor 5.24 s, naive 10.29 s, daemon 12.96 s, other user 14.66 s
    const ratios = backlogRatios({ floor: 1.64, copyFloor: 5.24, naive: 10.29, daemon: 12.96, otherUser: 14.66 }, "disk")
    expect(ratios.map((r) => [r.name, Number(r.value.toFixed(3)), r.target, r.met])).toEqual([
      ["daemon ÷ bare floor", 0.127, 0.6, false],
      ["other user ÷ durable-copy floor", 0.357, 0.75, false],
      ["daemon ÷ naive", 0.794, 3, false]
    ])
  })

  it("meet their targets when fast enough; daemon ÷ naive has a target on the disk only", () => {
    const disk = backlogRatios({ floor: 1, copyFloor: 3, naive: 9, daemon: 1.5, otherUser: 4 }, "disk")
    expect(disk.map((r) => r.met)).toEqual([true, true, true])
    const tmpfs = backlogRatios({ floor: 1, copyFloor: 3, naive: 9, daemon: 1.5, otherUser: 4 }, "tmpfs")
    expect(tmpfs.find((r) => r.name === "daemon ÷ naive")).toMatchObject({ value: 6, target: null, met: null })
  })

  it("leave out a ratio whose row was not measured (not root: no other-user row)", () => {
    expect(backlogRatios({ floor: 1, copyFloor: 3, naive: 9, daemon: 2 }, "disk").map((r) => r.name)).toEqual(["daemon ÷ bare floor", "daemon ÷ naive"])
  })

  it("speedRatio: twice the time is half the speed", () => {
    expect(speedRatio(4, 2)).toBe(0.5)
    expect(speedRatio(1, 3)).toBe(3)
  })
})

describe("scaleOutEfficiency", () => {
  it("is N instances' rate over N times one instance's, with the targets for 2 and 4", () => {
    const efficiency = scaleOutEfficiency([
      { instances: 1, files_per_s: 100 },
      { instances: 2, files_per_s: 170 },
      { instances: 3, files_per_s: 240 },
      { instances: 4, files_per_s: 260 }
    ])
    expect(efficiency).toEqual([
      { instances: 2, value: 0.85, target: 0.8, met: true },
      { instances: 3, value: 0.8, target: null, met: null },
      { instances: 4, value: 0.65, target: 0.7, met: false }
    ])
  })

  it("needs the one-instance measurement", () => {
    expect(() => scaleOutEfficiency([{ instances: 2, files_per_s: 1 }])).toThrow(/no one-instance measurement/)
  })
})

describe("compareBuilds (--against)", () => {
  const m = (row: string, build: string | null, seconds: number, cpu: number | null) => ({
    scenario: "backlog",
    row,
    build,
    metrics: { seconds, files_per_s: 1000 / seconds, cpu_seconds: cpu }
  })

  it("gives each build's medians and working tree ÷ REF for every figure both have", () => {
    const comparisons = compareBuilds(
      [
        m("disk bare floor", null, 1, 1),
        m("disk daemon", "7ec7a9a", 4, 2),
        m("disk daemon", "working tree", 2, 1),
        m("disk daemon", "7ec7a9a", 5, 3),
        m("disk daemon", "working tree", 3, 1.5),
        m("disk daemon", "7ec7a9a", 6, 4),
        m("disk daemon", "working tree", 1, 2)
      ],
      "7ec7a9a",
      "working tree"
    )
    // the floor belongs to neither build: not compared
    expect(comparisons).toHaveLength(1)
    const [c] = comparisons
    expect(c).toMatchObject({ scenario: "backlog", row: "disk daemon", runs: { ref: 3, work: 3 } })
    expect(c!.ref).toEqual({ seconds: 5, files_per_s: 200, cpu_seconds: 3 })
    expect(c!.work).toEqual({ seconds: 2, files_per_s: 500, cpu_seconds: 1.5 })
    expect(c!.ratio).toEqual({ seconds: 0.4, files_per_s: 2.5, cpu_seconds: 0.5 })
  })

  it("leaves out a row only one build has, and a figure one build lacks", () => {
    const comparisons = compareBuilds([m("disk daemon", "ref", 4, null), m("disk daemon", "work", 2, 1), m("tmpfs daemon", "work", 1, 1)], "ref", "work")
    expect(comparisons.map((c) => c.row)).toEqual(["disk daemon"])
    expect(comparisons[0]!.ratio).toEqual({ seconds: 0.5, files_per_s: 2 })
  })
})

describe("parseRusage", () => {
  it("reads GNU time's user and system seconds and peak RSS (kB)", () => {
    expect(parseRusage("1.25 0.50 102400\n")).toEqual({ cpu_seconds: 1.75, max_rss_mb: 100 })
    expect(parseRusage("Command exited with non-zero status 1\n0.01 0.00 5120\n")).toEqual({ cpu_seconds: 0.01, max_rss_mb: 5 })
    expect(parseRusage("")).toBeNull()
    expect(parseRusage("Command terminated by signal 9\n")).toBeNull()
  })
})

describe("the quota's cgroup settings", () => {
  it("write a quota per period: cfs_quota_us under v1, cpu.max under v2", () => {
    expect(quotaSettings(1, 0.45)).toEqual([["cpu.cfs_period_us", "100000"], ["cpu.cfs_quota_us", "45000"]])
    expect(quotaSettings(2, 0.45)).toEqual([["cpu.max", "45000 100000"]])
    expect(quotaSettings(2, 1.5, 50_000)).toEqual([["cpu.max", "75000 50000"]])
    expect(() => quotaSettings(1, 0.005)).toThrow(/below the kernel's least/)
  })

  it("read throttling from cpu.stat, v1 (ns) and v2 (µs)", () => {
    expect(parseCpuStat("nr_periods 120\nnr_throttled 40\nthrottled_time 2500000000\n")).toEqual({ periods: 120, throttled: 40, throttled_ms: 2500 })
    expect(parseCpuStat("usage_usec 9\nnr_periods 10\nnr_throttled 3\nthrottled_usec 4500\n")).toEqual({ periods: 10, throttled: 3, throttled_ms: 4.5 })
  })

  it("find the CPU controller: v1's cpu hierarchy first, then v2's, else none", () => {
    const root = tempDir("cgroups")
    try {
      expect(detectCgroups(root)).toBeNull()
      NFS.writeFileSync(Path.join(root, "cgroup.controllers"), "cpuset io memory pids\n")
      expect(detectCgroups(root)).toBeNull()
      NFS.writeFileSync(Path.join(root, "cgroup.controllers"), "cpuset cpu io memory pids\n")
      expect(detectCgroups(root)).toEqual({ version: 2, base: root })
      NFS.mkdirSync(Path.join(root, "cpu"))
      NFS.writeFileSync(Path.join(root, "cpu", "cpu.cfs_quota_us"), "-1\n")
      expect(detectCgroups(root)).toEqual({ version: 1, base: Path.join(root, "cpu") })
    } finally {
      NFS.rmSync(root, { recursive: true, force: true })
    }
  })
})

describe("the refs of --against", () => {
  it("resolve to a commit, say which ref names none, and tell whether the lockfile is the working tree's", () => {
    const repo = tempDir("against")
    const git = (...args: Array<string>) =>
      ChildProcess.execFileSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.com", ...args], { cwd: repo, encoding: "utf8" }).trim()
    try {
      git("init", "-q")
      NFS.writeFileSync(Path.join(repo, "package-lock.json"), '{"lockfileVersion":3}\n')
      git("add", ".")
      git("commit", "-q", "-m", "one")
      const first = git("rev-parse", "HEAD")
      git("tag", "v1")
      NFS.writeFileSync(Path.join(repo, "package-lock.json"), '{"lockfileVersion":3,"packages":{}}\n')
      git("commit", "-q", "-am", "two")
      expect(resolveRef(repo, "v1")).toBe(first)
      expect(resolveRef(repo, "HEAD~1")).toBe(first)
      expect(() => resolveRef(repo, "no-such-branch")).toThrow(/"no-such-branch" names no commit/)
      expect(sameLockfile(repo, git("rev-parse", "HEAD"))).toBe(true)
      expect(sameLockfile(repo, first)).toBe(false)
    } finally {
      NFS.rmSync(repo, { recursive: true, force: true })
    }
  })
})

describe("the naive processor (bench/naive.mjs)", () => {
  const contract = { judgeBytes, renderReport, maskText, maxRecords: 100_000 }

  it("routes a small corpus as the daemon's contract does, one file at a time, with a report for each returned file", () => {
    const root = tempDir("naive")
    try {
      const corpus = makeCorpus(60, 5)
      NFS.mkdirSync(Path.join(root, "data"))
      for (const f of corpus) NFS.writeFileSync(Path.join(root, "data", f.name), f.content)
      // a file that is not JSON at all, returned as the daemon returns it
      NFS.writeFileSync(Path.join(root, "data", "broken.json"), '[{"customer_id": ')
      const today = new Date().toISOString().slice(0, 10)
      const verdict = (content: string) => judgeBytes({ bytes: Buffer.from(content), maxRecords: 100_000, today }).validation.errorCount === 0
      const expectedValid = corpus.filter((f) => verdict(f.content)).map((f) => f.name).sort()
      // the contract agrees with the corpus's own flags, and the corpus has both kinds
      expect(expectedValid).toEqual(corpus.filter((f) => f.valid).map((f) => f.name).sort())
      expect(expectedValid.length).toBeGreaterThan(0)
      expect(expectedValid.length).toBeLessThan(corpus.length)

      const counts = processBacklog(root, contract)

      const returnedNames = [...corpus.filter((f) => !verdict(f.content)).map((f) => f.name), "broken.json"].sort()
      expect(counts).toEqual({ validated: expectedValid.length, returned: returnedNames.length })
      expect(NFS.readdirSync(Path.join(root, "validated")).sort()).toEqual(expectedValid)
      const returns = NFS.readdirSync(Path.join(root, "returns"))
      expect(returns.filter((n) => !n.endsWith(".error.json")).sort()).toEqual(returnedNames)
      expect(returns.filter((n) => n.endsWith(".error.json")).sort()).toEqual(returnedNames.map((n) => `${n}.error.json`))
      for (const name of returnedNames) {
        const report = JSON.parse(NFS.readFileSync(Path.join(root, "returns", `${name}.error.json`), "utf8"))
        expect(report).toMatchObject({ file: name, stored_as: name, error_count: expect.any(Number) })
        expect(report.error_count).toBeGreaterThan(0)
      }
      // every file moved, byte for byte; nothing left behind
      for (const f of corpus) {
        const where = expectedValid.includes(f.name) ? "validated" : "returns"
        expect(NFS.readFileSync(Path.join(root, where, f.name), "utf8")).toBe(f.content)
      }
      expect(NFS.readdirSync(Path.join(root, "data"))).toEqual([])
      expect(NFS.readdirSync(Path.join(root, "processing"))).toEqual([])
    } finally {
      NFS.rmSync(root, { recursive: true, force: true })
    }
  })

  it("masks what a report quotes, as the daemon's reports are masked", () => {
    const root = tempDir("naive-mask")
    try {
      NFS.mkdirSync(Path.join(root, "data"))
      // a card number in the file's name reaches the report's "file"
      const name = "card-4111111111111111.json"
      NFS.writeFileSync(Path.join(root, "data", name), "not json")
      expect(processBacklog(root, contract)).toEqual({ validated: 0, returned: 1 })
      const report = NFS.readFileSync(Path.join(root, "returns", `${name}.error.json`), "utf8")
      expect(report).not.toContain("4111111111111111")
      expect(JSON.parse(report).file).toBe(maskText(name))
    } finally {
      NFS.rmSync(root, { recursive: true, force: true })
    }
  })
})
