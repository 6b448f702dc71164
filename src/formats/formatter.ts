import type { RowPiece } from "../sqlite/row-template.js";
import type { SchemaObject, TableInfo } from "../sqlite/schema-types.js";

/**
 * The SQL a `sql` dump is written for: `"sqlite3"` (the sqlite3 CLI, `.dump` style, in one
 * transaction) or `"d1"` (`wrangler d1 execute --file`: no transaction, every table created
 * before any row, statements of at most 100,000 bytes). See README, "SQL dialects".
 */
export type SqlDialect = "sqlite3" | "d1";

/** What a formatter knows about the job while it writes headers and footers. */
export interface FormatContext {
  /** The dialect the job was started with (`start({ dialect })`, `"sqlite3"` by default); formats other than SQL ignore it. */
  dialect: SqlDialect;
  /** Whether the job writes the schema (CREATE statements). */
  schema: boolean;
  /** Whether the job writes rows. */
  data: boolean;
  /** Every table of the job, in export order. */
  tables: readonly TableInfo[];
  /**
   * Tables of the current object whose header was written before this call: 0 in the first
   * table's `tableHeader` (so a format knows when to write a separator between tables).
   */
  tableIndex: number;
}

/** Extra facts the engine reads just before the job's footer is written. */
export interface FooterContext extends FormatContext {
  /** Indexes, views and triggers that belong to the exported tables, in creation order. */
  schemaObjects: readonly SchemaObject[];
  /**
   * `sqlite_sequence` rows of the exported tables. `seq` is the stored value as an SQL literal of
   * its own type, exactly, in the job's dialect: the digits of an integer (what SQLite writes
   * there); a program may have written any value (`'text'`, `X'…'`, `-0.0`, …).
   */
  sequences: readonly { name: string; seq: string }[];
}

/**
 * Turns tables into bytes. The engine calls the text hooks in this order: `header`, then for each
 * table `tableHeader`, one rendering of `row` per row with `rowSeparator` between rows, and
 * `tableFooter`; finally `footer`. Hooks must be pure functions of their arguments: the engine may
 * call them again after a crash and expects the same text, and they must keep no state of their
 * own between calls (whatever a format needs, such as "is this the first row", the engine
 * provides). Row values are rendered inside SQLite from the `row` template, so exactness and
 * large values are the engine's job, not the formatter's.
 *
 * @example A flavour of SQL dump that upserts:
 * const upsert: DumpFormatter = {
 *   extension: "sql", contentType: "application/sql", objectPerTable: false,
 *   row: (t) => [`INSERT OR REPLACE INTO ${quoteIdentifier(t.name)} VALUES(`,
 *     ...t.columns.flatMap((c, i) => [i ? "," : "", { column: c.name, encoding: "sql" as const }]), ");\n"],
 * };
 */
export interface DumpFormatter {
  /** File extension of the objects, without the dot. */
  readonly extension: string;
  /** Content-Type set on the objects. */
  readonly contentType: string;
  /** True for one object per table (named `<table>.<extension>` under the job's key), false for one per job. */
  readonly objectPerTable: boolean;
  /** Text at the start of each object. */
  header?(ctx: FormatContext): string;
  /** Text before the rows of a table. */
  tableHeader?(table: TableInfo, ctx: FormatContext): string;
  /** Template of one row, computed once per table; null to write no rows for this table. */
  row(table: TableInfo, ctx: FormatContext): RowPiece[] | null;
  /** Text between two rows of one table. Default "". */
  readonly rowSeparator?: string;
  /** Text after the rows of a table. */
  tableFooter?(table: TableInfo, ctx: FormatContext): string;
  /** Text at the end of each object. For one object per job, it gets the schema objects too. */
  footer?(ctx: FooterContext): string;
}
