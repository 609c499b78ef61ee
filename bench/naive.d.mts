export interface NaiveValidationError {
  readonly record: number | null
  readonly path: string
  readonly message: string
}
/** The daemon's functions of the same names (src/contract, src/masking) and its default MAX_RECORDS. */
export interface NaiveContract {
  readonly judgeBytes: (request: { readonly bytes: Uint8Array; readonly maxRecords: number; readonly today: string }) => {
    readonly validation: { readonly errors: ReadonlyArray<NaiveValidationError>; readonly errorCount: number }
  }
  readonly renderReport: (
    input: {
      readonly file: string
      readonly storedAs: string
      readonly receivedAt: Date
      readonly processedAt: Date
      readonly errors: ReadonlyArray<NaiveValidationError>
      readonly errorCount?: number | undefined
    },
    mask?: (text: string) => string
  ) => string
  readonly maskText: (text: string) => string
  readonly maxRecords: number
}
export declare const processBacklog: (root: string, contract: NaiveContract, clock?: () => Date) => { validated: number; returned: number }
export declare const contractFrom: (dist: string) => Promise<NaiveContract>
