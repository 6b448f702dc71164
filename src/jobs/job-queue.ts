/**
 * The life of a job, whatever its kind: queueing, ticks and their checkpoints, retries, failure,
 * abort, notifications and purging. A kind (export, restore) supplies only the work itself; see
 * docs/architecture.md for the tick and checkpoint protocol.
 */
import { DumpError, classifyFailure } from "../errors.js";
import { isJobId, newJobId } from "../persisted/job-id.js";
import { type JobRecordBase, type JobState, indexEntryOf, isActive } from "../persisted/job-record.js";
import type { IndexedJob, JobStore } from "../persisted/job-store.js";
import type { Commit, CommitSync, JobKind, QueueOptions } from "./job-kind.js";
import type { ListOptions, TickResult } from "./job-types.js";
import { OVERLOADED_FACTOR, TICK_RETRY, backoffMs } from "./retry.js";

/** Bounds of {@link ListOptions}. */
const LIST_LIMIT = { default: 100, max: 1_000 };

/** Runs the jobs of one kind, oldest first, one at a time. */
export class JobQueue<R extends JobRecordBase, S> {
  readonly #store: JobStore<R>;
  readonly #kind: JobKind<R, S>;
  readonly #options: QueueOptions<S>;
  #ticking: Promise<TickResult> | null = null;
  /** Calls of start() between their job count and their save, so that concurrent starts respect the limit. */
  #starting = 0;
  /** createdAt of the newest job this queue knows of: jobs run in creation order, so each gets a later time. */
  #lastCreatedAt = 0;

  constructor(store: JobStore<R>, kind: JobKind<R, S>, options: QueueOptions<S>) {
    this.#store = store;
    this.#kind = kind;
    this.#options = options;
    options.scheduler.register(options.wakeName, () => this.tick());
  }

