import { createHash } from "node:crypto";
import { quoteIdent, quoteString } from "./sql-text.js";
import { realBits, type SqlBackend } from "./backends.js";

/** Values up to this many bytes are compared by their hex; longer ones by length and SHA-256. */
const INLINE_BYTES = 16 * 1024;
/** Rows per page when reading a table. */
const PAGE_ROWS = 200;

/** How to read one table in a stable order, decided from the source database. */
export interface TablePlan {
  name: string;
  /** Columns compared (visible and generated; hidden columns of virtual tables left out). */
  columns: string[];
  /** Expression for the rowid when the table has one that is reachable, else null. */
  rowid: string | null;
  /** ORDER BY clause (without the keywords). */
  orderBy: string;
}

/** Everything compared between the source and a restored database. */
export interface Snapshot {
  /** sqlite_master rows `type|name|tbl_name|sql`, sorted, without `_cf_*`, sqlite_sequence, stat tables. */
  schema: string[];
  /** sqlite_sequence as `name=seq`, sorted. */
  sequences: string[];
  /** Per table: one canonical string per row, in rowid (or primary key) order. */
  tables: Record<string, string[]>;
}

/** Options of {@link planTables} and {@link takeSnapshot}. */
export interface SnapshotOptions {
  /** Only tables (and schema objects of tables) for which this returns true. */
  include?: (table: string) => boolean;
}

const NOT_INTERNAL = (col: string) =>
  `${col} NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND ${col} NOT LIKE 'sqlite\\_stat%' ESCAPE '\\' AND ${col} <> 'sqlite_sequence'`;

const FTS5_SHADOWS = ["_data", "_idx", "_content", "_docsize", "_config"];

/**
 * Decides, from the source database, which tables to read and how: ordinary and virtual tables
 * (FTS5 shadow tables are left out; the FTS5 table itself is compared), their columns from
 * `PRAGMA table_xinfo`, ordered by the first unshadowed of rowid/_rowid_/oid, by the primary
 * key for WITHOUT ROWID tables, else by every value.
 */
export async function planTables(src: SqlBackend, opts: SnapshotOptions = {}): Promise<TablePlan[]> {
  const master = (await src.all(
    `SELECT type, name, sql FROM sqlite_master WHERE type='table' AND ${NOT_INTERNAL("name")} AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`,
  )) as [string, string, string][];
  const fts5 = master.filter(([, , sql]) => /USING\s+fts5/i.test(sql)).map(([, n]) => n);
  const shadows = new Set(fts5.flatMap((n) => FTS5_SHADOWS.map((s) => n + s)));
  const wr = new Set(((await src.all(`SELECT name FROM pragma_table_list WHERE schema = 'main' AND wr = 1`)) as [string][]).map(([n]) => n));
  const plans: TablePlan[] = [];
  for (const [, name] of master) {
    if (shadows.has(name) || (opts.include && !opts.include(name))) continue;
    const info = (await src.all(`SELECT name, pk, hidden FROM pragma_table_xinfo(${quoteString(name)})`)) as [string, number, number][];
    const columns = info.filter(([, , hidden]) => hidden !== 1).map(([n]) => n);
    const lower = new Set(info.map(([n]) => n.toLowerCase()));
    const withoutRowid = wr.has(name);
    let rowid: string | null = null;
    let orderBy: string;
    if (withoutRowid) {
      const pk = info.filter(([, p]) => p > 0).sort((a, b) => a[1] - b[1]);
      orderBy = pk.map(([n]) => quoteIdent(n)).join(", ");
    } else {
      rowid = ["rowid", "_rowid_", "oid"].find((r) => !lower.has(r)) ?? null;
      // Without a rowid, by every value (blobs and text by their bytes): the same order in every query.
      orderBy = rowid ?? columns.map((c) => `typeof(${quoteIdent(c)}), ${quoteIdent(c)} COLLATE BINARY`).join(", ");
    }
    plans.push({ name, columns, rowid, orderBy });
  }
  return plans;
}

/** SQLite expression: the canonical text of `col` (reals and large values are finished in Node). */
function canonicalExpr(col: string): string {
  const bytes = `length(CAST(${col} AS BLOB))`;
  return (
    `CASE typeof(${col}) WHEN 'integer' THEN 'integer:' || CAST(${col} AS TEXT) ` +
    `WHEN 'real' THEN 'real:' WHEN 'null' THEN 'null:' ` +
    `ELSE typeof(${col}) || ':' || CASE WHEN ${bytes} > ${INLINE_BYTES} THEN '#' || ${bytes} ELSE hex(${col}) END END`
  );
}

/** Columns and bytes of select list one query reads at most: a Durable Object returns 100 columns and takes 100 KB per query. */
const GROUP_COLUMNS = 45;
const GROUP_BYTES = 60_000;

