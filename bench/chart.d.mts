export interface ScalingPoint {
  readonly files: number
  readonly files_per_s: number
  readonly peak_rss_mb: number
}
export interface ScalingChartOptions {
  readonly title?: string
  readonly subtitle?: string
  readonly limits?: ReadonlyArray<{ readonly mb: number; readonly label?: string }>
}
export declare const escapeXml: (text: unknown) => string
export declare const groupDigits: (n: number) => string
export declare const shortCount: (n: number) => string
export declare const scalingSvg: (points: ReadonlyArray<ScalingPoint>, options?: ScalingChartOptions) => string
