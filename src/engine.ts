import { DumpError } from "./errors.js";
import { builtinFormatters } from "./formatters/builtins.js";
import type { DumpFormatter } from "./formatters/formatter.js";
import { newJobId, isJobId } from "./job-id.js";
import { JobRunner } from "./job-runner.js";
import { JobStore, type JobRecord } from "./job-store.js";
import { resolveEngineOptions, resolveStartOptions, type ResolvedEngineOptions } from "./options.js";
import { abortUploadQuietly, deleteOwnedObjects } from "./output-cleanup.js";
import { writeManifest } from "./manifest.js";
import { openOutput } from "./output-upload.js";
import { PartWriter } from "./part-writer.js";
import { MAX_ATTEMPTS, RETRY_BASE_MS, classifyFailure, retryDelayMs } from "./retry-policy.js";
import { AlarmScheduler } from "./scheduler.js";
import { checkCallbackUrl } from "./callbacks.js";
import { CompletionNotifier } from "./completion-notifier.js";
import { planTables } from "./table-plan.js";
import { toStatus } from "./status.js";
import type { DumpEngineOptions, DumpStatus, StartOptions, TickResult } from "./types.js";

/** At most this long past `tickBudgetMs` a tick runs on to end near a part boundary (see JobRunner.run). */
const MAX_TICK_GRACE_MS = 1_000;

/** Name of the engine's own wake-up in its {@link AlarmScheduler}. */
export const ENGINE_WAKE = "durable-dump";

function isActive(record: JobRecord): boolean {
  return record.state === "queued" || record.state === "running";
}

/**
 * Exports a Durable Object's SQLite database to R2 in small resumable ticks driven by the object's
 * alarm, with memory bounded by two part buffers plus one batch of rows.
 *
 * Compose it in the Durable Object and forward the alarm. Every method is safe to call again after
 * a crash or an eviction: progress is saved in storage at the end of each tick, atomically with
 * the bytes not yet uploaded, and redoing a tick writes the same bytes.
 *
 * @example
 * export class Tenant extends DurableObject<Env> {
 *   readonly dumps = new DumpEngine({ sql: this.ctx.storage.sql, bucket: this.env.DUMPS, storage: this.ctx.storage });
 *   async alarm() { await this.dumps.tick(); }
 * }
 */
export class DumpEngine {
  readonly #sql: SqlStorage;
  readonly #bucket: R2Bucket;
  readonly #storage: DumpEngineOptions["storage"];
  readonly #jobs: JobStore;
  readonly #options: ResolvedEngineOptions;
  readonly #scheduler: AlarmScheduler;
  readonly #notifier: CompletionNotifier;
  /** Writer kept in memory between ticks, valid while storage still holds checkpoint `seq` of job `id`. */
  #live: { id: string; seq: number; writer: PartWriter } | null = null;
  #ticking: Promise<TickResult> | null = null;
  /** Calls of start() between their job count and their save, so that concurrent starts respect the limit. */
  #starting = 0;
  /** createdAt of the newest job this engine knows of: jobs run in creation order, so each gets a later time. */
  #lastCreatedAt = 0;

  /** Throws {@link DumpError} `INVALID_OPTIONS` when an option is out of range. */
  constructor(options: DumpEngineOptions) {
    this.#options = resolveEngineOptions(options, builtinFormatters);
    this.#sql = options.sql;
    this.#bucket = options.bucket;
    this.#storage = options.storage;
    this.#jobs = new JobStore(options.storage);
    this.#scheduler = options.scheduler ?? new AlarmScheduler(options.storage, { now: this.#options.now });
    this.#scheduler.register(ENGINE_WAKE, () => this.tick());
    this.#notifier = new CompletionNotifier(this.#options);
  }

  /**
   * The scheduler holding the engine's wake-up (named `durable-dump`). A host schedules its own
   * work in it and calls `engine.scheduler.run({...})` from `alarm()`, which ticks the engine
   * when it is due; a host that only exports may call {@link tick} from `alarm()` instead.
   */
  get scheduler(): AlarmScheduler {
    return this.#scheduler;
  }

