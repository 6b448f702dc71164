import type { Statement } from "./host-client.js";

/** Options of {@link bigDataStatements}. */
export interface BigDataOptions {
  /** Rows of 1.5 MB (half blobs, half text). Default 16. */
  hugeRows?: number;
  /** Rows of 20 to 200 KB. Default 20. */
  mediumRows?: number;
  /** Rows of 0 to ~5 KB. Default 2,000. */
  smallRows?: number;
}

/**
 * Seeds table `mixed` with rows of very different sizes (defaults: ~30 MB), interleaved so that
 * huge rows sit between runs of tiny ones. Each statement is one recursive-CTE insert; every row
 * stays under the DO's 2 MB limit.
 */
export function bigDataStatements(opts: BigDataOptions = {}): Statement[] {
  const huge = opts.hugeRows ?? 16;
  const medium = opts.mediumRows ?? 20;
  const small = opts.smallRows ?? 2_000;
  const total = huge + medium + small;
  // Row i is huge when i % step == 0, medium when i % step == 1 (while they last), else small.
  const step = Math.max(2, Math.floor(total / Math.max(huge, 1)));
  return [
    { sql: `CREATE TABLE mixed (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, n INTEGER, r REAL, b BLOB, t TEXT)` },
    {
      sql: `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${total}),
        k(i, kind, size) AS (
          SELECT i,
            CASE WHEN i % ${step} = 0 AND i / ${step} <= ${huge} THEN 'huge'
                 WHEN i % ${step} = 1 AND i / ${step} < ${medium} THEN 'medium' ELSE 'small' END,
            CASE WHEN i % ${step} = 0 AND i / ${step} <= ${huge} THEN 1500000
                 WHEN i % ${step} = 1 AND i / ${step} < ${medium} THEN 20000 + (i * 7919) % 180000
                 ELSE (i * 7919) % 5000 END
          FROM s)
        INSERT INTO mixed (id, kind, n, r, b, t)
        SELECT i * 3, kind, i * 1000003 - 4611686018427387904, i / 7.0,
          CASE WHEN i % 2 = 0 THEN randomblob(size) END,
          CASE WHEN i % 2 = 1 THEN hex(randomblob(size / 2)) END
        FROM k`,
    },
  ];
}
