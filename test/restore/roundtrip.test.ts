import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DumpStatus } from "../../src/index.js";
import { type SqlBackend, doBackend } from "../harness/backends.js";
import { expectSameSnapshot } from "../harness/compare.js";
import { bigDataStatements } from "../harness/big-data.js";
import { CORPUS_PROBES, corpusStatements } from "../harness/corpus.js";
import { type Snapshot, type TablePlan, takeSnapshot } from "../harness/snapshot.js";
import { expectSplitsLikeSqlite } from "./oracle.js";
import { driveRestore, type RestoreHarness, type RestoreObject, restore, seededSource } from "./harness.js";

/** Answers of the probe queries (FTS5 matches, views, counts), as JSON. */
async function probes(db: SqlBackend): Promise<string[]> {
  const out: string[] = [];
  for (const q of CORPUS_PROBES) out.push(`${q} => ${JSON.stringify(await db.all(q))}`);
  return out;
}

describe("a dump of the corpus restores into another object exactly", () => {
  let h: RestoreHarness;
  let source: RestoreObject;
  let plans: TablePlan[];
  let expected: Snapshot;

  beforeAll(async () => {
    ({ h, source, plans, expected } = await seededSource(corpusStatements()));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test.each([
    [false, "sqlite3"],
    [true, "sqlite3"],
    [false, "d1"],
    [true, "d1"],
  ] as const)("gzip %s, dialect %s, in many small ticks", async (gzip, dialect) => {
    const dump: DumpStatus = await source.dump({ format: "sql", gzip, dialect });
    expect(dump.state).toBe("completed");
    // The splitter cuts this library's dump where SQLite does (sqlite3_complete()).
    if (!gzip) expectSplitsLikeSqlite(await h.readObject(dump.outputs[0]!.key), [[1 << 20], [4093]]);
    const target = h.object();
    await target.config({ tickBudgetMs: 100, clockStepMs: 30 });
    const status = await restore(target, { key: dump.outputs[0]!.key });
    expect(status.error, JSON.stringify(status)).toBeNull();
    expect(status.state).toBe("completed");
    expect(status.source.manifestKey).toBe(dump.manifestKey);
    expect(status.foreignKeyViolations).toBe(0);
    expectSameSnapshot(await takeSnapshot(doBackend(target), plans), expected, "restored");
    expect(await probes(doBackend(target))).toEqual(await probes(doBackend(source)));
    expect(await target.keys("durable-dump:restore-parts:")).toEqual([]);
  });
});

describe("rows of every size, up to 1.5 MB", () => {
  let h: RestoreHarness;
  let source: RestoreObject;
  let plans: TablePlan[];
  let expected: Snapshot;

  beforeAll(async () => {
    ({ h, source, plans, expected } = await seededSource(bigDataStatements({ hugeRows: 6, mediumRows: 20, smallRows: 2_000 })));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test.each([
    [false, "sqlite3"],
    [true, "sqlite3"],
    [false, "d1"],
  ] as const)("gzip %s, dialect %s, evicted after every tick", async (gzip, dialect) => {
    const dump = await source.dump({ format: "sql", gzip, dialect });
    const target = h.object();
    await target.config({ tickBudgetMs: 100, clockStepMs: 10 });
    const started = await target.start({ key: dump.outputs[0]!.key });
    const status = await driveRestore(target, started.result!.id, { afterTick: () => target.ok("evict") });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expectSameSnapshot(await takeSnapshot(doBackend(target), plans), expected, "restored");
  });

  test("the host keeps serving: requests are answered between the slices of a restore driven by real alarms", async () => {
    const dump = await source.dump({ format: "sql" });
    const target = h.object();
    await target.config({ clock: "real", tickBudgetMs: 1_000 });
    const started = await target.start({ key: dump.outputs[0]!.key });
    const id = started.result!.id;
    // Each answer tells how far the restore's last checkpoint was when the request ran.
    const seen = new Set<number>();
    let status = started.result!;
    while (status.state === "queued" || status.state === "running") {
      const ping = await target.ok<{ statements: number | null }>("ping", { id });
      if (ping.statements !== null) seen.add(ping.statements);
      status = (await target.status(id))!;
    }
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    const between = [...seen].filter((n) => n > 0 && n < status.progress.statements);
    // At least two different checkpoints seen mid-restore: requests ran between slices, more than once.
    // (How many depends on the machine's load, so the test asks for no more.)
    expect(between.length, `checkpoints seen by requests: ${[...seen].join(", ")}`).toBeGreaterThanOrEqual(2);
    expectSameSnapshot(await takeSnapshot(doBackend(target), plans), expected, "restored");
  });
});
