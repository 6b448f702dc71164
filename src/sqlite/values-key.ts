import { utf8Length } from "../util/bytes.js";
import type { KeyPlan } from "./row-key.js";

/** Characters (bytes, for a blob) of each text or blob value a coarse key keeps. */
const PREFIX = 32;

/**
 * The key of a rowid table whose rowid no name reaches (its columns are named `rowid`, `_rowid_`
 * and `oid`): its values. Rows are read in an order every value takes part in, so that rows equal
 * in it are equal to the bit, and resumed after the last row's coarse key, a bounded summary of
 * its values (integers, reals cut to integers, NULL as 0, the first 32 characters of text and
 * bytes of blobs) kept in the checkpoint as an SQL literal list. Rows sharing a coarse key are
 * told apart by their position among them. Every batch sorts the whole table: such a table is read
 * in time quadratic in its size.
 */
export function valuesKeyPlan(columns: readonly string[]): KeyPlan {
  const coarse = columns.map(
    (c) => `CASE typeof(${c}) WHEN 'integer' THEN ${c} WHEN 'real' THEN CAST(${c} AS INTEGER) WHEN 'null' THEN 0 ELSE substr(${c}, 1, ${PREFIX}) END`,
  );
  // The same values as SQL literals: digits, or hex (text may hold NUL, which quote() cuts).
  const literals = columns.map(
    (c) =>
      `CASE typeof(${c}) WHEN 'integer' THEN CAST(${c} AS TEXT) WHEN 'real' THEN CAST(CAST(${c} AS INTEGER) AS TEXT) WHEN 'null' THEN '0' ` +
      `WHEN 'text' THEN 'CAST(X''' || hex(substr(${c}, 1, ${PREFIX})) || ''' AS TEXT)' ELSE 'X''' || hex(substr(${c}, 1, ${PREFIX})) || '''' END`,
  );
  // Ties between rows equal in every coarse part are broken by the whole values, their types (1 vs
  // 1.0) and the sign of zero (0.0 vs -0.0, equal to SQLite).
  const ties = columns.map((c) => `${c} COLLATE BINARY, typeof(${c}), iif(typeof(${c}) = 'real' AND ${c} = 0, atan2(${c}, -1), 0)`);
  const tuple = `(${coarse.join(", ")})`;
  const order = [...coarse, ...ties].join(", ");
  return {
    select: literals.join(" || ',' || "),
    width: 1,
    order,
    coarse: true,
    // The clause of `at`: the tuple, a literal list (hex of 32 characters of up to 4 bytes each, or digits) and the order.
    whereBytes: utf8Length(tuple) + utf8Length(order) + columns.length * (2 * 4 * PREFIX + 32) + 64,
    fromRow: (row) => [{ t: "s", v: String(row[0]) }],
    after: (key, skip) => (key === null ? { where: "", bindings: [], offset: 0 } : { where: ` WHERE ${tuple} >= (${key[0]!.v})`, bindings: [], offset: skip }),
    at: (key, index) => ({ where: ` WHERE ${tuple} = (${key[0]!.v}) ORDER BY ${order} LIMIT 1 OFFSET ${index}`, bindings: [] }),
  };
}
