import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { doBackend, type SqlBackend } from "./harness/backends.js";
import { bigDataStatements } from "./harness/big-data.js";
import { expectSameSnapshot, probeAnswers } from "./harness/compare.js";
import { CORPUS_FTS5_TABLES, CORPUS_PROBES } from "./harness/corpus.js";
import { corpusObject, seededObject } from "./harness/corpus-object.js";
import { importIntoD1 } from "./harness/d1.js";
import { runToCompletion } from "./harness/drive.js";
import { readSingleOutput } from "./harness/dump.js";
import type { HostObject, Statement } from "./harness/host-client.js";
import type { Harness } from "./harness/miniflare.js";
import { takeSnapshot, type Snapshot, type TablePlan } from "./harness/snapshot.js";

/**
 * `start({ format: "sql", dialect: "d1" })` imported the way a user moves data into D1:
 * `wrangler d1 execute --local --file` (the pinned wrangler's local D1), then the D1 database file
 * compared with the source value by value (storage class and bits).
 */

async function d1Dump(h: Harness, obj: HostObject, options: { schema?: boolean; data?: boolean } = {}): Promise<string> {
  const started = await obj.start({ format: "sql", dialect: "d1", ...options });
  expect(started.options.dialect).toBe("d1");
  const { status } = await runToCompletion(obj, started.id, { maxTicks: 50_000 });
  return Buffer.from((await readSingleOutput(h, status)).bytes).toString("utf8");
}

/** The shape the d1 dialect promises, read from the text of a dump. */
function expectD1Shape(text: string): void {
  expect(text.startsWith("PRAGMA defer_foreign_keys=TRUE;\n")).toBe(true);
  expect(text).not.toMatch(/^(BEGIN|COMMIT|END|SAVEPOINT|RELEASE|ROLLBACK)\b/m);
  expect(text).not.toMatch(/PRAGMA foreign_keys/);
  expect(text).not.toContain("BEGIN TRANSACTION");
  const lines = text.split("\n");
  const firstRow = lines.findIndex((l) => l.startsWith("INSERT INTO "));
  const lastRow = lines.findLastIndex((l) => l.startsWith("INSERT INTO ") && !l.startsWith("INSERT INTO sqlite_sequence"));
  const creates = lines.flatMap((l, i) => (/^CREATE (VIRTUAL )?TABLE (?!"_durable_dump_stage")/.test(l) ? [i] : []));
  const others = lines.flatMap((l, i) => (/^CREATE (UNIQUE )?(INDEX|VIEW|TRIGGER)/.test(l) ? [i] : []));
  expect(creates.length).toBeGreaterThan(0);
  expect(Math.max(...creates), "every table is created before the first row").toBeLessThan(firstRow);
  if (others.length > 0) expect(Math.min(...others), "indexes, views and triggers come after the rows").toBeGreaterThan(lastRow);
}

