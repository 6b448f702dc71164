import type { IndexedJob } from "../persisted/job-store.js";
import type { DumpRecord, OutputObject } from "../persisted/dump-record.js";
import type { DumpOutput, DumpStatus } from "./types.js";

/** The public view of an export record, with its finished objects. */
export function toStatus(record: DumpRecord, objects: readonly OutputObject[]): DumpStatus {
  const outputs: DumpOutput[] = objects.map((o) => ({
    key: o.key,
    ...(o.table === null ? {} : { table: o.table }),
    ...(o.kv ? { kv: true as const } : {}),
    bytes: o.bytes,
    parts: o.parts,
    complete: true,
  }));
  const u = record.upload;
  if (u) {
    outputs.push({
      key: u.key,
      ...(u.table === null ? {} : { table: u.table }),
      ...(u.kv ? { kv: true as const } : {}),
      bytes: u.uploadedBytes + u.tailLength,
      parts: u.partCount,
      complete: false,
    });
  }
  const cursor = record.cursor;
  const inTable = cursor.step === "tableHeader" || cursor.step === "rows" || cursor.step === "tableFooter";
  const { schema, data, gzip, gzipLevel, kv, tables, exclude, dialect } = record.options;
  return {
    id: record.id,
    state: record.state,
    format: record.format,
    options: {
      format: record.format,
      schema,
      data,
      gzip,
      gzipLevel: gzip ? gzipLevel : null,
      kv,
      tables,
      exclude,
      dialect: record.format === "sql" ? dialect : null,
    },
    progress: {
      tablesDone: record.stats.tablesDone,
      tablesTotal: record.tableCount,
      currentTable: record.state === "running" && inTable ? cursor.name : null,
      rowsWritten: record.stats.rowsWritten,
      kvEntriesWritten: cursor.kv?.entries ?? 0,
      bytesWritten: outputs.reduce((sum, o) => sum + o.bytes, 0),
      partsUploaded: outputs.reduce((sum, o) => sum + o.parts, 0),
    },
    outputs,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    updatedAt: record.updatedAt,
    finishedAt: record.finishedAt,
    databaseSize: record.databaseSize,
    manifestKey: record.manifestKey,
    error: record.error,
  };
}

/** The status of an export whose record cannot be read: failed, with `RECORD_UNREADABLE`. */
export function unreadableStatus(job: IndexedJob): DumpStatus {
  return {
    id: job.id,
    state: "failed",
    format: "unknown",
    options: { format: "unknown", schema: false, data: false, gzip: false, gzipLevel: null, kv: false, tables: null, exclude: [], dialect: null },
    progress: { tablesDone: 0, tablesTotal: 0, currentTable: null, rowsWritten: 0, kvEntriesWritten: 0, bytesWritten: 0, partsUploaded: 0 },
    outputs: [],
    createdAt: job.createdAt,
    startedAt: null,
    updatedAt: job.finishedAt ?? job.createdAt,
    finishedAt: job.finishedAt,
    databaseSize: 0,
    manifestKey: null,
    error: {
      code: "RECORD_UNREADABLE",
      message: `The record of job ${job.id} cannot be read (damaged, or written by a newer release of durable-dump); the job was failed. delete() removes it.`,
    },
  };
}
