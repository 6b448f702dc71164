/** Queries that turn every row of a table into one canonical line, identical in any SQLite. */
export interface CanonicalQuery {
  table: string;
  /** Keyset page: binds (after rowid, limit); yields `k` (rowid) and `r` (the line). */
  page: string;
  /** The whole table, one line per row, in rowid order: what the demo runs on the restored copy. */
  full: string;
}

const FTS5_SHADOWS = ["_data", "_idx", "_content", "_docsize", "_config"];

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A column's canonical text: its type, then hex for text and blobs (so no byte is lost or
 * escaped differently), digits for integers, 15 significant digits for reals.
 */
function canon(col: string): string {
  return `CASE typeof(${col}) WHEN 'null' THEN 'N' WHEN 'integer' THEN 'I' || ${col} WHEN 'real' THEN 'R' || printf('%!.15g', ${col}) WHEN 'text' THEN 'T' || hex(${col}) ELSE 'B' || hex(${col}) END`;
}

/** One {@link CanonicalQuery} per user table (FTS5 tables included, their shadow tables not). */
export function canonicalQueries(sql: SqlStorage): CanonicalQuery[] {
  const tables = sql
    .exec<{ name: string; sql: string }>(
      `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`,
    )
    .toArray();
  const shadows = new Set(tables.filter((t) => /USING\s+fts5/i.test(t.sql)).flatMap((t) => FTS5_SHADOWS.map((s) => t.name + s)));
  return tables
    .filter((t) => !shadows.has(t.name))
    .map(({ name }) => {
      const columns = sql
        .exec<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, name)
        .toArray()
        .map((c) => ident(c.name));
      const line = ["rowid", ...columns.map(canon)].join(" || '|' || ");
      const from = ident(name);
      return {
        table: name,
        page: `SELECT rowid AS k, ${line} AS r FROM ${from} WHERE rowid > ? ORDER BY rowid LIMIT ?`,
        full: `SELECT ${line} FROM ${from} ORDER BY rowid;`,
      };
    });
}
