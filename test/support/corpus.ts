/** Deterministic customer files for end-to-end tests: 1 to 5 records each, about 10% invalid. */
import * as Crypto from "node:crypto"

/** A small deterministic PRNG (mulberry32), so every run makes the same corpus. */
export const prng = (seed: number) => () => {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011111111111117"]

export const customer = (id: string, random: () => number, invalid: boolean) => ({
  customer_id: id,
  first_name: ["Ada", "Alan", "Grace", "Edsger"][Math.floor(random() * 4)],
  last_name: ["Lovelace", "Turing", "Hopper", "Dijkstra"][Math.floor(random() * 4)],
  email: invalid ? "not-an-address" : `${id.toLowerCase()}@example.com`,
  phone: "+44 20 7946 0958",
  address: { line1: "12 Analytical Row", city: "London", postal_code: "EC1A 1BB", country: "GB" },
  payment: { card_number: CARDS[Math.floor(random() * CARDS.length)], card_holder: "A CUSTOMER", expiry: "09/28" },
  created_at: "2026-11-28T09:30:00Z",
  status: "active"
})

export interface CorpusFile {
  readonly name: string
  readonly content: string
  readonly valid: boolean
}

export const makeCorpus = (count: number, seed = 42): Array<CorpusFile> => {
  const random = prng(seed)
  const files: Array<CorpusFile> = []
  for (let i = 0; i < count; i++) {
    const records = 1 + Math.floor(random() * 5)
    const valid = random() >= 0.1
    const bad = valid ? -1 : Math.floor(random() * records)
    const list = Array.from({ length: records }, (_, r) => customer(`C-${i}-${r}`, random, r === bad))
    files.push({ name: `customers-${String(i).padStart(5, "0")}.json`, content: JSON.stringify(list, null, 2), valid })
  }
  return files
}

export const sha256 = (data: string | Uint8Array) => Crypto.createHash("sha256").update(data).digest("hex")
