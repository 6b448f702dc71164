/**
 * A row's key, kept exactly across ticks: the rowid (or its INTEGER PRIMARY KEY alias) of a rowid
 * table, the primary key of a WITHOUT ROWID table. Reads resume after the last key written.
 */

/**
 * One component of a row's key, stored exactly: integers as decimal text (a JS number would round
 * them beyond 2^53), blobs as hex.
 */
export type KeyPart = { t: "i"; v: string } | { t: "r"; v: number } | { t: "s"; v: string } | { t: "b"; v: string };

/** SQL selecting each key column exactly, as two values per column (its type and its value): read back by {@link keyFromRow}. */
export function keySelect(keys: readonly string[]): string {
  return keys.map((k) => `typeof(${k}), CASE typeof(${k}) WHEN 'integer' THEN CAST(${k} AS TEXT) WHEN 'blob' THEN hex(${k}) ELSE ${k} END`).join(", ");
}

/** The key of a row read with {@link keySelect} first in its columns. */
export function keyFromRow(row: SqlStorageValue[], count: number): KeyPart[] {
  const key: KeyPart[] = [];
  for (let i = 0; i < count; i++) {
    const type = row[2 * i];
    const value = row[2 * i + 1];
    if (type === "integer") key.push({ t: "i", v: value as string });
    else if (type === "real") key.push({ t: "r", v: value as number });
    else if (type === "blob") key.push({ t: "b", v: value as string });
    else key.push({ t: "s", v: String(value) });
  }
  return key;
}

/** WHERE clause comparing the key columns `keys` with `key`, typed so that SQLite compares exactly. */
export function keyCondition(keys: readonly string[], key: KeyPart[] | null, op: ">" | "="): { where: string; bindings: unknown[] } {
  if (key === null) return { where: "", bindings: [] };
  const params = key.map((k) => (k.t === "i" ? "CAST(? AS INTEGER)" : k.t === "r" ? "CAST(? AS REAL)" : k.t === "b" ? "unhex(?)" : "?"));
  const bindings = key.map((k) => k.v);
  const where = key.length === 1 ? ` WHERE ${keys[0]} ${op} ${params[0]}` : ` WHERE (${keys.join(", ")}) ${op} (${params.join(", ")})`;
  return { where, bindings };
}