/**
 * Reads every row of one table as canonical strings. Wide tables are read in groups of columns,
 * one query each over the same rows (a table without reachable rowid in one query, as its order
 * is by position in the select list).
 */
async function readTable(db: SqlBackend, plan: TablePlan): Promise<string[]> {
  const cols = plan.columns.map(quoteIdent);
  const exprs = cols.map((c) => `${canonicalExpr(c)}, CASE WHEN typeof(${c}) = 'real' THEN ${db.realExpr(c)} END`);
  const groups: number[][] = [[]];
  let bytes = 0;
  exprs.forEach((e, i) => {
    const group = groups.at(-1)!;
    if (plan.rowid !== null && group.length > 0 && (group.length >= GROUP_COLUMNS || bytes + e.length > GROUP_BYTES)) {
      groups.push([i]);
      bytes = e.length;
    } else {
      group.push(i);
      bytes += e.length;
    }
  });
  const from = `FROM ${quoteIdent(plan.name)} ORDER BY ${plan.orderBy}`;
  const out: string[] = [];
  for (let offset = 0; ; offset += PAGE_ROWS) {
    const pages: unknown[][][] = [];
    for (const [g, group] of groups.entries()) {
      const select = [...(g === 0 && plan.rowid ? [`'rowid:' || CAST(${plan.rowid} AS TEXT)`] : []), ...group.map((i) => exprs[i]!)];
      pages.push(await db.all(`SELECT ${select.join(", ")} ${from} LIMIT ${PAGE_ROWS} OFFSET ${offset}`));
    }
    for (const [i, first] of pages[0]!.entries()) {
      const parts: string[] = [];
      if (plan.rowid) parts.push(String(first[0]));
      for (const [g, group] of groups.entries()) {
        const row = pages[g]![i]!;
        let k = g === 0 && plan.rowid ? 1 : 0;
        for (const c of group) {
          let v = String(row[k++]);
          const real = row[k++];
          if (v === "real:") v += realBits(real);
          else if (/^(text|blob):#\d+$/.test(v)) v += ":" + (await hashValue(db, cols[c]!, from, offset + i, Number(v.split("#")[1]), plan.rowid === null));
          parts.push(v);
        }
      }
      out.push(parts.join("|"));
    }
    // Without a rowid, values that sort as equal (0.0 and -0.0) may come in any order: compared as sorted text.
    if (pages[0]!.length < PAGE_ROWS) return plan.rowid === null ? out.sort() : out;
  }
}

/**
 * SHA-256 of a large value's bytes, read in chunks the backend can return. Ordered by its values
 * (no rowid), a row is sorted with all of them: smaller chunks keep the sort record under the
 * Durable Object's 2 MB.
 */
async function hashValue(db: SqlBackend, col: string, from: string, rowIndex: number, length: number, byValues: boolean): Promise<string> {
  const h = createHash("sha256");
  const chunk = byValues ? Math.min(db.chunkBytes, 128 * 1024) : db.chunkBytes;
  for (let start = 1; start <= length; start += chunk) {
    const rows = await db.all(`SELECT hex(substr(CAST(${col} AS BLOB), ${start}, ${chunk})) ${from} LIMIT 1 OFFSET ${rowIndex}`);
    h.update(Buffer.from(String(rows[0]?.[0] ?? ""), "hex"));
  }
  return h.digest("hex");
}

/**
 * Takes a {@link Snapshot} of `db`, reading the tables of `plans` (from {@link planTables} on the
 * source, so both sides are read the same way).
 */
export async function takeSnapshot(db: SqlBackend, plans: TablePlan[], opts: SnapshotOptions = {}): Promise<Snapshot> {
  const keep = (name: string) => !opts.include || opts.include(name);
  const schema = (
    (await db.all(
      `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE ${NOT_INTERNAL("name")} AND ${NOT_INTERNAL("tbl_name")} ORDER BY type, name`,
    )) as string[][]
  )
    .filter(([, , tbl]) => keep(tbl!))
    .map((r) => r.map((x) => x ?? "<null>").join("|"));
  const hasSeq = (await db.all(`SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'`)).length > 0;
  // Integers (what SQLite writes) as digits; anything else a program stored there by type and bits.
  const sequences = hasSeq
    ? (
        (await db.all(
          `SELECT name, CASE typeof(seq) WHEN 'integer' THEN CAST(seq AS TEXT) ELSE ${canonicalExpr("seq")} END, CASE WHEN typeof(seq) = 'real' THEN ${db.realExpr("seq")} END FROM sqlite_sequence WHERE ${NOT_INTERNAL("name")} ORDER BY name, rowid`,
        )) as [string, string, unknown][]
      )
        .filter(([n]) => keep(n))
        .map(([n, s, real]) => `${n}=${s === "real:" ? s + realBits(real) : s}`)
    : [];
  const tables: Record<string, string[]> = {};
  for (const plan of plans) tables[plan.name] = await readTable(db, plan);
  return { schema, sequences, tables };
}
