export declare const median: (values: ReadonlyArray<number>) => number
export declare const medianFields: <T extends Record<string, unknown>>(runs: ReadonlyArray<T>) => Record<string, unknown>
export declare const speedRatio: (measuredSeconds: number, referenceSeconds: number) => number
export interface BacklogSeconds {
  readonly floor?: number | undefined
  readonly copyFloor?: number | undefined
  readonly naive?: number | undefined
  readonly daemon?: number | undefined
  readonly otherUser?: number | undefined
}
export interface TargetRatio {
  readonly name: string
  readonly value: number
  readonly target: number | null
  readonly met: boolean | null
}
export declare const backlogRatios: (seconds: BacklogSeconds, place: "disk" | "tmpfs") => Array<TargetRatio>
export interface Efficiency {
  readonly instances: number
  readonly value: number
  readonly target: number | null
  readonly met: boolean | null
}
export declare const scaleOutEfficiency: (byInstances: ReadonlyArray<{ readonly instances: number; readonly files_per_s: number }>) => Array<Efficiency>
export interface Measurement {
  readonly scenario: string
  readonly row: string
  readonly build: string | null
  readonly metrics: Readonly<Record<string, unknown>>
}
export interface Comparison {
  readonly scenario: string
  readonly row: string
  readonly runs: { readonly ref: number; readonly work: number }
  readonly ref: Record<string, unknown>
  readonly work: Record<string, unknown>
  readonly ratio: Record<string, number>
}
export declare const compareBuilds: (measurements: ReadonlyArray<Measurement>, refLabel: string, workLabel: string) => Array<Comparison>
export declare const parseRusage: (text: string) => { cpu_seconds: number; max_rss_mb: number } | null
