// The benchmark's command line, parsed by a pure function (tested in
// test/benchTools.test.ts). See the top of bench/run.mjs for what each does.

/** Scenario names, in the order they run. */
export const SCENARIOS = ["backlog", "latency", "big", "idle", "scaling", "scaleout"]

// Other names people will type for the same scenarios (the table's row names among them).
const ALIASES = { floor: "backlog", trusted: "backlog", "big-file": "big", "big file": "big", "scale-out": "scaleout" }

const USAGE =
  "usage: node bench/run.mjs [--smoke] [--out FILE] [--only " + SCENARIOS.join(",") + "] " +
  "[--scale N,N,...] [--instances N,N,...] [--chart FILE] [--netfs gluster]"

const fail = (message) => {
  throw new Error(`${message}\n${USAGE}`)
}

const positiveIntegers = (flag, text) => {
  if (text === undefined || text.startsWith("--")) fail(`${flag} needs a value`)
  const values = text.split(",").map((part) => part.trim().replaceAll("_", ""))
  for (const v of values) if (!/^[1-9]\d*$/.test(v)) fail(`${flag}: "${v}" is not a positive whole number`)
  return values.map(Number)
}

/**
 * The options of `argv` (process.argv without node and the script):
 * `{ smoke, out?, only, scale?, instances?, chart?, netfs? }`. `only` lists the
 * scenarios to run, in their usual order; when `--only` is absent, `--scale`,
 * `--instances` and `--netfs` restrict the run to their own scenario (a
 * million-file run need not wait for the others), and otherwise every scenario runs.
 */
export const parseOptions = (argv) => {
  const options = { smoke: false }
  let only
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined || v.startsWith("--")) fail(`${flag} needs a value`)
      return v
    }
    switch (flag) {
      case "--smoke":
        options.smoke = true
        break
      case "--out":
        options.out = value()
        break
      case "--chart":
        options.chart = value()
        break
      case "--only": {
        const names = value().split(",").map((n) => n.trim().toLowerCase()).filter((n) => n !== "")
        const resolved = names.map((n) => ALIASES[n] ?? n)
        const unknown = resolved.filter((n) => !SCENARIOS.includes(n))
        if (unknown.length > 0 || names.length === 0) fail(`--only: unknown scenario ${unknown.join(", ") || "(none given)"}; the scenarios are ${SCENARIOS.join(", ")}`)
        only = resolved
        break
      }
      case "--scale":
        options.scale = positiveIntegers(flag, argv[++i])
        break
      case "--instances":
        options.instances = positiveIntegers(flag, argv[++i])
        break
      case "--netfs": {
        const v = value()
        if (v !== "gluster") fail(`--netfs: "${v}" is not supported; the one network filesystem is gluster`)
        options.netfs = v
        break
      }
      default:
        fail(`unknown argument "${flag}"`)
    }
  }
  const implied = [options.scale && "scaling", (options.instances || options.netfs) && "scaleout"].filter(Boolean)
  const chosen = only ?? (implied.length > 0 ? implied : SCENARIOS)
  options.only = SCENARIOS.filter((s) => chosen.includes(s))
  return options
}
