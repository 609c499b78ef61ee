import { describe, expect, it } from "vitest"
import type { Partner } from "../../src/partners/PartnersFile.js"
import { accountsFrom, bitsFor, sealedLayoutProblems } from "../../src/partners/SealedLayout.js"
import type { FolderFacts } from "../../src/partners/SealedLayout.js"

const partner = (id: string, account?: string): Partner => ({
  id,
  inbox: `/p/${id}/data`,
  returns: `/p/${id}/returns`,
  validated: "shared",
  contract: "1",
  account,
  notify: { to: [], administrators: true }
})
const DAEMON = 990
// The README's layout: the daemon's user owns each folder, the partner's own group (gid 2000 + n), 2770 and 2750.
const sealed = (n: number): Array<[string, FolderFacts]> => {
  const id = ["acme", "globex"][n]!
  return [
    [`/p/${id}/data`, { uid: DAEMON, gid: 2000 + n, mode: 0o2770 }],
    [`/p/${id}/returns`, { uid: DAEMON, gid: 2000 + n, mode: 0o2750 }]
  ]
}
const partners = [partner("acme", "acme"), partner("globex", "globex")]
const accounts = accountsFrom(
  "acme:x:1001:1001::/home/acme:/bin/sh\nglobex:x:1002:1002::/home/globex:/bin/sh\n",
  "acme:x:1001:\nglobex:x:1002:\ncjp-acme:x:2000:acme\ncjp-globex:x:2001:globex\n",
  ["acme", "globex"]
)
const names = (gid: number) => ({ 2000: "cjp-acme", 2001: "cjp-globex", 3000: "cjp-producers" })[gid] ?? String(gid)

describe("sealed partner folders", () => {
  it("reads accounts and their groups from getent's lines", () => {
    expect([...accounts.values()]).toEqual([
      { name: "acme", uid: 1001, gids: [1001, 2000] },
      { name: "globex", uid: 1002, gids: [1002, 2001] }
    ])
  })

  it("the kernel's choice of bits: owner, else group, else others", () => {
    const f = { uid: 1001, gid: 2000, mode: 0o751 }
    expect(bitsFor(f, { name: "a", uid: 1001, gids: [] })).toBe(7)
    expect(bitsFor(f, { name: "b", uid: 1002, gids: [2000] })).toBe(5)
    expect(bitsFor(f, { name: "c", uid: 1003, gids: [] })).toBe(1)
    // An owner without owner bits does not fall back to the group's.
    expect(bitsFor({ uid: 1001, gid: 2000, mode: 0o070 }, { name: "a", uid: 1001, gids: [2000] })).toBe(0)
  })

  it("the README's layout (a group per partner, no bits for others) is sealed", () => {
    expect(sealedLayoutProblems(partners, new Map([...sealed(0), ...sealed(1)]), accounts, names)).toEqual([])
  })

  it("one shared producers' group (the old README's layout): each partner reaches the other's folders, and is told how to fix it", () => {
    const shared = new Map<string, FolderFacts>([
      ["/p/acme/data", { uid: DAEMON, gid: 3000, mode: 0o2770 }],
      ["/p/acme/returns", { uid: DAEMON, gid: 3000, mode: 0o2750 }],
      ["/p/globex/data", { uid: DAEMON, gid: 3000, mode: 0o2770 }],
      ["/p/globex/returns", { uid: DAEMON, gid: 3000, mode: 0o2750 }]
    ])
    const inShared = accountsFrom("acme:x:1001:1001::/:/bin/sh\nglobex:x:1002:1002::/:/bin/sh\n", "cjp-producers:x:3000:acme,globex\n", ["acme", "globex"])
    const problems = sealedLayoutProblems(partners, shared, inShared, names)
    expect(problems.map((p) => `${p.partner} ${p.folder}`)).toEqual(["acme inbox", "acme returns", "globex inbox", "globex returns"])
    expect(problems[0]!.message).toBe(
      "partner globex (account globex) can list, create and delete files in, open files by name in acme's inbox /p/acme/data (mode 2770): " +
        "it is in the folder's group cjp-producers: give acme a group of its own (chgrp) or take globex out of it (gpasswd -d globex cjp-producers)"
    )
    expect(problems[1]!.message).toMatch(/^partner globex \(account globex\) can list, open files by name in acme's returns/)
  })

  it("bits for others are refused whoever the partners are", () => {
    const loose = new Map([...sealed(0), ...sealed(1)])
    loose.set("/p/acme/returns", { uid: DAEMON, gid: 2000, mode: 0o2755 })
    expect(sealedLayoutProblems(partners, loose, new Map(), names).map((p) => p.message)).toEqual([
      "every account can list, open files by name in acme's returns /p/acme/returns (mode 2755): chmod o-rwx /p/acme/returns"
    ])
  })

  it("a folder owned by another partner's account is reached through its owner bits", () => {
    const owned = new Map([...sealed(0), ...sealed(1)])
    owned.set("/p/acme/data", { uid: 1002, gid: 2000, mode: 0o2770 })
    expect(sealedLayoutProblems(partners, owned, accounts, names).map((p) => p.message)).toEqual([
      "partner globex (account globex) can list, create and delete files in, open files by name in acme's inbox /p/acme/data (mode 2770): it owns it: chown acme /p/acme/data"
    ])
  })

  it("without accounts, a group two partners' folders share is refused; with their own groups, nothing is", () => {
    const anon = [partner("acme"), partner("globex")]
    expect(sealedLayoutProblems(anon, new Map([...sealed(0), ...sealed(1)]), new Map(), names)).toEqual([])
    const shared = new Map([...sealed(0), ...sealed(1)])
    shared.set("/p/globex/data", { uid: DAEMON, gid: 2000, mode: 0o2770 })
    expect(sealedLayoutProblems(anon, shared, new Map(), names).map((p) => p.message)).toEqual([
      "acme's inbox /p/acme/data and globex's inbox /p/globex/data share the group cjp-acme (mode 2770): the members of one partner's group can list, create and delete files in, open files by name in the other's; give each partner a group of its own (chgrp)",
      "acme's returns /p/acme/returns and globex's inbox /p/globex/data share the group cjp-acme (mode 2750): the members of one partner's group can list, open files by name in the other's; give each partner a group of its own (chgrp)",
      "globex's inbox /p/globex/data and acme's inbox /p/acme/data share the group cjp-acme (mode 2770): the members of one partner's group can list, create and delete files in, open files by name in the other's; give each partner a group of its own (chgrp)"
    ])
  })
})
