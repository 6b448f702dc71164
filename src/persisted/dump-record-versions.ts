/**
 * Every version of the export record this release reads. Version 1, as release 0.1.0 wrote it,
 * kept its lists inline (table names, rows per table, the parts of every object); it is turned
 * into version 2 in memory, with the pages its lists move to, and stored as version 2 at its next
 * save: the job goes on where it was.
 */
import { DUMP_RECORD_VERSION, type DumpRecord, LIST_LIMITS, dumpRecordShape, gzipStateShape, keyPartShape, partShape, tableInfoShape } from "./dump-record.js";
import { jobBaseFields } from "./job-record.js";
import { keys } from "./keys.js";
import { paginate } from "./paged-list.js";
import { ShapeError, array, boolean, count, literal, nullable, object, optional, string } from "./shape.js";

const outputV1 = object({ key: string, table: nullable(string), bytes: count, parts: array(partShape) });

const dumpRecordV1 = object({
  v: literal(1),
  ...jobBaseFields,
  format: string,
  partSize: count,
  options: object({ schema: boolean, data: boolean, tables: nullable(array(string)), exclude: array(string), gzip: optional(boolean, false) }),
  keyBase: string,
  tables: array(string),
  cursor: object({
    step: literal("header", "tableHeader", "rows", "tableFooter", "footer", "finish", "done"),
    table: count,
    key: nullable(array(keyPartShape)),
    rowsInTable: count,
    snapshot: optional(nullable(tableInfoShape), null),
    written: optional(count, 0),
  }),
  upload: nullable(
    object({
      key: string,
      uploadId: string,
      table: nullable(string),
      parts: array(partShape),
      tailLength: count,
      gzip: optional(nullable(gzipStateShape), null),
    }),
  ),
  outputs: array(outputV1),
  stats: object({ rowsWritten: count, tablesDone: count, tableRows: optional(array(count), []) }),
  databaseSize: count,
  manifestKey: optional(nullable(string), null),
});

/** Version 2 of a version 1 record, and the pages (by key) its lists now live in. */
function migrateDumpRecordV1(value: unknown, key: string): { record: DumpRecord; pages: Record<string, unknown> } {
  const old = dumpRecordV1.check(value, key);
  const id = old.id;
  const pages: Record<string, unknown> = {};
  /** Pages `items` under `keyOf(page)`; returns the page sizes. */
  const store = <T>(items: readonly T[], limits: (typeof LIST_LIMITS)[keyof typeof LIST_LIMITS], keyOf: (page: number) => string): number[] =>
    paginate(items, limits).map((page, p) => {
      pages[keyOf(p)] = page;
      return page.length;
    });
  const active = old.state === "queued" || old.state === "running";
  // The parts of finished objects are kept only while the manifest is still to be written.
  const objects = old.outputs.map((o, index) => ({
    key: o.key,
    table: o.table,
    bytes: o.bytes,
    parts: o.parts.length,
    partPages: active ? store(o.parts, LIST_LIMITS.parts, (p) => keys.scratchPage("parts", id, p, index)) : [],
    kv: false,
  }));
  const { v: _v, tables, outputs: _outputs, upload, cursor, stats, options, ...rest } = old;
  const record: DumpRecord = {
    ...rest,
    v: 2,
    // 0.1.0 compressed with pako at level 6, had no key-value export and wrote the sqlite3 dialect.
    options: { ...options, gzipLevel: 6, deflater: "pako", kv: false, dialect: "sqlite3" },
    tableCount: tables.length,
    // The plan and the rows per table serve a running job only (the manifest holds them after).
    plan: active ? store(tables, LIST_LIMITS.plan, (p) => keys.scratchPage("plan", id, p)) : [],
    rows: active ? store(stats.tableRows, LIST_LIMITS.rows, (p) => keys.scratchPage("rows", id, p)) : [],
    objects: store(objects, LIST_LIMITS.objects, (p) => keys.recordPage("job", id, "objects", p)),
    cursor: {
      ...cursor,
      skip: 0,
      name: cursor.snapshot?.name ?? (cursor.step === "header" || cursor.step === "tableHeader" ? (tables[cursor.table] ?? null) : null),
      kv: null,
    },
    upload: upload && {
      key: upload.key,
      uploadId: upload.uploadId,
      table: upload.table,
      object: objects.length,
      partPages: store(upload.parts, LIST_LIMITS.parts, (p) => keys.scratchPage("parts", id, p, objects.length)),
      partCount: upload.parts.length,
      uploadedBytes: upload.parts.reduce((sum, p) => sum + p.size, 0),
      tailLength: upload.tailLength,
      gzip: upload.gzip,
      kv: false,
      segment: null,
    },
    stats: { rowsWritten: stats.rowsWritten, tablesDone: stats.tablesDone },
  };
  return { record, pages };
}

/**
 * Reads a stored export record of any version this release knows. Version 1 comes back as version
 * 2 together with the pages its lists move to (`pages`, to be saved with the record).
 *
 * @throws {ShapeError} when the value is not a record of a known version, or a field does not fit.
 */
export function parseDumpRecord(value: unknown, key: string): { record: DumpRecord; pages: Record<string, unknown> } {
  const v = (value as { v?: unknown } | null)?.v;
  if (v === DUMP_RECORD_VERSION) return { record: dumpRecordShape.check(value, key), pages: {} };
  if (v === 1) return migrateDumpRecordV1(value, key);
  throw new ShapeError(
    `${key}: record version ${String(v)} is not one this release reads (1, ${DUMP_RECORD_VERSION}); it was written by ${typeof v === "number" && v > DUMP_RECORD_VERSION ? "a newer" : "an unknown"} release`,
  );
}
