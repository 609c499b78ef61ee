/**
 * The command line as Unix users expect it, on top of @effect/cli. The library
 * takes an option it does not know for an argument (`validate --bogus f.json`
 * validates a file named `--bogus`) and renders a long, coloured help that
 * repeats its own notes under every option; so the arguments are read here
 * first: an option the command does not take is a usage error (exit 64) named
 * with the command's usage line, and `--help` is a short plain text. What
 * options each command takes comes from the library's own usage of it, so the
 * two never disagree. Pure.
 */
import type * as Usage from "@effect/cli/Usage"
import * as Option from "effect/Option"

/** A command's options by every name they go by (`--help`, `-h`): whether each takes a value. */
export type KnownOptions = ReadonlyMap<string, boolean>

/** The options in a command's usage (@effect/cli's `Command.getUsage`); its positional arguments are left out. */
export const optionsOf = (usage: Usage.Usage): KnownOptions => {
  const found = new Map<string, boolean>()
  const walk = (u: Usage.Usage): void => {
    switch (u._tag) {
      case "Named":
        for (const name of u.names) if (name.startsWith("-")) found.set(name, Option.isSome(u.acceptedValues))
        return
      case "Optional":
      case "Repeated":
        return walk(u.usage)
      case "Alternation":
      case "Concat":
        walk(u.left)
        return walk(u.right)
      case "Empty":
      case "Mixed":
        return
    }
  }
  walk(usage)
  return found
}

/** The options of the program itself and of each of its commands. */
export interface Grammar {
  readonly root: KnownOptions
  readonly commands: ReadonlyMap<string, KnownOptions>
}

/**
 * What the arguments ask for: a run (left to @effect/cli), a command's help,
 * the version, or a usage error. Of @effect/cli's built-in options only
 * `--help` (`-h`) and `--version` are taken, in every command, and answered
 * here; `--wizard`, `--completions` and `--log-level` are unknown options.
 */
export type Reading =
  | { readonly _tag: "Run" }
  | { readonly _tag: "Version" }
  | { readonly _tag: "Help"; readonly command: string | undefined }
  | { readonly _tag: "Usage"; readonly command: string | undefined; readonly problem: string }

/**
 * Reads the arguments (without `node` and the script) in order; the first
 * help request or problem decides. `--` ends the options: what follows it is
 * an argument even when it starts with `-` (a file named `-x.json`).
 */
export const readArguments = (args: ReadonlyArray<string>, grammar: Grammar): Reading => {
  let command: string | undefined
  let known = grammar.root
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") break
    if (arg.startsWith("-") && arg !== "-") {
      const equals = arg.startsWith("--") ? arg.indexOf("=") : -1
      const name = equals > 0 ? arg.slice(0, equals) : arg
      if (name === "--help" || name === "-h") return { _tag: "Help", command }
      if (name === "--version") return { _tag: "Version" }
      const takesValue = known.get(name)
      if (takesValue === undefined) return { _tag: "Usage", command, problem: `unknown option ${name}` }
      if (!takesValue && equals > 0) return { _tag: "Usage", command, problem: `option ${name} takes no value` }
      // Its value is the next argument, whatever it looks like (@effect/cli reads it so too).
      if (takesValue && equals < 0) i++
      continue
    }
    if (command !== undefined) continue
    const sub = grammar.commands.get(arg)
    if (sub === undefined) return { _tag: "Usage", command, problem: `unknown command ${arg}` }
    command = arg
    known = sub
  }
  return { _tag: "Run" }
}

/** The help of one command: its usage lines, what it does, its options and (for the program) its commands. */
export interface CommandDoc {
  /** each a way to call it, after the program's name */
  readonly usage: ReadonlyArray<string>
  /** what it does, a sentence or two */
  readonly about: string
  readonly options: ReadonlyArray<readonly [names: string, text: string]>
  readonly commands?: ReadonlyArray<readonly [name: string, text: string]>
  /** a closing line or two (exit codes, where the settings come from) */
  readonly notes?: ReadonlyArray<string>
}

const WIDTH = 80

/** `text` in lines of at most `width` characters (a longer word keeps its own line). */
const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line.length > 0 ? `${line} ${word}` : word
  }
  if (line.length > 0) lines.push(line)
  return lines
}

/** Two columns: the names, then their text wrapped beside them. */
const table = (rows: ReadonlyArray<readonly [string, string]>): Array<string> => {
  const first = Math.max(...rows.map(([name]) => name.length)) + 2
  return rows.flatMap(([name, text]) =>
    wrap(text, Math.max(20, WIDTH - 2 - first)).map((line, i) => `  ${(i === 0 ? name : "").padEnd(first)}${line}`)
  )
}

/** The usage lines alone: what a usage error shows. */
export const usageText = (program: string, doc: CommandDoc): string =>
  doc.usage.map((u, i) => `${i === 0 ? "usage:" : "      "} ${program}${u.length > 0 ? ` ${u}` : ""}`).join("\n") + "\n"

/** The whole help, plain text (no colour, whatever the output is), in about a screen. */
export const helpText = (program: string, doc: CommandDoc): string => {
  const parts = [usageText(program, doc).trimEnd(), wrap(doc.about, WIDTH).join("\n"), ["Options:", ...table(doc.options)].join("\n")]
  if (doc.commands !== undefined && doc.commands.length > 0) parts.push(["Commands:", ...table(doc.commands)].join("\n"))
  if (doc.notes !== undefined && doc.notes.length > 0) parts.push(doc.notes.flatMap((n) => wrap(n, WIDTH)).join("\n"))
  return parts.join("\n\n") + "\n"
}

/** A usage error as the shell shows it: what is wrong, then how the command is called. */
export const usageError = (program: string, command: string | undefined, problem: string, doc: CommandDoc): string =>
  `${program}${command !== undefined ? ` ${command}` : ""}: ${problem}\n${usageText(program, doc)}`
