/**
 * The library's errors: one class, {@link DumpError}, with a stable {@link DumpErrorCode}. Whether
 * retrying can help is decided by the code (see {@link DUMP_ERROR_CODES}), never by the message.
 */

/**
 * Every code, with whether a job that meets it is retried. Codes are part of the public contract:
 * new ones may be added in minor releases, existing ones are never renamed.
 */
export const DUMP_ERROR_CODES = {
  /** An option is missing, of the wrong type or out of range. */
  INVALID_OPTIONS: { retryable: false },
  /** `format` is neither built in nor registered. */
  UNKNOWN_FORMAT: { retryable: false },
  /** `tables` or `exclude` names a table that does not exist. */
  UNKNOWN_TABLE: { retryable: false },
  /** `tables` names a table of SQLite (`sqlite_*`) or of the platform (`_cf_*`). */
  RESERVED_TABLE: { retryable: false },
  /** A table no query can read: a column name of about 100 KB, or too wide for its key (see README). */
  UNSUPPORTED_TABLE: { retryable: false },
  /** Schema SQL the chosen SQL dialect cannot carry (d1: see README, "SQL dialects"). */
  UNSUPPORTED_SCHEMA: { retryable: false },
  /** A job id that does not exist (HTTP routes). */
  JOB_NOT_FOUND: { retryable: false },
  /** The output key already exists in R2, written by something else. */
  OUTPUT_EXISTS: { retryable: false },
  /** The output needs more than R2's 10,000 parts. */
  PART_LIMIT_EXCEEDED: { retryable: false },
  /** The multipart upload disappeared (aborted, or expired after 7 days). */
  UPLOAD_LOST: { retryable: false },
  /** A storage or R2 operation failed; retried with backoff. */
  IO_ERROR: { retryable: true },
  /** A read of the database failed for another reason than a dropped table; retried with backoff. */
  SQL_ERROR: { retryable: true },
  /** A job failed this many ticks in a row; the message carries the last error. */
  RETRIES_EXHAUSTED: { retryable: false },
  /** `start` while `maxQueuedJobs` jobs are queued or running. */
  TOO_MANY_JOBS: { retryable: false },
  /** `delete` of a queued or running job. */
  JOB_ACTIVE: { retryable: false },
  /** A method got an argument of the wrong type (an id that is not a string). */
  INVALID_ARGUMENT: { retryable: false },
  /** A job's persisted state cannot be read (damaged, or written by a newer release); that job fails, the others go on. */
  RECORD_UNREADABLE: { retryable: false },
  /** A key-value entry's value cannot be written exactly (it refers back to itself through an Error, say); the message names the key. */
  KV_VALUE_UNSUPPORTED: { retryable: false },
  /** A key-value file does not read back: damaged, truncated, or written with another codec or file version. */
  KV_FILE_INVALID: { retryable: false },
  /** The library broke one of its own invariants (a bug): the job fails at once rather than retrying. */
  INTERNAL: { retryable: false },
  /** Fleet backups: the object's `fleetBackup` RPC kept failing through the step's retries. */
  OBJECT_UNREACHABLE: { retryable: true },
  /** Fleet backups: the object no longer knows the run's export (its record was purged). */
  JOB_LOST: { retryable: true },
  /** Fleet backups: the export did not end within `objectTimeoutMs`. */
  EXPORT_TIMEOUT: { retryable: false },
  /** Fleet backups: the export was aborted in the object while the run waited for it. */
  EXPORT_ABORTED: { retryable: false },
  /** Fleet backups: a child instance of the run ended without reporting its objects. */
  SHARD_FAILED: { retryable: false },
  /** Fleet backups: the run's manifest has no completed backup of that object (or the run has no manifest). */
  BACKUP_NOT_FOUND: { retryable: false },
  /** Restore: the R2 object to restore does not exist. */
  SOURCE_NOT_FOUND: { retryable: false },
  /** Restore: the R2 object was replaced or deleted while it was being restored. */
  SOURCE_CHANGED: { retryable: false },
  /** Restore: the manifest next to the dump cannot be read, or does not describe the dump. */
  INVALID_MANIFEST: { retryable: false },
  /** Restore: a part of the dump does not have the SHA-256 its manifest records. */
  CHECKSUM_MISMATCH: { retryable: false },
  /** Restore: the object is not an SQL dump (binary data, another format). */
  NOT_A_DUMP: { retryable: false },
  /** Restore: the dump ends inside a statement, or is otherwise cut short. */
  TRUNCATED_DUMP: { retryable: false },
  /** Restore: the gzip stream is damaged. */
  CORRUPT_GZIP: { retryable: false },
  /** Restore: a statement of the dump failed. */
  STATEMENT_FAILED: { retryable: false },
  /** Restore: a statement that a Durable Object cannot run and the restore cannot translate. */
  UNSUPPORTED_STATEMENT: { retryable: false },
  /** Restore: a statement too large to apply, even with its literals bound as parameters. */
  STATEMENT_TOO_LARGE: { retryable: false },
  /** Restore: the database already holds tables the restore would create, and `replace` was not asked for. */
  TARGET_NOT_EMPTY: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

/** Stable machine-readable code carried by every {@link DumpError}. */
export type DumpErrorCode = keyof typeof DUMP_ERROR_CODES;

/**
 * The one error class thrown by durable-dump and recorded on failed jobs.
 *
 * @example
 * try { await engine.start({ format: "xml" }); }
 * catch (e) { if (e instanceof DumpError && e.code === "UNKNOWN_FORMAT") return new Response(e.message, { status: 400 }); }
 */
export class DumpError extends Error {
  override readonly name = "DumpError";
  /** Stable code; match on this, not on the message. */
  readonly code: DumpErrorCode;

  constructor(code: DumpErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** Whether retrying can help: decided by the code (I/O and SQL errors), false for everything else. */
  get retryable(): boolean {
    return DUMP_ERROR_CODES[this.code].retryable;
  }
}

/** A failure the library met: the code and message a job records, and whether to retry it. */
export interface Failure {
  code: DumpErrorCode;
  message: string;
  retryable: boolean;
  /** The platform said it is overloaded: retry, but back off further. */
  overloaded: boolean;
}

/** R2's error code for a multipart upload that no longer exists. */
const R2_NO_SUCH_UPLOAD = 10024;

/**
 * Turns anything thrown into a {@link Failure}. A {@link DumpError} keeps its code. Errors of the
 * platform are I/O errors, retried unless the platform marked them `retryable: false`; R2's
 * "no such upload" is `UPLOAD_LOST`.
 */
export function classifyFailure(error: unknown): Failure {
  if (error instanceof DumpError) return { code: error.code, message: error.message, retryable: error.retryable, overloaded: false };
  const message = error instanceof Error ? error.message : String(error);
  const flags = (typeof error === "object" && error !== null ? error : {}) as { code?: unknown; retryable?: unknown; overloaded?: unknown };
  if (r2ErrorCode(flags.code, message) === R2_NO_SUCH_UPLOAD) {
    return {
      code: "UPLOAD_LOST",
      message: `The multipart upload no longer exists (aborted, or expired after 7 days): ${message}`,
      retryable: false,
      overloaded: false,
    };
  }
  return { code: "IO_ERROR", message, retryable: flags.retryable !== false, overloaded: flags.overloaded === true };
}

/**
 * The code of an R2 error: its `code` property where the runtime sets one, else the number R2
 * puts at the end of every error message, as in "uploadPart: The specified multipart upload does
 * not exist. (10024)" (workerd throws plain `Error`s of that form).
 */
function r2ErrorCode(code: unknown, message: string): number | null {
  if (typeof code === "number") return code;
  const match = /\((\d{5})\)$/.exec(message);
  return match ? Number(match[1]) : null;
}

/** An `INTERNAL` error: an invariant of the library did not hold. */
export function internalError(message: string): DumpError {
  return new DumpError("INTERNAL", `durable-dump: ${message} (a bug; please report it)`);
}
