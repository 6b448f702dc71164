/** The manifest document: what a dump holds, written next to it in R2, read back by restores. */
import type { ColumnInfo } from "../sqlite/schema-types.js";
import type { GzipLevel } from "./deflater.js";

/** The options an export ran with, as its manifest records them. */
export interface DumpManifestOptions {
  schema: boolean;
  data: boolean;
  tables: string[] | null;
  exclude: string[];
  gzip: boolean;
  /** The gzip level of a compressed dump; null without gzip. Absent in manifests written by 0.1.0 (level 6). */
  gzipLevel?: GzipLevel | null;
  /** Present, and true, when the object's key-value entries were exported (manifests of other jobs are as before). */
  kv?: true;
  /** The SQL dialect of a `sql` dump (`"sqlite3"` or `"d1"`), null for other formats; absent in manifests of release 0.1.0 (read it as `"sqlite3"`). */
  dialect: "sqlite3" | "d1" | null;
}

/** The key-value object of a dump (`kv: true`): what a restore needs to read it. */
export interface DumpManifestKv {
  /** R2 key of the object; it is also listed in `objects` with its parts' checksums. */
  key: string;
  /** Encoding of the values, as the file's header names it (`devalue@6.0.3`). */
  codec: string;
  /** Version of the file's layout (header, entry lines, trailer). */
  fileVersion: number;
  /** Entries written. */
  entries: number;
  /** Keys under these prefixes were left out: the engines' own state. */
  excludedPrefixes: string[];
}

/**
 * The JSON document every completed job writes next to its output, at `<keyBase>.manifest.json`
 * (`status().manifestKey`). It says what the dump holds and lets a reader verify a download part
 * by part. Times are ISO 8601 strings.
 */
export interface DumpManifest {
  manifestVersion: 1;
  jobId: string;
  format: string;
  options: DumpManifestOptions;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string;
  /** Size of the database when the job was started, in bytes. */
  databaseSize: number;
  /** Exported tables in export order, with their schema as it was at the end of the job (null for a table dropped meanwhile). */
  tables: {
    name: string;
    rows: number;
    kind: "table" | "virtual" | null;
    withoutRowid: boolean | null;
    strict: boolean | null;
    /** Columns in declaration order with their declared types; `primaryKey` is the 1-based position in the key, 0 if none. */
    columns: ColumnInfo[] | null;
    /** The CREATE statement, as in `sqlite_master`. */
    createSql: string | null;
  }[];
  /** The output objects; an object's bytes are its parts in order. */
  objects: {
    key: string;
    table: string | null;
    /** Set on the key-value object. */
    kv?: true;
    bytes: number;
    /**
     * gzip objects: uncompressed bytes per segment. Each segment was compressed on its own and
     * ended with a full flush, so decoding can restart where one starts (`parts[].gzipSegment`).
     */
    gzipSegmentBytes?: number;
    parts: {
      partNumber: number;
      size: number;
      sha256: string;
      /** gzip objects: the first segment that starts in this part, its index and the offset of its first byte in the object. */
      gzipSegment?: { index: number; offset: number };
    }[];
  }[];
  /** The key-value object, present when the job exported key-value entries. */
  kv?: DumpManifestKv;
}
