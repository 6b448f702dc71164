import { AlarmScheduler } from "../alarms/scheduler.js";
import { checkCallbackUrl } from "../jobs/callbacks.js";
import { JobQueue } from "../jobs/job-queue.js";
import type { ListOptions, TickResult } from "../jobs/job-types.js";
import { CompletionNotifier } from "../jobs/notifier.js";
import { JobStore } from "../persisted/job-store.js";
import { RESTORE_RECORD_VERSION, type RestoreRecord, parseRestoreRecord } from "../persisted/restore-record.js";
import { resolveRestoreEngineOptions, resolveRestoreStart } from "./options.js";
import { assertNoKvEntries } from "./entries-phase.js";
import { planRestore } from "./restore-plan.js";
import { assertNoConflict } from "./restore-runner.js";
import { RestoreJobs } from "./restore-jobs.js";
import { partList } from "./restore-work.js";
import { toStatus } from "./status.js";
import { Scope } from "./target-schema.js";
import type { RestoreEngineOptions, RestoreStartOptions, RestoreStatus } from "./types.js";

/** Name of the restore engine's wake-up in its {@link AlarmScheduler}. */
export const RESTORE_WAKE = "durable-dump-restore";

/** A restore tick may run past its budget by this much: the slice that straddles the deadline. */
const RESTORE_GRACE_MS = 1_000;

/**
 * Restores a dump from R2 into the object's SQLite database in small resumable ticks driven by
 * the object's alarm, the mirror of {@link DumpEngine}: it reads the dump in ranges, splits it
 * into statements as SQLite does, and applies them in batches, each committed in one transaction
 * with the checkpoint that follows it, so a crash or an eviction anywhere neither skips a
 * statement nor applies one twice. Memory stays bounded whatever the dump's size.
 *
 * @example
 * export class Tenant extends DurableObject<Env> {
 *   readonly dumps = new DumpEngine({ sql: this.ctx.storage.sql, bucket: this.env.DUMPS, storage: this.ctx.storage });
 *   readonly restores = new RestoreEngine({ sql: this.ctx.storage.sql, bucket: this.env.DUMPS, storage: this.ctx.storage, scheduler: this.dumps.scheduler });
 *   async alarm() { await this.dumps.scheduler.run(); } // ticks exports and restores
 * }
 */
export class RestoreEngine {
  readonly #sql: SqlStorage;
  readonly #bucket: R2Bucket;
  readonly #storage: RestoreEngineOptions["storage"];
  readonly #options: ReturnType<typeof resolveRestoreEngineOptions>;
  readonly #scheduler: AlarmScheduler;
  readonly #jobs: RestoreJobs;
  readonly #queue: JobQueue<RestoreRecord, RestoreStatus>;

  /** Throws {@link DumpError} `INVALID_OPTIONS` when an option is out of range or the storage cannot commit SQL with a checkpoint. */
  constructor(options: RestoreEngineOptions) {
    this.#options = resolveRestoreEngineOptions(options);
    this.#sql = options.sql;
    this.#bucket = options.bucket;
    this.#storage = options.storage;
    const { now, random, readBytes } = this.#options;
    this.#scheduler = options.scheduler ?? new AlarmScheduler(options.storage, { now });
    this.#jobs = new RestoreJobs({ sql: options.sql, bucket: options.bucket, storage: options.storage, now, readBytes });
    this.#queue = new JobQueue(new JobStore(options.storage, "restore", parseRestoreRecord), this.#jobs, {
      ...this.#options,
      wakeName: RESTORE_WAKE,
      graceMs: RESTORE_GRACE_MS,
      scheduler: this.#scheduler,
      notifier: new CompletionNotifier({ ...this.#options, random }),
    });
  }

  /**
   * The scheduler holding the engine's wake-up (named `durable-dump-restore`). Pass one engine's
   * scheduler to the other (`scheduler: dumps.scheduler`) and one `scheduler.run()` in `alarm()`
   * drives exports, restores and the host's own wake-ups.
   */
  get scheduler(): AlarmScheduler {
    return this.#scheduler;
  }

  /**
   * Checks the options, that the dump exists and what its manifest says, and that the object does
   * not already hold what the restore would create (tables; key-value entries when it restores
   * them), unless `replace`; then persists the job and arms the alarm. The job runs after any
   * restore already queued.
   *
   * @throws {DumpError} `INVALID_OPTIONS`, `SOURCE_NOT_FOUND`, `INVALID_MANIFEST`, `NOT_A_DUMP`, `KV_FILE_INVALID`, `SOURCE_CHANGED`, `TARGET_NOT_EMPTY`, `TOO_MANY_JOBS`.
   */
  async start(options: RestoreStartOptions): Promise<RestoreStatus> {
    const resolved = resolveRestoreStart(options);
    const url = options.callbackUrl;
    const callbackUrl = url === undefined ? null : checkCallbackUrl(url, this.#options);
    const plan = await planRestore(this.#bucket, resolved);
    const { replace, schema, kv, tables, exclude } = plan.options;
    const sources = plan.sources.map(({ source }) => source);
    if (!replace && schema && sources.some((s) => s.kind === "sql")) assertNoConflict(this.#jobs.target, new Scope(tables, exclude));
    if (!replace && kv) assertNoKvEntries(this.#storage.kv);
    const record = await this.#queue.add(async (id, createdAt) => {
      const entries: Record<string, unknown> = {};
      for (const [index, { source, parts }] of plan.sources.entries()) {
        const list = partList(this.#storage, id, index, []);
        for (const part of parts ?? []) await list.push(part);
        source.partPages = list.sizes;
        Object.assign(entries, list.dirtyEntries());
      }
      const record: RestoreRecord = {
        v: RESTORE_RECORD_VERSION,
        id,
        state: "queued",
        options: plan.options,
        sources,
        cursor: { phase: "prepare", source: 0, offset: 0, consumed: 0, transaction: false, announced: null, checked: null, kv: null },
        stats: { statements: 0, skipped: 0, rows: 0, tablesCreated: 0, currentTable: null, kvEntries: 0 },
        rebuild: [],
        triggers: [],
        foreignKeyViolations: null,
        failure: null,
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
      return { record, entries };
    });
    return toStatus(record);
  }

  /**
   * Does up to `tickBudgetMs` of work on the oldest unfinished restore, committing each batch of
   * statements with its checkpoint, and arms the alarm while work remains. Call it from the host's
   * `alarm()` (or let `scheduler.run()` call it). Errors are recorded on the job, never thrown.
   */
  tick(): Promise<TickResult> {
    return this.#queue.tick();
  }

  /**
   * The restore's status, or null for an unknown id (or one purged after `retentionMs`).
   *
   * @throws {DumpError} `INVALID_ARGUMENT` when `id` is not a string.
   */
  status(id: string): Promise<RestoreStatus | null> {
    return this.#queue.status(id);
  }

  /**
   * A page of the restores the engine still remembers, oldest first.
   *
   * @throws {DumpError} `INVALID_ARGUMENT` for a limit out of range.
   */
  list(options?: ListOptions): Promise<RestoreStatus[]> {
    return this.#queue.list(options);
  }

  /**
   * Stops a queued or running restore. What it committed stays (see the README on the
   * consistency of a partial restore); a batch being applied is not. Returns the status, or null.
   *
   * @throws {DumpError} `INVALID_ARGUMENT` when `id` is not a string.
   */
  abort(id: string): Promise<RestoreStatus | null> {
    return this.#queue.abort(id);
  }
}
