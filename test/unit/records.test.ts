import { describe, expect, test } from "vitest";
import { DumpError } from "../../src/errors.js";
import { DUMP_RECORD_VERSION, LIST_LIMITS } from "../../src/persisted/dump-record.js";
import { parseDumpRecord } from "../../src/persisted/dump-record-versions.js";
import { isJobId, newJobId } from "../../src/persisted/job-id.js";
import { JobStore } from "../../src/persisted/job-store.js";
import { keys } from "../../src/persisted/keys.js";
import { PagedList, paginate } from "../../src/persisted/paged-list.js";
import { ShapeError, count, string } from "../../src/persisted/shape.js";
import { MemoryStorage } from "./memory-storage.js";

/** A version 1 record as release 0.1.0 wrote it: a running SQL dump with one part uploaded and one table done. */
function recordV1(state = "running") {
  return {
    v: 1,
    id: "20261125T201648123Z-4k7q2m9x",
    state,
    format: "sql",
    partSize: 5_242_880,
    options: { schema: true, data: true, tables: null, exclude: [], gzip: false },
    keyBase: "durable-dump/20261125T201648123Z-4k7q2m9x",
    tables: ["users", "orders"],
    cursor: { step: "rows", table: 1, key: [{ t: "i", v: "9223372036854775807" }], rowsInTable: 184_467, snapshot: null, written: 2 },
    upload: {
      key: "durable-dump/20261125T201648123Z-4k7q2m9x.sql",
      uploadId: "u1",
      table: null,
      parts: [{ partNumber: 1, etag: "e1", size: 5_242_880, sha256: "ab".repeat(32) }],
      tailLength: 1_048_576,
    },
    outputs: [],
    stats: { rowsWritten: 284_467, tablesDone: 1, tableRows: [100_000] },
    createdAt: 1_795_637_808_123,
    startedAt: 1_795_637_808_150,
    updatedAt: 1_795_637_810_150,
    finishedAt: null,
    databaseSize: 52_428_800,
    error: null,
    attempts: 0,
    retryAt: null,
    seq: 12,
  };
}

describe("export records", () => {
  test("version 1 is migrated to version 2, its lists into pages", () => {
    const { record, pages } = parseDumpRecord(recordV1(), "k");
    expect(record.v).toBe(DUMP_RECORD_VERSION);
    expect(record.tableCount).toBe(2);
    expect(record.upload).toMatchObject({ partCount: 1, uploadedBytes: 5_242_880, tailLength: 1_048_576, object: 0, partPages: [1] });
    expect(record.cursor).toMatchObject({ step: "rows", table: 1, key: [{ t: "i", v: "9223372036854775807" }] });
    const id = record.id;
    expect(pages).toEqual({
      [keys.scratchPage("plan", id, 0)]: ["users", "orders"],
      [keys.scratchPage("rows", id, 0)]: [100_000],
      [keys.scratchPage("parts", id, 0, 0)]: [{ partNumber: 1, etag: "e1", size: 5_242_880, sha256: "ab".repeat(32), segment: null }],
    });
    expect(parseDumpRecord(record, "k").record).toEqual(record);
  });

  test("an ended version 1 record keeps no running lists", () => {
    const { record, pages } = parseDumpRecord({ ...recordV1("completed"), upload: null, finishedAt: 1, manifestKey: "m" }, "k");
    expect(record.plan).toEqual([]);
    expect(Object.keys(pages)).toEqual([]);
    expect(record.manifestKey).toBe("m");
  });

  test("a damaged record or an unknown version names what is wrong", () => {
    expect(() => parseDumpRecord({ ...recordV1(), cursor: { step: "sideways" } }, "k")).toThrow(ShapeError);
    expect(() => parseDumpRecord({ ...recordV1(), state: 7 }, "k")).toThrow(/state: expected/);
    expect(() => parseDumpRecord({ ...recordV1(), v: 3 }, "k")).toThrow(/version 3 .* newer release/);
    expect(() => parseDumpRecord(null, "k")).toThrow(ShapeError);
  });

  test("the store upgrades a version 1 record as it reads it, and reports a damaged one as RECORD_UNREADABLE", async () => {
    const storage = new MemoryStorage();
    const store = new JobStore(storage, "job", parseDumpRecord);
    const old = recordV1();
    await storage.put({ [keys.record("job", old.id)]: old });
    expect((await store.index()).map((j) => [j.id, j.state])).toEqual([[old.id, "running"]]);
    const record = await store.load(old.id);
    expect(record?.v).toBe(2);
    expect((storage.map.get(keys.record("job", old.id)) as { v: number }).v).toBe(2);
    expect(storage.map.get(keys.scratchPage("plan", old.id, 0))).toEqual(["users", "orders"]);
    await storage.put({ [keys.record("job", old.id)]: { v: 2, id: old.id } });
    await expect(store.load(old.id)).rejects.toSatisfy((e) => e instanceof DumpError && e.code === "RECORD_UNREADABLE");
  });
});

describe("paged lists", () => {
  test("no page exceeds its limits, and a list read back from storage is the same", async () => {
    const storage = new MemoryStorage();
    const list = new PagedList(storage, (p) => `l:${p}`, [], string, LIST_LIMITS.plan);
    const names = Array.from({ length: 5_000 }, (_, i) => `table_${i}_${"x".repeat(i % 300)}`);
    for (const name of names) await list.push(name);
    await storage.put(list.dirtyEntries());
    list.markSaved();
    for (const page of list.pageKeys()) {
      const items = storage.map.get(page) as string[];
      expect(items.length).toBeLessThanOrEqual(LIST_LIMITS.plan.items);
      expect(items.reduce((sum, n) => sum + 2 * n.length + 8, 8)).toBeLessThanOrEqual(LIST_LIMITS.plan.bytes);
    }
    const again = new PagedList(storage, (p) => `l:${p}`, list.sizes, string, LIST_LIMITS.plan);
    expect(await again.all()).toEqual(names);
    expect(await again.at(4_321)).toBe(names[4_321]);
    await expect(again.at(5_000)).rejects.toThrow(RangeError);
    expect(paginate(names, LIST_LIMITS.plan).map((p) => p.length)).toEqual(list.sizes);
  });

  test("only the pages changed since the last save are written again", async () => {
    const storage = new MemoryStorage();
    const list = new PagedList(storage, (p) => `n:${p}`, [], count, { items: 10, bytes: 1_000 });
    for (let i = 0; i < 25; i++) await list.push(i);
    expect(Object.keys(list.dirtyEntries())).toEqual(["n:0", "n:1", "n:2"]);
    list.markSaved();
    await list.push(25);
    expect(list.dirtyEntries()).toEqual({ "n:2": [20, 21, 22, 23, 24, 25] });
  });

  test("a missing or short page is RECORD_UNREADABLE", async () => {
    const storage = new MemoryStorage();
    await storage.put({ "n:0": [1, 2] });
    await expect(new PagedList(storage, (p) => `n:${p}`, [3], count, { items: 10, bytes: 1_000 }).all()).rejects.toThrow(/holds 2 items, the record says 3/);
    await expect(new PagedList(storage, (p) => `m:${p}`, [1], count, { items: 10, bytes: 1_000 }).all()).rejects.toThrow(/missing/);
  });
});

test("job ids sort by creation time", () => {
  const ids = [0, 1, 1_000, 86_400_000].map((d) => newJobId(1_795_637_808_123 + d));
  expect([...ids].sort()).toEqual(ids);
  expect(ids.every(isJobId)).toBe(true);
  expect(isJobId("index")).toBe(false);
});
