import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { StartOptions } from "../../src/index.js";
import { corpusStatements } from "../harness/corpus.js";
import { runToCompletion } from "../harness/drive.js";
import type { HostObject } from "../harness/host-client.js";
import { createHarness, type Harness } from "../harness/miniflare.js";
import { readOutputs } from "./exports.js";
import { gunzipEverywhere, workerdGunzip } from "./gunzip.js";

const MiB = 1024 * 1024;

describe("gzip: one standard member across many ticks and evictions", () => {
  let h: Harness;
  let workerd: Awaited<ReturnType<typeof workerdGunzip>>;

  beforeAll(async () => {
    h = await createHarness();
    workerd = await workerdGunzip();
  });
  afterAll(async () => {
    await h?.dispose();
    await workerd?.dispose();
  });

  async function dump(obj: HostObject, options: StartOptions, evict: boolean) {
    const started = await obj.start(options);
    const { status } = await runToCompletion(obj, started.id, evict ? { afterTick: () => obj.evict() } : {});
    return { status, outputs: await readOutputs(h, status) };
  }

  test.each(["csv", "json", "ndjson", "sql"])("%s: every decoder reads back exactly the uncompressed export", async (format) => {
    const obj = h.object();
    await obj.exec(corpusStatements());
    await obj.config({ tickBudgetMs: 100, clockStepMs: 1000 });
    const plain = await dump(obj, { format }, false);
    const gz = await dump(obj, { format, gzip: true }, true);
    expect(gz.status.options.gzip).toBe(true);
    expect(gz.outputs.map((o) => o.table)).toEqual(plain.outputs.map((o) => o.table));
    const bucket = await h.mf.getR2Bucket("DUMPS");
    for (const [i, o] of gz.outputs.entries()) {
      expect(o.key).toBe(plain.outputs[i]!.key.replace(plain.status.id, gz.status.id) + ".gz");
      const head = await bucket.head(o.key);
      expect(head?.httpMetadata?.contentEncoding).toBe("gzip");
      const inflated = await gunzipEverywhere(o.bytes, workerd);
      expect(inflated.equals(Buffer.from(plain.outputs[i]!.bytes)), `${o.key} inflates to the plain export`).toBe(true);
    }
  });

  test("a multi-part gzip dump interrupted by evictions is byte-identical to an undisturbed one", async () => {
    const obj = h.object();
    // About 19 MB of SQL (blobs as hex) that compresses to about 10 MB: two parts of 5 MiB.
    await obj.exec([
      "CREATE TABLE bulk (id INTEGER PRIMARY KEY, payload BLOB, note TEXT)",
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 16) INSERT INTO bulk SELECT i, randomblob(600000), 'row ' || i FROM n",
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO bulk (payload, note) SELECT randomblob(i % 97), printf('small %d', i) FROM n",
    ]);
    await obj.config({ partSize: 5 * MiB, tickBudgetMs: 600_000 });
    const calm = await dump(obj, { format: "sql", gzip: true }, false);
    await obj.config({ partSize: 5 * MiB, tickBudgetMs: 100, clockStepMs: 1000 });
    const stormy = await dump(obj, { format: "sql", gzip: true }, true);
    expect(calm.status.outputs[0]!.parts).toBeGreaterThanOrEqual(2);
    expect(Buffer.from(stormy.outputs[0]!.bytes).equals(Buffer.from(calm.outputs[0]!.bytes)), "same bytes").toBe(true);
    const inflated = await gunzipEverywhere(stormy.outputs[0]!.bytes, workerd);
    expect(inflated.length).toBeGreaterThan(19_000_000);
  });
});
