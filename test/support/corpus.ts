/** The benchmark's corpus generator, shared with the end-to-end tests. */
export { customer, makeCorpus, prng, sha256 } from "../../bench/corpus.mjs"
export type { CorpusFile } from "../../bench/corpus.mjs"
