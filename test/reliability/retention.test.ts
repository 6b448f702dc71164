import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRelHarness, drive, type RelHarness, type RelObject } from "./harness.js";

/**
 * Bounded state: finished jobs are capped (maxRetainedJobs), a tick, start() and a page of
 * list() read the records they need and not every record, and no stored value grows with the
 * number of tables.
 */

/** Keys of job records themselves (not their index entries or pages). */
const RECORD = /^durable-dump:job:\d{8}T\d{9}Z-[0-9a-z]{8}$/;

describe("bounded job history", () => {
  let h: RelHarness;
  beforeAll(async () => {
    h = await createRelHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function finishedJobs(obj: RelObject, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = (await obj.start({ format: "csv" })).result!.id;
      expect((await drive(obj, id)).state).toBe("completed");
      ids.push(id);
    }
    return ids;
  }

  test("maxRetainedJobs caps the finished records: the oldest go first, with everything they stored", async () => {
    const obj = h.object();
    await obj.config({ tickBudgetMs: 1_000, raw: { maxRetainedJobs: 3 } });
    await obj.seed(5, 10);
    const ids = await finishedJobs(obj, 6);
    await obj.tick();
    expect((await obj.list()).map((s) => s.id)).toEqual(ids.slice(3));
    for (const id of ids.slice(0, 3)) {
      expect((await obj.status(id)).result, id).toBeNull();
      expect((await obj.keys("durable-dump:")).filter((k) => k.includes(id))).toEqual([]);
    }
  });

  test("a tick, start() and a page of list() do not read every record", async () => {
    const obj = h.object();
    await obj.config({ tickBudgetMs: 1_000, maxQueuedJobs: 1_000 });
    await obj.seed(5, 10);
    const ids = await finishedJobs(obj, 40);
    const recordsRead = async () => (await obj.io()).reads.filter((k) => RECORD.test(k));

    await obj.ok("reset-io");
    const idle = await obj.tick();
    expect(idle.result?.jobId).toBeNull();
    expect(await recordsRead(), "an idle tick reads no record").toEqual([]);

    await obj.ok("reset-io");
    const page = await obj.list({ limit: 5, after: ids[9] });
    expect(page.map((s) => s.id)).toEqual(ids.slice(10, 15));
    expect(await recordsRead(), "a page of list() reads its own records").toEqual(ids.slice(10, 15).map((id) => `durable-dump:job:${id}`));

    await obj.ok("reset-io");
    const started = (await obj.start({ format: "csv" })).result!.id;
    expect(await recordsRead(), "start() reads no record").toEqual([]);
    await obj.ok("reset-io");
    await obj.tick();
    expect(new Set(await recordsRead()), "a tick reads the job it works on, and no other").toEqual(new Set([`durable-dump:job:${started}`]));
  });

  test("no stored value grows with the tables: 300 tables with long names, one object each", async () => {
    const obj = h.object();
    await obj.config({ tickBudgetMs: 2_000 });
    const tables = Array.from({ length: 300 }, (_, i) => `table_${String(i).padStart(3, "0")}_${"n".repeat(110)}`);
    await obj.exec(tables.flatMap((t) => [`CREATE TABLE ${t} (v)`, `INSERT INTO ${t} VALUES ('${t}')`]));
    const id = (await obj.start({ format: "csv" })).result!.id;
    let largest = 0;
    let largestRecord = 0;
    const measure = async () => {
      const sizes = await obj.valueSizes();
      largest = Math.max(largest, ...Object.values(sizes));
      largestRecord = Math.max(largestRecord, sizes[`durable-dump:job:${id}`] ?? 0);
    };
    const done = await drive(obj, id, { afterTick: measure });
    await measure();
    expect(done.state).toBe("completed");
    expect(done.outputs).toHaveLength(300);
    // The record holds page sizes, not lists; a page closes at 256 KiB by estimate (2 bytes per character).
    expect(largestRecord, "the job record").toBeLessThanOrEqual(16 * 1024);
    expect(largest, "any stored value").toBeLessThanOrEqual(256 * 1024);
  });
});
