import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DumpManifest, DumpStatus, StartOptions } from "../../src/index.js";
import { runToCompletion } from "../harness/drive.js";
import { type HostObject, HostError } from "../harness/host-client.js";
import { createHarness, type Harness } from "../harness/miniflare.js";
import { readOutputs } from "./exports.js";
import { gunzipEverywhere, workerdGunzip } from "./gunzip.js";

const MiB = 1024 * 1024;
const NATIVE = ["nodejs_compat"];

/** About 19 MB of SQL (blobs as hex) that compresses to about 10 MB: two parts of 5 MiB, 70-odd segments. */
const BULK = [
  "CREATE TABLE bulk (id INTEGER PRIMARY KEY, payload BLOB, note TEXT)",
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 16) INSERT INTO bulk SELECT i, randomblob(600000), 'row ' || i FROM n",
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO bulk (payload, note) SELECT randomblob(i % 97), printf('small %d', i) FROM n",
];

/**
 * About 3 MB of compressible text (a dozen segments) with NULLs, reals, blobs and non-ASCII text,
 * the same in every object (no random values), so that dumps of two objects can be compared.
 */
const TEXTUAL = [
  "CREATE TABLE words (id INTEGER PRIMARY KEY, w TEXT, n REAL, b BLOB)",
  `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) INSERT INTO words SELECT i,
     CASE WHEN i % 17 = 0 THEN NULL ELSE printf('word %d of the list, ''%s'' é😀', i, hex(i * 7919)) END,
     i / 7.0, CASE WHEN i % 5 = 0 THEN CAST(printf('%08x', i * 2654435761 % 4294967296) AS BLOB) END FROM n`,
];

interface JobRecord {
  options: { gzip: boolean; gzipLevel: number; deflater: string };
}

async function dumpOn(h: Harness, obj: HostObject, options: StartOptions, evict: boolean) {
  const started = await obj.start(options);
  const { status } = await runToCompletion(obj, started.id, evict ? { afterTick: () => obj.evict() } : {});
  const record = await obj.kvValue<JobRecord>(`durable-dump:job:${status.id}`);
  return { status, record, outputs: await readOutputs(h, status) };
}

async function manifestOf(h: Harness, status: DumpStatus): Promise<DumpManifest> {
  return JSON.parse(Buffer.from(await h.readObject(status.manifestKey!)).toString("utf8")) as DumpManifest;
}

describe("gzip with native zlib (nodejs_compat) and with pako: the same bytes", () => {
  let pako: Harness;
  let native: Harness;
  let workerd: Awaited<ReturnType<typeof workerdGunzip>>;

  beforeAll(async () => {
    pako = await createHarness();
    native = await createHarness({ compatibilityFlags: NATIVE });
    workerd = await workerdGunzip();
  });
  afterAll(async () => {
    await pako?.dispose();
    await native?.dispose();
    await workerd?.dispose();
  });

  test.each([1, 6, 9] as const)("level %i: both engines write identical objects that every decoder reads back as the plain export", async (level) => {
    const [a, b] = [pako.object(), native.object()];
    for (const obj of [a, b]) {
      await obj.exec(TEXTUAL);
      await obj.config({ tickBudgetMs: 100, clockStepMs: 1000 });
    }
    const plain = await dumpOn(pako, a, { format: "sql" }, false);
    const viaPako = await dumpOn(pako, a, { format: "sql", gzip: { level } }, true);
    const viaNative = await dumpOn(native, b, { format: "sql", gzip: { level } }, true);
    expect(viaPako.record?.options.deflater, "without nodejs_compat").toBe("pako");
    expect(viaNative.record?.options.deflater, "with nodejs_compat").toBe("node:zlib");
    for (const run of [viaPako, viaNative]) {
      expect(run.status.options).toMatchObject({ gzip: true, gzipLevel: level });
      expect((await manifestOf(run === viaPako ? pako : native, run.status)).options).toMatchObject({ gzip: true, gzipLevel: level });
    }
    const [p, n] = [viaPako.outputs[0]!.bytes, viaNative.outputs[0]!.bytes];
    expect(Buffer.from(n).equals(Buffer.from(p)), "native = pako, byte for byte").toBe(true);
    const inflated = await gunzipEverywhere(n, workerd);
    expect(inflated.equals(Buffer.from(plain.outputs[0]!.bytes)), "inflates to the plain export").toBe(true);
    expect(inflated.length).toBeGreaterThan(3 * GZIP_SEGMENT);
  });

  test("levels trade size for speed: 1 is larger than 6, 9 no larger than 6", async () => {
    const obj = native.object();
    await obj.exec(TEXTUAL);
    const sizes: Record<number, number> = {};
    for (const level of [1, 6, 9] as const) sizes[level] = (await dumpOn(native, obj, { format: "csv", gzip: { level } }, false)).status.progress.bytesWritten;
    expect(sizes[1]).toBeGreaterThan(sizes[6]!);
    expect(sizes[9]).toBeLessThanOrEqual(sizes[6]!);
    const byDefault = await dumpOn(native, obj, { format: "csv", gzip: true }, false);
    expect(byDefault.status.options.gzipLevel, "gzip: true is level 6").toBe(6);
    expect(byDefault.status.progress.bytesWritten).toBe(sizes[6]);
    const none = await dumpOn(native, obj, { format: "csv" }, false);
    expect(none.status.options).toMatchObject({ gzip: false, gzipLevel: null });
    expect((await manifestOf(native, none.status)).options).toMatchObject({ gzip: false, gzipLevel: null });
  });

  test("a multi-part native gzip dump interrupted by evictions is byte-identical to an undisturbed one", async () => {
    const obj = native.object();
    await obj.exec(BULK);
    await obj.config({ partSize: 5 * MiB, tickBudgetMs: 600_000 });
    const calm = await dumpOn(native, obj, { format: "sql", gzip: true }, false);
    await obj.config({ partSize: 5 * MiB, tickBudgetMs: 100, clockStepMs: 1000 });
    const stormy = await dumpOn(native, obj, { format: "sql", gzip: true }, true);
    expect(calm.status.outputs[0]!.parts).toBeGreaterThanOrEqual(2);
    expect(stormy.record?.options.deflater).toBe("node:zlib");
    expect(Buffer.from(stormy.outputs[0]!.bytes).equals(Buffer.from(calm.outputs[0]!.bytes)), "same bytes").toBe(true);
    const inflated = await gunzipEverywhere(stormy.outputs[0]!.bytes, workerd);
    expect(inflated.length).toBeGreaterThan(19_000_000);
  });

  test("bad levels are refused before anything starts", async () => {
    const obj = native.object();
    await obj.exec(["CREATE TABLE t (x)"]);
    for (const gzip of [{ level: 0 }, { level: 10 }, { level: 1.5 }, { level: "6" }, { level: null }, { lvl: 6 }, [], null, "yes"]) {
      const refused = obj.start({ format: "sql", gzip: gzip as unknown as StartOptions["gzip"] });
      await expect(refused, JSON.stringify(gzip)).rejects.toThrow(HostError);
      await expect(refused, JSON.stringify(gzip)).rejects.toThrow(/INVALID_OPTIONS: gzip must be/);
    }
    expect(await obj.kvKeys("durable-dump:job:"), "nothing persisted").toEqual([]);
    const ok = await obj.start({ format: "sql", gzip: {} });
    expect(ok.options).toMatchObject({ gzip: true, gzipLevel: 6 });
  });
});

