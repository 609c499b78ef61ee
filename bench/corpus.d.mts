export interface CorpusFile {
  readonly name: string
  readonly content: string
  readonly valid: boolean
}
export declare const prng: (seed: number) => () => number
export declare const customer: (id: string, random: () => number, invalid: boolean) => Record<string, unknown>
export declare function corpusFiles(count: number, seed?: number, records?: number): Generator<CorpusFile, void, undefined>
export declare const makeCorpus: (count: number, seed?: number, records?: number) => Array<CorpusFile>
export declare const sha256: (data: string | Uint8Array) => string
