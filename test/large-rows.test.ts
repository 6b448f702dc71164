import { afterAll, beforeAll, expect, test } from "vitest";
import { createHarness, type Harness } from "./harness/miniflare.js";
import type { HostObject } from "./harness/host-client.js";
import { runToCompletion } from "./harness/drive.js";
import { readSingleOutput } from "./harness/dump.js";

/**
 * Concatenated batches (rowid tables) render rows without the row-size guard: a row whose text
 * exceeds SQLite's ~2 MB string limit (a 1.2 MB blob is 2.4 MB of hex) fails that batch's query
 * with SQLITE_TOOBIG, and the batch is read again row by row. The output must be byte-identical
 * to the same rows in a WITHOUT ROWID table, which is always read row by row. The same holds for
 * values the concatenated SQL render checks differently (a CR met after many batches, NUL, -0.0,
 * doubles JavaScript writes).
 */
let h: Harness;
let obj: HostObject;

beforeAll(async () => {
  h = await createHarness();
  obj = h.object();
  const rows = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000) SELECT x,
    CASE x WHEN 1500 THEN randomblob(1200000) WHEN 1501 THEN hex(randomblob(700000)) WHEN 2600 THEN randomblob(900000)
      WHEN 2601 THEN 'a' || char(1) || 'b' WHEN 2700 THEN 'cr' || char(13) || char(10) || 'lf' WHEN 2701 THEN 'nul' || char(0) || 'x'
      WHEN 2702 THEN -0.0 WHEN 2703 THEN 0.0 WHEN 2704 THEN 0 WHEN 2705 THEN x'' WHEN 2706 THEN '' WHEN 2707 THEN 1.37e236 WHEN 2708 THEN -8.4e-308 ELSE 'row ' || x || char(10) || '"q"' END FROM c`;
  await obj.exec([
    "CREATE TABLE r (id INTEGER PRIMARY KEY, v)",
    `INSERT INTO r ${rows}`,
    "CREATE TABLE w (id INTEGER PRIMARY KEY, v) WITHOUT ROWID",
    "INSERT INTO w SELECT * FROM r",
  ]);
  await obj.config({ tickBudgetMs: 100, clockStepMs: 10 });
  await obj.mode("manual");
});
afterAll(async () => {
  await h?.dispose();
});

async function dump(format: string, table: string): Promise<string> {
  const started = await obj.start({ format, tables: [table], schema: false });
  const { status } = await runToCompletion(obj, started.id, { maxTicks: 10_000 });
  expect(status.state, JSON.stringify(status.error)).toBe("completed");
  return Buffer.from((await readSingleOutput(h, status)).bytes).toString("utf8");
}

for (const format of ["sql", "csv", "ndjson"]) {
  test(`${format}: rows too large for SQLite render like the per-row path`, async () => {
    const rowid = await dump(format, "r");
    const perRow = await dump(format, "w");
    expect(rowid.length).toBeGreaterThan(4_000_000);
    expect(rowid.replaceAll('INSERT INTO "r"', 'INSERT INTO "w"')).toBe(perRow);
  });
}
