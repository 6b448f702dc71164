import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DumpStatus } from "../../src/index.js";
import { KV_CODEC } from "../../src/kv/codec.js";
import { KvFileDecoder } from "../../src/kv/kv-file.js";
import { type KvHarness, type KvHostError, type KvObject, createKvHarness, readManifest, withoutEngineKeys } from "./harness.js";
import { refusedCases } from "./worker/cases.js";

/**
 * Key-value entries of every structured-clone type go DO → R2 → new DO through an export with
 * `kv: true` and the restore-side component, and `ctx.storage.kv.list()` of both objects is equal
 * type for type (described by `worker/describe.ts`: prototypes, -0, NaN, bits of buffers, views,
 * holes, cycles, shared references, Errors' stack and cause).
 */

let h: KvHarness;
beforeAll(async () => {
  h = await createKvHarness();
});
afterAll(async () => {
  await h?.dispose();
});

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Lines of a key-value file, without the final empty string. */
function lines(bytes: Uint8Array): string[] {
  const text = new TextDecoder().decode(bytes);
  expect(text.endsWith("\n")).toBe(true);
  return text.slice(0, -1).split("\n");
}

async function exportCases(options: { format?: string; gzip?: boolean }): Promise<{ source: KvObject; status: DumpStatus }> {
  const source = h.object();
  await source.seedCases();
  const status = await source.export({ ...options, kv: true });
  expect(status.state, JSON.stringify(status.error)).toBe("completed");
  return { source, status };
}

describe.each([
  { name: "SQL dump, plain", format: "sql", gzip: false },
  { name: "NDJSON (one object per table), gzip", format: "ndjson", gzip: true },
])("every structured-clone type round-trips: $name", ({ format, gzip }) => {
  let source: KvObject;
  let status: DumpStatus;
  beforeAll(async () => {
    ({ source, status } = await exportCases({ format, gzip }));
  });

  test("the key-value object comes last, listed in the status and the manifest with its checksums", async () => {
    const kvOutputs = status.outputs.filter((o) => o.kv);
    expect(kvOutputs).toHaveLength(1);
    const kvOutput = kvOutputs[0]!;
    expect(status.outputs.at(-1)).toBe(kvOutput);
    expect(kvOutput.key).toBe(`durable-dump/${status.id}.kv.ndjson${gzip ? ".gz" : ""}`);
    expect(kvOutput.table).toBeUndefined();
    expect(status.options.kv).toBe(true);
    const manifest = await readManifest(h, status);
    expect(manifest.options.kv).toBe(true);
    expect(manifest.kv).toEqual({
      key: kvOutput.key,
      codec: KV_CODEC,
      fileVersion: 1,
      entries: status.progress.kvEntriesWritten,
      excludedPrefixes: ["durable-dump:"],
    });
    const listed = manifest.objects.find((o) => o.key === kvOutput.key)!;
    expect(listed.kv).toBe(true);
    const bytes = await h.readObject(kvOutput.key);
    expect(listed.bytes).toBe(bytes.length);
    expect(listed.parts.map((p) => p.sha256)).toEqual([sha(bytes)]);
    expect(manifest.objects.filter((o) => !o.kv).every((o) => o.kv === undefined)).toBe(true);
  });

  test("the file: header naming the codec, one line per entry in key order without the engine's keys, trailer with the count", async () => {
    const kvOutput = status.outputs.find((o) => o.kv)!;
    const stored = await h.readObject(kvOutput.key);
    const file = lines(gzip ? gunzipSync(stored) : stored);
    expect(JSON.parse(file[0]!)).toEqual({ format: "durable-dump-kv", version: 1, codec: KV_CODEC });
    expect(JSON.parse(file.at(-1)!)).toEqual({ entries: file.length - 2 });
    const keys = file.slice(1, -1).map((line) => JSON.parse(line)[0] as string);
    const sourceKeys = Object.keys(withoutEngineKeys(await source.describe()));
    expect(keys).toEqual(sourceKeys);
    expect(keys).toEqual(expect.arrayContaining(["durable-dum", "durable-dump", "durable-dump;", "durable-dumq", "case:Float16Array", "case:undefined"]));
    expect(keys.some((k) => k.startsWith("durable-dump:"))).toBe(false);
    expect(status.progress.kvEntriesWritten).toBe(keys.length);
  });

  test("a new object restored from the file lists the same entries, type for type", async () => {
    const kvOutput = status.outputs.find((o) => o.kv)!;
    const target = h.object();
    // 512-byte reads: many lines cross a chunk boundary, and the reader resumes from its saved position at each.
    const restored = await target.restore(kvOutput.key, 512, gzip);
    const want = withoutEngineKeys(await source.describe());
    expect(restored.entries).toBe(Object.keys(want).length);
    expect(restored.position.ended).toBe(true);
    expect(restored.chunks).toBeGreaterThan(20);
    const got = await target.describe();
    for (const key of Object.keys(want)) expect(got[key], key).toBe(want[key]);
    expect(got).toEqual(want);
  });
});

