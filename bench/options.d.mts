export type Scenario = "backlog" | "latency" | "big" | "idle" | "scaling" | "scaleout" | "quota"
export declare const SCENARIOS: ReadonlyArray<Scenario>
export interface BenchOptions {
  readonly smoke: boolean
  readonly out?: string
  readonly chart?: string
  readonly only: ReadonlyArray<Scenario>
  readonly against?: string
  readonly files?: number
  readonly rounds?: number
  readonly scale?: ReadonlyArray<number>
  readonly million?: boolean
  readonly instances?: ReadonlyArray<number>
  readonly quota?: number
  readonly netfs?: "gluster"
}
export declare const parseOptions: (argv: ReadonlyArray<string>) => BenchOptions
