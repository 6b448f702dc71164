import type { RowPiece } from "../sqlite/row-template.js";
import type { TableInfo } from "../sqlite/schema-types.js";

/**
 * Row template of one JSON object keyed by column name, in declaration order (generated columns
 * included, as `SELECT *` shows them). Values use the engine's "json" encoding. Null for tables
 * whose rows live elsewhere (external-content or contentless FTS5).
 */
export function jsonObjectRow(table: TableInfo): RowPiece[] | null {
  if (table.content !== "own") return null;
  const pieces: RowPiece[] = [];
  table.columns.forEach((column, i) => {
    pieces.push(`${i === 0 ? "{" : ","}${JSON.stringify(column.name)}:`, { column: column.name, encoding: "json" });
  });
  pieces.push(table.columns.length === 0 ? "{}" : "}");
  return pieces;
}
