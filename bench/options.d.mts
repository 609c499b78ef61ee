export type Scenario = "backlog" | "latency" | "big" | "idle" | "scaling" | "scaleout"
export declare const SCENARIOS: ReadonlyArray<Scenario>
export interface BenchOptions {
  readonly smoke: boolean
  readonly out?: string
  readonly chart?: string
  readonly only: ReadonlyArray<Scenario>
  readonly scale?: ReadonlyArray<number>
  readonly instances?: ReadonlyArray<number>
  readonly netfs?: "gluster"
}
export declare const parseOptions: (argv: ReadonlyArray<string>) => BenchOptions
