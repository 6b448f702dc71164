import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectSameSnapshot } from "./harness/compare.js";
import { importIntoD1 } from "./harness/d1.js";
import { runToCompletion } from "./harness/drive.js";
import type { HostObject } from "./harness/host-client.js";
import type { Harness } from "./harness/miniflare.js";
import { seededObject } from "./harness/corpus-object.js";
import { restoreWithSqlite3 } from "./harness/restore.js";
import { takeSnapshot, type Snapshot, type TablePlan } from "./harness/snapshot.js";
import { quoteIdent } from "./harness/sql-text.js";
import { compareTable, jsonRows, parseCsv, parseNdjson, readOutputs } from "./formats/exports.js";
import { parseExactJson } from "./formats/exact-json.js";

/**
 * Tables as wide as a Durable Object allows (100 columns) with long column names: the query that
 * renders a row would pass the 100 KB a query may hold, so the engine reads such a table value by
 * value. Every format exports them exactly, large rows included.
 */

/** A column name of `length` characters, with a quote and a non-ASCII letter in it. */
const columnName = (i: number, length: number) => `c${String(i).padStart(2, "0")} "q" é ${"x".repeat(length - 10)}`;

/** Value of column `i` in row `n`: every storage class, NUL and CR in text, reals SQLite does not write exactly. */
function valueExpr(i: number): string {
  return `CASE (n + ${i}) % 9 WHEN 0 THEN n * 1000003 - 4611686018427387904 WHEN 1 THEN n / 7.0 WHEN 2 THEN 'v' || n || char(0) || 'nul'
    WHEN 3 THEN randomblob(8) WHEN 4 THEN NULL WHEN 5 THEN 'it''s' || char(13, 10) || n WHEN 6 THEN -0.0 WHEN 7 THEN 1.37e236 * n ELSE '' END`;
}

/**
 * Statements creating `wide` (100 columns of 62-character names) and `widelong` (names of 990
 * characters, added one by one: a Durable Object keeps a CREATE statement under 100,000 bytes).
 */
function wideStatements(): string[] {
  const cols = Array.from({ length: 99 }, (_, k) => k + 1);
  const s = [
    `CREATE TABLE wide (id INTEGER PRIMARY KEY, ${cols.map((i) => quoteIdent(columnName(i, 62))).join(", ")})`,
    `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 40) INSERT INTO wide SELECT n, ${cols.map(valueExpr).join(", ")} FROM r`,
    // A row over 200 KB of values (rendered value by value, in slices) and over D1's 100,000 bytes.
    `INSERT INTO wide (id, ${[5, 50, 99].map((i) => quoteIdent(columnName(i, 62))).join(", ")}) VALUES (1000, randomblob(150000), replace(hex(zeroblob(120000)), '00', 'é'), 'tail')`,
    "CREATE TABLE widelong (id INTEGER PRIMARY KEY)",
    ...cols.map((i) => `ALTER TABLE widelong ADD COLUMN ${quoteIdent(columnName(i, 990))}`),
    "INSERT INTO widelong SELECT * FROM wide",
  ];
  return s;
}

describe("tables of 100 columns with long names, in every format", () => {
  let h: Harness;
  let obj: HostObject;
  let plans: TablePlan[];
  let source: Snapshot;

  beforeAll(async () => {
    ({ h, obj, plans, source } = await seededObject(wideStatements(), { tickBudgetMs: 100, clockStepMs: 50 }));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function outputs(options: Parameters<HostObject["start"]>[0]) {
    const started = await obj.start(options);
    const { status } = await runToCompletion(obj, started.id);
    return readOutputs(h, status);
  }

  const planOf = (name: string) => plans.find((p) => p.name === name)!;

  test("the source is as wide as a Durable Object allows", () => {
    expect(planOf("wide").columns).toHaveLength(100);
    expect(planOf("widelong").columns.every((c, i) => i === 0 || c.length === 990)).toBe(true);
    expect(source.tables.widelong).toHaveLength(41);
  });

  test("sql: the sqlite3 CLI restores both tables exactly", async () => {
    const [dump] = await outputs({ format: "sql" });
    const db = restoreWithSqlite3(dump!.bytes);
    try {
      expectSameSnapshot(await takeSnapshot(db.backend, plans), source, "sqlite3");
    } finally {
      db.dispose();
    }
  });

  test("csv, ndjson and json: every value exactly", async () => {
    const problems: string[] = [];
    for (const o of await outputs({ format: "csv" }))
      problems.push(...compareTable(o.table!, planOf(o.table!), source, parseCsv(Buffer.from(o.bytes).toString("utf8"))));
    for (const o of await outputs({ format: "ndjson" })) {
      const objects = parseNdjson(Buffer.from(o.bytes).toString("utf8"));
      problems.push(...compareTable(o.table!, planOf(o.table!), source, { columns: Object.keys(objects[0]!), rows: jsonRows(objects) }));
    }
    const [json] = await outputs({ format: "json" });
    const doc = parseExactJson(Buffer.from(json!.bytes).toString("utf8")) as Record<string, Record<string, unknown>[]>;
    for (const [name, rows] of Object.entries(doc))
      problems.push(...compareTable(name, planOf(name), source, { columns: Object.keys(rows[0]!), rows: jsonRows(rows) }));
    expect(problems).toEqual([]);
  });

  test("d1: wrangler imports both tables into D1 exactly", async () => {
    const [dump] = await outputs({ format: "sql", dialect: "d1" });
    const d1 = importIntoD1(dump!.bytes);
    try {
      expectSameSnapshot(await takeSnapshot(d1.backend, plans), source, "d1");
    } finally {
      d1.dispose();
    }
  });
});
