/** The public types of exports: the engine's options, a job's start options and its status. */
import type { DumpFormatter, SqlDialect } from "../formats/formatter.js";
import type { GzipLevel } from "../output/deflater.js";
import type { JobEngineOptions } from "../jobs/engine-options.js";
import type { JobStatusBase } from "../jobs/job-types.js";

/** Options of the {@link DumpEngine} constructor: the shared ones and these. */
export interface DumpEngineOptions extends JobEngineOptions<DumpStatus> {
  /** Size of every multipart part but the last. Default 5 MiB (a 48 GiB object in 10,000 parts); 5 MiB to 64 MiB. */
  partSize?: number;
  /** Prefix of every R2 key the engine writes. Default `"durable-dump/"`. */
  keyPrefix?: string;
  /** Extra formatters by name, next to the built-in ones. A custom one may replace a built-in. */
  formatters?: Record<string, DumpFormatter>;
}

/** Options of {@link DumpEngine.start}. */
export interface StartOptions {
  /** Name of a built-in (`"sql"`) or registered formatter. Default `"sql"`. */
  format?: string;
  /** Export only these tables (names as in `sqlite_master`). Default: every user table. At most 1,000 names. */
  tables?: string[];
  /** Leave these tables out. At most 1,000 names. */
  exclude?: string[];
  /** Write the schema (CREATE statements). Default true. Formats without schema ignore it. */
  schema?: boolean;
  /** Write the rows. Default true. */
  data?: boolean;
  /**
   * For `format: "sql"`: who reads the dump. `"sqlite3"` (default): the sqlite3 CLI and other
   * SQLite clients, `.dump` style, in one transaction. `"d1"`: `wrangler d1 execute --file`, into
   * Cloudflare D1 (no transaction, foreign keys deferred, every table created before any row,
   * statements of at most 100,000 bytes). See README, "SQL dialects".
   */
  dialect?: SqlDialect;
  /**
   * Compress each object as one standard gzip member (key gets `.gz`, `Content-Encoding: gzip`):
   * `true` at level 6 (zlib's default), or `{ level }` from 1 (fastest) to 9 (smallest). Native
   * zlib compresses where the Worker has `nodejs_compat`, pako (JavaScript) elsewhere; the bytes are
   * the same. Default false.
   */
  gzip?: boolean | GzipOptions;
  /**
   * Also export the object's key-value entries (`ctx.storage.put`, `ctx.storage.kv`), every
   * structured-clone type exactly, as one more object: `<prefix><id>.kv.ndjson` (`.gz` with
   * `gzip`), written after the tables (docs/kv.md). The engines' own `durable-dump:` keys are left
   * out. With `schema: false, data: false` the job writes only this object. Needs `storage.kv`
   * (any SQLite-backed object's `ctx.storage`). Default false.
   */
  kv?: boolean;
  /**
   * A folder for this job's objects under the engine's `keyPrefix`: keys become
   * `<keyPrefix><folder><id>.<extension>`. Relative, ends with "/", no "..", "//", backslashes or
   * control characters; at most 512 characters together with `keyPrefix`. Default: none.
   */
  folder?: string;
  /**
   * When the job completes or fails, its final {@link DumpStatus} is POSTed here as JSON, signed
   * under the engine's `callbackSecret` with the time it was sent, in the header
   * `Durable-Dump-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (check it with
   * `verifyCallbackSignature`). Delivered by a later tick, retried with backoff; never delays or
   * fails the export. `https:` only unless the engine sets `allowInsecureCallbacks`; IP-literal
   * hosts only when listed in the engine's `callbackHosts`. Stored in plain text with the job.
   */
  callbackUrl?: string;
}

/** The `gzip` start option's object form. */
export interface GzipOptions {
  /** 1 (fastest) to 9 (smallest). Default 6. */
  level?: GzipLevel;
}

/** One R2 object written by a job. */
export interface DumpOutput {
  /** R2 key of the object. */
  key: string;
  /** Table the object holds, for formats with one object per table. */
  table?: string;
  /** Set on the object of key-value entries (`kv: true`). */
  kv?: true;
  /** Bytes written so far (final size once the job completed). */
  bytes: number;
  /** Multipart parts uploaded so far. */
  parts: number;
  /** True once the multipart upload was completed and the object exists. */
  complete: boolean;
}

/** Progress counters of an export. */
export interface DumpProgress {
  tablesDone: number;
  tablesTotal: number;
  /** Table being exported now, if any. */
  currentTable: string | null;
  rowsWritten: number;
  /** Key-value entries written (`kv: true`). */
  kvEntriesWritten: number;
  bytesWritten: number;
  partsUploaded: number;
}

/** The options a job runs with, defaults applied. */
export interface DumpJobOptionsView {
  format: string;
  schema: boolean;
  data: boolean;
  gzip: boolean;
  /** The gzip level of a compressed job; null without gzip. */
  gzipLevel: GzipLevel | null;
  kv: boolean;
  tables: string[] | null;
  exclude: string[];
  /** The SQL dialect of a `sql` job; null for other formats. */
  dialect: SqlDialect | null;
}

/** What {@link DumpEngine.status} and friends report about an export. Plain data, JSON-serialisable. */
export interface DumpStatus extends JobStatusBase {
  format: string;
  options: DumpJobOptionsView;
  progress: DumpProgress;
  outputs: DumpOutput[];
  /** Size of the database when the job started, in bytes. */
  databaseSize: number;
  /** R2 key of the job's manifest (a `DumpManifest` document), once the job completed; null before. */
  manifestKey: string | null;
}
