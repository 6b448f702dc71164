/** The public types of restores: the engine's options, a restore's start options and its status. */
import type { JobEngineOptions } from "../jobs/engine-options.js";
import type { JobStatusBase } from "../jobs/job-types.js";
import type { TransactionalStorage } from "../persisted/storage.js";

/** Options of the {@link RestoreEngine} constructor: the shared ones and these. */
export interface RestoreEngineOptions extends JobEngineOptions<RestoreStatus> {
  /**
   * Where jobs and checkpoints live, and what commits each batch of statements together with its
   * checkpoint: `ctx.storage` (it has `transactionSync`, `kv` and `sync`).
   */
  storage: TransactionalStorage;
  /**
   * Bytes read from R2 at once when the dump has no manifest (with a manifest, a part at a time;
   * parts over 8 MiB in reads of this size). Default 4 MiB; 64 KiB to 16 MiB.
   */
  readBytes?: number;
}

/** Options of {@link RestoreEngine.start}. */
export interface RestoreStartOptions {
  /** R2 key of the dump: an SQL dump of this library (`.sql` or `.sql.gz`), `sqlite3 .dump`, `wrangler d1 export`, plain or gzip. */
  key: string;
  /**
   * R2 key of the dump's manifest, whose SHA-256 per part is checked before the part is applied.
   * Default: `<key without .sql/.gz>.manifest.json` when it exists. `null`: do not look for one.
   */
  manifestKey?: string | null;
  /** Restore only these tables (and views), with their indexes and triggers. At most 1,000 names. */
  tables?: string[];
  /** Leave these tables (and views) out, with their indexes and triggers. At most 1,000 names. */
  exclude?: string[];
  /** Restore the schema (CREATE statements, statistics). Default true; false restores rows into tables that exist. */
  schema?: boolean;
  /** Restore the rows. Default true; false restores the schema only. */
  data?: boolean;
  /**
   * What to do when the database already holds a table or view the restore would create: by
   * default the restore refuses (`TARGET_NOT_EMPTY`); with `replace: true` it drops them first
   * (with their indexes and triggers; never `_cf_*` tables or the engines' own keys). With
   * `tables` or `exclude`, only tables and views in scope are checked and dropped.
   */
  replace?: boolean;
  /** As for exports: the final status is POSTed here, signed with the engine's `callbackSecret`. */
  callbackUrl?: string;
}

/** The options a restore runs with, defaults applied. */
export interface RestoreJobOptionsView {
  key: string;
  manifestKey: string | null;
  tables: string[] | null;
  exclude: string[];
  schema: boolean;
  data: boolean;
  replace: boolean;
}

/** Progress counters of a restore. */
export interface RestoreProgress {
  /** Bytes of the dump object read and applied (compressed bytes for gzip), as of the last checkpoint. */
  bytesRead: number;
  /** Size of the dump object. */
  bytesTotal: number;
  /** Offset in the dump's SQL text (decompressed) of the next statement; everything before it is committed. */
  offset: number;
  /** Statements applied. */
  statements: number;
  /** Statements skipped: transaction control, options, what the restore manages itself. */
  skipped: number;
  /** Rows inserted, updated or deleted. */
  rowsWritten: number;
  tablesCreated: number;
  /** The table the last batch wrote to. */
  currentTable: string | null;
  /** Where the restore stands. */
  phase: "prepare" | "replace" | "statements" | "finish";
}

/** The dump a restore reads. */
export interface RestoreSourceView {
  key: string;
  bytes: number;
  etag: string;
  /** Whether it is gzip-compressed. */
  gzip: boolean;
  /** The manifest whose SHA-256s are checked, or null. */
  manifestKey: string | null;
}

/** What {@link RestoreEngine.status} and friends report about a restore. Plain data, JSON-serialisable. */
export interface RestoreStatus extends JobStatusBase {
  options: RestoreJobOptionsView;
  source: RestoreSourceView;
  progress: RestoreProgress;
  /**
   * Rows that `PRAGMA foreign_key_check` reports once the restore is done (the dump's own
   * dangling references: enforcement is off while batches are applied); null before.
   */
  foreignKeyViolations: number | null;
  /** The statement that failed the job, if one did: its offset in the SQL text and its first characters. */
  failedStatement: { offset: number; statement: string } | null;
}
