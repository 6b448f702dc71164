/**
 * The record of a restore job (`durable-dump:restore:<id>`), version 2, and the items of its
 * paged parts list (`durable-dump:restore-parts:<id>:<source>:<page>`). Version 1 (before
 * key-value sources) is read and migrated in memory; its next save stores version 2.
 */
import { jobBaseFields } from "./job-record.js";
import type { PageLimits } from "./paged-list.js";
import { type Infer, ShapeError, array, boolean, count, literal, nullable, object, string } from "./shape.js";

/** The version written by this release. */
export const RESTORE_RECORD_VERSION = 2;

/** How the bytes of a source are encoded. */
export type SourceEncoding = "plain" | "gzip" | "segments";

/** A part of a dump, as its manifest lists it. */
export const restorePartShape = object({
  size: count,
  /** Hex SHA-256 of the part's bytes, checked before any statement in it is applied. */
  sha256: string,
  /** The first gzip segment that starts in this part (index and offset in the object), where decoding can restart. */
  segment: nullable(object({ index: count, offset: count })),
});
export type RestorePart = Infer<typeof restorePartShape>;

/** Items per page of the parts list: a page of 1,000 parts is about 120 KB. */
export const RESTORE_PART_PAGE: PageLimits = { items: 1_000, bytes: 256 * 1024 };

/** What a source holds: an SQL dump, or a key-value file (`.kv.ndjson`). */
export type SourceKind = "sql" | "kv";

/** Something the job applies, in order: an SQL dump, then (or alone) the key-value file of the same export. */
export const restoreSourceShape = object({
  kind: literal<SourceKind>("sql", "kv"),
  key: string,
  /** The object's ETag when the job started: every read asks for it, so a replaced object is noticed. */
  etag: string,
  size: count,
  /**
   * "plain": SQL text. "gzip": a gzip stream, decoded from its first byte whenever the job resumes
   * in a new isolate. "segments": this library's gzip, whose decoding restarts at the segment
   * starts its manifest records.
   */
  encoding: literal<SourceEncoding>("plain", "gzip", "segments"),
  manifestKey: nullable(string),
  /** Page sizes of the parts list; empty without a manifest (nothing to verify). */
  partPages: array(count),
  /** Uncompressed bytes per gzip segment ("segments" only, else 0). */
  segmentBytes: count,
  /** A key-value file: the entries its manifest counts, checked at its end (null: no manifest, or an SQL dump). */
  entries: nullable(count),
});
export type RestoreSource = Infer<typeof restoreSourceShape>;

/** What a restore restores, defaults applied. */
export const restoreOptionsShape = object({
  /** The key `start()` was given (the SQL dump, or a key-value file restored alone). */
  key: string,
  tables: nullable(array(string)),
  exclude: array(string),
  schema: boolean,
  data: boolean,
  replace: boolean,
  /** Whether the job restores key-value entries (it has a "kv" source). */
  kv: boolean,
});
export type RestoreJobOptions = Infer<typeof restoreOptionsShape>;

/** Phases of a restore, in order: "statements" applies an SQL source, "entries" a key-value source. */
export type RestorePhase = "prepare" | "replace" | "statements" | "entries" | "finish";

/** Where the reader of a key-value source stands (`KvDecoderPosition`); its byte offset is the cursor's `offset`. */
export const kvPositionShape = object({
  header: boolean,
  entries: count,
  lastKey: nullable(string),
  ended: boolean,
});

const cursorShape = object({
  phase: literal<RestorePhase>("prepare", "replace", "statements", "entries", "finish"),
  /** Index of the source being applied. */
  source: count,
  /**
   * Offset in the source's decoded text of the next statement (SQL) or line (key-value file) to
   * apply; everything before it is committed.
   */
  offset: count,
  /** Bytes of the source object read up to the last checkpoint (progress). */
  consumed: count,
  /** The dump opened a transaction (BEGIN) that it has not committed yet: it must, before it ends. */
  transaction: boolean,
  /** The last virtual table a `sqlite3 .dump` schema row announced (its shadow tables' rows follow). */
  announced: nullable(string),
  /** Finish phase: the last table whose foreign keys were checked. */
  checked: nullable(string),
  /** A key-value source: the reader's position at `offset` (null before it and for SQL). */
  kv: nullable(kvPositionShape),
});

/** Where a statement failed, for the status. */
const failureShape = object({
  /** Offset of the statement in the source's decoded text. */
  offset: count,
  /** Its first characters. */
  statement: string,
});

export const restoreRecordShape = object({
  v: literal(RESTORE_RECORD_VERSION),
  ...jobBaseFields,
  options: restoreOptionsShape,
  sources: array(restoreSourceShape),
  cursor: cursorShape,
  stats: object({
    statements: count,
    skipped: count,
    rows: count,
    tablesCreated: count,
    currentTable: nullable(string),
    /** Key-value entries written. */
    kvEntries: count,
  }),
  /** External-content FTS5 tables created from `sqlite3 .dump`'s schema rows: rebuilt at the end. */
  rebuild: array(string),
  /** A data-only restore: the triggers of the tables it fills, dropped so they do not fire, created again at the end. */
  triggers: array(object({ name: string, sql: string })),
  /** Rows `PRAGMA foreign_key_check` reports at the end; null before. */
  foreignKeyViolations: nullable(count),
  failure: nullable(failureShape),
});
export type RestoreRecord = Infer<typeof restoreRecordShape>;

/**
 * Reads a stored restore record: version 2, or version 1 (no key-value sources yet) migrated in
 * memory.
 *
 * @throws {ShapeError} when the value is not a record of a known version.
 */
export function parseRestoreRecord(value: unknown, key: string): { record: RestoreRecord; pages: Record<string, unknown> } {
  const v = (value as { v?: unknown } | null)?.v;
  if (v === 1) return { record: restoreRecordShape.check(migrateV1(value as Record<string, unknown>), key), pages: {} };
  if (v !== RESTORE_RECORD_VERSION) {
    throw new ShapeError(`${key}: record version ${String(v)} is not one this release reads (1, ${RESTORE_RECORD_VERSION}); it was written by another release`);
  }
  return { record: restoreRecordShape.check(value, key), pages: {} };
}

/** A version 1 record as version 2: SQL sources only, no key-value entries restored. The result is checked by the caller. */
function migrateV1(old: Record<string, unknown>): Record<string, unknown> {
  const fields = (value: unknown): Record<string, unknown> => (typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {});
  const sources = Array.isArray(old.sources) ? old.sources.map((source) => ({ ...fields(source), entries: null })) : old.sources;
  return {
    ...old,
    v: RESTORE_RECORD_VERSION,
    options: { ...fields(old.options), key: Array.isArray(sources) ? sources[0]?.key : undefined, kv: false },
    sources,
    cursor: { ...fields(old.cursor), kv: null },
    stats: { ...fields(old.stats), kvEntries: 0 },
  };
}
