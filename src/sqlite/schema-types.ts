/** How the library describes a database's schema: tables, their columns, and the objects around them. */
import type { KeyPlan } from "./row-key.js";

/** A column of a table, from `PRAGMA table_xinfo`. */
export interface ColumnInfo {
  name: string;
  /** Declared type, as written (may be ""). */
  type: string;
  notNull: boolean;
  /** 1-based position in the primary key, 0 when not part of it. */
  primaryKey: number;
  /** Generated (VIRTUAL or STORED) columns cannot be inserted into. */
  generated: boolean;
}

/** A table as the engine reads it and formatters see it. */
export interface TableInfo {
  name: string;
  /** "table" for ordinary tables, "virtual" for FTS5, R-Tree and other virtual tables. */
  kind: "table" | "virtual";
  /** The CREATE statement from `sqlite_master`. */
  createSql: string;
  /** Visible columns in declaration order (hidden columns of virtual tables are left out). */
  columns: ColumnInfo[];
  /**
   * Expression naming the rowid when it is not an ordinary column (a rowid table without an
   * INTEGER PRIMARY KEY): `rowid`, `_rowid_` or `oid`, whichever no column shadows. Null otherwise,
   * also when columns shadow all three: such a table's rows are exported without their rowid.
   */
  hiddenRowid: string | null;
  withoutRowid: boolean;
  strict: boolean;
  /** Module of a virtual table (`"fts5"`, `"rtree"`, ...), null for ordinary tables. */
  module: string | null;
  /**
   * Where the rows live: "own" (read from this table), "external" (an external-content FTS5 index
   * of another table, rebuilt from it), or "none" (contentless FTS5, fts5vocab: nothing to read).
   */
  content: "own" | "external" | "none";
}

/** A schema object written after the data: index, view or trigger. */
export interface SchemaObject {
  type: "index" | "view" | "trigger";
  name: string;
  tableName: string;
  sql: string;
}

/** How the engine reads a table's rows in order and finds one again (row-key.ts). */
export interface TableKey {
  plan: KeyPlan;
  /** The rowid, when rows are keyed by it alone: batches may then be concatenated inside SQLite. Null otherwise. */
  rowid: string | null;
  /** The INTEGER PRIMARY KEY column aliasing the rowid, quoted (it always holds an integer); null when there is none. */
  alias: string | null;
}
