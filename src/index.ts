/**
 * durable-dump: resumable, constant-memory exports of a Durable Object's SQLite database to R2,
 * and restores of them back into a Durable Object.
 * Everything public is exported from here, and only from here.
 */
export { DumpEngine } from "./export/dump-engine.js";
export type { DumpEngineOptions, DumpJobOptionsView, DumpOutput, DumpProgress, DumpStatus, GzipOptions, StartOptions } from "./export/types.js";
export type { GzipLevel } from "./output/deflater.js";
export type { JobEngineOptions } from "./jobs/engine-options.js";
export type { DumpState, JobError, JobStatusBase, ListOptions, TickResult } from "./jobs/job-types.js";
export type { DumpStorage, TransactionalStorage } from "./persisted/storage.js";
export { RestoreEngine } from "./restore/restore-engine.js";
export type {
  RestoreEngineOptions,
  RestoreJobOptionsView,
  RestoreProgress,
  RestoreSourceView,
  RestoreStartOptions,
  RestoreStatus,
} from "./restore/types.js";
export { DUMP_ERROR_CODES, DumpError, type DumpErrorCode } from "./errors.js";
export { SIGNATURE_HEADER, type VerifyCallbackOptions, signCallbackBody, verifyCallbackSignature } from "./jobs/callbacks.js";
export { AlarmScheduler, type AlarmSchedulerOptions, type WakeHandler, type WakeRunResult } from "./alarms/scheduler.js";
export type { DumpFormatter, FooterContext, FormatContext, SqlDialect } from "./formats/formatter.js";
export type { RowPiece, ValueEncoding } from "./sqlite/row-template.js";
export type { ColumnInfo, SchemaObject, TableInfo } from "./sqlite/schema-types.js";
export { quoteIdentifier } from "./util/sql-text.js";
export { sqlFormatter } from "./formats/sql.js";
export { csvFormatter } from "./formats/csv.js";
export { jsonFormatter } from "./formats/json.js";
export { ndjsonFormatter } from "./formats/ndjson.js";
export type { DumpManifest, DumpManifestKv, DumpManifestOptions } from "./output/manifest.js";
export { KV_CODEC, type KvDecodeOptions } from "./kv/codec.js";
export { KvFileDecoder, type KvDecoderPosition, type KvEntry } from "./kv/kv-file.js";
export { KvFileReader, type KvReadPosition } from "./kv/kv-restore.js";
export type { KvLister } from "./kv/entry-reader.js";
export { createDumpHandler, type DumpHandlerOptions } from "./http/handler.js";
export type { DumpHttpEngine } from "./http/dump-routes.js";
export type { RestoreHttpEngine } from "./http/restore-routes.js";
export type { DumpHttpErrorCode } from "./http/responses.js";
export { bearerAuth } from "./http/auth.js";
