import type { ColumnInfo } from "./formatters/formatter.js";
import type { JobRecord } from "./job-store.js";
import { assertOwnKey } from "./output-upload.js";
import { JOB_METADATA_KEY, manifestKey } from "./output-keys.js";
import { SchemaReader } from "./schema-reader.js";

/**
 * The JSON document every completed job writes next to its output, at `<keyBase>.manifest.json`
 * (`status().manifestKey`). It says what the dump holds and lets a reader verify a download part
 * by part. Times are ISO 8601 strings.
 */
export interface DumpManifest {
  manifestVersion: 1;
  jobId: string;
  format: string;
  options: JobRecord["options"];
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
    parts: { partNumber: number; size: number; sha256: string }[];
  }[];
}

/** Builds the manifest of a job whose outputs are all complete. */
export function buildManifest(sql: SqlStorage, record: JobRecord): DumpManifest {
  const schema = new SchemaReader(sql);
  const iso = (t: number) => new Date(t).toISOString();
  return {
    manifestVersion: 1,
    jobId: record.id,
    format: record.format,
    options: record.options,
    createdAt: iso(record.createdAt),
    startedAt: record.startedAt === null ? null : iso(record.startedAt),
    finishedAt: iso(record.finishedAt ?? record.updatedAt),
    databaseSize: record.databaseSize,
    tables: record.tables.map((name, i) => {
      const table = schema.table(name);
      return {
        name,
        rows: record.stats.tableRows?.[i] ?? 0,
        kind: table?.kind ?? null,
        withoutRowid: table?.withoutRowid ?? null,
        strict: table?.strict ?? null,
        columns: table?.columns ?? null,
        createSql: table?.createSql ?? null,
      };
    }),
    objects: record.outputs.map((o) => ({
      key: o.key,
      table: o.table,
      bytes: o.bytes,
      parts: o.parts.map(({ partNumber, size, sha256 }) => ({ partNumber, size, sha256 })),
    })),
  };
}

/**
 * Writes the job's manifest to R2 and returns its key. Safe to repeat: a retry replaces the
 * manifest the same job wrote, never an object of anyone else (`OUTPUT_EXISTS`).
 */
export async function writeManifest(bucket: R2Bucket, sql: SqlStorage, record: JobRecord): Promise<string> {
  const key = manifestKey(record.keyBase);
  await assertOwnKey(bucket, key, record.id);
  await bucket.put(key, JSON.stringify(buildManifest(sql, record), null, 2) + "\n", {
    httpMetadata: { contentType: "application/json; charset=utf-8" },
    customMetadata: { [JOB_METADATA_KEY]: record.id },
  });
  return key;
}
