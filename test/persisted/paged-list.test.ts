import { Miniflare } from "miniflare";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bundleWorker } from "../../tools/bundle-worker.mjs";
import type { ListRun } from "./worker.js";

// The paged lists that keep a job's part list, table plan and objects out of its record: however
// many items, every stored page stays far below the 2 MB a value may hold, and reads back whole.
describe("paged lists in Durable Object storage", () => {
  let mf: Miniflare;
  beforeAll(async () => {
    const root = join(import.meta.dirname, "..", "..");
    const scriptPath = await bundleWorker({ entry: join(root, "test", "persisted", "worker.ts"), outfile: join(root, "test", ".tmp", "paged-list.js") });
    mf = new Miniflare({ modules: true, scriptPath, compatibilityDate: "2025-04-01", durableObjects: { LISTS: { className: "ListHost", useSQLite: true } } });
    await mf.ready;
  });
  afterAll(async () => {
    await mf?.dispose();
  });

  async function run(body: ListRun): Promise<{ sizes: number[]; pageBytes: number[]; same: boolean; lastMatches: boolean }> {
    const res = await mf.dispatchFetch("http://lists/", { method: "POST", body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as never;
  }

  test("10,000 parts (R2's most for one object): 10 pages of 1,000", async () => {
    const r = await run({ kind: "parts", count: 10_000 });
    expect(r.sizes).toEqual(Array(10).fill(1_000));
    expect(Math.max(...r.pageBytes)).toBeLessThan(256 * 1024);
    expect([r.same, r.lastMatches]).toEqual([true, true]);
  });

  test("5,000 table names of 300 two-byte characters: pages close at 256 KiB", async () => {
    const r = await run({ kind: "plan", count: 5_000, nameLength: 300 });
    expect(r.sizes.reduce((a, b) => a + b, 0)).toBe(5_000);
    expect(r.sizes.length).toBeGreaterThan(10);
    // JSON holds "é" in 2 bytes of UTF-8, as the estimate counts every character.
    expect(Math.max(...r.pageBytes)).toBeLessThanOrEqual(256 * 1024);
    expect([r.same, r.lastMatches]).toEqual([true, true]);
  });
});
