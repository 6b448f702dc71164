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

/** Rows hashed per page: the cursor is drained before every await. */
const PAGE_ROWS = 2_000;

/** Per table of the database: the row count and the SHA-256 of its canonical lines. */
export interface TableChecksum {
  name: string;
  rows: number;
  sha256: string;
  /** The query whose output lines were hashed (each followed by "\n"): run it on a restored copy to compare. */
  query: string;
}

/**
 * The checksum of every user table of `sql`, and the schema as `type name` lines (without the
 * platform's and SQLite's own objects), for comparing a database with its restored copy.
 */
export async function tableChecksums(sql: SqlStorage): Promise<{ tables: TableChecksum[]; schema: string[] }> {
  const out: TableChecksum[] = [];
  for (const q of canonicalQueries(sql)) {
    const digest = new crypto.DigestStream("SHA-256");
    const writer = digest.getWriter();
    const encoder = new TextEncoder();
    let rows = 0;
    let after: number | null = null;
    for (;;) {
      const page: { k: number; r: string }[] = sql.exec<{ k: number; r: string }>(q.page, after ?? -Infinity, PAGE_ROWS).toArray();
      if (page.length === 0) break;
      rows += page.length;
      after = page[page.length - 1]!.k;
      await writer.write(encoder.encode(page.map((p) => p.r + "\n").join("")));
    }
    await writer.close();
    const hash = [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    out.push({ name: q.table, rows, sha256: hash, query: q.full });
  }
  const schema = sql
    .exec<{ s: string }>(
      `SELECT type || ' ' || name AS s FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name`,
    )
    .toArray()
    .map((r) => r.s);
  return { tables: out, schema };
}