test("the file reads in Node with KvFileDecoder; Float16Array comes back as its raw bits where Node has none", async () => {
  const { source, status } = await exportCases({});
  const kvOutput = status.outputs.find((o) => o.kv)!;
  const decoder = new KvFileDecoder({ float16AsUint16: true });
  const entries = new Map<string, unknown>();
  for (const line of lines(await h.readObject(kvOutput.key))) {
    const entry = decoder.accept(line);
    if (entry) entries.set(entry[0], entry[1]);
  }
  decoder.finish();
  expect([...entries.keys()]).toEqual(Object.keys(withoutEngineKeys(await source.describe())));
  expect(Object.is(entries.get("case:negZero"), -0)).toBe(true);
  expect(entries.get("case:bigint")).toBe(2n ** 100n);
  expect(entries.get("case:date")).toEqual(new Date(1700000000123));
  const map = entries.get("case:map") as Map<unknown, unknown>;
  expect(map.get("s")).toEqual(new Set([1]));
  const cycle = entries.get("case:cycleObject") as { self: unknown };
  expect(cycle.self).toBe(cycle);
  const error = entries.get("case:errorWithCause") as Error;
  expect(error).toBeInstanceOf(Error);
  expect((error.cause as Error).message).toBe("inner");
  expect(entries.get("case:typeError")).toBeInstanceOf(TypeError);
  const half = entries.get("case:Float16Array");
  if (typeof (globalThis as { Float16Array?: unknown }).Float16Array === "function")
    expect(Array.from(half as ArrayLike<number>)).toEqual([1.5, -0, Number.NaN]);
  else expect(Array.from(half as Uint16Array)).toEqual([0x3e00, 0x8000, 0x7e00]);
});

test("kv: true with schema and data false writes the key-value object alone", async () => {
  const source = h.object();
  await source.seedCases();
  const status = await source.export({ kv: true, schema: false, data: false, format: "csv" });
  expect(status.state, JSON.stringify(status.error)).toBe("completed");
  expect(status.outputs).toHaveLength(1);
  expect(status.outputs[0]!.kv).toBe(true);
  expect(status.progress.tablesTotal).toBe(0);
  const manifest = await readManifest(h, status);
  expect(manifest.tables).toEqual([]);
  expect(manifest.objects.map((o) => o.key)).toEqual([status.outputs[0]!.key]);
  const target = h.object();
  await target.restore(status.outputs[0]!.key, 1 << 20);
  expect(await target.describe()).toEqual(withoutEngineKeys(await source.describe()));
});

test("a per-table format with no table completes without an object", async () => {
  const plain = await h.object().export({ format: "ndjson" });
  expect(plain.state, JSON.stringify(plain.error)).toBe("completed");
  expect(plain.outputs).toEqual([]);
  expect((await readManifest(h, plain)).objects).toEqual([]);
});

test("an object without entries writes a header and a trailer of 0", async () => {
  const source = h.object();
  const status = await source.export({ kv: true, format: "ndjson" });
  expect(status.state).toBe("completed");
  expect(status.outputs.map((o) => o.kv)).toEqual([true]);
  const file = lines(await h.readObject(status.outputs[0]!.key));
  expect(file).toEqual([JSON.stringify({ format: "durable-dump-kv", version: 1, codec: KV_CODEC }), '{"entries":0}']);
});

describe("values the codec cannot write exactly fail the job, naming the key", () => {
  test.each(Object.keys(refusedCases()))("%s", async (name) => {
    const source = h.object();
    await source.seedRefused(name);
    const status = await source.export({ kv: true });
    expect(status.state).toBe("failed");
    expect(status.error?.code).toBe("KV_VALUE_UNSUPPORTED");
    expect(status.error?.message).toContain(JSON.stringify(`refused:${name}`));
  });
});

test("start refuses kv that is not a boolean", async () => {
  await expect(h.object().start({ kv: "yes" as unknown as boolean })).rejects.toMatchObject({ code: "INVALID_OPTIONS" } satisfies Partial<KvHostError>);
});

test("a runtime restarted amid the key-value entries finishes with the bytes of an undisturbed run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dd-kv-restart-"));
  let rt = await createKvHarness({ persist: dir });
  try {
    const seed = async (obj: KvObject) => {
      await obj.seedCases();
      await obj.putStrings(Array.from({ length: 8 }, (_, i): [string, number] => [`big:${i}`, 1_000_000 + i]));
    };
    const undisturbed = rt.object("undisturbed");
    await seed(undisturbed);
    const want = await undisturbed.export({ kv: true, gzip: true });
    const restarted = rt.object("restarted");
    await seed(restarted);
    const { id } = await restarted.start({ kv: true, gzip: true });
    const amid = await restarted.tickUntil(id, (s) => s.progress.kvEntriesWritten > 0);
    expect(amid.state).toBe("running");
    await rt.dispose();
    rt = await createKvHarness({ persist: dir });
    const got = await rt.object("restarted").tickUntil(id, () => false);
    expect(got.state).toBe("completed");
    expect(got.progress.kvEntriesWritten).toBeGreaterThan(amid.progress.kvEntriesWritten);
    const digests = async (status: DumpStatus) => Promise.all(status.outputs.map(async (o) => sha(await rt.readObject(o.key))));
    expect(await digests(got)).toEqual(await digests(want));
  } finally {
    await rt.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
