import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Harness } from "./harness/miniflare.js";
import type { HostObject } from "./harness/host-client.js";
import { CORPUS_FTS5_PROBES, CORPUS_FTS5_TABLES, CORPUS_PROBES } from "./harness/corpus.js";
import { corpusObject } from "./harness/corpus-object.js";
import type { SqlBackend } from "./harness/backends.js";
import { takeSnapshot, type Snapshot, type TablePlan } from "./harness/snapshot.js";
import { expectSameSnapshot, probeAnswers } from "./harness/compare.js";
import { runToCompletion } from "./harness/drive.js";
import { readSingleOutput } from "./harness/dump.js";
import { restoreWithSqlite3, restoreWithSqlJs } from "./harness/restore.js";

/**
 * Every read of the engine's clock advances it this much; with a 100 ms budget, 1,000 ms means a
 * tick's deadline has passed by its first check, so each tick may do only its one guaranteed step.
 * (DD_TEST_CLOCK_STEP_MS overrides it when investigating.)
 */
const CLOCK_STEP_MS = Number(process.env.DD_TEST_CLOCK_STEP_MS ?? 1000);

describe("SQL dump round trip of the tricky corpus", () => {
  let h: Harness;
  let obj: HostObject;
  let src: SqlBackend;
  let plans: TablePlan[];
  let source: Snapshot;

  beforeAll(async () => {
    ({ h, obj, src, plans, source } = await corpusObject(CLOCK_STEP_MS));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("the corpus holds what it should (sanity of the source)", async () => {
    expect(source.sequences).toEqual(["audit=2", "orders=13"]);
    // -0.0 kept its sign in the untyped column (REAL affinity would store integer 0).
    expect(source.tables["values"]!.some((r) => r.endsWith("real:8000000000000000"))).toBe(true);
    expect(source.tables["sizes"]!.some((r) => /blob:#1900000:/.test(r))).toBe(true);
  });

  test("full dump in many tiny ticks restores exactly with the sqlite3 CLI", async () => {
    const started = await obj.start({ format: "sql" });
    const { status, ticks } = await runToCompletion(obj, started.id);
    const { bytes } = await readSingleOutput(h, status);
    console.log(`corpus dump: ${ticks} ticks, ${bytes.byteLength} bytes`);
    expect(ticks, "the fake clock should force many ticks").toBeGreaterThan(10);
    expect(status.progress.tablesDone).toBe(status.progress.tablesTotal);

    const text = Buffer.from(bytes).toString("utf8");
    expect(text).not.toMatch(/_cf_/);
    const db = restoreWithSqlite3(bytes);
    try {
      expectSameSnapshot(await takeSnapshot(db.backend, plans), source, "sqlite3");
      expect(await probeAnswers(db.backend, CORPUS_PROBES)).toEqual(await probeAnswers(src, CORPUS_PROBES));
      expect(db.run("PRAGMA integrity_check;")).toBe("ok\n");
      expect(db.run("PRAGMA foreign_key_check;")).toBe("");
      for (const fts of CORPUS_FTS5_TABLES) db.run(`INSERT INTO ${fts}(${fts}) VALUES('integrity-check');`);
      // The restored AUTOINCREMENT counter continues after the deleted rows, and triggers work.
      expect(db.run("INSERT INTO orders (customer) VALUES ('after restore'); SELECT max(id) FROM orders; SELECT count(*) FROM audit;")).toBe("14\n2\n");
    } finally {
      db.dispose();
    }
  });

  test("dump without FTS5 tables restores exactly with sql.js", async () => {
    // The stock sql.js build has no FTS5 module, so those tables are left out of this job.
    const keep = (t: string) => !CORPUS_FTS5_TABLES.some((f) => t === f || t.startsWith(f + "_"));
    const started = await obj.start({ format: "sql", exclude: CORPUS_FTS5_TABLES });
    const { status } = await runToCompletion(obj, started.id);
    const { bytes } = await readSingleOutput(h, status);
    const db = await restoreWithSqlJs(bytes);
    try {
      const subset = plans.filter((p) => keep(p.name));
      const expected = await takeSnapshot(src, subset, { include: keep });
      // Views that read only exported tables are kept, with the indexes and triggers of those tables.
      expect(expected.schema.some((r) => r.startsWith("view|"))).toBe(true);
      expectSameSnapshot(await takeSnapshot(db.backend, subset, { include: keep }), expected, "sql.js");
      const queries = CORPUS_PROBES.filter((q) => !CORPUS_FTS5_PROBES.has(q));
      queries.push(`SELECT count(*) FROM orders`, `SELECT id, total FROM orders WHERE total > 100 ORDER BY total`);
      expect(await probeAnswers(db.backend, queries)).toEqual(await probeAnswers(src, queries));
      // sql.js hands back doubles as JS numbers: -0.0 must keep its sign.
      const negZero = db.db.exec(`SELECT v FROM "values" WHERE label = '-0.0'`)[0]!.values[0]![0];
      expect(Object.is(negZero, -0)).toBe(true);
      const anyZero = db.db.exec(`SELECT a FROM strict_t WHERE id = 1`)[0]!.values[0]![0];
      expect(Object.is(anyZero, -0)).toBe(true);
    } finally {
      db.dispose();
    }
  });
});
