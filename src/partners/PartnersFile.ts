/**
 * The partners file (PARTNERS_FILE): who delivers files, where, under which
 * contract, and who is told about their returned files. One partner a line
 * of YAML (or an element of a JSON array: JSON is read as the YAML it is):
 *
 *     partners:
 *       - { id: acme, inbox: /srv/cjp/acme/data, returns: /srv/cjp/acme/returns }
 *       - id: globex
 *         inbox: /srv/cjp/globex/data
 *         returns: /srv/cjp/globex/returns
 *         validated: own                     # validated/globex/ instead of validated/
 *         account: globex                    # its account: checked to reach no one else's folders
 *         notify: { to: [edi@globex.example], administrators: false }
 *
 * Parsing is pure (`parsePartners`): the text, its YAML syntax and every
 * field checked with effect Schema, then the partners against each other (no
 * id, folder or account used twice; no folder inside another partner's). A
 * mistake is one `PartnersFileInvalid` naming the file, its line and column,
 * and what to write instead.
 *
 * @module
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Path from "node:path"
import * as Yaml from "yaml"
import { PARTNER_ID } from "../files/PartnerNames.js"

/** The contract versions a partner may be held to (docs/CONTRACT.md; only version 1 exists). */
export const CONTRACT_VERSIONS = ["1"] as const

/** A partner's id: in folder names, metric labels and `requeue --partner`, so short and plain. */
const ID = PARTNER_ID
/** The same address rule as EMAIL_RECEIVERS. */
const ADDRESS = /^[^\s@]+@[^\s@.-][^\s@]*\.[^\s@]*[^\s@.-]$/
/** A Unix account name, as useradd takes it. */
const ACCOUNT = /^[a-z_][a-z0-9_-]{0,31}\$?$/

const FolderPath = Schema.String.pipe(
  Schema.filter((s) => s.trim() !== "" && !s.includes("\0"), { message: () => "expected a folder path (not empty)" })
)

/** `contract: 1` or `contract: "1"`: YAML reads the first as a number. */
const ContractVersion = Schema.transform(
  Schema.Union(Schema.String, Schema.Number),
  Schema.Literal(...CONTRACT_VERSIONS).annotations({ message: () => `expected a contract version this daemon knows: ${CONTRACT_VERSIONS.join(", ")}` }),
  { strict: false, decode: (v) => String(v), encode: (v) => v }
)

const PartnerFields = Schema.Struct({
  id: Schema.String.pipe(
    Schema.filter((s) => ID.test(s), {
      message: () => "expected a partner id: 1 to 32 lowercase letters, digits and inner hyphens (it names folders and metric labels)"
    })
  ),
  inbox: FolderPath,
  returns: FolderPath,
  validated: Schema.optionalWith(Schema.Literal("shared", "own"), { default: () => "shared" as const }),
  contract: Schema.optionalWith(ContractVersion, { default: () => CONTRACT_VERSIONS[0] }),
  account: Schema.optional(
    Schema.String.pipe(Schema.filter((s) => ACCOUNT.test(s), { message: () => "expected a Unix account name (as useradd takes it)" }))
  ),
  notify: Schema.optionalWith(
    Schema.Struct({
      to: Schema.optionalWith(
        Schema.Array(
          Schema.String.pipe(Schema.filter((s) => ADDRESS.test(s), { message: () => "expected an email address such as edi@partner.example" }))
        ),
        { default: () => [] }
      ),
      administrators: Schema.optionalWith(Schema.Boolean, { default: () => true })
    }),
    { default: () => ({ to: [], administrators: true }) }
  )
})

const FileFields = Schema.Struct({ partners: Schema.Array(PartnerFields) })

/** One partner, as the partners file says (folders resolved against the daemon's working directory). */
export interface Partner {
  readonly id: string
  /** the folder it delivers into: its `data/` */
  readonly inbox: string
  /** where its returned files and reports go */
  readonly returns: string
  /** `own`: its validated files go to `validated/<id>/`; `shared`: to `validated/` */
  readonly validated: "shared" | "own"
  /** the contract version its files are judged by */
  readonly contract: (typeof CONTRACT_VERSIONS)[number]
  /** its Unix account, when named: the start-up checks make sure it reaches no other partner's folders */
  readonly account: string | undefined
  /** who is told about its returned files: these addresses, and the administrators unless `administrators: false` */
  readonly notify: { readonly to: ReadonlyArray<string>; readonly administrators: boolean }
}

/** The partners file could not be used: where, and what to change. */
export class PartnersFileInvalid extends Data.TaggedError("PartnersFileInvalid")<{
  readonly path: string
  /** 1-based; 0 when the mistake is the file as a whole */
  readonly line: number
  readonly column: number
  readonly problem: string
}> {
  override get message(): string {
    const where = this.line > 0 ? `${this.path} line ${this.line}, column ${this.column}` : this.path
    return `invalid partners file ${where}: ${this.problem}`
  }
}

