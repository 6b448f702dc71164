/** The manifest document: what a dump holds, written next to it in R2, read back by restores. */
import type { ColumnInfo } from "../sqlite/schema-types.js";

/** The options an export ran with, as its manifest records them. */
export interface DumpManifestOptions {
  schema: boolean;
  data: boolean;
  tables: string[] | null;
  exclude: string[];
  gzip: boolean;
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
}
