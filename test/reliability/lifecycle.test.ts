import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRelHarness, drive, type RelHarness, type RelObject } from "./harness.js";

/** Several jobs, aborts, unknown ids, idle ticks, writes during an export, retention and delete. */

const MiB = 1024 * 1024;

describe("concurrency and lifecycle", () => {
  let h: RelHarness;
  beforeAll(async () => {
    h = await createRelHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function fresh(config: Record<string, unknown> = {}, rows = 300): Promise<RelObject> {
    const obj = h.object();
    await obj.config({ tickBudgetMs: 100, partSize: 5 * MiB, clockStepMs: 20, ...config });
    await obj.seed(rows, 2000);
    return obj;
  }

  test("jobs run one after another in FIFO order, up to maxQueuedJobs, and start twice gives two jobs", async () => {
    const obj = await fresh({ maxQueuedJobs: 3 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await obj.start()).result!.id);
    expect(new Set(ids).size).toBe(3);
    const before = await obj.keys();
    const refused = await obj.start();
    expect(refused.error?.code).toBe("TOO_MANY_JOBS");
    expect(await obj.keys(), "nothing persisted when refused").toEqual(before);
    const order: string[] = [];
    for (let n = 0; n < 500; n++) {
      const r = (await obj.tick()).result!;
      if (r.jobId && order.at(-1) !== r.jobId) order.push(r.jobId);
      if (!r.more) break;
    }
    expect(order).toEqual(ids);
    const st = await Promise.all(ids.map(async (id) => (await obj.status(id)).result!));
    expect(st.map((s) => s.state)).toEqual(["completed", "completed", "completed"]);
    expect(st[1]!.startedAt!).toBeGreaterThanOrEqual(st[0]!.finishedAt!);
    expect(st[2]!.startedAt!).toBeGreaterThanOrEqual(st[1]!.finishedAt!);
    const [a, b] = await Promise.all(st.slice(0, 2).map((s) => h.readObject(s.outputs[0]!.key)));
    expect(Buffer.from(a!).equals(Buffer.from(b!))).toBe(true);
    expect((await obj.start()).result?.state, "a slot is free again").toBe("queued");
  });

  test("unknown ids, bad ids, finished jobs and idle ticks", async () => {
    const obj = await fresh();
    const unknown = "20300101T000000000Z-aaaaaaaa";
    expect((await obj.status(unknown)).result).toBeNull();
    expect((await obj.abort(unknown)).result).toBeNull();
    expect((await obj.delete(unknown)).result).toBe(false);
    expect((await obj.status("../etc")).result).toBeNull();
    for (const bad of [42, true, { x: 1 }, ["a"]]) {
      expect((await obj.status(bad)).error?.code).toBe("INVALID_ARGUMENT");
      expect((await obj.abort(bad)).error?.code).toBe("INVALID_ARGUMENT");
      expect((await obj.delete(bad)).error?.code).toBe("INVALID_ARGUMENT");
    }
    const id = (await obj.start()).result!.id;
    expect((await obj.delete(id)).error?.code).toBe("JOB_ACTIVE");
    const done = await drive(obj, id);
    expect(done.state).toBe("completed");
    for (let n = 0; n < 5 && (await obj.tick()).result!.more; n++);
    const again = (await obj.abort(id)).result!;
    expect(again.state).toBe("completed");
    expect(again.updatedAt).toBe(done.updatedAt);
    // A tick with nothing to do writes nothing.
    await obj.ok("reset-io");
    const idle = (await obj.tick()).result!;
    expect(idle).toEqual({ jobId: null, state: null, more: false });
    expect((await obj.io()).writes).toEqual({});
  });

  test("abort during a running tick stops the job and frees its state", async () => {
    const obj = await fresh({ tickBudgetMs: 5_000, clockStepMs: 1 }, 3000);
    const id = (await obj.start()).result!.id;
    const ticking = obj.tick();
    const aborted = await obj.abort(id);
    const r = await ticking;
    expect(aborted.result?.state).toBe("aborted");
    expect(r.error).toBeUndefined();
    expect((await obj.status(id)).result!.state).toBe("aborted");
    for (let n = 0; n < 5 && (await obj.tick()).result!.more; n++);
    expect((await obj.keys("durable-dump:")).filter((k) => !k.startsWith("durable-dump:job:"))).toEqual([]);
  });

  test.each([
    ["sql", ["durable-dump/ID.sql"]],
    ["csv", ["durable-dump/ID/big.csv", "durable-dump/ID/small.csv"]],
  ])("an abort saved while a tick completes the %s upload leaves no object behind", async (format, keys) => {
    const obj = await fresh({ tickBudgetMs: 5_000, clockStepMs: 1 });
    const id = (await obj.start({ format })).result!.id;
    await obj.fault({ failAt: null, mode: "throw", abortAfter: "r2.complete" });
    for (let n = 0; n < 10 && (await obj.tick()).result!.more; n++);
    const status = (await obj.status(id)).result!;
    expect(status.state).toBe("aborted");
    expect(status.outputs.filter((o) => o.complete)).toEqual([]);
    for (const key of [...keys, "durable-dump/ID.manifest.json"]) expect(await h.readObject(key.replace("ID", id)), key).toBeNull();
  });

  test("writes during an export: stable rows exactly once, changed rows in one of their versions, DDL tolerated", async () => {
    const obj = await fresh({}, 3000);
    await obj.exec([
      "CREATE TABLE live (id INTEGER PRIMARY KEY, v TEXT)",
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) INSERT INTO live SELECT i, 'old' || i FROM c",
      "CREATE TABLE doomed (x)",
      "INSERT INTO doomed VALUES (1)",
    ]);
    const id = (await obj.start()).result!.id;
    for (let n = 0; n < 3; n++) await obj.tick();
    await obj.exec([
      "UPDATE live SET v = 'new' || id WHERE id % 10 = 0",
      "DELETE FROM live WHERE id % 7 = 0",
      "INSERT INTO live VALUES (5000, 'added')",
      "DROP TABLE doomed",
      "CREATE TABLE born (y)",
    ]);
    const st = await drive(obj, id);
    expect(st.state).toBe("completed");
    const text = Buffer.from((await h.readObject(st.outputs[0]!.key))!).toString("utf8");
    const seen = new Map<number, string[]>();
    for (const m of text.matchAll(/^INSERT INTO "live" VALUES\((\d+),'([^']*)'\);$/gm)) {
      const k = Number(m[1]);
      seen.set(k, [...(seen.get(k) ?? []), m[2]!]);
    }
    for (let i = 1; i <= 3000; i++) {
      const got = seen.get(i) ?? [];
      if (i % 7 === 0) expect(got.length, `deleted row ${i}`).toBeLessThanOrEqual(1);
      else expect(got.length, `row ${i}`).toBe(1);
      if (got.length === 1) expect([`old${i}`, i % 10 === 0 ? `new${i}` : `old${i}`]).toContain(got[0]);
    }
  });

  test("a table dropped while its rows are being written still ends a valid JSON document", async () => {
    const obj = await fresh({}, 10);
    await obj.exec([
      "CREATE TABLE doomed (id INTEGER PRIMARY KEY, v TEXT)",
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) INSERT INTO doomed SELECT i, 'v' || i FROM c",
      "CREATE TABLE after_it (x)",
      "INSERT INTO after_it VALUES (1)",
    ]);
    const id = (await obj.start({ format: "json" })).result!.id;
    let dropped = false;
    for (let n = 0; n < 2000 && !dropped; n++) {
      await obj.tick();
      const progress = (await obj.status(id)).result!.progress;
      if (progress.currentTable === "doomed" && progress.rowsWritten > 10) {
        await obj.exec(["DROP TABLE doomed"]);
        dropped = true;
      }
    }
    expect(dropped, "the drop happened while doomed was being written").toBe(true);
    const st = await drive(obj, id);
    expect(st.state).toBe("completed");
    const doc = JSON.parse(Buffer.from((await h.readObject(st.outputs[0]!.key))!).toString("utf8")) as Record<string, unknown[]>;
    expect(doc.doomed!.length).toBeGreaterThan(0);
    expect(doc.doomed!.length).toBeLessThan(20000);
    expect(doc.after_it).toEqual([{ x: 1 }]);
  });

  test("finished jobs are purged after retentionMs, their objects kept until delete()", async () => {
    const obj = await fresh({ retentionMs: 60_000 });
    const id = (await obj.start()).result!.id;
    const st = await drive(obj, id);
    const key = st.outputs[0]!.key;
    expect(await h.readObject(key)).not.toBeNull();
    expect((await obj.list()).map((j) => j.id)).toEqual([id]);
    await obj.ok("clock", { advanceMs: 61_000 });
    expect(await obj.list()).toEqual([]);
    expect((await obj.status(id)).result).toBeNull();
    expect(await h.readObject(key), "R2 output is never purged").not.toBeNull();

    const id2 = (await obj.start()).result!.id;
    const st2 = await drive(obj, id2);
    expect((await obj.delete(id2)).result).toBe(true);
    expect(await h.readObject(st2.outputs[0]!.key)).toBeNull();
    if (st2.manifestKey) expect(await h.readObject(st2.manifestKey)).toBeNull();
    expect((await obj.status(id2)).result).toBeNull();
    expect((await obj.delete(id2)).result).toBe(false);
  });
});
