import { DumpError } from "../errors.js";
import { SchemaReader, isReservedTable } from "../sqlite/schema-reader.js";

/**
 * Resolves the tables a job exports, in creation order, and checks that each can be read.
 *
 * @throws {DumpError} `UNKNOWN_TABLE` or `RESERVED_TABLE` for a name that is not an exportable table,
 * `UNSUPPORTED_TABLE` for a table whose rows cannot be addressed.
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
  const tables = all.filter((name) => (wanted === null || wanted.has(name)) && !skipped.has(name));
  for (const name of tables) {
    const table = schema.table(name);
    if (table && table.content === "own") schema.keyColumns(table);
  }
  return tables;
}
