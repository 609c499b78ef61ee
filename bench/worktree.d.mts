export declare const resolveRef: (repo: string, ref: string) => string
export declare const sameLockfile: (repo: string, sha: string) => boolean
