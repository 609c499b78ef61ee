/**
 * A log file written in batches: `append` only queues a line (no system call
 * on the caller's path); `flush` writes the queue in one `write`. Size-based
 * rotation keeps `name.1` … `name.<maxFiles>`; `reopen` (on SIGHUP) lets an
 * external logrotate move the file away. A write error (disk full, permission)
 * is reported once through `onError` and the lines are dropped: logging never
 * stops the daemon. A file it creates has mode 0640 (less under a stricter
 * umask): the logs name customers' files and are for the daemon's user and
 * group only.
 */
import * as NFS from "node:fs"

/** The mode of a log file the daemon creates (rotated files keep it). */
export const LOG_FILE_MODE = 0o640

const APPEND_FLAGS = NFS.constants.O_WRONLY | NFS.constants.O_APPEND | NFS.constants.O_CREAT | NFS.constants.O_NOFOLLOW |
  NFS.constants.O_NONBLOCK

export interface LogFileOptions {
  readonly path: string
  /** rotate when the file would grow beyond this many bytes */
  readonly maxBytes: number
  /** rotated files kept (`path.1` … `path.N`) */
  readonly maxFiles: number
  readonly onError: (message: string) => void
}

export class LogFile {
  private queue: Array<string> = []
  private fd: number | undefined
  private size = 0
  private failing = false
  private writing: Promise<void> = Promise.resolve()
  private closed = false

  constructor(private readonly options: LogFileOptions) {
    this.open()
  }

  append(line: string): void {
    this.queue.push(line)
  }

  get pending(): number {
    return this.queue.length
  }

  /** Writes what is queued; calls never overlap, so lines keep their order. Never rejects: a failed write goes to `onError` (so `Effect.promise` is the right wrapper). */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeQueued())
    return this.writing
  }

  /** Writes what is queued before returning: for shutdown and fatal errors. */
  flushSync(): void {
    for (const data of this.takeChunks()) {
      this.rotateIfNeeded(data.length)
      if (this.fd === undefined) continue
      try {
        NFS.writeSync(this.fd, data)
        this.size += data.length
        this.failing = false
      } catch (error) {
        this.fail("write", error)
      }
    }
  }

  /**
   * Closes and opens the path again, for logrotate's `postrotate` SIGHUP: once
   * the write in flight, if any, is done (closed under it, its lines were lost,
   * or written into whatever file took its descriptor number). Never rejects.
   */
  reopen(): Promise<void> {
    return this.afterWrites(() => {
      this.flushSync()
      this.closeFd()
      this.open()
    })
  }

  /** Writes what is queued and closes the file, after the write in flight; nothing is written after. Never rejects. */
  close(): Promise<void> {
    return this.afterWrites(() => {
      this.flushSync()
      this.closeFd()
      this.closed = true
    })
  }

  private afterWrites(then: () => void): Promise<void> {
    this.writing = this.writing.then(then)
    return this.writing
  }

  /**
   * The queue as write-sized chunks: one chunk normally; more when the lines
   * would carry the file past its size limit, so rotation falls between lines.
   */
  private takeChunks(): Array<Buffer> {
    const chunks: Array<Buffer> = []
    let current: Array<string> = []
    let bytes = 0
    let room = this.options.maxBytes - this.size
    for (const line of this.queue) {
      const n = Buffer.byteLength(line)
      if (bytes + n > room && (bytes > 0 || room < this.options.maxBytes)) {
        if (current.length > 0) chunks.push(Buffer.from(current.join(""), "utf8"))
        current = []
        bytes = 0
        room = this.options.maxBytes
      }
      current.push(line)
      bytes += n
    }
    if (current.length > 0) chunks.push(Buffer.from(current.join(""), "utf8"))
    this.queue = []
    return chunks
  }

  private async writeQueued(): Promise<void> {
    for (const data of this.takeChunks()) {
      this.rotateIfNeeded(data.length)
      const fd = this.fd
      if (fd === undefined) continue
      await new Promise<void>((resolve) => {
        NFS.write(fd, data, (error) => {
          if (error) this.fail("write", error)
          else {
            this.size += data.length
            this.failing = false
          }
          resolve()
        })
      })
    }
  }

  private open(): void {
    try {
      // Never through a link planted at the log's name, never blocked on a FIFO there: only a regular file.
      const fd = NFS.openSync(this.options.path, APPEND_FLAGS, LOG_FILE_MODE)
      const stats = NFS.fstatSync(fd)
      if (!stats.isFile()) {
        NFS.closeSync(fd)
        this.fd = undefined
        this.fail("open", "not a regular file")
        return
      }
      this.fd = fd
      this.size = stats.size
      this.failing = false
    } catch (error) {
      this.fd = undefined
      this.fail("open", error)
    }
  }

  private closeFd(): void {
    if (this.fd === undefined) return
    try {
      NFS.closeSync(this.fd)
    } catch {
      // already closed or gone: nothing to keep
    }
    this.fd = undefined
  }

  private rotateIfNeeded(incoming: number): void {
    if (this.closed) return
    if (this.fd === undefined) {
      this.open() // the folder may have come back
      if (this.fd === undefined) return
    }
    if (this.size === 0 || this.size + incoming <= this.options.maxBytes) return
    this.closeFd()
    const { path, maxFiles } = this.options
    try {
      if (maxFiles === 0) NFS.rmSync(path, { force: true })
      else {
        NFS.rmSync(`${path}.${maxFiles}`, { force: true })
        for (let i = maxFiles - 1; i >= 1; i--) {
          if (NFS.existsSync(`${path}.${i}`)) NFS.renameSync(`${path}.${i}`, `${path}.${i + 1}`)
        }
        NFS.renameSync(path, `${path}.1`)
      }
    } catch (error) {
      this.fail("rotate", error)
    }
    this.open()
  }

  private fail(what: string, error: unknown): void {
    if (this.failing) return
    this.failing = true
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : String(error)
    this.options.onError(`cannot ${what} log file ${this.options.path} (${code}); its lines are dropped until it works again`)
  }
}
