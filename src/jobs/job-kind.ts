/** What a kind of job (export, restore) supplies to the shared `JobQueue`, and how the queue runs. */
import type { AlarmScheduler } from "../alarms/scheduler.js";
import type { JobRecordBase, JobState } from "../persisted/job-record.js";
import type { IndexedJob } from "../persisted/job-store.js";
import type { CompletionNotifier } from "./notifier.js";

/** What a kind of job supplies to the `JobQueue`. */
export interface JobKind<R extends JobRecordBase, S> {
  /**
   * Works on `record` (running) until `deadline`, saving progress with `commit` (or, for work on the
   * object's own database, `commitSync`); returns the job's state after the tick ("aborted" when a
   * commit found the job aborted).
   */
  advance(record: R, deadline: number, commit: Commit<R>, commitSync: CommitSync<R>): Promise<JobState>;
  /** Frees what an ended job holds (an open upload, scratch keys). Idempotent. */
  release(record: R): Promise<void>;
  /** Undoes what a tick did outside storage after an abort was saved meanwhile. */
  dropLateWork(record: R, stored: R | null): Promise<void>;
  /** Drops what the kind keeps in memory for job `id` (after an abort or a failed tick). */
  forget(id: string): void;
  /** The public status of a job. */
  status(record: R): Promise<S>;
  /** The status of a job whose record cannot be read. */
  unreadableStatus(job: IndexedJob): S;
  /** Keys that go with the record when it is purged or deleted (its pages). */
  recordKeys(record: R): string[];
}

/**
 * Saves a checkpoint of `record` with `entries` (scratch bytes, pages) in one atomic write, unless
 * the job was aborted meanwhile: then nothing is saved, the kind's late work is dropped and the
 * result is false. `progress` (default true) resets the failure count.
 */
export type Commit<R> = (record: R, entries?: Record<string, unknown>, progress?: boolean) => Promise<boolean>;

/**
 * Runs `apply` and saves a checkpoint of `record` in ONE synchronous transaction of the object's
 * storage, so that what `apply` writes to the database and the checkpoint commit together or not
 * at all. The stored record is read first, inside the transaction: if the job was aborted
 * meanwhile, nothing is applied or saved and the result is false. `apply` may change `record`
 * (it is saved after). `progress` (default true) resets the failure count. Needs a storage with
 * `transactionSync` and `kv` (`ctx.storage`); nothing outside storage is undone on an abort.
 */
export type CommitSync<R> = (record: R, apply: () => void, progress?: boolean) => boolean;

/** How the queue runs. */
export interface QueueOptions<S> {
  /** Name of the kind's wake-up in the scheduler. */
  wakeName: string;
  tickBudgetMs: number;
  /** How long a tick may run past its budget (the kind's grace), for the wake-up that brings back an evicted tick. */
  graceMs: number;
  maxQueuedJobs: number;
  retentionMs: number;
  maxRetainedJobs: number;
  now: () => number;
  random: () => number;
  scheduler: AlarmScheduler;
  notifier: CompletionNotifier<S & { id: string }>;
}
