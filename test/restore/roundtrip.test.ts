import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DumpStatus } from "../../src/index.js";
import { type SqlBackend, doBackend } from "../harness/backends.js";
import { expectSameSnapshot } from "../harness/compare.js";
import { CORPUS_PROBES, corpusStatements } from "../harness/corpus.js";
import { type Snapshot, type TablePlan, planTables, takeSnapshot } from "../harness/snapshot.js";
import { createRestoreHarness, type RestoreHarness, type RestoreObject, restore } from "./harness.js";

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
    h = await createRestoreHarness();
    source = h.object();
    await source.exec(corpusStatements());
    plans = await planTables(doBackend(source));
    expected = await takeSnapshot(doBackend(source), plans);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test.each([false, true])("gzip %s, in many small ticks", async (gzip) => {
    const dump: DumpStatus = await source.dump({ format: "sql", gzip });
    expect(dump.state).toBe("completed");
    const target = h.object();
    await target.config({ tickBudgetMs: 100, clockStepMs: 30 });
    const status = await restore(target, { key: dump.outputs[0]!.key });
    console.log(JSON.stringify(status));
    expect(status.error, JSON.stringify(status)).toBeNull();
    expect(status.state).toBe("completed");
    expect(status.source.manifestKey).toBe(dump.manifestKey);
    expect(status.foreignKeyViolations).toBe(0);
    expectSameSnapshot(await takeSnapshot(doBackend(target), plans), expected, "restored");
    expect(await probes(doBackend(target))).toEqual(await probes(doBackend(source)));
    expect(await target.keys("durable-dump:restore-parts:")).toEqual([]);
  });
});
