/** The helpers that read the README's marked shell blocks and the systemd unit for test/e2e/readmeDeployment.test.ts. */
import { describe, expect, it } from "vitest"
import * as NFS from "node:fs"
import { environmentFile, recipe, recipeNames, serviceSettings, unitWords } from "./support/recipes.js"

const readme = NFS.readFileSync(new URL("../README.md", import.meta.url), "utf8")

describe("recipe", () => {
  const doc = "text\n<!-- recipe:one -->\n```sh\necho a\necho b\n```\nmore\n<!-- recipe:two -->\n\n```sh\nls\n```\n"

  it("returns the sh block after its marker, and lists the markers in order", () => {
    expect(recipe(doc, "one")).toBe("echo a\necho b")
    expect(recipe(doc, "two")).toBe("ls")
    expect(recipeNames(doc)).toEqual(["one", "two"])
  })

  it("fails naming the marker when it is missing, repeated or not followed by an sh block", () => {
    expect(() => recipe(doc, "three")).toThrow("no block marked <!-- recipe:three -->")
    expect(() => recipe(`${doc}<!-- recipe:one -->\n\`\`\`sh\nx\n\`\`\``, "one")).toThrow("marks more than one block")
    expect(() => recipe("<!-- recipe:x -->\nprose\n```sh\nls\n```", "x")).toThrow("is not followed by")
  })

  it("README's deployment has every block the deployment test runs, none with sudo", () => {
    for (const name of ["build", "install", "user", "producers", "producer-drop", "producer-read", "start", "cli", "partners"]) {
      expect(recipeNames(readme), name).toContain(name)
      expect(recipe(readme, name)).not.toMatch(/\bsudo\b/)
    }
  })
})

describe("the unit's settings", () => {
  it("reads [Service] keys only, every value of a repeated key, without comments", () => {
    const unit = "[Unit]\nDescription=x\n# User=nobody\n[Service]\nUser=cjp\nEnvironment=A=1\nEnvironment=\"B=two words\" C=3\n; Group=x\n[Install]\nWantedBy=multi-user.target\n"
    const s = serviceSettings(unit)
    expect([...s.keys()]).toEqual(["User", "Environment"])
    expect(s.get("Environment")!.flatMap(unitWords)).toEqual(["A=1", "B=two words", "C=3"])
  })

  it("reads an EnvironmentFile as systemd does: assignments, comments left out, quotes removed", () => {
    expect(environmentFile("# a comment\nA=1\n\n; another\nB=\"x y\"\nC='z'\nD=\nnot an assignment\n")).toEqual([
      ["A", "1"],
      ["B", "x y"],
      ["C", "z"],
      ["D", ""]
    ])
  })
})
