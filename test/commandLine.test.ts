/** Reading the command line before @effect/cli does (CommandLine): unknown options, `--help`, and the help's text. */
import * as Command from "@effect/cli/Command"
import * as CommandDescriptor from "@effect/cli/CommandDescriptor"
import * as Options from "@effect/cli/Options"
import { describe, expect, it } from "vitest"
import { helpText, optionsOf, readArguments, usageError } from "../src/cli/CommandLine.js"
import type { Grammar } from "../src/cli/CommandLine.js"
import { command, DOCS, PROGRAM } from "../src/Cli.js"

const grammar: Grammar = {
  root: new Map([["--once", false], ["--stop-with-parent", true]]),
  commands: new Map([
    ["validate", new Map([["--json", false]])],
    ["schema", new Map([["--draft", true]])]
  ])
}

describe("readArguments", () => {
  it("an option no command takes is a usage error naming it, wherever it stands and in every command", () => {
    expect(readArguments(["--bogus"], grammar)).toEqual({ _tag: "Usage", command: undefined, problem: "unknown option --bogus" })
    expect(readArguments(["--once", "--bogus"], grammar)).toEqual({ _tag: "Usage", command: undefined, problem: "unknown option --bogus" })
    // what @effect/cli would have validated as a file named --bogus
    expect(readArguments(["validate", "--bogus", "f.json"], grammar)).toEqual({ _tag: "Usage", command: "validate", problem: "unknown option --bogus" })
    expect(readArguments(["validate", "f.json", "-x"], grammar)).toEqual({ _tag: "Usage", command: "validate", problem: "unknown option -x" })
    expect(readArguments(["schema", "--bogus=1"], grammar)).toEqual({ _tag: "Usage", command: "schema", problem: "unknown option --bogus" })
    // another command's option is unknown here
    expect(readArguments(["validate", "--once", "f.json"], grammar)).toEqual({ _tag: "Usage", command: "validate", problem: "unknown option --once" })
    // @effect/cli's built-ins that are dropped
    for (const builtIn of ["--wizard", "--completions", "--log-level"]) {
      expect(readArguments([builtIn], grammar)).toEqual({ _tag: "Usage", command: undefined, problem: `unknown option ${builtIn}` })
    }
  })

  it("an unknown command, and a value given to an option that takes none, are usage errors", () => {
    expect(readArguments(["bogus"], grammar)).toEqual({ _tag: "Usage", command: undefined, problem: "unknown command bogus" })
    expect(readArguments(["--once=yes"], grammar)).toEqual({ _tag: "Usage", command: undefined, problem: "option --once takes no value" })
  })

  it("known options, their values (whatever they look like) and arguments after -- go to @effect/cli", () => {
    expect(readArguments([], grammar)).toEqual({ _tag: "Run" })
    expect(readArguments(["--once", "--stop-with-parent", "12"], grammar)).toEqual({ _tag: "Run" })
    expect(readArguments(["schema", "--draft", "-odd"], grammar)).toEqual({ _tag: "Run" })
    expect(readArguments(["schema", "--draft=2020-12"], grammar)).toEqual({ _tag: "Run" })
    expect(readArguments(["validate", "--json", "a.json", "-"], grammar)).toEqual({ _tag: "Run" })
    expect(readArguments(["validate", "--", "--bogus.json", "-x.json"], grammar)).toEqual({ _tag: "Run" })
  })

  it("--help (or -h) and --version are answered, the first request or problem deciding", () => {
    expect(readArguments(["--help"], grammar)).toEqual({ _tag: "Help", command: undefined })
    expect(readArguments(["validate", "-h"], grammar)).toEqual({ _tag: "Help", command: "validate" })
    expect(readArguments(["validate", "--help", "--bogus"], grammar)).toEqual({ _tag: "Help", command: "validate" })
    expect(readArguments(["validate", "--bogus", "--help"], grammar)._tag).toBe("Usage")
    expect(readArguments(["validate", "--", "--help"], grammar)).toEqual({ _tag: "Run" })
    expect(readArguments(["--version"], grammar)).toEqual({ _tag: "Version" })
  })
})

describe("optionsOf (what @effect/cli's usage of a command says it takes)", () => {
  it("names every option, aliases too, and whether it takes a value; positional arguments are no options", () => {
    const c = Command.make("c", {
      flag: Options.boolean("flag").pipe(Options.withAlias("f")),
      value: Options.text("value").pipe(Options.optional),
      many: Options.integer("many").pipe(Options.repeated)
    })
    expect(Object.fromEntries(optionsOf(Command.getUsage(c)))).toEqual({ "--flag": false, "-f": false, "--value": true, "--many": true })
  })
})

describe("the program's help", () => {
  const grammarOfCli = (): Grammar => {
    const subcommands = [...Command.getSubcommands(command)]
    return {
      root: optionsOf(Command.getUsage(command)),
      commands: new Map(subcommands.map(([name, descriptor]) => [name, optionsOf(CommandDescriptor.getUsage(descriptor))]))
    }
  }

  it("names every option each command takes, and no other (the internal --stop-with-parent left out)", () => {
    const g = grammarOfCli()
    const documented = (doc: { readonly options: ReadonlyArray<readonly [string, string]> }) =>
      doc.options.flatMap(([names]) => names.split(", ").map((n) => n.split(" ")[0]!)).filter((n) => n !== "-h" && n !== "--help" && n !== "--version").sort()
    expect(documented(DOCS.daemon)).toEqual([...g.root.keys()].filter((n) => n !== "--stop-with-parent").sort())
    for (const name of ["validate", "schema", "requeue"] as const) {
      expect(documented(DOCS[name]), name).toEqual([...g.commands.get(name)!.keys()].sort())
    }
  })

  it("is short plain text that fits a terminal, and says each thing once", () => {
    for (const doc of Object.values(DOCS)) {
      const text = helpText(PROGRAM, doc)
      expect(text).not.toMatch(/\u001b/)
      expect(text).not.toMatch(/A true or false value|This setting is optional|--wizard|--completions|--log-level|--stop-with-parent/)
      expect(text.split("\n").length).toBeLessThanOrEqual(30)
      // (a usage line may run longer, as it must stay one line)
      for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(/^(usage:| {6}) /.test(line) ? 100 : 80)
    }
  })

  it("a usage error says what is wrong, then the command's usage line", () => {
    expect(usageError(PROGRAM, "validate", "unknown option --bogus", DOCS.validate)).toBe(
      "customer-json-processor validate: unknown option --bogus\nusage: customer-json-processor validate [--json] [--] FILE...\n"
    )
  })
})
