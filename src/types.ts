import type { DumpFormatter } from "./formatters/formatter.js";
import type { AlarmScheduler } from "./scheduler.js";

/**
 * The subset of `DurableObjectStorage` the engine needs. `ctx.storage` satisfies it as is; a test
 * may wrap it to inject faults.
 */
export interface DumpStorage {
  get<T = unknown>(key: string): Promise<T | undefined>;
  get<T = unknown>(keys: string[]): Promise<Map<string, T>>;
  list<T = unknown>(options: { prefix: string; start?: string; limit?: number }): Promise<Map<string, T>>;
  put<T>(entries: Record<string, T>): Promise<void>;
  delete(keys: string[]): Promise<number>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
}

/** Options of the {@link DumpEngine} constructor. */
export interface DumpEngineOptions {
  /** The object's SQL handle: `ctx.storage.sql`. */
  sql: SqlStorage;
  /** Bucket that receives the dumps. */
  bucket: R2Bucket;
  /** Where jobs and checkpoints live: `ctx.storage`. Keys start with `durable-dump:`. */
  storage: DumpStorage;
  /** Wall time one {@link DumpEngine.tick} may work before it checkpoints. Default 5,000; 100 to 600,000. */
  tickBudgetMs?: number;
  /** Size of every multipart part but the last. Default 5 MiB (a 48 GiB object in 10,000 parts); 5 MiB to 64 MiB. */
  partSize?: number;
  /** Prefix of every R2 key the engine writes. Default `"durable-dump/"`. */
  keyPrefix?: string;
  /** Extra formatters by name, next to the built-in ones. A custom one may replace a built-in. */
  formatters?: Record<string, DumpFormatter>;
  /** Clock in epoch milliseconds. Default `Date.now`. Tests pass one that advances without sleeping. */
  now?: () => number;
  /**
   * Scheduler that multiplexes the object's alarm; the engine keeps its wake-up (named
   * `durable-dump`) there and registers its handler. Default: a new one over `storage` and `now`,
   * exposed as `engine.scheduler`.
   */
  scheduler?: AlarmScheduler;
  /** At most this many jobs may be queued or running; `start` refuses more with `TOO_MANY_JOBS`. Default 10; 1 to 1,000. */
  maxQueuedJobs?: number;
  /**
   * Records of finished jobs (completed, failed, aborted) are purged this long after they
   * finished, lazily by `tick` and `list`. Their R2 objects are kept (see `delete`). Default 7 days;
   * 0 (purge at once) to 10 years.
   */
  retentionMs?: number;
  /** Secret that signs callback bodies (see {@link StartOptions.callbackUrl}); required to use callbackUrl. */
  callbackSecret?: string;
  /** Accept `http:` callback URLs (local development). Default false. */
  allowInsecureCallbacks?: boolean;
  /**
   * Called with the final status of every job that completes or fails, from a later tick than
   * the one that finished it. If it throws it is called again with backoff, like a callback URL.
   */
  onComplete?: (status: DumpStatus) => unknown;
  /** `fetch` used for callbacks. Default the global `fetch`. */
  fetch?: typeof fetch;
}

/** Options of {@link DumpEngine.start}. */
export interface StartOptions {
  /** Name of a built-in (`"sql"`) or registered formatter. Default `"sql"`. */
  format?: string;
  /** Export only these tables (names as in `sqlite_master`). Default: every user table. */
  tables?: string[];
  /** Leave these tables out. */
  exclude?: string[];
  /** Write the schema (CREATE statements). Default true. Formats without schema ignore it. */
  schema?: boolean;
  /** Write the rows. Default true. */
  data?: boolean;
  /**
   * Compress each object as one standard gzip member (key gets `.gz`, `Content-Encoding: gzip`).
   * Default false.
   */
  gzip?: boolean;
  /**
   * When the job completes or fails, its final {@link DumpStatus} is POSTed here as JSON, signed
   * with HMAC-SHA256 of the body under the engine's `callbackSecret` in the header
   * `Durable-Dump-Signature: sha256=<hex>`. Delivered by a later tick, retried with backoff
   * (about 10 attempts over 4 hours); never delays or fails the export. `https:` only unless the
   * engine sets `allowInsecureCallbacks`.
   */
  callbackUrl?: string;
}

/** Where a job is in its life. */
export type DumpState = "queued" | "running" | "completed" | "failed" | "aborted";

/** One R2 object written by a job. */
export interface DumpOutput {
  /** R2 key of the object. */
  key: string;
  /** Table the object holds, for formats with one object per table. */
  table?: string;
  /** Bytes written so far (final size once the job completed). */
  bytes: number;
  /** Multipart parts uploaded so far. */
  parts: number;
  /** True once the multipart upload was completed and the object exists. */
  complete: boolean;
}

/** Progress counters of a job. */
export interface DumpProgress {
  tablesDone: number;
  tablesTotal: number;
  /** Table being exported now, if any. */
  currentTable: string | null;
  rowsWritten: number;
  bytesWritten: number;
  partsUploaded: number;
}

/** What {@link DumpEngine.status} and friends report about a job. Plain data, JSON-serialisable. */
export interface DumpStatus {
  id: string;
  state: DumpState;
  format: string;
  options: Required<Pick<StartOptions, "format" | "schema" | "data" | "gzip">> & { tables: string[] | null; exclude: string[] };
  progress: DumpProgress;
  outputs: DumpOutput[];
  /** Epoch milliseconds. */
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  finishedAt: number | null;
  /** Size of the database when the job started, in bytes. */
  databaseSize: number;
  /** R2 key of the job's manifest (a `DumpManifest` document), once the job completed; null before. */
  manifestKey: string | null;
  /** Set when state is "failed" (and on transient errors while a retry is pending). */
  error: { code: string; message: string } | null;
}

/** What one {@link DumpEngine.tick} did. */
export interface TickResult {
  /** Job worked on, or null when there was nothing to do. */
  jobId: string | null;
  /** State of that job after the tick. */
  state: DumpState | null;
  /** True while any job still has work; the engine has then armed the alarm. */
  more: boolean;
}
