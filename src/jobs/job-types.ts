/** Public types every kind of job shares. */
import type { DumpErrorCode } from "../errors.js";
import type { JobState } from "../persisted/job-record.js";

/** Where a job is in its life: `queued` → `running` → `completed`, `failed` or `aborted`. */
export type DumpState = JobState;

/** The error a failed job records (and a job records while a retry is pending). */
export interface JobError {
  code: DumpErrorCode;
  message: string;
}

/** What every job status reports, whatever the kind. Plain data, JSON-serialisable. */
export interface JobStatusBase {
  id: string;
  state: DumpState;
  /** Epoch milliseconds. */
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  finishedAt: number | null;
  /** Set when state is "failed" (and on transient errors while a retry is pending). */
  error: JobError | null;
}

/** What one `tick()` did. */
export interface TickResult {
  /** Job worked on, or null when there was nothing to do. */
  jobId: string | null;
  /** State of that job after the tick. */
  state: DumpState | null;
  /** True while any job still has work; the engine has then armed the alarm. */
  more: boolean;
}

/** Options of `list()`: a page of jobs, oldest first. */
export interface ListOptions {
  /** At most this many jobs. Default 100; 1 to 1,000. */
  limit?: number;
  /** Only jobs created after this one (the id of the last job of the previous page). */
  after?: string;
}
