// The benchmark's command line, parsed by a pure function (tested in
// test/benchTools.test.ts). See the top of bench/run.mjs for what each does.

/** Scenario names, in the order they run. */
export const SCENARIOS = ["backlog", "latency", "big", "idle", "scaling", "scaleout", "quota", "partners"]

// Other names people will type for the same scenarios (the table's row names among them).
const ALIASES = {
  floor: "backlog",
  "copy-floor": "backlog",
  naive: "backlog",
  trusted: "backlog",
  "big-file": "big",
  "big file": "big",
  "scale-out": "scaleout",
  quotas: "quota",
  "scale-out-quota": "quota",
  "quota-scale-out": "quota"
}

const USAGE =
  "usage: node bench/run.mjs [--smoke] [--against REF] [--out FILE] [--only " + SCENARIOS.join(",") + "] " +
  "[--files N] [--rounds N] [--scale N,N,...] [--million] [--instances N,N,...] [--quota CORES] [--chart FILE] [--netfs gluster]"

const fail = (message) => {
  throw new Error(`${message}\n${USAGE}`)
}

const positiveIntegers = (flag, text) => {
  if (text === undefined || text.startsWith("--")) fail(`${flag} needs a value`)
  const values = text.split(",").map((part) => part.trim().replaceAll("_", ""))
  for (const v of values) if (!/^[1-9]\d*$/.test(v)) fail(`${flag}: "${v}" is not a positive whole number`)
  return values.map(Number)
}

const positiveInteger = (flag, text) => {
  const values = positiveIntegers(flag, text)
  if (values.length !== 1) fail(`${flag} takes one number, not a list`)
  return values[0]
}

/**
 * The options of `argv` (process.argv without node and the script):
 * `{ smoke, out?, only, against?, files?, rounds?, scale?, million?, instances?,
 * quota?, chart?, netfs? }`. `only` lists the scenarios to run, in their usual
 * order; when `--only` is absent, `--scale`, `--instances`, `--quota` and
 * `--netfs` restrict the run to their own scenario (a million-file run need not
 * wait for the others), and otherwise every scenario runs. `--million` adds the
 * million-file point to the scaling scenario without restricting the run.
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
      case "--million":
        options.million = true
        break
      case "--files":
        options.files = positiveInteger(flag, argv[++i])
        break
      case "--rounds":
        options.rounds = positiveInteger(flag, argv[++i])
        break
      case "--against": {
        const v = value()
        if (v.trim() === "") fail("--against needs a git ref (a branch, tag or commit)")
        options.against = v
        break
      }
      case "--quota": {
        const v = value()
        // the kernel's least quota is 1 ms of a 100 ms period
        if (!/^\d+(\.\d+)?$/.test(v) || Number(v) < 0.01 || Number(v) > 64) fail(`--quota: "${v}" is not a share of one core from 0.01 to 64 (e.g. 0.45)`)
        options.quota = Number(v)
        break
      }
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
  const implied = [options.scale && "scaling", (options.instances || options.netfs) && "scaleout", options.quota && "quota"].filter(Boolean)
  const chosen = only ?? (implied.length > 0 ? implied : SCENARIOS)
  options.only = SCENARIOS.filter((s) => chosen.includes(s))
  return options
}
