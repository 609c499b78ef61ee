export interface TreeListing {
  readonly data: ReadonlyArray<string>
  readonly validated: ReadonlyArray<string>
  readonly returns: ReadonlyArray<string>
  readonly processing: Readonly<Record<string, ReadonlyArray<string>>>
}
export declare const routingProblems: (expected: ReadonlyMap<string, boolean>, tree: TreeListing) => Array<string>
export declare const listTree: (root: string) => TreeListing
