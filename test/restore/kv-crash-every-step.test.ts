import { createHash } from "node:crypto";
import { expect, test } from "vitest";
import type { DumpManifest } from "../../src/index.js";
import { doBackend } from "../harness/backends.js";
import { type TablePlan, planTables, takeSnapshot } from "../harness/snapshot.js";
import { describeRestoreCrashes } from "./crash-suite.js";
import type { RestoreObject } from "./harness.js";

/**
 * A restore of an SQL dump and its key-value file, in one job, broken at every I/O step
 * (crash-suite.ts). The file is three parts long: values near the 2 MB limit (every other one
 * incompressible), a few hundred small entries and one of every structured-clone type. Each part
 * is verified before use, and the entries are written in batches, each committed with its
 * checkpoint, into objects holding entries of their own, which `replace` deletes first. Every run
 * ends with the tables and `ctx.storage.list()` of the undisturbed run, type for type. The
 * restart test (restart.test.ts) resumes a gzip file from a recorded segment start.
 */

const MiB = 1024 * 1024;
let plans: TablePlan[];
let sourceDigest: string;

async function digest(obj: RestoreObject): Promise<string> {
  const state = { tables: await takeSnapshot(doBackend(obj), plans), entries: await obj.kvDescribe() };
  return createHash("sha256").update(JSON.stringify(state)).digest("hex");
}

describeRestoreCrashes("a crash at any I/O step of a multi-part key-value restore leaves the same entries", {
  // 25 ms per read of the clock: a tick of 100 ms commits a few batches.
  config: { tickBudgetMs: 100, clockStepMs: 25, faultSql: true },
  perKind: Number(process.env.DD_RESTORE_FAULTS_PER_KIND ?? 6),
  kinds: ["r2.head", "r2.get", "storage.put", "storage.transactionSync", "storage.kv.put", "storage.kv.delete", "sql.exec", "storage.delete"],
  async prepare(h) {
    const source = h.object();
    await source.exec(["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t VALUES (1, 'one'), (2, 'two')"]);
    await source.kvSeedCases();
    await source.kvSeed(300, 6);
    const dump = await source.dump({ format: "sql", kv: true });
    plans = await planTables(doBackend(source));
    sourceDigest = await digest(source);
    return { key: dump.outputs[0]!.key, replace: true };
  },
  async prepareTarget(obj) {
    await obj.kvPut(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`old:${i}`, { i }])));
  },
  digest,
  baselineTests(run) {
    test("the undisturbed run restores the source's tables and entries from a key-value file of several parts", async () => {
      const { h, status, digest: restored } = run();
      expect(restored).toBe(sourceDigest);
      expect(status.sources.map((s) => s.kind)).toEqual(["sql", "kv"]);
      const manifest = JSON.parse(Buffer.from(await h.readObject(status.source.manifestKey!)).toString()) as DumpManifest;
      const kvObject = manifest.objects.find((o) => o.kv)!;
      expect(kvObject.parts.length).toBe(3);
      expect(kvObject.bytes).toBeGreaterThan(10 * MiB);
      expect(status.progress.kvEntriesRestored).toBe(manifest.kv!.entries);
    });

    test("the entries span several ticks, each ending with a checkpoint amid them", () => {
      const { status, ticks } = run();
      const amid = new Set(ticks.map((t) => t.progress.kvEntriesRestored).filter((n) => n > 0 && n < status.progress.kvEntriesRestored));
      expect(amid.size).toBeGreaterThanOrEqual(3);
    });
  },
});
