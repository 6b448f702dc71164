/**
 * The record of an export job (`durable-dump:job:<id>`), version 2, and the items of its paged
 * lists. `parseDumpRecord` (dump-record-versions.ts) reads every version this release knows.
 */
import type { KeyPart } from "../sqlite/row-key.js";
import type { TableInfo } from "../sqlite/schema-types.js";
import type { PageLimits } from "./paged-list.js";
import { jobBaseFields } from "./job-record.js";
import { type Infer, type Shape, array, boolean, count, float, literal, nullable, object, optional, string, variant } from "./shape.js";

/** The version written by this release. */
export const DUMP_RECORD_VERSION = 2;

export const keyPartShape: Shape<KeyPart> = variant("t", {
  i: object({ t: literal("i"), v: string }),
  r: object({ t: literal("r"), v: float }),
  s: object({ t: literal("s"), v: string }),
  b: object({ t: literal("b"), v: string }),
});

const columnShape = object({ name: string, type: string, notNull: boolean, primaryKey: count, generated: boolean });

export const tableInfoShape: Shape<TableInfo> = object({
  name: string,
  kind: literal("table", "virtual"),
  createSql: string,
  columns: array(columnShape),
  hiddenRowid: nullable(string),
  withoutRowid: boolean,
  strict: boolean,
  module: nullable(string),
  content: literal("own", "external", "none"),
});

/**
 * A gzip segment that starts in a part: its index (its text starts at index × 256 KiB) and the
 * offset of its first compressed byte in the object. Decoding can restart there.
 */
export const segmentStartShape = object({ index: count, offset: count });
export type SegmentStart = Infer<typeof segmentStartShape>;

/** An uploaded part. */
export const partShape = object({
  partNumber: count,
  etag: string,
  size: count,
  /** Hex SHA-256 of the part's bytes. */
  sha256: string,
  /** gzip: the first segment that starts in this part (none recorded by releases before 0.2). */
  segment: optional(nullable(segmentStartShape), null),
});
export type PartRecord = Infer<typeof partShape>;

/** What a checkpoint keeps of a gzip stream besides its pending bytes. */
export const gzipStateShape = object({
  /** CRC-32 of every uncompressed byte so far, pending ones included. */
  crc: count,
  /** Uncompressed bytes so far, pending ones included. */
  inputBytes: count,
  /** Uncompressed bytes not compressed yet (held in storage under `durable-dump:gzip:<id>`). */
  pending: count,
});
export type GzipState = Infer<typeof gzipStateShape>;

/** Items per page of a paged list, as a record keeps them. */
const pageSizes = array(count);

/** How the record's lists are cut into pages: every page stays far below the 2 MB a value may hold. */
export const LIST_LIMITS = {
  plan: { items: 1_000, bytes: 256 * 1024 },
  rows: { items: 4_096, bytes: 256 * 1024 },
  objects: { items: 256, bytes: 256 * 1024 },
  parts: { items: 1_000, bytes: 512 * 1024 },
} as const satisfies Record<string, PageLimits>;

/** A finished output object (an item of the record's `objects` list). */
export const objectShape = object({
  key: string,
  table: nullable(string),
  bytes: count,
  parts: count,
  /** Page sizes of the object's part list (`durable-dump:parts:<id>:<object>:<page>`), kept until the manifest is written. */
  partPages: pageSizes,
  /** Whether it is the key-value object. */
  kv: optional(boolean, false),
});
export type OutputObject = Infer<typeof objectShape>;

/**
 * Steps of an export, in order: the next thing the producer writes. With `kv: true` the
 * key-value object follows the tables' objects: `kvHeader`, `kvEntries`, `kvFooter`, `finish`.
 */
export type DumpStep = "header" | "tableHeader" | "rows" | "tableFooter" | "footer" | "kvHeader" | "kvEntries" | "kvFooter" | "finish" | "done";

/** Progress through the key-value entries, once the key-value object was begun. */
const kvCursorShape = object({
  /** Key of the last entry written; the next batch starts after it. */
  last: nullable(string),
  /** Entries written. */
  entries: count,
});

