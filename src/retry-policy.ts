import { DumpError } from "./errors.js";

/** A failed tick is retried this many times (with backoff) before the job fails. */
export const MAX_ATTEMPTS = 6;
/** Delay before the first retry; it doubles with every further failure. */
export const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 120_000;

/** Delay before the next try after `attempts` failed ones (1 or more). */
export function retryDelayMs(attempts: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
}

/** Turns any error into a code, a message and whether retrying may help. */
export function classifyFailure(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof DumpError) return { code: error.code, message: error.message, retryable: error.retryable };
  const message = error instanceof Error ? error.message : String(error);
  if (/NoSuchUpload|upload does not exist|10024/i.test(message)) {
    return { code: "UPLOAD_LOST", message: `The multipart upload no longer exists (aborted, or expired after 7 days): ${message}`, retryable: false };
  }
  return { code: "IO_ERROR", message, retryable: true };
}
