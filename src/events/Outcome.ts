/**
 * What became of one file, as the Pipeline says it and the daemon (daemon/)
 * and the status record (status/Activity) read it: on its own, below both.
 *
 * @module
 */

/** What was seen of a file that may still be being written. */
export interface Observation {
  readonly size: number
  readonly mtimeMs: number
  readonly id: string
}

/** A file that did not parse yet, as last seen: it waits for QUIET_PERIOD_MS without change. */
export interface PendingState {
  readonly observation: Observation
  /** when (this instance's clock) the file was first seen in this state */
  readonly since: number
}

/**
 * What became of one file (the result of the Pipeline's `processInput` and `processClaimed`).
 * `Validated` and `Returned` carry the name it was stored under, not its
 * content (a destination of one's own gets the content: see Destination), and
 * the roles of the destinations of one's own that had it (`deliveredTo`).
 */
export type Outcome =
  /** gone before it could be claimed: another instance took it, or its writer removed it */
  | { readonly _tag: "Gone" }
  /**
   * recovered, but stored already by the instance that claimed it (which died
   * before releasing it), or by this one in an attempt that failed after it
   */
  | { readonly _tag: "AlreadyStored"; readonly as: "validated" | "returned" }
  /** not a regular file with one link: stays where it is */
  | { readonly _tag: "Ignored"; readonly kind: string }
  /** does not parse yet and was modified within the quiet period */
  | { readonly _tag: "Pending"; readonly state: PendingState }
  /** a file of OFF_THREAD_BYTES or more, not looked into: for the large-file lane (see the Pipeline's `InputJob.lane`) */
  | { readonly _tag: "Large" }
  /** stored in the validated folder (its name there: `storedAs`) */
  | { readonly _tag: "Validated"; readonly storedAs: string; readonly records: number; readonly deliveredTo?: ReadonlyArray<string> | undefined }
  /** stored in the returns folder, after its error report */
  | {
    readonly _tag: "Returned"
    readonly storedAs: string
    readonly records: number
    readonly errorCount: number
    readonly deliveredTo?: ReadonlyArray<string> | undefined
  }
  /** an I/O error outlived its retries: the file stays where it is */
  | {
    readonly _tag: "Failed"
    readonly reason: string
    readonly cause: string
    /** the claimed name (in this instance's processing folder) when the file stays claimed: its retries go by that name */
    readonly claimed?: string | undefined
  }
