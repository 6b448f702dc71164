/**
 * The benchmarks' table: `bench(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n TEXT)`
 * with 64-bit and small integers, reals, text with a newline, a quote and double quotes, blobs in
 * one row of three, and NULLs in every column but the key (bench/README.md, "What runs").
 */
export const CREATE_MIXED = `CREATE TABLE IF NOT EXISTS bench(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n TEXT)`;

/** Inserts rows ?1 to ?2 of the table, in one statement. */
export const SEED_MIXED = `INSERT INTO bench(id, i, r, t, b, n)
WITH RECURSIVE c(x) AS (SELECT ?1 UNION ALL SELECT x + 1 FROM c WHERE x < ?2)
SELECT x,
  CASE x % 7 WHEN 0 THEN NULL WHEN 1 THEN random() ELSE x * 7919 - 5000000 END,
  CASE WHEN x % 11 = 0 THEN NULL ELSE x * 0.3721 + 1.0 / x END,
  CASE WHEN x % 13 = 0 THEN NULL ELSE 'row ' || x || char(10) || 'it''s "text", ' || hex(randomblob(6 + x % 20)) END,
  CASE WHEN x % 3 = 0 THEN randomblob(8 + x % 24) ELSE NULL END,
  CASE WHEN x % 10 = 0 THEN 'note ' || x ELSE NULL END
FROM c`;
