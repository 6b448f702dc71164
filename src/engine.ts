import { wakeNoLaterThan } from "./alarm.js";
import { DumpError } from "./errors.js";
import { builtinFormatters } from "./formatters/builtins.js";
import type { DumpFormatter } from "./formatters/formatter.js";
import { newJobId, isJobId } from "./job-id.js";
import { JobRunner } from "./job-runner.js";
import { JobStore, type JobRecord } from "./job-store.js";
import { resolveEngineOptions, resolveStartOptions, type ResolvedEngineOptions } from "./options.js";
import { JOB_METADATA_KEY, objectKey } from "./output-keys.js";
import { PartWriter } from "./part-writer.js";
import { planTables } from "./table-plan.js";
import { toStatus } from "./status.js";
import type { DumpEngineOptions, DumpStatus, StartOptions, TickResult } from "./types.js";

/** A failed tick is retried this many times (with backoff) before the job fails. */
const MAX_ATTEMPTS = 6;
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 120_000;

function isActive(record: JobRecord): boolean {
  return record.state === "queued" || record.state === "running";
}

/**
 * Exports a Durable Object's SQLite database to R2 in small resumable ticks driven by the object's
 * alarm, with memory bounded by about one part plus one batch of rows.
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
  /** Writer kept in memory between ticks, valid while storage still holds checkpoint `seq` of job `id`. */
  #live: { id: string; seq: number; writer: PartWriter } | null = null;
  #ticking: Promise<TickResult> | null = null;

  /** Throws {@link DumpError} `INVALID_OPTIONS` when an option is out of range. */
  constructor(options: DumpEngineOptions) {
    this.#options = resolveEngineOptions(options, builtinFormatters);
    this.#sql = options.sql;
    this.#bucket = options.bucket;
    this.#storage = options.storage;
    this.#jobs = new JobStore(options.storage);
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
    const tables = planTables(this.#sql, resolved.tables, resolved.exclude);
    const now = this.#options.now();
    const id = newJobId(now);
    const keyBase = this.#options.keyPrefix + id;
    const record: JobRecord = {
      v: 1,
      id,
      state: "queued",
      format: resolved.format,
      partSize: this.#options.partSize,
      options: { schema: resolved.schema, data: resolved.data, tables: resolved.tables, exclude: resolved.exclude },
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
    };
    if (!formatter.objectPerTable) {
      const key = objectKey(keyBase, formatter.extension, null);
      if (await this.#bucket.head(key)) throw new DumpError("OUTPUT_EXISTS", `R2 already holds ${key}; choose another keyPrefix.`);
      const upload = await this.#bucket.createMultipartUpload(key, {
        httpMetadata: { contentType: formatter.contentType },
        customMetadata: { [JOB_METADATA_KEY]: id },
      });
      record.upload = { key, uploadId: upload.uploadId, table: null, parts: [], tailLength: 0 };
    }
    await this.#jobs.save(record);
    await wakeNoLaterThan(this.#storage, now);
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

  /** The job's status, or null for an unknown id. */
  async status(id: string): Promise<DumpStatus | null> {
    if (!isJobId(id)) return null;
    const record = await this.#jobs.get(id);
    return record ? toStatus(record) : null;
  }

  /** Every job the engine still remembers, oldest first. */
  async list(): Promise<DumpStatus[]> {
    return (await this.#jobs.all()).map(toStatus);
  }

  /**
   * Stops a queued or running job, aborts its multipart upload and frees its storage. Objects
   * already completed (per-table formats) stay in R2. Aborting a finished job changes nothing.
   * Returns the job's status, or null for an unknown id.
   */
  async abort(id: string): Promise<DumpStatus | null> {
    if (!isJobId(id)) return null;
    const record = await this.#jobs.get(id);
    if (!record) return null;
    if (!isActive(record)) return toStatus(record);
    record.state = "aborted";
    record.finishedAt = record.updatedAt = this.#options.now();
    await this.#jobs.save(record);
    if (this.#live?.id === id) this.#live = null;
    await this.#release(record);
    return toStatus(record);
  }

  async #tick(): Promise<TickResult> {
    const now = this.#options.now();
    const active = (await this.#jobs.all()).filter(isActive).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    const job = active[0];
    if (!job) return { jobId: null, state: null, more: false };
    if (job.retryAt !== null && job.retryAt > now) {
      await wakeNoLaterThan(this.#storage, job.retryAt);
      return { jobId: job.id, state: job.state, more: true };
    }
    // If the object is evicted mid-tick, this alarm brings the job back.
    await wakeNoLaterThan(this.#storage, now + this.#options.tickBudgetMs + RETRY_BASE_MS);
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
      await wakeNoLaterThan(this.#storage, current?.retryAt ?? this.#options.now());
    }
    return { jobId: job.id, state, more };
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
    for (;;) {
      await runner.run(deadline);
      if (record.cursor.step !== "finish") break;
      // Saved before completing, so that an attempt cut off after complete() can tell it happened.
      if (!(await this.#checkpoint(record, runner.writer))) return "aborted";
      await runner.finish();
      if (this.#options.now() >= deadline) break;
    }
    if (record.cursor.step === "done") {
      record.state = "completed";
      record.finishedAt = this.#options.now();
    }
    if (!(await this.#checkpoint(record, runner.writer))) return "aborted";
    if (record.state === "completed") {
      this.#live = null;
      await this.#jobs.deleteTail(record.id, record.partSize);
    }
    return record.state;
  }

  /**
   * Saves the record with the writer's unsaved tail, unless the job was aborted meanwhile.
   * Returns false (and saves nothing) in that case.
   */
  async #checkpoint(record: JobRecord, writer: PartWriter | null): Promise<boolean> {
    const stored = await this.#jobs.get(record.id);
    if (!stored || !isActive(stored)) {
      this.#live = null;
      return false;
    }
    if (record.upload && writer) {
      record.upload.parts = [...writer.parts];
      record.upload.tailLength = writer.tailLength;
    }
    record.seq++;
    record.updatedAt = this.#options.now();
    record.attempts = 0;
    record.retryAt = null;
    record.error = null;
    await this.#jobs.save(record, writer ?? undefined);
    this.#live = writer ? { id: record.id, seq: record.seq, writer } : null;
    return true;
  }

  /** The writer for the record's open upload: the one in memory if still current, else rebuilt from storage. */
  async #writerFor(record: JobRecord): Promise<PartWriter | null> {
    const upload = record.upload;
    if (!upload) return null;
    if (this.#live && this.#live.id === record.id && this.#live.seq === record.seq) return this.#live.writer;
    this.#live = null;
    const tail = await this.#jobs.tail(record);
    return new PartWriter(this.#bucket.resumeMultipartUpload(upload.key, upload.uploadId), record.partSize, upload.parts, tail);
  }

  /** Records a failed tick: schedules a retry with backoff, or fails the job. Returns the job's state. */
  async #recordFailure(id: string, error: unknown): Promise<JobRecord["state"]> {
    const record = await this.#jobs.get(id);
    if (!record || !isActive(record)) return record?.state ?? "aborted";
    const failure = classify(error);
    const now = this.#options.now();
    record.attempts++;
    record.error = { code: failure.code, message: failure.message };
    record.updatedAt = now;
    if (failure.retryable && record.attempts < MAX_ATTEMPTS) {
      record.retryAt = now + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (record.attempts - 1));
      await this.#jobs.save(record);
      return record.state;
    }
    if (failure.retryable) {
      record.error = { code: "RETRIES_EXHAUSTED", message: `Gave up after ${record.attempts} attempts. Last error (${failure.code}): ${failure.message}` };
    }
    record.state = "failed";
    record.finishedAt = now;
    record.retryAt = null;
    await this.#jobs.save(record);
    await this.#release(record);
    return record.state;
  }

  /** Aborts the open upload (best effort: R2 drops it after 7 days anyway) and deletes the tail. */
  async #release(record: JobRecord): Promise<void> {
    if (record.upload) {
      try {
        await this.#bucket.resumeMultipartUpload(record.upload.key, record.upload.uploadId).abort();
      } catch {
        // Already gone: completed, aborted or expired. Nothing is left to free.
      }
    }
    await this.#jobs.deleteTail(record.id, record.partSize);
  }

  #formatter(name: string): DumpFormatter {
    const formatter = this.#options.formatters[name];
    if (!formatter) throw new DumpError("UNKNOWN_FORMAT", `No formatter named ${JSON.stringify(name)} is registered with this engine.`);
    return formatter;
  }
}

/** Turns any error into a code, a message and whether retrying may help. */
function classify(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof DumpError) return { code: error.code, message: error.message, retryable: error.retryable };
  const message = error instanceof Error ? error.message : String(error);
  if (/NoSuchUpload|upload does not exist|10024/i.test(message)) {
    return { code: "UPLOAD_LOST", message: `The multipart upload no longer exists (aborted, or expired after 7 days): ${message}`, retryable: false };
  }
  return { code: "IO_ERROR", message, retryable: true };
}
