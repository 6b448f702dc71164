/**
 * What every job record holds, whatever its kind, and the index entry that stands for it: the
 * fields the shared job machinery (`src/jobs/`) reads and writes.
 */
import { DUMP_ERROR_CODES, type DumpErrorCode } from "../errors.js";
import { type Infer, array, boolean, count, literal, nullable, object, optional, string } from "./shape.js";

/** Where a job is in its life. */
export type JobState = "queued" | "running" | "completed" | "failed" | "aborted";

export const jobState = literal<JobState>("queued", "running", "completed", "failed", "aborted");

/** Whether a job still has work: queued or running. */
export function isActive(state: JobState): boolean {
  return state === "queued" || state === "running";
}

const errorCode = literal(...(Object.keys(DUMP_ERROR_CODES) as DumpErrorCode[]));

/** The error a job records: its code and message. */
export const jobError = object({ code: errorCode, message: string });

/** A completion notification still to deliver (callback URL, onComplete hook). */
export const notifyShape = object({
  /** Targets not delivered yet. */
  pending: array(literal("url", "hook")),
  attempts: count,
  nextAt: count,
  lastError: nullable(string),
});
export type NotifyRecord = Infer<typeof notifyShape>;

/** The fields every job record has, as shapes; a kind's record spreads them into its own. */
export const jobBaseFields = {
  id: string,
  state: jobState,
  /** Epoch milliseconds. */
  createdAt: count,
  startedAt: nullable(count),
  updatedAt: count,
  finishedAt: nullable(count),
  /** Set when the job failed, and on a transient error while a retry is pending. */
  error: nullable(jobError),
  /** Consecutive failed ticks; reset by a tick that saves progress. */
  attempts: count,
  /** Earliest time of the next attempt after a failure. */
  retryAt: nullable(count),
  /** Counts checkpoints, so an engine can tell whether what it holds in memory is current. */
  seq: count,
  /**
   * Set with a terminal state while what the job holds (an open upload, scratch keys) may still
   * need freeing; cleared once done. A tick finishes the cleanup after a crash.
   */
  cleanup: optional(boolean, false),
  /** Where to POST the final status, if anywhere. */
  callbackUrl: optional(nullable(string), null),
  notify: optional(nullable(notifyShape), null),
};

const jobBase = object(jobBaseFields);
/** The part of a record the job machinery works with. */
export type JobRecordBase = Infer<typeof jobBase>;

/**
 * A job's entry in its kind's index (`durable-dump:<kind>:index:<id>`): what a tick needs to pick
 * the next job, deliver notifications and purge old records without reading every record.
 */
export const indexEntryShape = object({
  state: jobState,
  createdAt: count,
  finishedAt: nullable(count),
  /** When the next notification attempt is due; null when none is pending. */
  notifyAt: nullable(count),
  cleanup: boolean,
});
export type IndexEntry = Infer<typeof indexEntryShape>;

/** The index entry of a record. */
export function indexEntryOf(record: JobRecordBase): IndexEntry {
  const notify = record.notify;
  return {
    state: record.state,
    createdAt: record.createdAt,
    finishedAt: record.finishedAt,
    notifyAt: notify && notify.pending.length > 0 ? notify.nextAt : null,
    cleanup: record.cleanup,
  };
}
