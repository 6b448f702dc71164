import type { RowPiece } from "../sqlite/row-template.js";
import type { TableInfo } from "../sqlite/schema-types.js";
import { quoteIdentifier, quoteString } from "../util/sql-text.js";
import type { DumpFormatter, FooterContext, FormatContext } from "./formatter.js";

/** Columns an INSERT can name: generated ones are computed by SQLite on restore. */
function insertableColumns(table: TableInfo): string[] {
  return table.columns.filter((c) => !c.generated).map((c) => c.name);
}

function rowTemplate(table: TableInfo, ctx: FormatContext): RowPiece[] | null {
  if (table.content !== "own") return null;
  const columns = insertableColumns(table);
  const names = columns.map(quoteIdentifier);
  // Like `.dump`, rows name no columns when the dump's own CREATE makes VALUES line up with them:
  // ~14% fewer bytes. Data-only dumps name them, as the target table's columns may be in another order.
  const nameColumns = !ctx.schema || table.hiddenRowid !== null || columns.length !== table.columns.length;
  const pieces: RowPiece[] = [];
  // Keep the rowid when it is not a column: FTS5 external content and other references depend on it.
  if (table.hiddenRowid !== null) {
    names.unshift(table.hiddenRowid);
    pieces.push({ expr: `CAST(${table.hiddenRowid} AS TEXT)` });
  }
  for (const column of columns) {
    if (pieces.length > 0) pieces.push(",");
    pieces.push({ column, encoding: "sql" });
  }
  const target = nameColumns ? `${quoteIdentifier(table.name)}(${names.join(",")})` : quoteIdentifier(table.name);
  return [`INSERT INTO ${target} VALUES(`, ...pieces, ");\n"];
}

/** The schema and sequence statements written after all rows. */
function footer(ctx: FooterContext): string {
  let text = "";
  if (ctx.data && ctx.sequences.length > 0) {
    const names = ctx.sequences.map((s) => quoteString(s.name)).join(",");
    text += `DELETE FROM sqlite_sequence WHERE name IN (${names});\n`;
    for (const s of ctx.sequences) text += `INSERT INTO sqlite_sequence(name,seq) VALUES(${quoteString(s.name)},${s.seq});\n`;
  }
  if (ctx.data) {
    // External-content FTS5 tables index rows of another table, restored above.
    for (const t of ctx.tables) {
      if (t.module === "fts5" && t.content === "external") text += `INSERT INTO ${quoteIdentifier(t.name)}(${quoteIdentifier(t.name)}) VALUES('rebuild');\n`;
    }
  }
  if (ctx.schema) {
    for (const o of ctx.schemaObjects) text += `${o.sql};\n`;
  }
  return `${text}COMMIT;\n`;
}

/**
 * The `sqlite3 .dump`-compatible SQL format: one transaction with foreign keys off; each table's
 * CREATE followed by its rows (rowids kept, generated columns left out; columns named only where
 * VALUES would not line up with the CREATE, or with `schema: false`); then `sqlite_sequence`,
 * views, indexes and triggers. Values are exact: 64-bit integers, doubles bit for bit (including
 * -0.0 and ±Infinity), text with NUL bytes (as `CAST(X'..' AS TEXT)`), blobs.
 */
export const sqlFormatter: DumpFormatter = {
  extension: "sql",
  contentType: "application/sql; charset=utf-8",
  objectPerTable: false,
  header: () => "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n",
  tableHeader: (table, ctx) => (ctx.schema ? `${table.createSql};\n` : ""),
  row: (table, ctx) => (ctx.data ? rowTemplate(table, ctx) : null),
  footer,
};