const cursorShape = object({
  step: literal<DumpStep>("header", "tableHeader", "rows", "tableFooter", "footer", "kvHeader", "kvEntries", "kvFooter", "finish", "done"),
  /** Index in the table plan of the table being written. */
  table: count,
  /** Its name, for the status (null between tables). */
  name: optional(nullable(string), null),
  /** Key of the last row written of that table. */
  key: nullable(array(keyPartShape)),
  rowsInTable: count,
  /**
   * The table as it was when its header was written: its rows and footer are written from this,
   * so a table altered or dropped meanwhile still ends consistently. Null between tables.
   */
  snapshot: optional(nullable(tableInfoShape), null),
  /** Tables whose header was written in the current object. */
  written: optional(count, 0),
  /** Null until the key-value object is begun (`kv: true` only). */
  kv: optional(nullable(kvCursorShape), null),
  /** Rows written that share the key `key`, for tables whose key may repeat (read by their values, see values-key.ts). */
  skip: optional(count, 0),
});
export type DumpCursor = Infer<typeof cursorShape>;

/** The multipart upload being written. */
const uploadShape = object({
  key: string,
  uploadId: string,
  table: nullable(string),
  /** Index of this object in the record's `objects` once finished; names its part list. */
  object: count,
  partPages: pageSizes,
  partCount: count,
  uploadedBytes: count,
  /** Bytes written past the last part, held in tail chunks (`durable-dump:tail:<id>:<n>`). */
  tailLength: count,
  /** Compression state of a gzip-compressed object; its pending bytes are stored apart. */
  gzip: optional(nullable(gzipStateShape), null),
  /** Whether it is the key-value object. */
  kv: optional(boolean, false),
  /** gzip: the first segment that starts in the part being filled. */
  segment: optional(nullable(segmentStartShape), null),
});
export type UploadState = Infer<typeof uploadShape>;

export const dumpOptionsShape = object({
  schema: boolean,
  data: boolean,
  tables: nullable(array(string)),
  exclude: array(string),
  gzip: boolean,
  /** Compression level of every gzip segment; zlib's default 6 in records written before levels existed. */
  gzipLevel: optional(literal(1, 2, 3, 4, 5, 6, 7, 8, 9), 6),
  /** The deflate engine (output/deflater.ts) the job started with; "pako" in records written before native zlib. */
  deflater: optional(literal("node:zlib", "pako"), "pako"),
  /** Whether the object's key-value entries are exported too. */
  kv: optional(boolean, false),
  /** The SQL dialect (`"sqlite3"` for other formats); records written before dialects existed are `"sqlite3"`. */
  dialect: optional(literal("sqlite3", "d1"), "sqlite3"),
});
export type DumpJobOptions = Infer<typeof dumpOptionsShape>;

export const dumpRecordShape = object({
  v: literal(DUMP_RECORD_VERSION),
  ...jobBaseFields,
  format: string,
  /** Part size the uploads are made of; fixed for the job's life. */
  partSize: count,
  options: dumpOptionsShape,
  /** Key of the single object, or prefix of the per-table objects. */
  keyBase: string,
  /** Size of the database when the job started. */
  databaseSize: count,
  /** Tables the job exports. */
  tableCount: count,
  /** Page sizes of the table plan (`durable-dump:plan:<id>:<page>`: names, in export order), kept while the job runs. */
  plan: pageSizes,
  /** Page sizes of the rows written per finished table (`durable-dump:rows:<id>:<page>`), in plan order, kept while the job runs. */
  rows: pageSizes,
  /** Page sizes of the finished objects (`durable-dump:job:<id>:objects:<page>`). */
  objects: pageSizes,
  cursor: cursorShape,
  upload: nullable(uploadShape),
  stats: object({ rowsWritten: count, tablesDone: count }),
  /** R2 key of the manifest, written just before the job completes. */
  manifestKey: nullable(string),
});
export type DumpRecord = Infer<typeof dumpRecordShape>;