  /**
   * Validates the options, opens the R2 upload, persists the job and arms the alarm (never
   * postponing an earlier one). The job runs after any job already queued. Nothing is persisted
   * when the options are refused.
   *
   * @throws {DumpError} `INVALID_OPTIONS`, `UNKNOWN_FORMAT`, `UNKNOWN_TABLE`, `RESERVED_TABLE`, `UNSUPPORTED_TABLE`, `OUTPUT_EXISTS`.
   */
  async start(options?: StartOptions): Promise<DumpStatus> {
    const resolved = resolveStartOptions(options, this.#options.formatters);
    const formatter = this.#formatter(resolved.format);
    const url = (options as StartOptions | undefined)?.callbackUrl;
    const callbackUrl = url === undefined ? null : checkCallbackUrl(url, this.#options.allowInsecureCallbacks, this.#options.callbackSecret !== null);
    const tables = planTables(this.#sql, resolved.tables, resolved.exclude);
    const all = await this.#jobs.all();
    for (const job of all) this.#lastCreatedAt = Math.max(this.#lastCreatedAt, job.createdAt);
    const active = all.filter(isActive).length;
    if (active + this.#starting >= this.#options.maxQueuedJobs) {
      throw new DumpError("TOO_MANY_JOBS", `${active + this.#starting} jobs are queued or running, the limit (maxQueuedJobs) is ${this.#options.maxQueuedJobs}. Wait for one to finish, or abort one.`);
    }
    this.#starting++;
    try {
      return await this.#create(resolved, formatter, tables, callbackUrl);
    } finally {
      this.#starting--;
    }
  }

  async #create(resolved: ReturnType<typeof resolveStartOptions>, formatter: DumpFormatter, tables: string[], callbackUrl: string | null): Promise<DumpStatus> {
    // Strictly increasing, so that two jobs started in the same millisecond keep their order.
    const now = (this.#lastCreatedAt = Math.max(this.#options.now(), this.#lastCreatedAt + 1));
    const id = newJobId(now);
    const keyBase = this.#options.keyPrefix + id;
    const record: JobRecord = {
      v: 1,
      id,
      state: "queued",
      format: resolved.format,
      partSize: this.#options.partSize,
      options: { schema: resolved.schema, data: resolved.data, tables: resolved.tables, exclude: resolved.exclude, gzip: resolved.gzip },
      keyBase,
      tables,
      cursor: { step: "header", table: 0, key: null, rowsInTable: 0 },
      upload: null,
      outputs: [],
      stats: { rowsWritten: 0, tablesDone: 0 },
      createdAt: now,
      startedAt: null,
      updatedAt: now,
      finishedAt: null,
      databaseSize: this.#sql.databaseSize,
      error: null,
      attempts: 0,
      retryAt: null,
      seq: 0,
      callbackUrl,
    };
    if (!formatter.objectPerTable) record.upload = (await openOutput(this.#bucket, record, formatter, null)).record;
    try {
      // The wake-up first: after a crash between the two, a tick finds nothing and cancels it.
      await this.#scheduler.scheduleNoLaterThan(ENGINE_WAKE, now);
      await this.#jobs.save(record);
    } catch (error) {
      if (record.upload) await abortUploadQuietly(this.#bucket, record.upload);
      throw error;
    }
    return toStatus(record);
  }

  /**
   * Does up to `tickBudgetMs` of work on the oldest unfinished job, saves a checkpoint, and arms
   * the alarm while work remains. Call it from the host's `alarm()`. Cheap when there is nothing
   * to do (one storage list, no writes). Concurrent calls share one run. Errors are recorded on the
   * job and retried with backoff, never thrown, so the platform does not retry a tick on top.
   */
  async tick(): Promise<TickResult> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = null;
    });
    return this.#ticking;
  }

  /**
   * The job's status, or null for an unknown id (or one purged after `retentionMs`).
   *
   * @throws {DumpError} `INVALID_ARGUMENT` when `id` is not a string.
   */
  async status(id: string): Promise<DumpStatus | null> {
    if (!isJobId(checkId(id))) return null;
    const record = await this.#jobs.get(id);
    return record ? toStatus(record) : null;
  }

  /** Every job the engine still remembers, oldest first. Purges finished jobs older than `retentionMs` on the way. */
  async list(): Promise<DumpStatus[]> {
    return (await this.#housekeep(await this.#jobs.all(), this.#options.now())).sort(byAge).map(toStatus);
  }

  /**
   * Deletes a finished (completed, failed or aborted) job: its R2 objects, as far as they still
   * carry the job's id in their metadata, and its record. This is the only way the engine deletes
   * output. Safe to call again after a crash. Returns false for an unknown id.
   *
   * @throws {DumpError} `JOB_ACTIVE` for a queued or running job (abort it first), `INVALID_ARGUMENT` when `id` is not a string.
   */
  async delete(id: string): Promise<boolean> {
    if (!isJobId(checkId(id))) return false;
    const record = await this.#jobs.get(id);
    if (!record) return false;
    if (isActive(record)) throw new DumpError("JOB_ACTIVE", `Job ${id} is ${record.state}; abort it before deleting it.`);
    if (record.cleanup) await this.#release(record);
    const keys = record.outputs.map((o) => o.key);
    if (record.manifestKey) keys.push(record.manifestKey);
    await deleteOwnedObjects(this.#bucket, keys, id);
    await this.#jobs.delete(record.id, record.partSize);
    return true;
  }

  /**
   * Stops a queued or running job, aborts its multipart upload and frees its storage. Objects
   * completed before the abort (per-table formats) stay in R2, listed in the status; an object that
   * a running tick completes after it is deleted. Aborting a finished job changes nothing.
   * Returns the job's status, or null for an unknown id.
   *
   * @throws {DumpError} `INVALID_ARGUMENT` when `id` is not a string.
   */
  async abort(id: string): Promise<DumpStatus | null> {
    if (!isJobId(checkId(id))) return null;
    const record = await this.#jobs.get(id);
    if (!record) return null;
    if (!isActive(record)) return toStatus(record);
    record.state = "aborted";
    record.finishedAt = record.updatedAt = this.#options.now();
    record.retryAt = null;
    record.cleanup = true;
    await this.#jobs.save(record);
    if (this.#live?.id === id) this.#live = null;
    await this.#release(record);
    return toStatus(record);
  }

  async #tick(): Promise<TickResult> {
    const now = this.#options.now();
    const jobs = await this.#housekeep(await this.#jobs.all(), now, true);
    const active = jobs.filter(isActive).sort(byAge);
    const job = active[0];
    if (!job) {
      await this.#idle(jobs);
      return { jobId: null, state: null, more: false };
    }
    if (job.retryAt !== null && job.retryAt > now) {
      await this.#scheduler.schedule(ENGINE_WAKE, job.retryAt);
      return { jobId: job.id, state: job.state, more: true };
    }
    // If the object is evicted mid-tick, this wake-up brings the job back.
    await this.#scheduler.schedule(ENGINE_WAKE, now + this.#options.tickBudgetMs + this.#tickGraceMs() + RETRY_BASE_MS);
    let state = job.state;
    try {
      state = await this.#advance(job, now + this.#options.tickBudgetMs);
    } catch (error) {
      this.#live = null;
      state = await this.#recordFailure(job.id, error);
    }
    const more = state === "queued" || state === "running" || active.length > 1;
    if (more) {
      const current = await this.#jobs.get(job.id);
      await this.#scheduler.schedule(ENGINE_WAKE, current?.retryAt ?? this.#options.now());
    } else {
      await this.#idle(await this.#jobs.all());
    }
    return { jobId: job.id, state, more };
  }

  /**
   * Finishes cleanups that a crash interrupted and purges finished jobs past their retention.
   * Writes nothing when there is nothing to do. Returns the jobs left.
   */
  async #housekeep(all: JobRecord[], now: number, deliver = false): Promise<JobRecord[]> {
    const kept: JobRecord[] = [];
    for (const record of all) {
      if (isActive(record)) {
        kept.push(record);
        continue;
      }
      if (record.cleanup) await this.#release(record);
      if (deliver && this.#notifier.isDue(record, now)) {
        await this.#notifier.deliver(record, now);
        await this.#jobs.save(record);
      }
      if (record.finishedAt !== null && now - record.finishedAt >= this.#options.retentionMs) await this.#jobs.delete(record.id, record.partSize);
      else kept.push(record);
    }
    return kept;
  }

  /** With no job to run: keeps a wake-up for the next notification due, if any, else removes the engine's wake-up. */
  async #idle(jobs: JobRecord[]): Promise<void> {
    const next = Math.min(...jobs.filter((j) => !isActive(j) && j.notify && j.notify.pending.length > 0).map((j) => j.notify!.nextAt));
    if (Number.isFinite(next)) await this.#scheduler.schedule(ENGINE_WAKE, next);
    else await this.#scheduler.cancel(ENGINE_WAKE);
  }

  /** How long a tick may run past its budget to end near a part boundary: half the budget, at most 1 s. */
  #tickGraceMs(): number {
    return Math.min(this.#options.tickBudgetMs / 2, MAX_TICK_GRACE_MS);
  }

  /** Runs the job until the deadline, saving checkpoints; returns its state after the tick. */
  async #advance(record: JobRecord, deadline: number): Promise<JobRecord["state"]> {
    const formatter = this.#formatter(record.format);
    if (record.state === "queued") {
      record.state = "running";
      record.startedAt = this.#options.now();
    }
    const runner = new JobRunner(record, await this.#writerFor(record), {
      sql: this.#sql,
      bucket: this.#bucket,
      formatter,
      now: this.#options.now,
    });
    try {
      return await this.#run(record, runner, deadline);
    } finally {
      runner.release();
    }
  }

  /** The body of {@link #advance}: runs, completes and checkpoints until the deadline. */
  async #run(record: JobRecord, runner: JobRunner, deadline: number): Promise<JobRecord["state"]> {
    for (;;) {
      await runner.run(deadline, deadline + this.#tickGraceMs());
      if (record.cursor.step !== "finish") break;
      await runner.uploadLastPart();
      // Saved before completing, so that an attempt cut off after complete() can tell it happened.
      // Not counted as progress: a completion that keeps failing must exhaust its retries.
      if (!(await this.#checkpoint(record, runner.writer, false))) return "aborted";
      await runner.finish();
      if (this.#options.now() >= deadline) break;
    }
    if (record.cursor.step === "done") {
      record.finishedAt = this.#options.now();
      record.manifestKey = await writeManifest(this.#bucket, this.#sql, record);
      record.state = "completed";
      record.cleanup = true;
      record.notify = this.#notifier.plan(record, record.finishedAt);
    }
    if (!(await this.#checkpoint(record, runner.writer))) return "aborted";
    if (record.state === "completed") {
      this.#live = null;
      await this.#release(record);
    }
    return record.state;
  }

  /**
   * Saves the record with the writer's unsaved tail, unless the job was aborted meanwhile.
   * Returns false (and saves nothing) in that case.
   */
  async #checkpoint(record: JobRecord, writer: PartWriter | null, progress = true): Promise<boolean> {
    const stored = await this.#jobs.get(record.id);
    if (!stored || !isActive(stored)) {
      this.#live = null;
      await this.#dropLateWork(record, stored);
      return false;
    }
    if (record.upload && writer) {
      record.upload.parts = [...writer.parts];
      record.upload.tailLength = writer.tailLength;
      if (writer.gzip) record.upload.gzip = writer.gzip.state;
    }
    record.seq++;
    record.updatedAt = this.#options.now();
    if (progress) {
      record.attempts = 0;
      record.retryAt = null;
      record.error = null;
    }
    await this.#jobs.save(record, writer ?? undefined);
    this.#live = writer ? { id: record.id, seq: record.seq, writer } : null;
    return true;
  }

  /**
   * Undoes what a tick did in R2 after an abort was saved meanwhile (R2 calls let other requests
   * in): deletes the objects it completed and the manifest it wrote, and aborts an upload it
   * opened. The aborted record lists none of them, so nothing would free them otherwise.
   */
  async #dropLateWork(record: JobRecord, stored: JobRecord | null): Promise<void> {
    if (record.upload && record.upload.uploadId !== stored?.upload?.uploadId) await abortUploadQuietly(this.#bucket, record.upload);
    const recorded = new Set(stored?.outputs.map((o) => o.key));
    const keys = record.outputs.map((o) => o.key).filter((key) => !recorded.has(key));
    if (record.manifestKey && !stored?.manifestKey) keys.push(record.manifestKey);
    await deleteOwnedObjects(this.#bucket, keys, record.id);
  }

  /** The writer for the record's open upload: the one in memory if still current, else rebuilt from storage. */
  async #writerFor(record: JobRecord): Promise<PartWriter | null> {
    const upload = record.upload;
    if (!upload) return null;
    if (this.#live && this.#live.id === record.id && this.#live.seq === record.seq) return this.#live.writer;
    this.#live = null;
    const tail = await this.#jobs.tail(record);
    return new PartWriter(this.#bucket.resumeMultipartUpload(upload.key, upload.uploadId), record.partSize, upload.parts, tail, await this.#jobs.gzipStage(record));
  }

  /** Records a failed tick: schedules a retry with backoff, or fails the job. Returns the job's state. */
  async #recordFailure(id: string, error: unknown): Promise<JobRecord["state"]> {
    const record = await this.#jobs.get(id);
    if (!record || !isActive(record)) return record?.state ?? "aborted";
    const failure = classifyFailure(error);
    const now = this.#options.now();
    record.attempts++;
    record.error = { code: failure.code, message: failure.message };
    record.updatedAt = now;
    if (failure.retryable && record.attempts < MAX_ATTEMPTS) {
      record.retryAt = now + retryDelayMs(record.attempts);
      await this.#jobs.save(record);
      return record.state;
    }
    if (failure.retryable) {
      record.error = { code: "RETRIES_EXHAUSTED", message: `Gave up after ${record.attempts} attempts. Last error (${failure.code}): ${failure.message}` };
    }
    record.state = "failed";
    record.finishedAt = now;
    record.retryAt = null;
    record.cleanup = true;
    record.notify = this.#notifier.plan(record, now);
    await this.#jobs.save(record);
    await this.#release(record);
    return record.state;
  }

  /**
   * Aborts the open upload of a finished job (best effort: R2 drops it after 7 days anyway),
   * deletes its tail, then clears the record's cleanup flag. Idempotent.
   */
  async #release(record: JobRecord): Promise<void> {
    if (record.upload && record.state !== "completed") await abortUploadQuietly(this.#bucket, record.upload);
    await this.#jobs.deleteTail(record.id, record.partSize);
    if (record.cleanup) {
      record.cleanup = false;
      await this.#jobs.save(record);
    }
  }

  #formatter(name: string): DumpFormatter {
    const formatter = this.#options.formatters[name];
    if (!formatter) throw new DumpError("UNKNOWN_FORMAT", `No formatter named ${JSON.stringify(name)} is registered with this engine.`);
    return formatter;
  }
}

/** Oldest first; createdAt is unique per engine (see start), the id breaks ties across engines. */
function byAge(a: JobRecord, b: JobRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function checkId(id: unknown): string {
  if (typeof id !== "string") throw new DumpError("INVALID_ARGUMENT", `A job id must be a string such as "20261125T201648123Z-4k7q2m9x"; got ${typeof id}.`);
  return id;
}
