export { DumpEngine } from "./engine.js";
export { DumpError, type DumpErrorCode } from "./errors.js";
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
