import type { IndexedJob } from "../persisted/job-store.js";
import type { RestoreRecord, RestoreSource } from "../persisted/restore-record.js";
import type { RestoreSourceView, RestoreStatus } from "./types.js";

function sourceView(source: RestoreSource): RestoreSourceView {
  return { kind: source.kind, key: source.key, bytes: source.size, etag: source.etag, gzip: source.encoding !== "plain", manifestKey: source.manifestKey };
}

/** The public view of a restore record. */
export function toStatus(record: RestoreRecord): RestoreStatus {
  const { cursor, sources, stats } = record;
  const source = sources[cursor.source] ?? sources[0]!;
  const { key, tables, exclude, schema, data, kv, replace } = record.options;
  const bytesTotal = sources.reduce((sum, s) => sum + s.size, 0);
  const done = cursor.phase === "finish" || record.state === "completed";
  const bytesBefore = sources.slice(0, cursor.source).reduce((sum, s) => sum + s.size, 0);
  return {
    id: record.id,
    state: record.state,
    options: { key, manifestKey: sources[0]!.manifestKey, tables, exclude, schema, data, kv, replace },
    source: sourceView(source),
    sources: sources.map(sourceView),
    progress: {
      bytesRead: done ? bytesTotal : bytesBefore + cursor.consumed,
      bytesTotal,
      offset: cursor.offset,
      statements: stats.statements,
      skipped: stats.skipped,
      rowsWritten: stats.rows,
      tablesCreated: stats.tablesCreated,
      currentTable: record.state === "running" ? stats.currentTable : null,
      kvEntriesRestored: stats.kvEntries,
      kvEntriesTotal: sources.find((s) => s.kind === "kv")?.entries ?? null,
      phase: cursor.phase,
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
  const source: RestoreSourceView = { kind: "sql", key: "", bytes: 0, etag: "", gzip: false, manifestKey: null };
  return {
    id: job.id,
    state: "failed",
    options: { key: "", manifestKey: null, tables: null, exclude: [], schema: false, data: false, kv: false, replace: false },
    source,
    sources: [],
    progress: {
      bytesRead: 0,
      bytesTotal: 0,
      offset: 0,
      statements: 0,
      skipped: 0,
      rowsWritten: 0,
      tablesCreated: 0,
      currentTable: null,
      kvEntriesRestored: 0,
      kvEntriesTotal: null,
      phase: "prepare",
    },
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
