export declare const CFS_PERIOD_US: number
export interface CgroupLayout {
  readonly version: 1 | 2
  readonly base: string
}
export declare const detectCgroups: (root?: string) => CgroupLayout | null
export declare const quotaSettings: (version: 1 | 2, cores: number, periodUs?: number) => Array<[string, string]>
export declare const parseCpuStat: (text: string) => { periods: number; throttled: number; throttled_ms: number }
export declare const makeQuotaGroups: (
  layout: CgroupLayout,
  name: string,
  count: number,
  cores: number
) => { parent: string; dirs: Array<string>; stat: (i: number) => { periods: number; throttled: number; throttled_ms: number }; remove: () => void }
