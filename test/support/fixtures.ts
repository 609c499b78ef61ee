import * as NFS from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const fixturesDir = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures")
export const fixture = (name: string): string => NFS.readFileSync(Path.join(fixturesDir, name), "utf8")
export const fixtureJson = (name: string): unknown => JSON.parse(fixture(name))

/** A valid record; override any field, or pass `undefined` to leave it out. */
export const record = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const base: Record<string, unknown> = {
    customer_id: "C-1",
    first_name: "Ada",
    last_name: "Byron",
    email: "ada@example.com",
    address: { line1: "1 Main St", city: "London", postal_code: "N1 9GU", country: "GB" },
    created_at: "2026-11-28T09:30:00Z"
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key]
    else base[key] = value
  }
  return base
}

export const address = (overrides: Record<string, unknown> = {}) => ({
  line1: "1 Main St",
  city: "London",
  postal_code: "N1 9GU",
  country: "GB",
  ...overrides
})

export const payment = (overrides: Record<string, unknown> = {}) => ({
  card_number: "4111 1111 1111 1111",
  card_holder: "A BYRON",
  expiry: "09/28",
  ...overrides
})
