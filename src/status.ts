import type { JobRecord } from "./job-store.js";
import type { DumpOutput, DumpStatus } from "./types.js";

/** The public view of a job record. */
export function toStatus(record: JobRecord): DumpStatus {
  const outputs: DumpOutput[] = record.outputs.map((o) => ({
    key: o.key,
    ...(o.table === null ? {} : { table: o.table }),
    bytes: o.bytes,
    parts: o.parts.length,
    complete: true,
  }));
  if (record.upload) {
    const u = record.upload;
    outputs.push({
      key: u.key,
      ...(u.table === null ? {} : { table: u.table }),
      bytes: u.parts.reduce((sum, p) => sum + p.size, 0) + u.tailLength,
      parts: u.parts.length,
      complete: false,
    });
  }
  const cursor = record.cursor;
  const inTable = cursor.step === "tableHeader" || cursor.step === "rows" || cursor.step === "tableFooter";
  return {
    id: record.id,
    state: record.state,
    format: record.format,
    options: { format: record.format, ...record.options },
    progress: {
      tablesDone: record.stats.tablesDone,
      tablesTotal: record.tables.length,
      currentTable: record.state === "running" && inTable ? (record.tables[cursor.table] ?? null) : null,
      rowsWritten: record.stats.rowsWritten,
      bytesWritten: outputs.reduce((sum, o) => sum + o.bytes, 0),
      partsUploaded: outputs.reduce((sum, o) => sum + o.parts, 0),
    },
    outputs,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    updatedAt: record.updatedAt,
    finishedAt: record.finishedAt,
    databaseSize: record.databaseSize,
    manifestKey: record.manifestKey ?? null,
    error: record.error,
  };
}
