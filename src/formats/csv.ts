import type { RowPiece } from "../sqlite/row-template.js";
import type { TableInfo } from "../sqlite/schema-types.js";
import type { DumpFormatter } from "./formatter.js";

/** A CSV field that is always quoted, with quotes doubled (RFC 4180). */
function quotedField(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** Header row: the column names, quoted, ending with CRLF. */
function headerRow(table: TableInfo): string {
  return `${table.columns.map((c) => quotedField(c.name)).join(",")}\r\n`;
}

function rowTemplate(table: TableInfo): RowPiece[] | null {
  if (table.content !== "own" || table.columns.length === 0) return null;
  const pieces: RowPiece[] = [];
  table.columns.forEach((column, i) => {
    if (i > 0) pieces.push(",");
    pieces.push({ column: column.name, encoding: "csv" });
  });
  pieces.push("\r\n");
  return pieces;
}

/**
 * RFC 4180 CSV, one object per table: a header row of quoted column names, then one record per
 * row, every line ending with CRLF. Fields: NULL is an empty unquoted field; text is always
 * quoted (so `""` is the empty string, and quotes, commas, CR and LF inside survive); integers
 * are exact digits; doubles are round-trip literals (`-0.0`, `9.0e+999` for Infinity); blobs are
 * unquoted base64 (an empty blob is an empty unquoted field, like NULL). Types are recovered from
 * the declared column types in the job's manifest.
 */
export const csvFormatter: DumpFormatter = {
  extension: "csv",
  contentType: "text/csv; charset=utf-8; header=present",
  objectPerTable: true,
  tableHeader: (table) => headerRow(table),
  row: (table, ctx) => (ctx.data ? rowTemplate(table) : null),
};
