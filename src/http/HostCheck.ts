/**
 * Which `Host` header values the status page, `/status.json` and `/metrics`
 * answer: those that name the address the endpoint listens on, or one listed
 * in STATUS_HOSTS. A DNS-rebinding page (an attacker's name made to resolve to
 * 127.0.0.1 in an admin's browser) reaches the port under the attacker's own
 * name, so its requests are refused (421) and it cannot read what the daemon
 * shows. `/healthz` answers any Host (see HealthServer). Pure functions.
 */

/** A host as a `Host` header or a STATUS_HOSTS entry gives it: a name (lower case) and maybe a port. */
export interface HostEntry {
  /** a DNS name without its trailing dot, an IPv4 address, or an IPv6 address in brackets */
  readonly name: string
  readonly port: number | undefined
}

// A bracketed IPv6 address, or a name of letters, digits, dots, hyphens and underscores; then maybe a port.
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/

/** `name[:port]` or `[v6][:port]`, case-insensitive; undefined for anything else. */
export const parseHost = (text: string): HostEntry | undefined => {
  const match = HOST.exec(text.trim().toLowerCase())
  if (match === null) return undefined
  const raw = match[1]!
  const name = raw.startsWith("[") ? raw : raw.replace(/\.$/, "")
  const port = match[2] === undefined ? undefined : Number(match[2])
  if (name === "" || name.startsWith(".") || name.includes("..")) return undefined
  if (port !== undefined && (port < 1 || port > 65535)) return undefined
  return { name, port }
}

/** STATUS_HOSTS: a comma-separated list of `name` or `name:port`; undefined when an entry is not one. */
export const parseHostList = (text: string): ReadonlyArray<HostEntry> | undefined => {
  const entries = text.split(",").map((t) => t.trim()).filter((t) => t !== "").map(parseHost)
  return entries.every((e) => e !== undefined) ? entries : undefined
}

export const showHost = (entry: HostEntry): string => (entry.port === undefined ? entry.name : `${entry.name}:${entry.port}`)

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/
const isAddressLiteral = (name: string) => IPV4.test(name) || name.startsWith("[")

/** What the endpoint answers to, from where it listens and STATUS_HOSTS. */
export interface HostRule {
  readonly port: number
  /** names that stand for the listening address (with `port`, or alone when it is 80) */
  readonly names: ReadonlySet<string>
  /** bound to every address (0.0.0.0, ::): any address literal stands for it */
  readonly anyAddress: boolean
  readonly listed: ReadonlyArray<HostEntry>
}

export const hostRule = (metricsHost: string, port: number, statusHosts: ReadonlyArray<HostEntry>): HostRule => {
  const host = metricsHost.trim().toLowerCase()
  const name = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host.replace(/\.$/, "")
  const anyAddress = name === "0.0.0.0" || name === "[::]" || name === ""
  const names = new Set<string>(anyAddress ? ["localhost"] : [name])
  // A loopback address is `localhost` to a browser, and `localhost` may resolve to either family.
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || name === "[::1]") names.add("localhost")
  if (name === "localhost") {
    names.add("127.0.0.1")
    names.add("[::1]")
  }
  return { port, names, anyAddress, listed: statusHosts }
}

/**
 * Whether a request with this `Host` header is for this endpoint. A listed
 * name without a port stands for itself alone (as a proxy on a default port
 * sends it) and with METRICS_PORT; with a port, for exactly that.
 */
export const hostAllowed = (rule: HostRule, header: string | undefined): boolean => {
  if (header === undefined) return false
  const host = parseHost(header)
  if (host === undefined) return false
  if (rule.names.has(host.name) || (rule.anyAddress && isAddressLiteral(host.name))) return (host.port ?? 80) === rule.port
  return rule.listed.some((entry) =>
    entry.name === host.name &&
    (entry.port === undefined ? host.port === undefined || host.port === rule.port : host.port === entry.port)
  )
}
