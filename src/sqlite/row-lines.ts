import { quoteIdentifier, quoteString } from "../util/sql-text.js";
import { d1RowBudget, d1RowBytesExpr } from "./d1-statements.js";
import { BLOB_MARK_CHAR } from "./marked-blobs.js";
import type { Piece } from "./row-template.js";
import type { TableInfo, TableKey } from "./schema-types.js";
import {
  INLINE_ROW_BYTES,
  type SqlTextCheck,
  anyBlobExpr,
  blobFraming,
  encodeValue,
  isSqlEncoding,
  rendersBlobsInSql,
  rowBytesExpr,
} from "./value-encoders.js";

/** The SQL expressions that render one row of a template inside SQLite, for a table reader. */
export interface RowLines {
  /** The row's line, or NULL when the row must be rendered in JavaScript (too large, or blobs needing it). */
  deferred: string;
  /**
   * The row's line for concatenated batches, without the row-size guard of {@link deferred} (~12%
   * of the render): a row too large for SQLite fails the query (SQLITE_TOOBIG), and the batch is
   * then read row by row, which keeps the guard. SQL-encoded text is checked for NUL only; a batch
   * that shows a CR is read again with {@link carefulConcat}. A d1 row keeps its guard: its limit
   * (100,000 bytes a statement) is far below SQLite's.
   */
  concat: string;
  /** {@link concat} checking SQL-encoded text for CR as well; null when no value is SQL-encoded. */
  carefulConcat: string | null;
  /**
   * SQL counting the row's blobs that the line carries as marked hex; null when it carries none, or
   * when the marks need no counting because no text can hold one.
   */
  blobCount: string | null;
  /** How marked blobs are framed once turned into base64; null when the line carries none. */
  blobFraming: { open: string; close: string } | null;
}

/**
 * The line expressions of `pieces` (a row template, columns quoted) for `table`, keyed by `key`,
 * rows separated by `separator`; `d1` when a template of the d1 encoding is cut into D1 statements.
 */
export function rowLines(table: TableInfo, key: TableKey, pieces: readonly Piece[], separator: string, d1: boolean): RowLines {
  // The INTEGER PRIMARY KEY that aliases the rowid always holds an integer: it is rendered without
  // the per-type CASE, and never counts in the row's size or blobs (bench: ~5% of the SQL render).
  const intKey = key.alias ?? undefined;
  const refs = table.columns.map((c) => quoteIdentifier(c.name)).filter((r) => r !== intKey);
  // Blobs that need base64 (JSON, CSV) come out of SQLite as hex between two U+0001 marks and are
  // turned into base64 in JavaScript (see marked-blobs.ts), when every such column uses one encoding.
  const jsBlobs = pieces.filter((p): p is Extract<Piece, { kind: "column" }> => p.kind === "column" && !rendersBlobsInSql(p.encoding));
  const markBlobs = jsBlobs.length > 0 && jsBlobs.every((p) => p.encoding === jsBlobs[0]!.encoding);
  const value = (p: Extract<Piece, { kind: "column" }>, textCheck: SqlTextCheck) =>
    p.ref === intKey
      ? `CAST(${p.ref} AS TEXT)`
      : `(${encodeValue(p.ref, p.encoding, markBlobs && !rendersBlobsInSql(p.encoding) ? `char(1) || hex(${p.ref}) || char(1)` : undefined, textCheck)})`;
  const lineFor = (textCheck: SqlTextCheck) =>
    pieces.map((p) => (p.kind === "text" ? quoteString(p.text) : p.kind === "column" ? value(p, textCheck) : `(${p.sql})`)).join(" || ") || "''";
  // In JSON, text cannot hold a mark (json_quote writes U+0001 as \u0001): when the rest of the
  // template and the row separator are literal text without one, every mark is a blob's, and
  // counting blobs per row in SQL (a typeof per column, ~5% of NDJSON) is not needed.
  const marksAreBlobs =
    markBlobs &&
    !separator.includes(BLOB_MARK_CHAR) &&
    pieces.every((p) => (p.kind === "text" ? !p.text.includes(BLOB_MARK_CHAR) : p.kind === "column" && p.encoding === "json"));
  const blobCount =
    markBlobs && !marksAreBlobs
      ? jsBlobs
          .filter((p) => p.ref !== intKey)
          .map((p) => `((${p.ref} >= x'') IS TRUE)`)
          .join(" + ") || "0"
      : null;
  const noJsBlobs = jsBlobs.length > 0 && !markBlobs ? `NOT (${anyBlobExpr(refs)})` : null;
  const line = lineFor("nul-and-cr");
  // A d1 row goes to JavaScript when a value needs pieces or the statement could pass D1's limit.
  const d1Fits = d1 && pieces.some((p) => p.kind === "column" && p.encoding === "d1") ? `(${d1RowBytesExpr(refs)}) <= ${d1RowBudget(pieces)}` : null;
  const guards = [noJsBlobs, d1Fits].filter((g) => g !== null).join(" AND ");
  const concatLine = (l: string) => (guards ? `CASE WHEN ${guards} THEN ${l} END` : l);
  const sqlEncoded = pieces.some((p) => p.kind === "column" && isSqlEncoding(p.encoding) && p.ref !== intKey);
  const framing = markBlobs ? blobFraming(jsBlobs[0]!.encoding) : null;
  return {
    deferred: `CASE WHEN ${d1Fits ?? `(${rowBytesExpr(refs)}) <= ${INLINE_ROW_BYTES}`}${noJsBlobs ? ` AND ${noJsBlobs}` : ""} THEN ${line} END`,
    concat: concatLine(sqlEncoded ? lineFor("nul") : line),
    carefulConcat: sqlEncoded ? concatLine(line) : null,
    blobCount,
    blobFraming: framing && { open: framing.open, close: framing.close },
  };
}
