import { quoteIdentifier } from "../util/sql-text.js";
import { RowByValues } from "./row-by-values.js";
import { uniqueKeyPlan } from "./row-key.js";
import type { ColumnInfo, SchemaObject, TableInfo, TableKey } from "./schema-types.js";
import { valuesKeyPlan } from "./values-key.js";
import { identifiersIn } from "./sql-identifiers.js";

/** Names the engine never exports: SQLite's own tables and the platform's `_cf_*` tables (which hold the engine's state). */
export function isReservedTable(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("sqlite_") || lower.startsWith("_cf_");
}

interface TableListRow extends Record<string, SqlStorageValue> {
  name: string;
  type: string;
  wr: number;
  strict: number;
}

const ROWID_NAMES = ["rowid", "_rowid_", "oid"] as const;

/** Reads table definitions from `sqlite_master` and the schema pragmas. */
export class SchemaReader {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Names of the exportable tables and virtual tables, in creation order (shadow tables left out). */
  tableNames(): string[] {
    const kinds = new Map<string, string>();
    for (const row of this.#sql.exec<TableListRow>("PRAGMA main.table_list")) kinds.set(row.name, row.type);
    const names: string[] = [];
    for (const row of this.#sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")) {
      const kind = kinds.get(row.name);
      if ((kind === "table" || kind === "virtual") && !isReservedTable(row.name)) names.push(row.name);
    }
    return names;
  }

  /** The table's definition, or null when it no longer exists. */
  table(name: string): TableInfo | null {
    const master = this.#sql.exec<{ sql: string | null }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray()[0];
    const listed = this.#sql.exec<TableListRow>("SELECT name, type, wr, strict FROM pragma_table_list(?) WHERE schema = 'main'", name).toArray()[0];
    if (!master?.sql || !listed) return null;
    const kind = listed.type === "virtual" ? "virtual" : "table";
    const all = this.#sql
      .exec<{ name: string; type: string; notnull: number; pk: number; hidden: number }>(
        'SELECT name, type, "notnull", pk, hidden FROM pragma_table_xinfo(?)',
        name,
      )
      .toArray();
    const columns: ColumnInfo[] = all
      .filter((c) => c.hidden !== 1)
      .map((c) => ({ name: c.name, type: c.type, notNull: c.notnull === 1, primaryKey: c.pk, generated: c.hidden === 2 || c.hidden === 3 }));
    const module = kind === "virtual" ? virtualModule(master.sql) : null;
    const withoutRowid = listed.wr === 1;
    return {
      name,
      kind,
      createSql: master.sql,
      columns,
      hiddenRowid:
        kind === "table" && !withoutRowid && this.#rowidAlias(name, columns) === null ? hiddenRowidName(columns) : kind === "virtual" ? "rowid" : null,
      withoutRowid,
      strict: listed.strict === 1,
      module,
      content: contentOf(module, master.sql),
    };
  }

  /**
   * How rows are ordered and found again: by the rowid (or its INTEGER PRIMARY KEY alias) in rowid
   * tables, by the primary key in WITHOUT ROWID tables, and by their values in a rowid table whose
   * rowid no name reaches (values-key.ts).
   */
  tableKey(table: TableInfo): TableKey {
    if (table.withoutRowid) {
      const pk = table.columns
        .filter((c) => c.primaryKey > 0)
        .sort((a, b) => a.primaryKey - b.primaryKey)
        .map((c) => quoteIdentifier(c.name));
      return { plan: uniqueKeyPlan(pk), rowid: null, alias: null };
    }
    if (table.hiddenRowid !== null) return { plan: uniqueKeyPlan([table.hiddenRowid]), rowid: table.hiddenRowid, alias: null };
    const alias = this.#rowidAlias(table.name, table.columns);
    if (alias === null) return { plan: valuesKeyPlan(table.columns.map((c) => quoteIdentifier(c.name))), rowid: null, alias: null };
    const ref = quoteIdentifier(alias);
    return { plan: uniqueKeyPlan([ref]), rowid: ref, alias: ref };
  }

  /**
   * Indexes, views and triggers of the exported tables, in creation order. A view is kept unless
   * its SQL mentions a table that is not exported (or a view left out for that reason); a trigger
   * is kept when its table or view is.
   */
  schemaObjects(exported: ReadonlySet<string>): SchemaObject[] {
    const rows = this.#sql
      .exec<{ type: SchemaObject["type"]; name: string; tbl_name: string; sql: string }>(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'view', 'trigger') AND sql IS NOT NULL ORDER BY rowid",
      )
      .toArray();
    const missing = new Set(
      this.tableNames()
        .filter((n) => !exported.has(n))
        .map((n) => n.toLowerCase()),
    );
    const views = new Set<string>();
    for (const row of rows) {
      if (row.type !== "view" || isReservedTable(row.name)) continue;
      if (identifiersIn(row.sql).some((n) => missing.has(n))) missing.add(row.name.toLowerCase());
      else views.add(row.name);
    }
    const byType: Record<SchemaObject["type"], SchemaObject[]> = { view: [], index: [], trigger: [] };
    for (const row of rows) {
      if (isReservedTable(row.tbl_name) || isReservedTable(row.name)) continue;
      const keep = row.type === "view" ? views.has(row.name) : exported.has(row.tbl_name) || views.has(row.tbl_name);
      if (keep) byType[row.type].push({ type: row.type, name: row.name, tableName: row.tbl_name, sql: row.sql });
    }
    // Views first (triggers may be INSTEAD OF a view), triggers last so they do not fire on restore.
    return [...byType.view, ...byType.index, ...byType.trigger];
  }

