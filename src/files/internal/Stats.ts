/**
 * Stat results normalised: the platform's `File.Info` and the port's `Meta`,
 * from Node's `Stats`, `BigIntStats` and memfs's alike.
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Option from "effect/Option"
import type { Meta } from "../FileOps.js"

/** What `metaOf` needs of a stat result: Node's `fs.Stats`, `fs.BigIntStats` and memfs's alike. */
export interface StatsLike {
  isFile(): boolean
  isDirectory(): boolean
  isSymbolicLink(): boolean
  isBlockDevice(): boolean
  isCharacterDevice(): boolean
  isFIFO(): boolean
  isSocket(): boolean
  readonly mtime: Date
  /** as a number in Node's number stats (a bigint in its bigint stats, where `mtime` is read instead) */
  readonly mtimeMs?: number | bigint
  readonly atime: Date
  readonly birthtime: Date
  readonly dev: number | bigint
  readonly rdev: number | bigint
  readonly ino: number | bigint
  readonly mode: number | bigint
  readonly nlink: number | bigint
  readonly uid: number | bigint
  readonly gid: number | bigint
  readonly size: number | bigint
  readonly blksize: number | bigint
  readonly blocks: number | bigint
}

/** The entry type a stat result (or a folder entry) says. */
export const typeOf = (s: Pick<StatsLike, "isFile" | "isDirectory" | "isSymbolicLink" | "isBlockDevice" | "isCharacterDevice" | "isFIFO" | "isSocket">): FileSystem.File.Type =>
  s.isFile()
    ? "File"
    : s.isDirectory()
    ? "Directory"
    : s.isSymbolicLink()
    ? "SymbolicLink"
    : s.isBlockDevice()
    ? "BlockDevice"
    : s.isCharacterDevice()
    ? "CharacterDevice"
    : s.isFIFO()
    ? "FIFO"
    : s.isSocket()
    ? "Socket"
    : "Unknown"

/** The same `File.Info` the platform builds from Node's `Stats` (bigint stats too). */
export const fileInfo = (s: StatsLike): FileSystem.File.Info => ({
  type: typeOf(s),
  mtime: Option.fromNullable(s.mtime),
  atime: Option.fromNullable(s.atime),
  birthtime: Option.fromNullable(s.birthtime),
  dev: Number(s.dev),
  rdev: Option.some(Number(s.rdev)),
  ino: Option.some(Number(s.ino)),
  mode: Number(s.mode),
  nlink: Option.some(Number(s.nlink)),
  uid: Option.some(Number(s.uid)),
  gid: Option.some(Number(s.gid)),
  size: FileSystem.Size(s.size),
  blksize: Option.some(FileSystem.Size(s.blksize)),
  blocks: Option.some(Number(s.blocks))
})

/** A stat result as `Meta`: type, links, owner, size, mtime and an exact identity (`dev:ino` as text). */
export const metaOf = (s: StatsLike): Meta => ({
  type: typeOf(s),
  nlink: Number(s.nlink),
  uid: Number(s.uid),
  gid: Number(s.gid),
  mode: Number(s.mode),
  size: Number(s.size),
  // (whole milliseconds, as a Date holds them, whichever stat it is)
  mtimeMs: typeof s.mtimeMs === "number" ? Math.trunc(s.mtimeMs) : s.mtime.getTime(),
  blocks: Number(s.blocks),
  id: `${String(s.dev)}:${String(s.ino)}`
})
