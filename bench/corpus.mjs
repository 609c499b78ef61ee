// Deterministic customer files for the benchmark and the end-to-end tests:
// 1 to 5 records each (about 500 bytes a record, pretty-printed), about 10% invalid.
import * as Crypto from "node:crypto"

/** A small deterministic PRNG (mulberry32): the same seed makes the same corpus. */
export const prng = (seed) => () => {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011111111111117"]
const FIRST = ["Ada", "Alan", "Grace", "Edsger"]
const LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra"]

export const customer = (id, random, invalid) => ({
  customer_id: id,
  first_name: FIRST[Math.floor(random() * 4)],
  last_name: LAST[Math.floor(random() * 4)],
  email: invalid ? "not-an-address" : `${id.toLowerCase()}@example.com`,
  phone: "+44 20 7946 0958",
  address: { line1: "12 Analytical Row", city: "London", postal_code: "EC1A 1BB", country: "GB" },
  payment: { card_number: CARDS[Math.floor(random() * CARDS.length)], card_holder: "A CUSTOMER", expiry: "09/28" },
  created_at: "2026-11-28T09:30:00Z",
  status: "active"
})

/**
 * `count` files `{ name, content, valid }`, one at a time: a million-file corpus is
 * written without holding it (`records` fixes the records per file, default 1 to 5).
 */
export function* corpusFiles(count, seed = 42, records) {
  const random = prng(seed)
  for (let i = 0; i < count; i++) {
    const n = records ?? 1 + Math.floor(random() * 5)
    const valid = random() >= 0.1
    const bad = valid ? -1 : Math.floor(random() * n)
    const list = Array.from({ length: n }, (_, r) => customer(`C-${seed}-${i}-${r}`, random, r === bad))
    yield { name: `customers-${String(i).padStart(5, "0")}.json`, content: JSON.stringify(list, null, 2), valid }
  }
}

/** The same files as `corpusFiles`, in an array. */
export const makeCorpus = (count, seed = 42, records) => [...corpusFiles(count, seed, records)]

export const sha256 = (data) => Crypto.createHash("sha256").update(data).digest("hex")