const decode = Schema.decodeUnknownEither(FileFields, { errors: "first", onExcessProperty: "error" })

type Node = Yaml.Node | Yaml.Pair | null | undefined

/** Where the value at `path` starts, or the nearest enclosing value that is there (a missing key: its object). */
const positionOf = (doc: Yaml.Document, lines: Yaml.LineCounter, path: ReadonlyArray<PropertyKey>): { line: number; column: number } => {
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as Array<unknown>, true)) as Node
    const range = node !== null && node !== undefined && "range" in node ? node.range : undefined
    if (range !== undefined && range !== null) {
      const { line, col } = lines.linePos(range[0])
      return { line, column: col }
    }
  }
  return { line: 1, column: 1 }
}

/** `partners[1].notify.to[0]`, as a person writing the file counts (from 0, like the arrays in it). */
const showPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("")

/** The folder's place for comparisons: absolute, normalised, with a trailing slash (so `/a/b/` is not inside `/a/bc/`). */
const folderKey = (cwd: string, folder: string) => `${Path.resolve(cwd, folder).replace(/\/+$/, "")}/`

/**
 * Pure: the partners in `text` (the file at `path`, folders relative to `cwd`),
 * or the first mistake, with its line. Checks that no two partners share an
 * id, an account or a folder, and that no partner's folder lies inside
 * another's (the inner partner could then be reached through the outer one's).
 */
export const parsePartners = (text: string, path: string, cwd: string): Either.Either<ReadonlyArray<Partner>, PartnersFileInvalid> => {
  const lines = new Yaml.LineCounter()
  const doc = Yaml.parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true, merge: false })
  const fail = (line: number, column: number, problem: string) => Either.left(new PartnersFileInvalid({ path, line, column, problem }))
  const syntax = doc.errors[0]
  if (syntax !== undefined) {
    const at = syntax.linePos?.[0] ?? { line: 0, col: 0 }
    return fail(at.line, at.col, syntax.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""))
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 })
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(1, 1, "the file must hold `partners:` and a list of partners (each with id, inbox and returns)")
  }
  const decoded = decode(value)
  if (Either.isLeft(decoded)) {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]!
    const at = positionOf(doc, lines, issue.path)
    const where = issue.path.length === 0 ? "the file" : showPath(issue.path)
    const problem = issue._tag === "Unexpected" && issue.path.length > 0
      ? `${where} is not a field a partner has (id, inbox, returns, validated, contract, account, notify)`
      : `${where}: ${issue.message}`
    return fail(at.line, at.column, problem)
  }
  const partners: Array<Partner> = decoded.right.partners.map((p) => ({
    id: p.id,
    inbox: Path.resolve(cwd, p.inbox),
    returns: Path.resolve(cwd, p.returns),
    validated: p.validated,
    contract: p.contract,
    account: p.account,
    notify: { to: p.notify.to, administrators: p.notify.administrators }
  }))
  const byId = new Map<string, number>()
  const byAccount = new Map<string, number>()
  const folders: Array<{ readonly key: string; readonly index: number; readonly field: "inbox" | "returns" }> = []
  for (const [index, p] of partners.entries()) {
    const at = (field: PropertyKey) => positionOf(doc, lines, ["partners", index, field])
    const sameId = byId.get(p.id)
    if (sameId !== undefined) {
      const { line, column } = at("id")
      return fail(line, column, `partners[${index}].id "${p.id}" is the id of partners[${sameId}] already: each partner needs an id of its own`)
    }
    byId.set(p.id, index)
    if (p.account !== undefined) {
      const sameAccount = byAccount.get(p.account)
      if (sameAccount !== undefined) {
        const { line, column } = at("account")
        return fail(line, column, `partners[${index}].account "${p.account}" is the account of partners[${sameAccount}] already: partners sharing an account can read each other's files`)
      }
      byAccount.set(p.account, index)
    }
    for (const field of ["inbox", "returns"] as const) {
      const key = folderKey(cwd, p[field])
      for (const other of folders) {
        const clash = key === other.key ? "is" : key.startsWith(other.key) ? "is inside" : other.key.startsWith(key) ? "contains" : undefined
        if (clash === undefined) continue
        const { line, column } = at(field)
        const whose = other.index === index ? `its own ${other.field}` : `partners[${other.index}].${other.field} (${partners[other.index]!.id})`
        return fail(line, column, `partners[${index}].${field} ${p[field]} ${clash} ${whose}: give each partner's inbox and returns folders of their own, side by side`)
      }
      folders.push({ key, index, field })
    }
  }
  return Either.right(partners)
}
