/**
 * A row's key, kept exactly across ticks: the rowid (or its INTEGER PRIMARY KEY alias) of a rowid
 * table, the primary key of a WITHOUT ROWID table, or, for a table whose rowid no name reaches,
 * its values (values-key.ts). Reads resume after the last key written.
 */

import { utf8Length } from "../util/bytes.js";

/**
 * One component of a row's key, stored exactly: integers as decimal text (a JS number would round
 * them beyond 2^53), blobs as hex.
 */
export type KeyPart = { t: "i"; v: string } | { t: "r"; v: number } | { t: "s"; v: string } | { t: "b"; v: string };

/** What one call to a table reader's `read` produced. */
export interface Batch {
  /**
   * Rendered rows, each preceded by the separator unless it is the table's first row: UTF-8 bytes
   * when SQLite concatenated the batch (valid until the next `read()`), else text.
   */
  text: string | Uint8Array;
  rows: number;
  /** Key of the last row read; pass it back to continue after it. */
  last: KeyPart[] | null;
  /** Rows read that share the key `last` (0 unless the table's key is coarse, see KeyPlan); pass it back with `last`. */
  skip: number;
  /** True when the table has no rows after `last`. */
  done: boolean;
}

/** A WHERE clause (with whatever follows it: ORDER BY, LIMIT) and its bindings. */
export interface RowSelector {
  where: string;
  bindings: unknown[];
}

/**
 * How a table's rows are ordered and found again by key. A key identifies one row, except in a
 * coarse plan, where rows may share a key: a position among them (`skip`) tells them apart.
 */
export interface KeyPlan {
  /** Select list of the key of each row, read back by {@link fromRow}. */
  readonly select: string;
  /** Result columns {@link select} takes. */
  readonly width: number;
  /** ORDER BY list: the order rows are read in. */
  readonly order: string;
  /** Whether rows may share a key (see {@link KeyPlan}). */
  readonly coarse: boolean;
  /** The key of a row read with {@link select} first in its columns. */
  fromRow(row: SqlStorageValue[]): KeyPart[];
  /** An upper bound of the bytes of the clauses {@link after} and {@link at} return. */
  readonly whereBytes: number;
  /** Rows after `key` (all rows when null) in order, of which the first `skip` share `key` and are written already. */
  after(key: KeyPart[] | null, skip: number): RowSelector & { offset: number };
  /** The one row of `key`, number `index` (from 0) among the rows sharing it. */
  at(key: KeyPart[], index: number): RowSelector;
}

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
export function keyCondition(keys: readonly string[], key: KeyPart[] | null, op: ">" | "="): RowSelector {
  if (key === null) return { where: "", bindings: [] };
  const params = key.map((k) => (k.t === "i" ? "CAST(? AS INTEGER)" : k.t === "r" ? "CAST(? AS REAL)" : k.t === "b" ? "unhex(?)" : "?"));
  const bindings = key.map((k) => k.v);
  const where = key.length === 1 ? ` WHERE ${keys[0]} ${op} ${params[0]}` : ` WHERE (${keys.join(", ")}) ${op} (${params.join(", ")})`;
  return { where, bindings };
}

/** The plan of a key that identifies each row: the rowid, its alias, or a WITHOUT ROWID table's primary key columns. */
export function uniqueKeyPlan(keys: readonly string[]): KeyPlan {
  return {
    select: keySelect(keys),
    width: 2 * keys.length,
    order: keys.join(", "),
    coarse: false,
    // " WHERE (k, …) = (unhex(?), …)" at most.
    whereBytes: 32 + keys.reduce((sum, k) => sum + utf8Length(k) + 24, 0),
    fromRow: (row) => keyFromRow(row, keys.length),
    after: (key) => ({ ...keyCondition(keys, key, ">"), offset: 0 }),
    at: (key) => keyCondition(keys, key, "="),
  };
}

/**
 * Follows the rows of a batch in key order: the key of the last one, how many rows read so far
 * share it (for a coarse plan; 0 otherwise), and a selector of that row alone.
 */
export class KeyRun {
  readonly #plan: KeyPlan;
  #key: KeyPart[] | null;
  /** The last row, whose key is read from it when asked for (most rows' keys never are). */
  #row: SqlStorageValue[] | null = null;
  /** Rows with {@link key} read so far, those written before the batch included (coarse plans). */
  skip: number;
  #serial: string | null;

  constructor(plan: KeyPlan, after: KeyPart[] | null, skip: number) {
    this.#plan = plan;
    this.#key = after;
    this.skip = plan.coarse ? skip : 0;
    this.#serial = plan.coarse && after !== null ? JSON.stringify(after) : null;
  }

  /** Key of the last row; the batch's starting key before any. */
  get key(): KeyPart[] | null {
    if (this.#row !== null) {
      this.#key = this.#plan.fromRow(this.#row);
      this.#row = null;
    }
    return this.#key;
  }

  /** Moves on to `row`, read with the plan's `select` first in its columns. */
  next(row: SqlStorageValue[]): void {
    this.#row = row;
    if (!this.#plan.coarse) return;
    const serial = JSON.stringify(this.key);
    this.skip = serial === this.#serial ? this.skip + 1 : 1;
    this.#serial = serial;
  }

  /** Selects the last row alone. */
  selector(): RowSelector {
    return this.#plan.at(this.key!, Math.max(0, this.skip - 1));
  }
}
