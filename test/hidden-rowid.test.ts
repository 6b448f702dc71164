import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectSameSnapshot } from "./harness/compare.js";
import { importIntoD1 } from "./harness/d1.js";
import { runToCompletion } from "./harness/drive.js";
import { readSingleOutput } from "./harness/dump.js";
import type { HostObject } from "./harness/host-client.js";
import type { Harness } from "./harness/miniflare.js";
import { seededObject } from "./harness/corpus-object.js";
import { restoreWithSqlite3, restoreWithSqlJs } from "./harness/restore.js";
import { takeSnapshot, type Snapshot, type TablePlan } from "./harness/snapshot.js";
import { compareTable, jsonRows, parseNdjson, readOutputs } from "./formats/exports.js";

/**
 * A rowid table whose columns are named `rowid`, `_rowid_` and `oid`: no name reaches its rowid,
 * so it is read in the order of its values and exported without the rowid, like `sqlite3 .dump`
 * does. Rows equal to the bit, values that compare equal but differ (1 and 1.0, 0.0 and -0.0),
 * long values that share a prefix, NULLs, and a row too large to render in one SQLite string.
 */
const STATEMENTS = [
  "CREATE TABLE shadowed (rowid, _rowid_, oid, data)",
  `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 300)
    INSERT INTO shadowed SELECT n % 7, CASE n % 5 WHEN 0 THEN NULL WHEN 1 THEN 1 WHEN 2 THEN 1.0 WHEN 3 THEN 0.0 ELSE -0.0 END,
      'prefix shared by every row, longer than the thirty-two characters a key keeps ' || (n % 11),
      CASE WHEN n % 3 = 0 THEN randomblob(n % 40) ELSE 'same' END FROM r`,
  // Exact duplicates, several times over.
  "INSERT INTO shadowed SELECT rowid, _rowid_, oid, data FROM shadowed WHERE oid LIKE '%3'",
  "INSERT INTO shadowed VALUES (NULL, NULL, NULL, NULL), (NULL, NULL, NULL, NULL), (x'00', '', 'é', 9007199254740993)",
  "INSERT INTO shadowed VALUES ('big', 2, 'x', randomblob(1500000))",
];

describe("a table whose rowid no name reaches", () => {
  let h: Harness;
  let obj: HostObject;
  let plans: TablePlan[];
  let source: Snapshot;

  beforeAll(async () => {
    // One step a tick; batches of 16 rows after the first, across rows sharing a key (their first 32 characters).
    ({ h, obj, plans, source } = await seededObject(STATEMENTS, { tickBudgetMs: 100, clockStepMs: 1000 }));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function dump(options: Parameters<HostObject["start"]>[0], afterTick?: (tick: number) => Promise<unknown>) {
    const started = await obj.start(options);
    const { status, ticks } = await runToCompletion(obj, started.id, { ...(afterTick ? { afterTick } : {}) });
    return { status, ticks };
  }

  test("the source holds duplicates and equal-comparing values", () => {
    const rows = source.tables.shadowed!;
    expect(plans[0]!.rowid).toBeNull();
    expect(new Set(rows).size).toBeLessThan(rows.length);
    expect(rows.length).toBeGreaterThan(320);
  });

  test("sql: restored by the sqlite3 CLI and sql.js with every row, in many ticks with an eviction after each", async () => {
    const { status, ticks } = await dump({ format: "sql" }, () => obj.evict());
    expect(ticks).toBeGreaterThan(5);
    const { bytes } = await readSingleOutput(h, status);
    for (const db of [restoreWithSqlite3(bytes), await restoreWithSqlJs(bytes)]) {
      try {
        expectSameSnapshot(await takeSnapshot(db.backend, plans), source, db.backend.name);
      } finally {
        db.dispose();
      }
    }
  });

  test("ndjson: every row once", async () => {
    const { status } = await dump({ format: "ndjson" });
    const [out] = await readOutputs(h, status);
    const objects = parseNdjson(Buffer.from(out!.bytes).toString("utf8"));
    expect(compareTable("shadowed", plans[0]!, source, { columns: Object.keys(objects[0]!), rows: jsonRows(objects) })).toEqual([]);
  });

  test("d1: imported into D1 with every row", async () => {
    const { status } = await dump({ format: "sql", dialect: "d1" });
    const d1 = importIntoD1((await readSingleOutput(h, status)).bytes);
    try {
      expectSameSnapshot(await takeSnapshot(d1.backend, plans), source, "d1");
    } finally {
      d1.dispose();
    }
  });

  test("rows written between ticks do not disturb the rows that stay", async () => {
    // Rows inserted and deleted while the export runs, sorting before, among and after the others.
    const churn = (tick: number) => [
      `INSERT INTO shadowed VALUES (${-tick}, 'churn', 'churn ${tick}', NULL), (${1000 + tick}, 'churn', 'churn ${tick}', NULL)`,
      `DELETE FROM shadowed WHERE rowid = ${-(tick - 3)} AND _rowid_ = 'churn'`,
    ];
    const { status } = await dump({ format: "sql" }, async (tick) => {
      await obj.exec(churn(tick));
      await obj.evict();
    });
    await obj.exec(["DELETE FROM shadowed WHERE _rowid_ = 'churn'"]);
    const db = restoreWithSqlite3((await readSingleOutput(h, status)).bytes);
    try {
      const restored = await takeSnapshot(db.backend, plans);
      const churned = await db.backend.all(`SELECT count(*) FROM shadowed WHERE _rowid_ = 'churn'`);
      expect(Number(churned[0]![0])).toBeGreaterThan(0);
      await db.run(`DELETE FROM shadowed WHERE _rowid_ = 'churn'`);
      expectSameSnapshot(await takeSnapshot(db.backend, plans), source, "stable rows");
      expect(restored.tables.shadowed!.length).toBeGreaterThan(source.tables.shadowed!.length);
    } finally {
      db.dispose();
    }
  });
});
