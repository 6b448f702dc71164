import { AlarmScheduler } from "../alarms/scheduler.js";
import { DumpError } from "../errors.js";
import { builtinFormatters } from "../formats/builtins.js";
import { checkCallbackUrl } from "../jobs/callbacks.js";
import { JobQueue } from "../jobs/job-queue.js";
import type { ListOptions, TickResult } from "../jobs/job-types.js";
import { CompletionNotifier } from "../jobs/notifier.js";
import { abortUploadQuietly } from "../output/r2-objects.js";
import { preferredEngine } from "../output/deflater.js";
import { DUMP_RECORD_VERSION, type DumpRecord, type DumpStep } from "../persisted/dump-record.js";
import { parseDumpRecord } from "../persisted/dump-record-versions.js";
import { JobStore } from "../persisted/job-store.js";
import { DumpJobs, tickGraceMs } from "./dump-jobs.js";
import { planList } from "./dump-work.js";
import { resolveEngineOptions, resolveStartOptions } from "./options.js";
import { openOutput } from "./output-upload.js";
import { toStatus } from "./status.js";
import { checkTables, planTables } from "./table-plan.js";
import type { DumpEngineOptions, DumpStatus, StartOptions } from "./types.js";

/** Name of the export engine's wake-up in its {@link AlarmScheduler}. */
export const DUMP_WAKE = "durable-dump";

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
  readonly #options: ReturnType<typeof resolveEngineOptions>;
  readonly #scheduler: AlarmScheduler;
  readonly #jobs: DumpJobs;
  readonly #queue: JobQueue<DumpRecord, DumpStatus>;
  readonly #storage: DumpEngineOptions["storage"];

  /** Throws {@link DumpError} `INVALID_OPTIONS` when an option is out of range. */
  constructor(options: DumpEngineOptions) {
    this.#options = resolveEngineOptions(options, builtinFormatters);
    this.#sql = options.sql;
    this.#bucket = options.bucket;
    this.#storage = options.storage;
    const { now, random, tickBudgetMs } = this.#options;
    this.#scheduler = options.scheduler ?? new AlarmScheduler(options.storage, { now });
    this.#jobs = new DumpJobs({
      sql: options.sql,
      bucket: options.bucket,
      storage: options.storage,
      kv: options.storage.kv ?? null,
      formatters: this.#options.formatters,
      now,
      tickBudgetMs,
    });
    this.#queue = new JobQueue(new JobStore(options.storage, "job", parseDumpRecord), this.#jobs, {
      ...this.#options,
      wakeName: DUMP_WAKE,
      graceMs: tickGraceMs(tickBudgetMs),
      scheduler: this.#scheduler,
      notifier: new CompletionNotifier({ ...this.#options, random }),
    });
  }

  /**
   * The scheduler holding the engine's wake-up (named `durable-dump`). A host schedules its own
   * work in it and calls `engine.scheduler.run({...})` from `alarm()`, which ticks the engine
   * when it is due; a host that only exports may call {@link DumpEngine.tick} from `alarm()` instead.
   */
  get scheduler(): AlarmScheduler {
    return this.#scheduler;
  }

  /**
   * Validates the options, opens the R2 upload, persists the job and arms the alarm (never
   * postponing an earlier one). The job runs after any job already queued. Nothing is persisted
   * when the options are refused.
   *
   * @throws {DumpError} `INVALID_OPTIONS`, `UNKNOWN_FORMAT`, `UNKNOWN_TABLE`, `RESERVED_TABLE`, `UNSUPPORTED_TABLE`, `UNSUPPORTED_SCHEMA`, `OUTPUT_EXISTS`, `TOO_MANY_JOBS`.
   */
  async start(options?: StartOptions): Promise<DumpStatus> {
    const resolved = resolveStartOptions(options, this.#options.formatters, this.#options.keyPrefix);
    const formatter = this.#jobs.formatter(resolved.format);
    const url = (options as StartOptions | undefined)?.callbackUrl;
    const callbackUrl = url === undefined ? null : checkCallbackUrl(url, this.#options);
    if (resolved.kv && !this.#storage.kv) {
      throw new DumpError(
        "INVALID_OPTIONS",
        "kv: true needs storage.kv, the synchronous key-value API of a SQLite-backed object: pass ctx.storage as storage.",
      );
    }
    // With neither schema nor data, the job writes the key-value object alone.
    const kvOnly = resolved.kv && !resolved.schema && !resolved.data;
    const tables = kvOnly ? [] : planTables(this.#sql, resolved.tables, resolved.exclude);
    // A per-table format writes no object for no tables: the job goes straight to what follows them.
    checkTables(this.#sql, tables, formatter, resolved);
    const noTableObjects = kvOnly || (formatter.objectPerTable && tables.length === 0);
    const first: DumpStep = noTableObjects ? (resolved.kv ? "kvHeader" : "done") : "header";
    const record = await this.#queue.add(async (id, createdAt) => {
      const record: DumpRecord = {
        v: DUMP_RECORD_VERSION,
        id,
        state: "queued",
        format: resolved.format,
        partSize: this.#options.partSize,
        options: {
          schema: resolved.schema,
          data: resolved.data,
          tables: resolved.tables,
          exclude: resolved.exclude,
          gzip: resolved.gzip,
          gzipLevel: resolved.gzipLevel,
          // Chosen once: the job's streams keep it even if the host's flags change (deflater.ts).
          deflater: resolved.gzip ? preferredEngine() : "pako",
          kv: resolved.kv,
          dialect: resolved.dialect,
        },
        keyBase: this.#options.keyPrefix + resolved.folder + id,
        databaseSize: this.#sql.databaseSize,
        tableCount: tables.length,
        plan: [],
        rows: [],
        objects: [],
        cursor: { step: first, table: 0, name: null, key: null, skip: 0, rowsInTable: 0, snapshot: null, written: 0, kv: null },
        upload: null,
        stats: { rowsWritten: 0, tablesDone: 0 },
        manifestKey: null,
        createdAt,
        startedAt: null,
        updatedAt: createdAt,
        finishedAt: null,
        error: null,
        attempts: 0,
        retryAt: null,
        seq: 0,
        cleanup: false,
        callbackUrl,
        notify: null,
      };
      const plan = planList(this.#storage, record);
      for (const name of tables) await plan.push(name);
      record.plan = plan.sizes;
      const entries = plan.dirtyEntries();
      if (formatter.objectPerTable || noTableObjects) return { record, entries };
      const opened = await openOutput(this.#bucket, record, formatter, null, 0);
      record.upload = opened.state;
      return { record, entries, undo: () => abortUploadQuietly(this.#bucket, opened.state) };
    });
    return toStatus(record, []);
  }

  /**
   * Does up to `tickBudgetMs` of work on the oldest unfinished job, saves a checkpoint, and arms
   * the alarm while work remains. Call it from the host's `alarm()`. Cheap when there is nothing
   * to do (a storage list, no writes). Concurrent calls share one run. Errors are recorded on the
   * job and retried with backoff, never thrown, so the platform does not retry a tick on top.
   */
  tick(): Promise<TickResult> {
    return this.#queue.tick();
  }

  /**
   * The job's status, or null for an unknown id (or one purged after `retentionMs`).
   *
   * @throws {DumpError} `INVALID_ARGUMENT` when `id` is not a string.
   */
  status(id: string): Promise<DumpStatus | null> {
    return this.#queue.status(id);
  }

  /**
   * A page of the jobs the engine still remembers, oldest first (`limit`, default 100; `after`, the
   * last id of the previous page). Purges ended jobs past their retention on the way.
   *
   * @throws {DumpError} `INVALID_ARGUMENT` for a limit out of range.
   */
  list(options?: ListOptions): Promise<DumpStatus[]> {
    return this.#queue.list(options);
  }

  /**
   * Deletes an ended (completed, failed or aborted) job: its R2 objects, as far as they still
   * carry the job's id in their metadata, and its record. This is the only way the engine deletes
   * output. Safe to call again after a crash. Returns false for an unknown id.
   *
   * @throws {DumpError} `JOB_ACTIVE` for a queued or running job (abort it first), `INVALID_ARGUMENT` when `id` is not a string.
   */
  delete(id: string): Promise<boolean> {
    return this.#queue.remove(id, (record) => this.#jobs.deleteOutputs(record));
  }

  /**
   * Stops a queued or running job, aborts its multipart upload and frees its storage. Objects
   * completed before the abort (per-table formats) stay in R2, listed in the status; an object that
   * a running tick completes after it is deleted. Aborting an ended job changes nothing.
   * Returns the job's status, or null for an unknown id.
   *
   * @throws {DumpError} `INVALID_ARGUMENT` when `id` is not a string.
   */
  abort(id: string): Promise<DumpStatus | null> {
    return this.#queue.abort(id);
  }
}
