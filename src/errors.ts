/**
 * Stable machine-readable codes carried by every {@link DumpError}. They are part of the public
 * contract: new codes may be added in minor releases, existing ones are never renamed.
 */
export type DumpErrorCode =
  | "INVALID_OPTIONS"
  | "UNKNOWN_FORMAT"
  | "UNKNOWN_TABLE"
  | "RESERVED_TABLE"
  | "UNSUPPORTED_TABLE"
  | "JOB_NOT_FOUND"
  | "OUTPUT_EXISTS"
  | "PART_LIMIT_EXCEEDED"
  | "UPLOAD_LOST"
  | "IO_ERROR"
  | "SQL_ERROR"
  | "RETRIES_EXHAUSTED"
  | "TOO_MANY_JOBS"
  | "JOB_ACTIVE"
  | "INVALID_ARGUMENT";

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
  /** False for errors that retrying cannot fix (bad input, lost upload, part limit). */
  readonly retryable: boolean;

  constructor(code: DumpErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}
