import { DumpError } from "../errors.js";
import { D1_STATEMENT_BYTES, TRANSACTION_TEXT } from "../sqlite/d1-statements.js";
import type { RowPiece } from "../sqlite/row-template.js";
import type { TableInfo } from "../sqlite/schema-types.js";
import { utf8Length } from "../util/bytes.js";
import { endStatement } from "../util/sql-scan.js";
import { quoteIdentifier, quoteString } from "../util/sql-text.js";
import { d1SchemaStatement } from "./d1-schema.js";
import type { DumpFormatter, FooterContext, FormatContext } from "./formatter.js";

/** Columns an INSERT can name: generated ones are computed by SQLite on restore. */
function insertableColumns(table: TableInfo): string[] {
  return table.columns.filter((c) => !c.generated).map((c) => c.name);
}

function rowTemplate(table: TableInfo, ctx: FormatContext): RowPiece[] | null {
  if (table.content !== "own") return null;
  const encoding = ctx.dialect === "d1" ? "d1" : "sql";
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
    pieces.push({ column, encoding });
  }
  const target = nameColumns ? `${quoteIdentifier(table.name)}(${names.join(",")})` : quoteIdentifier(table.name);
  return [`INSERT INTO ${target} VALUES(`, ...pieces, ");\n"];
}

/** A schema statement (from `sqlite_master`) ended for the dialect; `what` names it in errors. */
function schemaStatement(sql: string, what: string, ctx: FormatContext): string {
  return ctx.dialect === "d1" ? d1SchemaStatement(sql, what) : endStatement(sql);
}

/**
 * The d1 header: foreign keys deferred to the end (D1 enforces them and ignores
 * `foreign_keys=OFF`), then every table, so that no row meets a table created later.
 *
 * @throws {DumpError} `UNSUPPORTED_SCHEMA` for a table D1 cannot take (see d1SchemaStatement; without
 * the schema, a name holding `BEGIN TRANSACTION`), or whose INSERT would pass D1's statement limit
 * with every value staged (column names of ~100 KB).
 */
function d1Header(ctx: FormatContext): string {
  let text = "PRAGMA defer_foreign_keys=TRUE;\n";
  for (const table of ctx.tables) {
    if (ctx.schema) text += d1SchemaStatement(table.createSql, `Table ${table.name}`);
    // Without the schema, its names still appear in the INSERTs.
    else if ([table.name, ...table.columns.map((c) => c.name)].some((n) => n.includes(TRANSACTION_TEXT))) {
      throw new DumpError("UNSUPPORTED_SCHEMA", `Table ${table.name} cannot be imported into D1: a name holds the text ${TRANSACTION_TEXT}.`);
    }
    const row = ctx.data ? rowTemplate(table, ctx) : null;
    // A staged value is written `(SELECT v FROM "_durable_dump_stage" WHERE k = n)`: under 64 bytes.
    const least = row?.reduce<number>((sum, p) => sum + (typeof p === "string" ? utf8Length(p) : 64), 0) ?? 0;
    if (least > D1_STATEMENT_BYTES) {
      throw new DumpError(
        "UNSUPPORTED_SCHEMA",
        `Table ${table.name} cannot be imported into D1: its INSERT statements would pass ${D1_STATEMENT_BYTES} bytes.`,
      );
    }
  }
  return text;
}

/** `sqlite_sequence` rows of the exported tables, as SQL; one DELETE per table in d1, whose statements are bounded. */
function sequenceStatements(ctx: FooterContext): string {
  if (!ctx.data || ctx.sequences.length === 0) return "";
  const names = ctx.sequences.map((s) => quoteString(s.name));
  let text =
    ctx.dialect === "d1"
      ? names.map((n) => `DELETE FROM sqlite_sequence WHERE name = ${n};\n`).join("")
      : `DELETE FROM sqlite_sequence WHERE name IN (${names.join(",")});\n`;
  for (const [i, s] of ctx.sequences.entries()) {
    const statement = `INSERT INTO sqlite_sequence(name,seq) VALUES(${names[i]},${s.seq});\n`;
    if (ctx.dialect === "d1" && utf8Length(statement) > D1_STATEMENT_BYTES) {
      throw new DumpError(
        "UNSUPPORTED_SCHEMA",
        `The sqlite_sequence value of table ${s.name} cannot be imported into D1: it takes more than ${D1_STATEMENT_BYTES} bytes.`,
      );
    }
    text += statement;
  }
  return text;
}

/** The statements written after all rows: sequences, FTS5 rebuilds, then views, indexes and triggers. */
function footer(ctx: FooterContext): string {
  let text = sequenceStatements(ctx);
  if (ctx.data) {
    // External-content FTS5 tables index rows of another table, restored above.
    for (const t of ctx.tables) {
      if (t.module === "fts5" && t.content === "external") text += `INSERT INTO ${quoteIdentifier(t.name)}(${quoteIdentifier(t.name)}) VALUES('rebuild');\n`;
    }
  }
  if (ctx.schema) {
    for (const o of ctx.schemaObjects) text += schemaStatement(o.sql, `The ${o.type} ${o.name}`, ctx);
  }
  return ctx.dialect === "d1" ? text : `${text}COMMIT;\n`;
}

/**
 * The SQL format. In the `sqlite3` dialect (the default), `sqlite3 .dump`-compatible: one
 * transaction with foreign keys off; each table's CREATE followed by its rows. In the `d1`
 * dialect, for `wrangler d1 execute --file`: no transaction, foreign keys deferred, every CREATE
 * TABLE first, statements of at most 100,000 bytes. Either way rows keep hidden rowids, leave
 * generated columns out and name columns only where VALUES would not line up with the CREATE (or
 * with `schema: false`); then `sqlite_sequence`, views, indexes and triggers. Values are exact:
 * 64-bit integers, doubles bit for bit (including -0.0 and ±Infinity), text with NUL bytes (as
 * `CAST(X'..' AS TEXT)`), blobs.
 */
export const sqlFormatter: DumpFormatter = {
  extension: "sql",
  contentType: "application/sql; charset=utf-8",
  objectPerTable: false,
  header: (ctx) => (ctx.dialect === "d1" ? d1Header(ctx) : "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"),
  tableHeader: (table, ctx) => (ctx.schema && ctx.dialect === "sqlite3" ? schemaStatement(table.createSql, `Table ${table.name}`, ctx) : ""),
  row: (table, ctx) => (ctx.data ? rowTemplate(table, ctx) : null),
  footer,
};
