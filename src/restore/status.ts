import type { IndexedJob } from "../persisted/job-store.js";
import type { RestoreRecord } from "../persisted/restore-record.js";
import type { RestoreStatus } from "./types.js";

/** The public view of a restore record. */
export function toStatus(record: RestoreRecord): RestoreStatus {
  const source = record.sources[record.cursor.source] ?? record.sources[0]!;
  const { tables, exclude, schema, data, replace } = record.options;
  const stats = record.stats;
  return {
    id: record.id,
    state: record.state,
    options: { key: source.key, manifestKey: source.manifestKey, tables, exclude, schema, data, replace },
    source: { key: source.key, bytes: source.size, etag: source.etag, gzip: source.encoding !== "plain", manifestKey: source.manifestKey },
    progress: {
      bytesRead: record.cursor.phase === "finish" || record.state === "completed" ? source.size : record.cursor.consumed,
      bytesTotal: source.size,
      offset: record.cursor.offset,
      statements: stats.statements,
      skipped: stats.skipped,
      rowsWritten: stats.rows,
      tablesCreated: stats.tablesCreated,
      currentTable: record.state === "running" ? stats.currentTable : null,
      phase: record.cursor.phase,
    },
    foreignKeyViolations: record.state === "completed" ? record.foreignKeyViolations : null,
    failedStatement: record.failure,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    updatedAt: record.updatedAt,
    finishedAt: record.finishedAt,
    error: record.error,
  };
}

/** The status of a restore whose record cannot be read: failed, with `RECORD_UNREADABLE`. */
export function unreadableStatus(job: IndexedJob): RestoreStatus {
  return {
    id: job.id,
    state: "failed",
    options: { key: "", manifestKey: null, tables: null, exclude: [], schema: false, data: false, replace: false },
    source: { key: "", bytes: 0, etag: "", gzip: false, manifestKey: null },
    progress: { bytesRead: 0, bytesTotal: 0, offset: 0, statements: 0, skipped: 0, rowsWritten: 0, tablesCreated: 0, currentTable: null, phase: "prepare" },
    foreignKeyViolations: null,
    failedStatement: null,
    createdAt: job.createdAt,
    startedAt: null,
    updatedAt: job.finishedAt ?? job.createdAt,
    finishedAt: job.finishedAt,
    error: {
      code: "RECORD_UNREADABLE",
      message: `The record of restore ${job.id} cannot be read (damaged, or written by another release of durable-dump); the job was failed.`,
    },
  };
}