/** Uncompressed bytes per gzip segment (src/output/gzip-stage.ts). */
const GZIP_SEGMENT = 256 * 1024;

describe("a host whose flags change mid-job still ends with one valid member, byte-identical", () => {
  const dirs: string[] = [];
  let workerd: Awaited<ReturnType<typeof workerdGunzip>>;
  beforeAll(async () => {
    workerd = await workerdGunzip();
  });
  afterAll(async () => {
    await workerd?.dispose();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Starts a multi-part gzip dump on a runtime with `before` flags, ticks until a part is uploaded
   * and a segment is half full, stops that runtime, and finishes the job on a new one with `after`
   * flags over the same persisted storage and bucket.
   */
  async function acrossRestart(before: string[], after: string[]) {
    const dir = mkdtempSync(join(tmpdir(), "durable-dump-gzip-flags-"));
    dirs.push(dir);
    let h = await createHarness({ compatibilityFlags: before, persistDir: dir });
    let obj = h.object("flags");
    await obj.exec(BULK);
    await obj.config({ partSize: 5 * MiB, tickBudgetMs: 100, clockStepMs: 1000 });
    const started = await obj.start({ format: "sql", gzip: true });
    let status = started;
    for (let n = 0; n < 500 && status.progress.partsUploaded < 1; n++) {
      await obj.tick();
      status = (await obj.status(started.id))!;
    }
    expect(status.state).toBe("running");
    expect(status.progress.partsUploaded, "a part uploaded before the restart").toBeGreaterThanOrEqual(1);
    expect(await obj.kvKeys(`durable-dump:gzip:${started.id}`), "a segment pending across the restart").toHaveLength(1);
    const record = await obj.kvValue<JobRecord>(`durable-dump:job:${started.id}`);
    await h.dispose();
    h = await createHarness({ compatibilityFlags: after, persistDir: dir });
    try {
      obj = h.object("flags");
      const { status: done } = await runToCompletion(obj, started.id);
      expect(done.state).toBe("completed");
      const bytes = (await readOutputs(h, done))[0]!.bytes;
      // An undisturbed dump of the same rows on the second runtime, as the reference.
      await obj.config({ partSize: 5 * MiB, tickBudgetMs: 600_000 });
      const calm = await obj.start({ format: "sql", gzip: true });
      const { status: calmDone } = await runToCompletion(obj, calm.id);
      const reference = (await readOutputs(h, calmDone))[0]!.bytes;
      return { startedWith: record?.options.deflater, bytes, reference };
    } finally {
      await h.dispose();
    }
  }

  test.each([
    ["native zlib, resumed without nodejs_compat", NATIVE, [], "node:zlib"],
    ["pako, resumed with nodejs_compat", [], NATIVE, "pako"],
  ])("started with %s", async (_name, before, after, engine) => {
    const run = await acrossRestart(before as string[], after as string[]);
    expect(run.startedWith).toBe(engine);
    expect(Buffer.from(run.bytes).equals(Buffer.from(run.reference)), "same bytes as an undisturbed dump").toBe(true);
    const inflated = await gunzipEverywhere(run.bytes, workerd);
    expect(inflated.length).toBeGreaterThan(19_000_000);
  });
});
