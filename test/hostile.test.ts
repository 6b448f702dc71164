import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SqlBackend } from "./harness/backends.js";
import { expectSameSnapshot } from "./harness/compare.js";
import { importIntoD1 } from "./harness/d1.js";
import { runToCompletion } from "./harness/drive.js";
import { readSingleOutput } from "./harness/dump.js";
import type { HostObject } from "./harness/host-client.js";
import { closedSchemaSql, hostileStatements } from "./harness/hostile.js";
import type { Harness } from "./harness/miniflare.js";
import { seededObject } from "./harness/corpus-object.js";
import { restoreWithSqlite3, restoreWithSqlJs } from "./harness/restore.js";
import { takeSnapshot, type Snapshot, type TablePlan } from "./harness/snapshot.js";

/**
 * A database whose names, sequences, schema SQL and values hold SQL (test/harness/hostile.ts):
 * every dump of it restores exactly, and no restore runs any of that SQL.
 */
describe("hostile text in every place a dump copies from the database", () => {
  let h: Harness;
  let obj: HostObject;
  let plans: TablePlan[];
  let source: Snapshot;

  beforeAll(async () => {
    ({ h, obj, plans, source } = await seededObject(hostileStatements(), { tickBudgetMs: 100, clockStepMs: 1000 }));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function dump(dialect?: "sqlite3" | "d1", evictions = false): Promise<Uint8Array> {
    const started = await obj.start({ format: "sql", ...(dialect ? { dialect } : {}) });
    const { status } = await runToCompletion(obj, started.id, evictions ? { afterTick: () => obj.evict() } : {});
    return (await readSingleOutput(h, status)).bytes;
  }

  async function expectCanary(db: SqlBackend): Promise<void> {
    expect(await db.all("SELECT x FROM canary")).toEqual([["alive"]]);
  }

  test("the source holds what the test means it to", () => {
    expect(source.sequences).toHaveLength(4);
    expect(source.sequences.some((s) => s.includes("=text:") && s.includes("3B2044524F50"))).toBe(true);
    expect(source.schema.some((r) => r.startsWith("view|open_comment|") && r.includes("/*"))).toBe(true);
  });

  test("sqlite3 dialect: the sqlite3 CLI and sql.js restore it exactly, without running any of it", async () => {
    const bytes = await dump();
    const expected = { ...source, schema: source.schema.map(closedSchemaSql) };
    const cli = restoreWithSqlite3(bytes);
    try {
      await expectCanary(cli.backend);
      expectSameSnapshot(await takeSnapshot(cli.backend, plans), expected, "sqlite3");
    } finally {
      cli.dispose();
    }
    const js = await restoreWithSqlJs(bytes);
    try {
      await expectCanary(js.backend);
      expectSameSnapshot(await takeSnapshot(js.backend, plans), expected, "sql.js");
    } finally {
      js.dispose();
    }
  });

  test("d1 dialect: wrangler's local D1 imports it value for value, without running any of it", async () => {
    const d1 = importIntoD1(await dump("d1"));
    try {
      await expectCanary(d1.backend);
      const restored = await takeSnapshot(d1.backend, plans);
      // wrangler drops comments from the statements it sends; everything else is as stored.
      const names = (s: Snapshot) => s.schema.map((r) => r.split("|").slice(0, 3).join("|"));
      expect(names(restored)).toEqual(names(source));
      expectSameSnapshot({ ...restored, schema: [] }, { ...source, schema: [] }, "d1");
    } finally {
      d1.dispose();
    }
  });

  test("d1 dialect: an export evicted after every tick writes the same bytes", async () => {
    const [undisturbed, evicted] = [await dump("d1"), await dump("d1", true)];
    expect(Buffer.from(evicted).equals(Buffer.from(undisturbed))).toBe(true);
  });
});
