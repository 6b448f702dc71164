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
  /**
   * R2 key of the dump: an SQL dump of this library (`.sql` or `.sql.gz`), `sqlite3 .dump`,
   * `wrangler d1 export`, plain or gzip; or the key-value file of an export with `kv: true`
   * (`.kv.ndjson` or `.kv.ndjson.gz`, told by its header line), which restores the entries alone.
   */
  key: string;
  /**
   * R2 key of the dump's manifest, whose SHA-256 per part is checked before the part is applied.
   * Default: `<key without .sql/.kv.ndjson/.gz>.manifest.json` when it exists. `null`: do not look for one.
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
   * Restore the object's key-value entries too, from the key-value file the dump's manifest lists
   * (an export with `kv: true`), after the SQL. Default: true when the manifest lists one and the
   * whole dump is restored (no `tables`, no `exclude`, `schema` and `data` true); false leaves the
   * entries out; true without such a file is refused (`INVALID_OPTIONS`). With `schema: false,
   * data: false, kv: true` only the entries are restored.
   */
  kv?: boolean;
  /**
   * What to do when the object already holds what the restore would write: a table or view it
   * would create, or (when it restores key-value entries) any key-value entry outside the engines'
   * `durable-dump:` keys. By default the restore refuses (`TARGET_NOT_EMPTY`); with
   * `replace: true` it drops those tables first (with their indexes and triggers) and deletes
   * those entries; never `_cf_*` tables or the engines' own keys. With `tables` or `exclude`,
   * only tables and views in scope are checked and dropped.
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
  /** Whether key-value entries are restored. */
  kv: boolean;
  replace: boolean;
}

/** Progress counters of a restore. */
export interface RestoreProgress {
  /** Bytes of the objects read and applied (compressed bytes for gzip), as of the last checkpoint: every source before the current one, and the current one's. */
  bytesRead: number;
  /** Size of the objects the restore reads (the SQL dump and the key-value file). */
  bytesTotal: number;
  /**
   * Offset in the current source's text (decompressed) of the next statement, or line of the
   * key-value file; everything before it is committed.
   */
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
  /** Key-value entries written. */
  kvEntriesRestored: number;
  /** Entries the key-value file holds, as its manifest counts them; null without a manifest or without entries to restore. */
  kvEntriesTotal: number | null;
  /** Where the restore stands: "statements" applies the SQL dump, "entries" the key-value file. */
  phase: "prepare" | "replace" | "statements" | "entries" | "finish";
}

/** An object a restore reads. */
export interface RestoreSourceView {
  /** An SQL dump, or a key-value file. */
  kind: "sql" | "kv";
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
  /** The object being read (the last one once the restore ended). */
  source: RestoreSourceView;
  /** Every object the restore reads, in order: the SQL dump, then the key-value file. */
  sources: RestoreSourceView[];
  progress: RestoreProgress;
  /**
   * Rows that `PRAGMA foreign_key_check` reports once the restore is done (the dump's own
   * dangling references: enforcement is off while batches are applied); null before.
   */
  foreignKeyViolations: number | null;
  /** The statement that failed the job, if one did: its offset in the SQL text and its first characters. */
  failedStatement: { offset: number; statement: string } | null;
}
