/** The manifest every completed export writes next to its output. */
import { KV_CODEC } from "../kv/codec.js";
import { KV_EXCLUDED_PREFIXES, KV_FILE_VERSION } from "../kv/kv-file.js";
import { GZIP_SEGMENT_BYTES } from "../output/gzip-stage.js";
import type { DumpManifest } from "../output/manifest.js";
import { JOB_METADATA_KEY, assertOwnKey, manifestKey } from "../output/r2-objects.js";
import { SchemaReader } from "../sqlite/schema-reader.js";
import type { DumpWork } from "./dump-work.js";

/** Builds the manifest of a job whose outputs are all complete. */
export async function buildManifest(sql: SqlStorage, work: DumpWork): Promise<DumpManifest> {
  const record = work.record;
  const schema = new SchemaReader(sql);
  const iso = (t: number) => new Date(t).toISOString();
  const [names, rows, objects] = [await work.plan.all(), await work.rows.all(), await work.objects.all()];
  const manifestObjects: DumpManifest["objects"] = [];
  const { schema: withSchema, data, tables, exclude, gzip, gzipLevel, kv, dialect } = record.options;
  const kvObject = objects.find((o) => o.kv);
  for (const [index, o] of objects.entries()) {
    const parts = (await work.partsOf(index, o).all()).map(({ partNumber, size, sha256, segment }) => ({
      partNumber,
      size,
      sha256,
      ...(segment ? { gzipSegment: segment } : {}),
    }));
    manifestObjects.push({
      key: o.key,
      table: o.table,
      ...(o.kv ? { kv: true as const } : {}),
      bytes: o.bytes,
      ...(gzip ? { gzipSegmentBytes: GZIP_SEGMENT_BYTES } : {}),
      parts,
    });
  }
  return {
    manifestVersion: 1,
    jobId: record.id,
    format: record.format,
    options: {
      schema: withSchema,
      data,
      tables,
      exclude,
      gzip,
      gzipLevel: gzip ? gzipLevel : null,
      dialect: record.format === "sql" ? dialect : null,
      ...(kv ? { kv: true as const } : {}),
    },
    createdAt: iso(record.createdAt),
    startedAt: record.startedAt === null ? null : iso(record.startedAt),
    finishedAt: iso(record.finishedAt ?? record.updatedAt),
    databaseSize: record.databaseSize,
    tables: names.map((name, i) => {
      const table = schema.table(name);
      return {
        name,
        rows: rows[i] ?? 0,
        kind: table?.kind ?? null,
        withoutRowid: table?.withoutRowid ?? null,
        strict: table?.strict ?? null,
        columns: table?.columns ?? null,
        createSql: table?.createSql ?? null,
      };
    }),
    objects: manifestObjects,
    ...(kvObject && {
      kv: {
        key: kvObject.key,
        codec: KV_CODEC,
        fileVersion: KV_FILE_VERSION,
        entries: record.cursor.kv?.entries ?? 0,
        excludedPrefixes: [...KV_EXCLUDED_PREFIXES],
      },
    }),
  };
}

/**
 * Writes the job's manifest to R2 and returns its key. Safe to repeat: a retry replaces the
 * manifest the same job wrote, never an object of anyone else (`OUTPUT_EXISTS`).
 */
export async function writeManifest(bucket: R2Bucket, sql: SqlStorage, work: DumpWork): Promise<string> {
  const record = work.record;
  const key = manifestKey(record.keyBase);
  await assertOwnKey(bucket, key, record.id);
  await bucket.put(key, JSON.stringify(await buildManifest(sql, work), null, 2) + "\n", {
    httpMetadata: { contentType: "application/json; charset=utf-8" },
    customMetadata: { [JOB_METADATA_KEY]: record.id },
  });
  return key;
}
