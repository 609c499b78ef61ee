/**
 * Escaped names back to the bytes the kernel must see.
 *
 * @module
 */
import * as Path from "node:path"
import { bytesFromName } from "../Naming.js"

/**
 * The path as the kernel must see it: the last component is an escaped name
 * (Naming's `nameFromBytes`); only one holding `%` can differ from its bytes.
 */
export const nativePath = (path: string): string | Buffer => {
  const base = Path.basename(path)
  if (!base.includes("%")) return path
  const dir = path.slice(0, path.length - base.length)
  return Buffer.concat([Buffer.from(dir), bytesFromName(base)])
}