describe("d1 dialect: the tricky corpus imported with wrangler", () => {
  let h: Harness;
  let obj: HostObject;
  let src: SqlBackend;
  let plans: TablePlan[];
  let source: Snapshot;

  beforeAll(async () => {
    ({ h, obj, src, plans, source } = await corpusObject(1000));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("imports value for value, FTS5 indexes, views, triggers and AUTOINCREMENT included", async () => {
    const text = await d1Dump(h, obj);
    expectD1Shape(text);
    // The 1.9 MB values of the corpus are built up in a staging table, statement by statement.
    expect(text).toContain(`CREATE TABLE "_durable_dump_stage"`);
    const d1 = importIntoD1(text);
    try {
      expectSameSnapshot(await takeSnapshot(d1.backend, plans), source, "d1");
      expect(await probeAnswers(d1.backend, CORPUS_PROBES)).toEqual(await probeAnswers(src, CORPUS_PROBES));
      expect(await d1.backend.all("PRAGMA integrity_check")).toEqual([["ok"]]);
      const checks = CORPUS_FTS5_TABLES.map((fts) => `INSERT INTO ${fts}(${fts}) VALUES('integrity-check');`).join("");
      expect(execFileSync("sqlite3", ["-bail", d1.path, checks], { encoding: "utf8" })).toBe("");
      expect(await d1.backend.all(`SELECT count(*) FROM sqlite_master WHERE name LIKE '%durable_dump_stage%'`)).toEqual([[0]]);
    } finally {
      d1.dispose();
    }
  });

  test("schema only", async () => {
    const text = await d1Dump(h, obj, { data: false });
    expect(text).not.toMatch(/^INSERT /m);
    const d1 = importIntoD1(text);
    try {
      const restored = await takeSnapshot(d1.backend, plans);
      expect(restored.schema).toEqual(source.schema);
      for (const [name, rows] of Object.entries(restored.tables)) expect(rows, name).toEqual([]);
    } finally {
      d1.dispose();
    }
  });
});

/**
 * Rows around D1's limits, and tables whose constraints would refuse a value that is not whole:
 * a CHECK and a generated column on a large JSON value, a UNIQUE large value, a long text starting
 * like a number in a NUMERIC column, STRICT and WITHOUT ROWID tables, a large primary key.
 */
function limitStatements(): Statement[] {
  /** `unit` (an SQL expression) `n` times. */
  const text = (n: number, unit: string) => `replace(hex(zeroblob(${n})), '00', ${unit})`;
  const s: string[] = [
    "CREATE TABLE edge (id INTEGER PRIMARY KEY, t TEXT, b BLOB, a ANY)",
    // Around the piece size (1,000 bytes), the statement size (100,000 bytes) and hex doubling.
    ...[999, 1000, 1001, 2000, 33_000, 49_000, 49_950, 50_000, 99_900, 100_000, 120_000].map(
      (n) => `INSERT INTO edge (t, b, a) VALUES (${text(n, "'x'")}, randomblob(${n}), ${text(Math.floor(n / 2), "''''")})`,
    ),
    // Quotes doubled, multi-byte characters across piece boundaries, NUL and CR, text of a blob.
    `INSERT INTO edge (t, b, a) VALUES (${text(40_000, "''''")}, NULL, ${text(30_000, "'é😀'")})`,
    `INSERT INTO edge (t, b, a) VALUES (${text(60_000, "'a' || char(0)")}, zeroblob(150000), ${text(70_000, "'x' || char(13)")})`,
    `INSERT INTO edge (t, b, a) VALUES (${text(3_000, "'😀'")}, CAST(${text(60_000, "'z'")} AS BLOB), -0.0)`,
    "CREATE TABLE json_docs (id INTEGER PRIMARY KEY, body TEXT CHECK (json_valid(body)), k AS (json_extract(body, '$.k')) STORED)",
    `INSERT INTO json_docs (body) VALUES (json_object('k', 42, 'pad', ${text(300_000, "'p'")}))`,
    "CREATE TABLE uniq (id INTEGER PRIMARY KEY, v TEXT UNIQUE NOT NULL)",
    `INSERT INTO uniq (v) VALUES (${text(150_000, "'u'")} || 'one'), (${text(150_000, "'u'")} || 'two')`,
    "CREATE TABLE numeric_text (id INTEGER PRIMARY KEY, n NUMERIC, i INTEGER)",
    `INSERT INTO numeric_text (n, i) VALUES ('1' || ${text(120_000, "'0'")} || 'x', '2' || ${text(5_000, "'9'")} || '.5.5')`,
    "CREATE TABLE strict_big (id INTEGER PRIMARY KEY, t TEXT NOT NULL, b BLOB NOT NULL) STRICT",
    `INSERT INTO strict_big (t, b) VALUES (${text(200_000, "'s'")}, randomblob(200000))`,
    "CREATE TABLE wr_big (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID",
    `INSERT INTO wr_big VALUES (${text(110_000, "'k'")}, randomblob(90000)), ('small', randomblob(10))`,
  ];
  return s.map((sql) => ({ sql }));
}

describe("d1 dialect: rows at and over D1's limits", () => {
  let h: Harness;
  let obj: HostObject;
  let plans: TablePlan[];
  let source: Snapshot;

  beforeAll(async () => {
    const statements = [...limitStatements(), ...bigDataStatements({ hugeRows: 3, mediumRows: 10, smallRows: 600 })];
    ({ h, obj, plans, source } = await seededObject(statements, { tickBudgetMs: 200, clockStepMs: 20 }));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("every statement fits D1, and every value comes back whole", async () => {
    const text = await d1Dump(h, obj);
    expectD1Shape(text);
    const d1 = importIntoD1(text);
    try {
      expectSameSnapshot(await takeSnapshot(d1.backend, plans), source, "d1");
    } finally {
      d1.dispose();
    }
  });
});

describe("d1 dialect: schema SQL that wrangler's splitter reads wrongly", () => {
  let h: Harness;
  let obj: HostObject;
  let plans: TablePlan[];
  let source: Snapshot;

  beforeAll(async () => {
    const statements = [
      "CREATE TABLE t (a INTEGER, b TEXT)",
      "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (-3, NULL)",
      // `END,` and a lower-case `end` leave wrangler's splitter inside a compound statement.
      "CREATE VIEW v AS SELECT a, CASE WHEN a > 0 THEN 'pos' END,b FROM t",
      "CREATE TRIGGER tr AFTER INSERT ON t begin update t set b = case when new.a > 1 then 'big' else b end where rowid = new.rowid; end",
      "CREATE INDEX i ON t (a) -- by a",
    ];
    ({ h, obj, plans, source } = await seededObject(statements, { tickBudgetMs: 200, clockStepMs: 20 }));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("is rewritten with whitespace around CASE, BEGIN and END, and works the same in D1", async () => {
    const d1 = importIntoD1(await d1Dump(h, obj));
    try {
      const restored = await takeSnapshot(d1.backend, plans);
      expectSameSnapshot({ ...restored, schema: [] }, { ...source, schema: [] }, "d1");
      // The same SQL but for whitespace, the case of END and the comment wrangler drops.
      const loose = (rows: string[]) => rows.map((r) => r.replace(/--.*$/, "").replace(/\s+/g, "").toUpperCase());
      expect(loose(restored.schema)).toEqual(loose(source.schema));
      expect(restored.schema).not.toEqual(source.schema);
      expect(await d1.backend.all("SELECT * FROM v ORDER BY a")).toEqual(await doBackend(obj).all("SELECT * FROM v ORDER BY a"));
      // The trigger fires in D1 as it did at the source.
      expect(execFileSync("sqlite3", ["-bail", d1.path, "INSERT INTO t VALUES (5, 'x'); SELECT b FROM t WHERE a = 5;"], { encoding: "utf8" })).toBe("big\n");
    } finally {
      d1.dispose();
    }
  });

  test("holding the text BEGIN TRANSACTION is refused when the job starts", async () => {
    await obj.exec(["CREATE TABLE tx (note TEXT DEFAULT 'BEGIN TRANSACTION')"]);
    await expect(obj.start({ format: "sql", dialect: "d1" })).rejects.toThrow(/UNSUPPORTED_SCHEMA: Table tx/);
    expect((await obj.start({ format: "sql", dialect: "d1", exclude: ["tx"] })).state).toBe("queued");
  });
});