  /**
   * `sqlite_sequence` rows of the given tables, `seq` as an SQL literal of its stored value in
   * `encoding`: the digits of an integer, but a program may write any value there.
   */
  sequences(tables: ReadonlySet<string>, encoding: "sql" | "d1"): { name: string; seq: string }[] {
    const exists = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").toArray().length > 0;
    if (!exists) return [];
    const rows = this.#sql
      .exec<{ id: number; name: SqlStorageValue }>("SELECT rowid AS id, name FROM sqlite_sequence ORDER BY rowid")
      .toArray()
      .filter((s): s is { id: number; name: string } => typeof s.name === "string" && tables.has(s.name));
    const seq = new RowByValues(this.#sql, "sqlite_sequence", [{ kind: "column", ref: "seq", encoding }], {
      reserveColumns: 0,
      reserveBytes: 64,
      d1Stage: null,
    });
    return rows.map((s) => ({ name: s.name, seq: seq.render({ where: " WHERE rowid = ?", bindings: [s.id] }) }));
  }

  /** Name of the INTEGER PRIMARY KEY column that aliases the rowid, if any. */
  #rowidAlias(name: string, columns: ColumnInfo[]): string | null {
    const pk = columns.filter((c) => c.primaryKey > 0);
    if (pk.length !== 1 || pk[0]!.type.toUpperCase() !== "INTEGER") return null;
    // A separate primary-key index means the column is not an alias (e.g. INTEGER PRIMARY KEY DESC).
    const pkIndex = this.#sql.exec("SELECT 1 FROM pragma_index_list(?) WHERE origin = 'pk'", name).toArray().length > 0;
    return pkIndex ? null : pk[0]!.name;
  }
}

/** The first of rowid, _rowid_ and oid that no column shadows; null when columns take all three. */
function hiddenRowidName(columns: ColumnInfo[]): string | null {
  const taken = new Set(columns.map((c) => c.name.toLowerCase()));
  return ROWID_NAMES.find((n) => !taken.has(n)) ?? null;
}

/** Module name of a CREATE VIRTUAL TABLE statement, lower-cased. */
function virtualModule(createSql: string): string | null {
  const match = /\bUSING\s+([A-Za-z0-9_]+)/i.exec(createSql);
  return match ? match[1]!.toLowerCase() : null;
}

function contentOf(module: string | null, createSql: string): TableInfo["content"] {
  if (module === "fts5vocab") return "none";
  if (module !== "fts5") return "own";
  const option = /\bcontent\s*=\s*(?:'((?:[^']|'')*)'|"((?:[^"]|"")*)"|([^\s,)]+))/i.exec(createSql);
  if (!option) return "own";
  const value = option[1] ?? option[2] ?? option[3] ?? "";
  return value === "" ? "none" : "external";
}
