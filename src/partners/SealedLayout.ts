/**
 * Whether each partner's folders are sealed off from the other partners:
 * pure, over the folders' owner, group and mode and the partners' accounts
 * (uid and groups), as the kernel would judge an access. A partner reaches a
 * folder when any permission bit applies to it there: read lists the names,
 * write creates and deletes them, search opens a file by a name it knows.
 *
 * Without a partner's account the check still refuses what would let any
 * account in (permission bits for others) and a group shared by two
 * partners' folders (each partner's members would reach the other's).
 *
 * @module
 */
import type { Partner } from "./PartnersFile.js"

/** What the check needs of a folder: its owner, group and permission bits. */
export interface FolderFacts {
  readonly uid: number
  readonly gid: number
  /** the permission bits (st_mode & 0o7777) */
  readonly mode: number
}

/** A partner's account, as the system knows it. */
export interface Account {
  readonly name: string
  readonly uid: number
  /** its primary group and every group it is a member of */
  readonly gids: ReadonlyArray<number>
}

/** One way one partner's folder can be reached from outside that partner, and how to close it. */
export interface LayoutProblem {
  /** the partner whose folder it is */
  readonly partner: string
  readonly folder: "inbox" | "returns"
  readonly path: string
  /** what reaches it, and how to close it: one line an operator can act on */
  readonly message: string
}

/** The rights `bits` (three: rwx) give, in words. */
const rights = (bits: number): string =>
  [bits & 4 ? "list" : "", bits & 2 ? "create and delete files in" : "", bits & 1 ? "open files by name in" : ""].filter((s) => s !== "").join(", ")

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0")

/** The permission bits (rwx, 0–7) `account` has on a folder, as the kernel picks them: owner, else group, else others. */
export const bitsFor = (folder: FolderFacts, account: Account): number =>
  account.uid === 0
    ? 7
    : account.uid === folder.uid
    ? (folder.mode >> 6) & 7
    : account.gids.includes(folder.gid)
    ? (folder.mode >> 3) & 7
    : folder.mode & 7

/**
 * Pure: every way a partner's inbox or returns folder can be reached by
 * another partner, or by anyone (others' bits); empty when each is sealed.
 * `facts` holds each partner's folders by path; `accounts` each named
 * account; `groupName` names a gid in messages.
 */
export const sealedLayoutProblems = (
  partners: ReadonlyArray<Partner>,
  facts: ReadonlyMap<string, FolderFacts>,
  accounts: ReadonlyMap<string, Account>,
  groupName: (gid: number) => string = String
): ReadonlyArray<LayoutProblem> => {
  const problems: Array<LayoutProblem> = []
  const folders = partners.flatMap((p) =>
    (["inbox", "returns"] as const).flatMap((folder) => {
      const f = facts.get(p[folder])
      return f === undefined ? [] : [{ partner: p, folder, path: p[folder], facts: f }]
    })
  )
  for (const { partner, folder, path, facts: f } of folders) {
    const say = (message: string) => problems.push({ partner: partner.id, folder, path, message })
    const what = `${partner.id}'s ${folder} ${path}`
    if ((f.mode & 7) !== 0) {
      say(`every account can ${rights(f.mode & 7)} ${what} (mode ${octal(f.mode)}): chmod o-rwx ${path}`)
    }
    for (const other of partners) {
      if (other.id === partner.id) continue
      const account = other.account === undefined ? undefined : accounts.get(other.account)
      if (account !== undefined) {
        const bits = bitsFor(f, account)
        // Others' bits are said once above, for everyone.
        if (bits === 0 || (account.uid !== f.uid && !account.gids.includes(f.gid))) continue
        const how = account.uid === f.uid
          ? `it owns it: chown ${partner.account ?? "<the daemon's user>"} ${path}`
          : `it is in the folder's group ${groupName(f.gid)}: give ${partner.id} a group of its own (chgrp) or take ${account.name} out of it (gpasswd -d ${account.name} ${groupName(f.gid)})`
        say(`partner ${other.id} (account ${account.name}) can ${rights(bits)} ${what} (mode ${octal(f.mode)}): ${how}`)
      } else if (((f.mode >> 3) & 7) !== 0) {
        // No account to judge by: a group the other partner's folders use too lets that partner's members in.
        const shared = folders.find((g) => g.partner.id === other.id && g.facts.gid === f.gid)
        if (shared !== undefined) {
          say(
            `${what} and ${other.id}'s ${shared.folder} ${shared.path} share the group ${groupName(f.gid)} (mode ${octal(f.mode)}): ` +
              `the members of one partner's group can ${rights((f.mode >> 3) & 7)} the other's; give each partner a group of its own (chgrp)`
          )
        }
      }
    }
  }
  return problems
}

/**
 * Pure: accounts from `getent passwd` and `getent group` output (the lines of
 * /etc/passwd and /etc/group, or a directory's through NSS), for the names
 * asked for; a name with no passwd line is left out (the caller says so).
 */
export const accountsFrom = (passwd: string, group: string, names: ReadonlyArray<string>): Map<string, Account> => {
  const wanted = new Set(names)
  const users = new Map<string, { uid: number; gid: number }>()
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid] = line.split(":")
    if (name !== undefined && wanted.has(name) && uid !== undefined && gid !== undefined) users.set(name, { uid: Number(uid), gid: Number(gid) })
  }
  const memberOf = new Map<string, Array<number>>()
  for (const line of group.split("\n")) {
    const [, , gid, members] = line.split(":")
    if (gid === undefined || members === undefined) continue
    for (const m of members.split(",")) if (wanted.has(m)) memberOf.set(m, [...(memberOf.get(m) ?? []), Number(gid)])
  }
  const accounts = new Map<string, Account>()
  for (const [name, u] of users) accounts.set(name, { name, uid: u.uid, gids: [u.gid, ...(memberOf.get(name) ?? [])] })
  return accounts
}
