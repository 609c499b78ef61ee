/** Which Host headers the status page, /status.json and /metrics answer (HostCheck), and the STATUS_HOSTS rule. */
import { describe, expect, it } from "vitest"
import { hostAllowed, hostRule, parseHost, parseHostList } from "../src/http/HostCheck.js"

const allowed = (metricsHost: string, port: number, statusHosts: string, headers: ReadonlyArray<string | undefined>) => {
  const rule = hostRule(metricsHost, port, parseHostList(statusHosts)!)
  return headers.filter((h) => hostAllowed(rule, h))
}

describe("the Host a status request must carry", () => {
  it("on a loopback address: that address and localhost, with the port", () => {
    const headers = [
      "127.0.0.1:9464", "localhost:9464", "LOCALHOST:9464", "localhost.:9464",
      "127.0.0.1", "localhost", "127.0.0.1:80", "localhost:9465", "[::1]:9464", "10.0.0.5:9464",
      "evil.example:9464", "evil.example", "127.0.0.1.evil.example:9464", "localhost.evil.example:9464",
      "", " ", "127.0.0.1:9464:1", "user@127.0.0.1:9464", "127.0.0.1:99999", undefined
    ]
    expect(allowed("127.0.0.1", 9464, "", headers)).toEqual(["127.0.0.1:9464", "localhost:9464", "LOCALHOST:9464", "localhost.:9464"])
  })

  it("on IPv6 loopback: the bracket form and localhost; on localhost: either family's loopback", () => {
    expect(allowed("::1", 9464, "", ["[::1]:9464", "localhost:9464", "::1:9464", "[::1]", "127.0.0.1:9464"])).toEqual(["[::1]:9464", "localhost:9464"])
    expect(allowed("localhost", 9464, "", ["[::1]:9464", "localhost:9464", "127.0.0.1:9464", "127.0.0.2:9464"])).toEqual([
      "[::1]:9464", "localhost:9464", "127.0.0.1:9464"
    ])
  })

  it("on another address, that address only; on port 80, the name alone too", () => {
    expect(allowed("10.1.2.3", 9464, "", ["10.1.2.3:9464", "localhost:9464", "10.1.2.4:9464", "10.1.2.3"])).toEqual(["10.1.2.3:9464"])
    expect(allowed("10.1.2.3", 80, "", ["10.1.2.3", "10.1.2.3:80", "10.1.2.3:8080"])).toEqual(["10.1.2.3", "10.1.2.3:80"])
  })

  it("on every address (0.0.0.0, ::): any address literal with the port and localhost, but no name a DNS server answers", () => {
    for (const any of ["0.0.0.0", "::"]) {
      expect(allowed(any, 9464, "", ["192.168.1.20:9464", "[fe80::1]:9464", "localhost:9464", "192.168.1.20:9465", "myhost:9464", "rebind.example:9464"]))
        .toEqual(["192.168.1.20:9464", "[fe80::1]:9464", "localhost:9464"])
    }
  })

  it("STATUS_HOSTS: a name alone is that name with no port or METRICS_PORT; name:port exactly that", () => {
    const headers = ["status.example.org", "status.example.org:9464", "Status.Example.Org.", "status.example.org:8080", "proxy.internal:8443", "proxy.internal", "proxy.internal:9464", "other.example.org"]
    expect(allowed("127.0.0.1", 9464, " status.example.org , proxy.internal:8443", headers)).toEqual([
      "status.example.org", "status.example.org:9464", "Status.Example.Org.", "proxy.internal:8443"
    ])
  })

  it("parses names, addresses and ports, and refuses anything else", () => {
    expect(parseHost("Example.ORG.:8080")).toEqual({ name: "example.org", port: 8080 })
    expect(parseHost("[::FFFF:127.0.0.1]")).toEqual({ name: "[::ffff:127.0.0.1]", port: undefined })
    for (const bad of ["", "a b", "a/b", "a@b", "a:b", "::1", "[::1", "a:0", "a:65536", ".", "a..b", ".a", "a:"]) expect([bad, parseHost(bad)]).toEqual([bad, undefined])
    expect(parseHostList("")).toEqual([])
    expect(parseHostList("a, b:1 ,")).toEqual([{ name: "a", port: undefined }, { name: "b", port: 1 }])
    expect(parseHostList("a, http://b")).toBeUndefined()
  })
})
