import { DumpError } from "../errors.js";
import type { DumpFormatter, FormatContext } from "../formats/formatter.js";
import { d1StageName } from "../sqlite/d1-statements.js";
import { SchemaReader, isReservedTable } from "../sqlite/schema-reader.js";
import type { TableInfo } from "../sqlite/schema-types.js";
import { TableReader } from "../sqlite/table-reader.js";

/**
 * Resolves the tables a job exports, in creation order.
 *
 * @throws {DumpError} `UNKNOWN_TABLE` or `RESERVED_TABLE` for a name that is not an exportable table.
 */
export function planTables(sql: SqlStorage, include: string[] | null, exclude: string[]): string[] {
  const schema = new SchemaReader(sql);
  const all = schema.tableNames();
  const known = new Set(all);
  for (const name of [...(include ?? []), ...exclude]) {
    if (known.has(name)) continue;
    if (isReservedTable(name)) {
      throw new DumpError("RESERVED_TABLE", `Table ${JSON.stringify(name)} belongs to SQLite or the platform and is never exported.`);
    }
    throw new DumpError(
      "UNKNOWN_TABLE",
      `No table named ${JSON.stringify(name)}. Pass names from sqlite_master; this database has: ${all.map((n) => JSON.stringify(n)).join(", ") || "no tables"}.`,
    );
  }
  const wanted = include === null ? null : new Set(include);
  const skipped = new Set(exclude);
  return all.filter((name) => (wanted === null || wanted.has(name)) && !skipped.has(name));
}

/** Opens a reader of `table`'s rows for `formatter`'s row template in `ctx`. */
export function openTableReader(sql: SqlStorage, schema: SchemaReader, table: TableInfo, formatter: DumpFormatter, ctx: FormatContext): TableReader {
  const template = formatter.row(table, ctx) ?? [];
  const d1 = template.some((p) => typeof p === "object" && "column" in p && p.encoding === "d1");
  return new TableReader(sql, table, schema.tableKey(table), template, formatter.rowSeparator ?? "", { d1Stage: d1 ? d1StageName(schema.tableNames()) : null });
}

/**
 * Checks, when a job starts, that its tables can be read and written in its format: opens a reader
 * of each table and renders the header and the footer once, so that what they refuse is refused
 * by `start()` rather than by a tick later on.
 *
 * @throws {DumpError} `UNSUPPORTED_TABLE` for a table no query can read, `UNSUPPORTED_SCHEMA` for
 * schema SQL the dialect cannot carry, or whatever the formatter throws.
 */
export function checkTables(
  sql: SqlStorage,
  names: readonly string[],
  formatter: DumpFormatter,
  options: Pick<FormatContext, "dialect" | "schema" | "data">,
): void {
  const schema = new SchemaReader(sql);
  const tables = names.map((name) => schema.table(name)).filter((t): t is TableInfo => t !== null);
  const ctx: FormatContext = { ...options, tables, tableIndex: 0 };
  formatter.header?.(ctx);
  for (const table of tables) if (formatter.row(table, ctx)) openTableReader(sql, schema, table, formatter, ctx).release();
  const exported = new Set(names);
  formatter.footer?.({ ...ctx, schemaObjects: schema.schemaObjects(exported), sequences: schema.sequences(exported, options.dialect === "d1" ? "d1" : "sql") });
}
