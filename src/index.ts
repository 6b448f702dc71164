export { DumpEngine } from "./engine.js";
export { DumpError, type DumpErrorCode } from "./errors.js";
export { SIGNATURE_HEADER, sign as signCallbackBody } from "./callbacks.js";
export { AlarmScheduler, WAKE_PREFIX, type AlarmSchedulerOptions, type WakeHandler, type WakeRunResult } from "./scheduler.js";
export {
  quoteIdentifier,
  type ColumnInfo,
  type DumpFormatter,
  type FooterContext,
  type FormatContext,
  type RowPiece,
  type SchemaObject,
  type TableInfo,
  type ValueEncoding,
} from "./formatters/formatter.js";
export { sqlFormatter } from "./formatters/sql.js";
export { csvFormatter } from "./formatters/csv.js";
export { jsonFormatter } from "./formatters/json.js";
export { ndjsonFormatter } from "./formatters/ndjson.js";
export type { DumpManifest } from "./manifest.js";
export { createDumpHandler, type DumpHandlerOptions, type DumpHttpEngine, type DumpHttpErrorCode } from "./http-handler.js";
export { bearerAuth } from "./http-auth.js";
export type {
  DumpEngineOptions,
  DumpOutput,
  DumpProgress,
  DumpState,
  DumpStatus,
  DumpStorage,
  StartOptions,
  TickResult,
} from "./types.js";
