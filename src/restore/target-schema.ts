/**
 * What the restore needs to know of the database it writes into: its virtual tables and their
 * shadow tables, whether a table exists, which objects a `replace` drops. Read on demand and
 * cached until a statement changes the schema.
 */
import { isReservedTable } from "../sqlite/schema-reader.js";

/** A virtual table of the target database. */
export interface VirtualTable {
  name: string;
  /** Its module in lower case: `fts5`, `rtree`, … */
  module: string;
}

/** A table or view of the target database that a restore may drop or would collide with. */
export interface UserObject {
  type: "table" | "view";
  name: string;
}

/** SQLite folds ASCII letters only when it compares names. */
export function foldName(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** The tables (and views) a restore is about: all but `exclude`, or only `tables`. */
export class Scope {
  readonly #tables: Set<string> | null;
  readonly #exclude: Set<string>;

  constructor(tables: readonly string[] | null, exclude: readonly string[]) {
    this.#tables = tables === null ? null : new Set(tables.map(foldName));
    this.#exclude = new Set(exclude.map(foldName));
  }

  includes(name: string): boolean {
    const folded = foldName(name);
    return (this.#tables === null || this.#tables.has(folded)) && !this.#exclude.has(folded);
  }
}

export class TargetSchema {
  readonly #sql: SqlStorage;
  #virtual: Map<string, VirtualTable> | null = null;
  #foreignKeys: boolean | null = null;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Drops what is cached: a statement changed the schema. */
  changed(): void {
    this.#virtual = null;
    this.#foreignKeys = null;
  }

  /** The virtual table `name`, or null. */
  virtualTable(name: string): VirtualTable | null {
    return this.#virtualTables().get(foldName(name)) ?? null;
  }

  /** The virtual table whose shadow table `name` is, and the shadow's suffix (`content`, `data`, …); null when it is none. */
  shadowOf(name: string): { table: VirtualTable; suffix: string } | null {
    const folded = foldName(name);
    for (const [key, table] of this.#virtualTables()) {
      if (!folded.startsWith(key + "_")) continue;
      const listed = this.#sql.exec<{ type: string }>("SELECT type FROM pragma_table_list(?) WHERE schema = 'main'", name).toArray()[0];
      if (listed?.type === "shadow") return { table, suffix: folded.slice(key.length + 1) };
    }
    return null;
  }

  /** Whether a table (of any kind) named `name` exists. */
  hasTable(name: string): boolean {
    return this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE", name).toArray().length > 0;
  }

  /** The columns of table `name` (hidden ones left out), in order. */
  columns(name: string): string[] {
    return this.#sql
      .exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", name)
      .toArray()
      .map((c) => c.name);
  }

  /** The user's tables and views, in creation order: no `sqlite_*`, no `_cf_*`, no shadow tables of virtual tables. */
  userObjects(): UserObject[] {
    const shadows = new Set(
      this.#sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")
        .toArray()
        .map((r) => r.name),
    );
    return this.#sql
      .exec<{ type: "table" | "view"; name: string }>("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY rowid")
      .toArray()
      .filter((o) => !isReservedTable(o.name) && !shadows.has(o.name));
  }

  /** The triggers of the tables for which `include` holds, in creation order. */
  triggers(include: (table: string) => boolean): { name: string; sql: string }[] {
    return this.#sql
      .exec<{ name: string; tbl_name: string; sql: string }>("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")
      .toArray()
      .filter((t) => include(t.tbl_name))
      .map(({ name, sql }) => ({ name, sql }));
  }

  /** Creates again those of `triggers` that do not exist (idempotent). */
  createTriggers(triggers: readonly { name: string; sql: string }[]): void {
    for (const t of triggers) {
      if (this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", t.name).toArray().length === 0) this.#sql.exec(t.sql);
    }
  }

  /** Whether any table declares a foreign key. */
  hasForeignKeys(): boolean {
    this.#foreignKeys ??=
      this.#sql
        .exec(
          `SELECT 1 FROM sqlite_master m, pragma_foreign_key_list(m.name) f
           WHERE m.type = 'table' AND m.name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' LIMIT 1`,
        )
        .toArray().length > 0;
    return this.#foreignKeys;
  }

  /** The first table after `after` (in name order) that declares a foreign key, or null. */
  nextTableWithForeignKeys(after: string | null): string | null {
    const row = this.#sql
      .exec<{ name: string }>(
        `SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND m.name > ? AND m.name NOT LIKE '\\_cf\\_%' ESCAPE '\\'
         AND EXISTS (SELECT 1 FROM pragma_foreign_key_list(m.name)) ORDER BY m.name LIMIT 1`,
        after ?? "",
      )
      .toArray()[0];
    return row?.name ?? null;
  }

  /** Rows of table `name` whose foreign keys point at no row (`PRAGMA foreign_key_check`). */
  foreignKeyViolations(name: string): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM pragma_foreign_key_check(?)", name).one().n;
  }

  #virtualTables(): Map<string, VirtualTable> {
    if (this.#virtual) return this.#virtual;
    const map = new Map<string, VirtualTable>();
    for (const row of this.#sql.exec<{ name: string; sql: string }>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'",
    )) {
      const module = /\bUSING\s+("?)(\w+)\1/i.exec(row.sql)?.[2]?.toLowerCase() ?? "";
      map.set(foldName(row.name), { name: row.name, module });
    }
    this.#virtual = map;
    return map;
  }
}