  /**
   * Adds a job: `build` makes its record from a fresh id and creation time (and may open what the
   * job writes to; `undo` closes it again if the job cannot be saved). The wake-up is stored before
   * the record: after a crash between the two, a tick finds nothing and cancels it.
   *
   * @throws {DumpError} `TOO_MANY_JOBS` when `maxQueuedJobs` jobs are queued or running.
   */
  async add(build: (id: string, createdAt: number) => Promise<{ record: R; entries?: Record<string, unknown>; undo?: () => Promise<void> }>): Promise<R> {
    const index = await this.#store.index();
    for (const job of index) this.#lastCreatedAt = Math.max(this.#lastCreatedAt, job.createdAt);
    const active = index.filter((j) => isActive(j.state)).length + this.#starting;
    if (active >= this.#options.maxQueuedJobs) {
      throw new DumpError(
        "TOO_MANY_JOBS",
        `${active} jobs are queued or running, the limit (maxQueuedJobs) is ${this.#options.maxQueuedJobs}. Wait for one to finish, or abort one.`,
      );
    }
    this.#starting++;
    try {
      // Strictly increasing, so that two jobs started in the same millisecond keep their order.
      const createdAt = Math.max(this.#options.now(), this.#lastCreatedAt + 1);
      this.#lastCreatedAt = createdAt;
      const { record, entries, undo } = await build(newJobId(createdAt), createdAt);
      try {
        await this.#options.scheduler.scheduleNoLaterThan(this.#options.wakeName, createdAt);
        await this.#store.save(record, entries);
      } catch (error) {
        await undo?.();
        throw error;
      }
      return record;
    } finally {
      this.#starting--;
    }
  }

  /** One tick: housekeeping, then up to the budget of work on the oldest active job. Concurrent calls share one run. */
  tick(): Promise<TickResult> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = null;
    });
    return this.#ticking;
  }

  /**
   * The job's status, or null for an unknown (or purged) id.
   *
   * @throws {DumpError} `INVALID_ARGUMENT` when `id` is not a string.
   */
  async status(id: string): Promise<S | null> {
    if (!isJobId(checkId(id))) return null;
    const record = await this.#readable(id);
    if (record === "unreadable") return this.#kind.unreadableStatus((await this.#store.index()).find((j) => j.id === id)!);
    return record ? this.#kind.status(record) : null;
  }

  /** A page of the jobs still remembered, oldest first; purges ended jobs past their retention on the way. */
  async list(options: ListOptions = {}): Promise<S[]> {
    const { limit, after } = checkList(options);
    const jobs = await this.#housekeep(await this.#store.index(), this.#options.now(), null);
    // Ids begin with their creation time, so they sort as the jobs do.
    const page = jobs.filter((j) => after === undefined || j.id > after).slice(0, limit);
    const statuses: S[] = [];
    for (const job of page) {
      const record = await this.#readable(job.id);
      if (record === "unreadable") statuses.push(this.#kind.unreadableStatus(job));
      else if (record) statuses.push(await this.#kind.status(record));
    }
    return statuses;
  }

  /**
   * Stops a queued or running job and frees what it holds. An ended job is left as it is.
   * Returns its status, or null for an unknown id.
   */
  async abort(id: string): Promise<S | null> {
    if (!isJobId(checkId(id))) return null;
    const record = await this.#readable(id);
    if (record === "unreadable") return this.status(id);
    if (!record) return null;
    if (!isActive(record.state)) return this.#kind.status(record);
    record.state = "aborted";
    record.finishedAt = record.updatedAt = this.#options.now();
    record.retryAt = null;
    record.cleanup = true;
    await this.#store.save(record);
    this.#kind.forget(id);
    await this.#release(record);
    return this.#kind.status(record);
  }

  /**
   * Removes an ended job's record (after `beforeRemove`, which deletes what the job wrote outside
   * storage). Returns false for an unknown id.
   *
   * @throws {DumpError} `JOB_ACTIVE` for a queued or running job.
   */
  async remove(id: string, beforeRemove: (record: R) => Promise<void>): Promise<boolean> {
    if (!isJobId(checkId(id))) return false;
    const record = await this.#readable(id);
    if (record === "unreadable") {
      await this.#store.remove(id);
      return true;
    }
    if (!record) return false;
    if (isActive(record.state)) throw new DumpError("JOB_ACTIVE", `Job ${id} is ${record.state}; abort it before deleting it.`);
    if (record.cleanup) await this.#release(record);
    await beforeRemove(record);
    await this.#store.remove(id, this.#kind.recordKeys(record));
    return true;
  }

  async #tick(): Promise<TickResult> {
    // Deliveries start only within the first tickBudgetMs of a tick; the job's own work gets its full budget after them.
    const jobs = await this.#housekeep(await this.#store.index(), this.#options.now(), this.#options.now() + this.#options.tickBudgetMs);
    const now = this.#options.now();
    const active = jobs.filter((j) => isActive(j.state));
    const job = active[0];
    if (!job) {
      await this.#idle(jobs);
      return { jobId: null, state: null, more: false };
    }
    const wake = this.#options.wakeName;
    const record = await this.#readable(job.id);
    if (record === "unreadable" || !record) {
      // That job fails (or, without a record, is forgotten); the next tick goes on with the others.
      if (record === "unreadable") await this.#store.markUnreadable(job, now);
      else await this.#store.remove(job.id);
      await this.#options.scheduler.schedule(wake, now);
      return { jobId: job.id, state: "failed", more: active.length > 1 };
    }
    if (record.retryAt !== null && record.retryAt > now) {
      await this.#options.scheduler.schedule(wake, record.retryAt);
      return { jobId: job.id, state: record.state, more: true };
    }
    // If the object is evicted mid-tick, this wake-up brings the job back.
    await this.#options.scheduler.schedule(wake, now + this.#options.tickBudgetMs + this.#options.graceMs + TICK_RETRY.baseMs);
    let state: JobState;
    try {
      if (record.state === "queued") {
        record.state = "running";
        record.startedAt = this.#options.now();
      }
      state = await this.#kind.advance(record, now + this.#options.tickBudgetMs, this.#commit, this.#commitSync);
      if (state === "completed") {
        this.#kind.forget(record.id);
        await this.#release(record);
      }
    } catch (error) {
      this.#kind.forget(job.id);
      state = await this.#recordFailure(record, error);
    }
    const more = isActive(state) || active.length > 1;
    if (more) {
      const current = await this.#readable(job.id);
      await this.#options.scheduler.schedule(wake, (typeof current === "object" ? current?.retryAt : null) ?? this.#options.now());
    } else {
      await this.#idle(await this.#store.index());
    }
    return { jobId: job.id, state, more };
  }

  readonly #commit: Commit<R> = async (record, entries = {}, progress = true) => {
    const stored = await this.#readable(record.id);
    if (typeof stored !== "object" || !stored || !isActive(stored.state)) {
      this.#kind.forget(record.id);
      await this.#kind.dropLateWork(record, typeof stored === "object" ? stored : null);
      return false;
    }
    this.#stamp(record, progress);
    await this.#store.save(record, entries);
    return true;
  };

  readonly #commitSync: CommitSync<R> = (record, apply, progress = true) => {
    const saved = this.#store.transaction((records) => {
      const stored = records.load(record.id);
      if (typeof stored !== "object" || !stored || !isActive(stored.state)) return false;
      apply();
      this.#stamp(record, progress);
      records.save(record);
      return true;
    });
    if (!saved) this.#kind.forget(record.id);
    return saved;
  };

  /** Brings a record about to be checkpointed up to date: its count, time, failure state and what completion owes. */
  #stamp(record: R, progress: boolean): void {
    record.seq++;
    record.updatedAt = this.#options.now();
    if (progress) {
      record.attempts = 0;
      record.retryAt = null;
      record.error = null;
    }
    if (record.state === "completed") {
      // The checkpoint that completes the job also owes its notification and the freeing of what it held.
      record.finishedAt ??= record.updatedAt;
      record.notify = this.#options.notifier.plan(record, record.finishedAt);
      record.cleanup = true;
    }
  }

  /**
   * Records a failed tick of `worked` (the record as the tick left it): schedules a retry with
   * backoff, or fails the job. A job aborted meanwhile stays aborted, and what the tick did outside
   * storage is undone. Returns the job's state.
   */
  async #recordFailure(worked: R, error: unknown): Promise<JobState> {
    const record = await this.#readable(worked.id);
    if (record === "unreadable") return "failed";
    if (!record || !isActive(record.state)) {
      await this.#kind.dropLateWork(worked, record);
      return record?.state ?? "aborted";
    }
    const failure = classifyFailure(error);
    const now = this.#options.now();
    record.attempts++;
    record.error = { code: failure.code, message: failure.message };
    record.updatedAt = now;
    if (failure.retryable && record.attempts < TICK_RETRY.attempts) {
      const delay = backoffMs(TICK_RETRY, record.attempts, this.#options.random);
      record.retryAt = now + (failure.overloaded ? OVERLOADED_FACTOR * delay : delay);
      await this.#store.save(record);
      return record.state;
    }
    if (failure.retryable) {
      record.error = { code: "RETRIES_EXHAUSTED", message: `Gave up after ${record.attempts} attempts. Last error (${failure.code}): ${failure.message}` };
    }
    record.state = "failed";
    record.finishedAt = now;
    record.retryAt = null;
    record.cleanup = true;
    record.notify = this.#options.notifier.plan(record, now);
    await this.#store.save(record);
    await this.#release(record);
    return record.state;
  }

  /** Frees what an ended job holds, then clears its cleanup flag. Idempotent. */
  async #release(record: R): Promise<void> {
    await this.#kind.release(record);
    if (record.cleanup) {
      record.cleanup = false;
      await this.#store.save(record);
    }
  }

  /**
   * Finishes cleanups a crash interrupted, delivers notifications that are due (starting
   * deliveries until `deliverUntil`; none when null: the rest wait for the next tick, which comes
   * at once), and purges ended jobs past their retention or beyond `maxRetainedJobs` (oldest
   * first; never one whose notification is still pending). Reads a record only when there is
   * something to do. Returns the jobs left.
   */
  async #housekeep(jobs: IndexedJob[], now: number, deliverUntil: number | null): Promise<IndexedJob[]> {
    let ended = jobs.filter((j) => !isActive(j.state)).length;
    const kept: IndexedJob[] = [];
    for (const job of jobs) {
      const due = deliverUntil !== null && job.notifyAt !== null && job.notifyAt <= now && this.#options.now() < deliverUntil;
      const expired = job.finishedAt !== null && now - job.finishedAt >= this.#options.retentionMs;
      const purge = !isActive(job.state) && (expired || ended > this.#options.maxRetainedJobs) && job.notifyAt === null && !job.cleanup;
      if (isActive(job.state) || (!job.cleanup && !due && !purge)) {
        kept.push(job);
        continue;
      }
      const record = await this.#readable(job.id);
      if (record === null || (record === "unreadable" && purge)) {
        await this.#store.remove(job.id);
        ended--;
        continue;
      }
      if (record === "unreadable") {
        kept.push(job);
        continue;
      }
      if (record.cleanup) await this.#release(record);
      if (due) {
        await this.#options.notifier.deliver(record, (await this.#kind.status(record)) as S & { id: string }, this.#options.now());
        await this.#store.save(record);
      }
      if (purge) {
        await this.#store.remove(record.id, this.#kind.recordKeys(record));
        ended--;
      } else {
        kept.push({ id: record.id, ...indexEntryOf(record) });
      }
    }
    return kept;
  }

  /** With no job to run: keeps a wake-up for the next notification due, if any, else removes the kind's wake-up. */
  async #idle(jobs: IndexedJob[]): Promise<void> {
    const next = Math.min(...jobs.map((j) => j.notifyAt ?? Number.POSITIVE_INFINITY));
    if (Number.isFinite(next)) await this.#options.scheduler.schedule(this.#options.wakeName, next);
    else await this.#options.scheduler.cancel(this.#options.wakeName);
  }

  /** The record, null when there is none, or "unreadable" when it cannot be read (that job fails, nothing else). */
  async #readable(id: string): Promise<R | null | "unreadable"> {
    try {
      return await this.#store.load(id);
    } catch (error) {
      if (error instanceof DumpError && error.code === "RECORD_UNREADABLE") return "unreadable";
      throw error;
    }
  }
}

function checkId(id: unknown): string {
  if (typeof id !== "string") throw new DumpError("INVALID_ARGUMENT", `A job id must be a string such as "20261125T201648123Z-4k7q2m9x"; got ${typeof id}.`);
  return id;
}

function checkList(options: ListOptions): { limit: number; after: string | undefined } {
  if (typeof options !== "object" || options === null) throw new DumpError("INVALID_ARGUMENT", "list() takes { limit?, after? }.");
  const limit = options.limit ?? LIST_LIMIT.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT.max)
    throw new DumpError("INVALID_ARGUMENT", `limit must be an integer from 1 to ${LIST_LIMIT.max}; got ${String(limit)}.`);
  if (options.after !== undefined && typeof options.after !== "string") throw new DumpError("INVALID_ARGUMENT", "after must be the id of a job.");
  return { limit, after: options.after };
}
