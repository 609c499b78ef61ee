/** Why the checkout at `root` needs a build, or `undefined` when its build is up to date. */
export declare const buildReason: (root: string) => string | undefined
