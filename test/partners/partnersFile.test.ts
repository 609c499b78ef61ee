import * as Either from "effect/Either"
import { describe, expect, it } from "vitest"
import { parsePartners } from "../../src/partners/PartnersFile.js"

const parse = (text: string) => parsePartners(text, "/etc/cjp/partners.yaml", "/srv/cjp")
const problem = (text: string) => {
  const r = parse(text)
  if (Either.isRight(r)) throw new Error(`expected a mistake, got ${JSON.stringify(r.right)}`)
  return r.left.message
}

describe("the partners file", () => {
  it("reads YAML partners with their defaults, folders resolved against the working directory", () => {
    const r = parse(`partners:
  - { id: acme, inbox: acme/data, returns: /srv/p/acme/returns }
  - id: globex
    inbox: /srv/p/globex/data
    returns: /srv/p/globex/returns
    validated: own
    contract: 1
    account: globex
    notify: { to: [edi@globex.example], administrators: false }
`)
    expect(Either.getOrThrow(r)).toEqual([
      { id: "acme", inbox: "/srv/cjp/acme/data", returns: "/srv/p/acme/returns", validated: "shared", contract: "1", account: undefined, notify: { to: [], administrators: true } },
      { id: "globex", inbox: "/srv/p/globex/data", returns: "/srv/p/globex/returns", validated: "own", contract: "1", account: "globex", notify: { to: ["edi@globex.example"], administrators: false } }
    ])
  })

  it("reads the same as JSON", () => {
    const r = parse(JSON.stringify({ partners: [{ id: "acme", inbox: "/a/data", returns: "/a/returns", contract: "1" }] }, null, 2))
    expect(Either.getOrThrow(r).map((p) => p.id)).toEqual(["acme"])
  })

  it("names the line and column of a bad field, and what it must be", () => {
    expect(problem(`partners:
  - id: acme
    inbox: /a/data
    returns: /a/returns
  - id: Globex Corp
    inbox: /g/data
    returns: /g/returns
`)).toBe(
      "invalid partners file /etc/cjp/partners.yaml line 5, column 9: partners[1].id: expected a partner id: 1 to 32 lowercase letters, digits and inner hyphens (it names folders and metric labels)"
    )
    expect(problem(`partners:\n  - id: acme\n    inbox: /a/data\n    returns: /a/returns\n    notify:\n      to: [ops@acme.example, not-an-address]\n`)).toMatch(
      /line 6, column \d+: partners\[0\]\.notify\.to\[1\]: expected an email address/
    )
    expect(problem(`partners:\n  - id: acme\n    inbox: /a/data\n    returns: /a/returns\n    contract: 2\n`)).toMatch(
      /line 5, column 15: partners\[0\]\.contract: expected a contract version this daemon knows: 1/
    )
  })

  it("a missing field is named at its partner's line; an unknown field at its own", () => {
    expect(problem(`partners:\n  - id: acme\n    inbox: /a/data\n`)).toMatch(/line 2, column 5: partners\[0\]\.returns: is missing/)
    expect(problem(`partners:\n  - id: acme\n    inbox: /a/data\n    returns: /a/r\n    inbxo: /x\n`)).toMatch(
      /line 5, column \d+: partners\[0\]\.inbxo is not a field a partner has/
    )
  })

  it("a syntax error or a repeated key is named at its line", () => {
    expect(problem(`partners:\n  - id: acme\n    inbox: [/a/data\n`)).toMatch(/partners\.yaml line \d+, column \d+: /)
    expect(problem(`partners:\n  - id: acme\n    id: acme2\n    inbox: /a\n    returns: /b\n`)).toMatch(/line 3, column 5: Map keys must be unique/)
    expect(problem(`{"partners": [`)).toMatch(/line 1, column \d+/)
  })

  it("refuses partners sharing an id, an account or a folder, or a folder inside another partner's", () => {
    const two = (b: string, a = "id: acme, inbox: /p/acme/data, returns: /p/acme/returns, account: acme") => `partners:\n  - { ${a} }\n  - { ${b} }\n`
    expect(problem(two("id: acme, inbox: /p/b/data, returns: /p/b/returns"))).toMatch(/line 3, column \d+: partners\[1\]\.id "acme" is the id of partners\[0\] already/)
    expect(problem(two("id: b, inbox: /p/b/data, returns: /p/b/returns, account: acme"))).toMatch(/partners\[1\]\.account "acme" is the account of partners\[0\] already/)
    expect(problem(two("id: b, inbox: /p/acme/data/, returns: /p/b/returns"))).toMatch(/line 3, column \d+: partners\[1\]\.inbox \/p\/acme\/data is partners\[0\]\.inbox \(acme\)/)
    expect(problem(two("id: b, inbox: /p/acme/data/b, returns: /p/b/returns"))).toMatch(/is inside partners\[0\]\.inbox \(acme\)/)
    expect(problem(two("id: b, inbox: /p, returns: /q/b/returns"))).toMatch(/partners\[1\]\.inbox \/p contains partners\[0\]\.inbox \(acme\)/)
    expect(problem(two("id: b, inbox: /p/b, returns: /p/b"))).toMatch(/partners\[1\]\.returns \/p\/b is its own inbox/)
    // Side by side is fine, even with a common prefix of letters.
    expect(Either.isRight(parse(two("id: b, inbox: /p/acme/database, returns: /p/acme/returns2")))).toBe(true)
  })

  it("an empty list and no partners key are told apart", () => {
    expect(Either.getOrThrow(parse("partners: []\n"))).toEqual([])
    expect(problem("{}\n")).toMatch(/line 1, column 1: partners: is missing/)
    expect(problem("")).toMatch(/line 1, column 1: the file must hold `partners:` and a list of partners/)
    expect(problem("- id: acme\n")).toMatch(/the file must hold `partners:`/)
  })
})
