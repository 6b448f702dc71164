import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DumpManifest, DumpStatus } from "../../src/index.js";
import { doBackend } from "../harness/backends.js";
import { expectSameSnapshot } from "../harness/compare.js";
import { type Snapshot, type TablePlan, planTables, takeSnapshot } from "../harness/snapshot.js";
import { createRestoreHarness, driveRestore, type RestoreHarness, type RestoreObject, restore } from "./harness.js";

/**
 * Key-value entries of every structured-clone type go DO → R2 → new DO: exported with `kv: true`,
 * restored by `RestoreEngine` with the SQL in one job or alone; `ctx.storage.list()` of both
 * objects is equal type for type (the engines' keys aside: `test/kv/worker/describe.ts` records
 * prototypes, -0, NaN, bits of buffers, views, holes, cycles, Errors' stack and cause). Then the
 * options (which entries, what the target may hold) and bad input, each with its typed error.
 */

const SEED = [
  "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)",
  "INSERT INTO t VALUES (1, 'one', x'00ff'), (2, 'two', NULL), (3, NULL, zeroblob(3))",
  "CREATE INDEX t_v ON t (v)",
];

let h: RestoreHarness;
let source: RestoreObject;
let plans: TablePlan[];
let tables: Snapshot;
let entries: Record<string, string>;
const dumps: Record<"plain" | "gzip", DumpStatus> = {} as never;

const kvKeyOf = (dump: DumpStatus) => dump.outputs.find((o) => o.kv)!.key;
const sqlKeyOf = (dump: DumpStatus) => dump.outputs.find((o) => !o.kv)!.key;

beforeAll(async () => {
  h = await createRestoreHarness();
  source = h.object();
  await source.exec(SEED);
  expect(await source.kvSeedCases()).toBeGreaterThan(80);
  plans = await planTables(doBackend(source));
  tables = await takeSnapshot(doBackend(source), plans);
  entries = await source.kvDescribe();
  dumps.plain = await source.dump({ format: "sql", kv: true });
  dumps.gzip = await source.dump({ format: "sql", kv: true, gzip: true });
  for (const dump of Object.values(dumps)) expect(dump.state, JSON.stringify(dump.error)).toBe("completed");
});
afterAll(async () => {
  await h?.dispose();
});

/** A fresh object with small ticks. */
async function fresh(): Promise<RestoreObject> {
  const target = h.object();
  await target.config({ tickBudgetMs: 100, clockStepMs: 30 });
  return target;
}

async function userTables(obj: RestoreObject): Promise<string[]> {
  return (await obj.query("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name")).rows.map(([n]) => n as string);
}

describe.each(["plain", "gzip"] as const)("every structured-clone type round-trips DO → R2 → new DO (%s)", (encoding) => {
  test("with the SQL, in one job: tables and ctx.storage.list() equal, type for type", async () => {
    const dump = dumps[encoding];
    const target = await fresh();
    const status = await restore(target, { key: sqlKeyOf(dump) });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expect(status.options.kv).toBe(true);
    expect(status.sources.map((s) => [s.kind, s.key, s.gzip])).toEqual([
      ["sql", sqlKeyOf(dump), encoding === "gzip"],
      ["kv", kvKeyOf(dump), encoding === "gzip"],
    ]);
    expect(status.progress.kvEntriesRestored).toBe(dump.progress.kvEntriesWritten);
    expect(status.progress.kvEntriesTotal).toBe(dump.progress.kvEntriesWritten);
    expect(status.progress.bytesRead).toBe(status.progress.bytesTotal);
    expect(status.progress.bytesTotal).toBe(dump.outputs.reduce((sum, o) => sum + o.bytes, 0));
    expectSameSnapshot(await takeSnapshot(doBackend(target), plans), tables);
    const got = await target.kvDescribe();
    for (const key of Object.keys(entries)) expect(got[key], key).toBe(entries[key]);
    expect(got).toEqual(entries);
    // Nothing of the restore is left but its record and index entry.
    expect((await target.keys("durable-dump:restore-parts:")).length).toBe(0);
  });

  test("the key-value file alone: the entries, no table", async () => {
    const target = await fresh();
    const status = await restore(target, { key: kvKeyOf(dumps[encoding]) });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expect(status.options).toMatchObject({ key: kvKeyOf(dumps[encoding]), schema: false, data: false, kv: true });
    expect(status.sources.map((s) => s.kind)).toEqual(["kv"]);
    expect(status.source.manifestKey).toBe(dumps[encoding].manifestKey);
    expect(status.foreignKeyViolations).toBeNull();
    expect(await userTables(target)).toEqual([]);
    expect(await target.kvDescribe()).toEqual(entries);
  });
});

describe("which entries a restore writes", () => {
  test("schema: false, data: false, kv: true with the SQL dump's key: the entries only", async () => {
    const target = await fresh();
    const status = await restore(target, { key: sqlKeyOf(dumps.plain), schema: false, data: false, kv: true });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expect(status.options.key).toBe(sqlKeyOf(dumps.plain));
    expect(status.sources.map((s) => s.kind)).toEqual(["kv"]);
    expect(await userTables(target)).toEqual([]);
    expect(await target.kvDescribe()).toEqual(entries);
  });

  test("kv: false, and a restore of chosen tables: no entry", async () => {
    for (const options of [{ kv: false }, { tables: ["t"] }, { data: false }]) {
      const target = await fresh();
      const status = await restore(target, { key: sqlKeyOf(dumps.gzip), ...options });
      expect(status.state, JSON.stringify(status.error)).toBe("completed");
      expect(status.options.kv, JSON.stringify(options)).toBe(false);
      expect(status.sources.map((s) => s.kind)).toEqual(["sql"]);
      expect(await target.kvDescribe()).toEqual({});
    }
    const target = await fresh();
    const status = await restore(target, { key: sqlKeyOf(dumps.gzip), tables: ["t"], kv: true });
    expect(status.sources.map((s) => s.kind)).toEqual(["sql", "kv"]);
    expect(await target.kvDescribe()).toEqual(entries);
  });

  test("the key-value file of an NDJSON export", async () => {
    const ndjson = await source.dump({ format: "ndjson", kv: true, gzip: true });
    const target = await fresh();
    const status = await restore(target, { key: kvKeyOf(ndjson) });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expect(await target.kvDescribe()).toEqual(entries);
    // A table's object is no SQL dump: its job fails at once.
    expect((await restore(await fresh(), { key: sqlKeyOf(ndjson) })).error?.code).toBe("NOT_A_DUMP");
  });

  test("a target holding an entry is refused (TARGET_NOT_EMPTY); replace deletes its entries first, never the engines' keys", async () => {
    const target = await fresh();
    await target.kvPut({ mine: "host state", "case:string": "an older value", "durable-dump:wake:host": 123 });
    const refused = await target.start({ key: sqlKeyOf(dumps.plain) });
    expect(refused.error?.code).toBe("TARGET_NOT_EMPTY");
    expect(refused.error?.message).toContain('"case:string", "mine"');
    expect(await target.keys("durable-dump:restore")).toEqual([]);
    // The engines' keys alone are no obstacle; kv: false leaves the entries out.
    expect((await restore(target, { key: sqlKeyOf(dumps.plain), kv: false })).state).toBe("completed");
    const status = await restore(target, { key: kvKeyOf(dumps.plain), replace: true });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expect(await target.kvDescribe()).toEqual(entries);
    expect(await target.keys("durable-dump:wake:host")).toEqual(["durable-dump:wake:host"]);
  });

  test("an entry written between start and the job's first tick fails the job (TARGET_NOT_EMPTY), nothing written", async () => {
    const target = await fresh();
    const started = await target.start({ key: kvKeyOf(dumps.plain) });
    expect(started.error).toBeUndefined();
    await target.kvPut({ "written:meanwhile": 1 });
    const status = await driveRestore(target, started.result!.id);
    expect(status.state).toBe("failed");
    expect(status.error?.code).toBe("TARGET_NOT_EMPTY");
    expect(status.progress.kvEntriesRestored).toBe(0);
    expect(Object.keys(await target.kvDescribe())).toEqual(["written:meanwhile"]);
  });

  test("replace deletes hundreds of entries (in batches) and drops the tables, then restores", async () => {
    const target = await fresh();
    await target.kvPut(Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`old:${i}`, i])));
    await target.exec(["CREATE TABLE t (x)"]);
    const status = await restore(target, { key: sqlKeyOf(dumps.plain), replace: true });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expectSameSnapshot(await takeSnapshot(doBackend(target), plans), tables);
    expect(await target.kvDescribe()).toEqual(entries);
  });

  test("options that do not fit are refused at start, nothing stored", async () => {
    const target = await fresh();
    const plain = await h.object().dump({ format: "sql" });
    const bad: [unknown, string][] = [
      [{ key: sqlKeyOf(plain), kv: true }, "INVALID_OPTIONS"],
      [{ key: sqlKeyOf(dumps.plain), kv: true, manifestKey: null }, "INVALID_OPTIONS"],
      [{ key: sqlKeyOf(dumps.plain), kv: "yes" }, "INVALID_OPTIONS"],
      [{ key: kvKeyOf(dumps.plain), tables: ["t"] }, "INVALID_OPTIONS"],
      [{ key: kvKeyOf(dumps.plain), kv: false }, "INVALID_OPTIONS"],
      [{ key: kvKeyOf(dumps.plain), schema: true }, "INVALID_OPTIONS"],
      [{ key: sqlKeyOf(dumps.plain), schema: false, data: false }, "INVALID_OPTIONS"],
    ];
    for (const [options, code] of bad) expect((await target.call("restore-start", options)).error?.code, JSON.stringify(options)).toBe(code);
    expect(await target.keys("durable-dump:restore")).toEqual([]);
  });
});

test("a gzip file of another tool, without a manifest, evicted after every tick: decoded from its first byte again each time", async () => {
  // Every value type and 800 KB more, so that the file takes several batches.
  const other = h.object();
  await other.kvSeedCases();
  await other.kvPut(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`medium:${i}`, `${i}`.repeat(20_000)])));
  const want = await other.kvDescribe();
  const file = await h.readObject(kvKeyOf(await other.dump({ kv: true, schema: false, data: false })));
  const key = "foreign/values.kv.ndjson.gz";
  await h.putObject(key, gzipSync(file, { level: 1 }));
  const target = h.object();
  await target.config({ tickBudgetMs: 100, clockStepMs: 40, readBytes: 64 * 1024 });
  const started = await target.start({ key, manifestKey: null });
  expect(started.result?.sources.map((s) => [s.kind, s.gzip, s.manifestKey])).toEqual([["kv", true, null]]);
  const ticks: number[] = [];
  const status = await driveRestore(target, started.result!.id, {
    afterTick: async () => {
      ticks.push((await target.status(started.result!.id))!.progress.kvEntriesRestored);
      await target.ok("evict");
    },
  });
  expect(status.state, JSON.stringify(status.error)).toBe("completed");
  expect(status.progress.kvEntriesTotal).toBeNull();
  expect(new Set(ticks.filter((n) => n > 0 && n < status.progress.kvEntriesRestored)).size).toBeGreaterThanOrEqual(2);
  expect(await target.kvDescribe()).toEqual(want);
});

describe("bad input: each with its typed error", () => {
  let n = 0;
  let file: string;
  let manifest: DumpManifest;

  beforeAll(async () => {
    file = Buffer.from(await h.readObject(kvKeyOf(dumps.plain))).toString("utf8");
    manifest = JSON.parse(Buffer.from(await h.readObject(dumps.plain.manifestKey!)).toString("utf8")) as DumpManifest;
  });

  /** Stores `bytes` as a key-value file (with a copy of the dump's manifest, edited by `edit`, when given) and restores it. */
  async function restoreFile(bytes: string | Uint8Array, edit?: (m: DumpManifest, key: string) => void) {
    const key = `bad/${n++}.kv.ndjson${typeof bytes === "string" ? "" : ".gz"}`;
    await h.putObject(key, bytes);
    if (edit) {
      const copy = structuredClone(manifest);
      copy.objects = copy.objects.filter((o) => o.kv).map((o) => ({ ...o, key }));
      copy.kv = { ...copy.kv!, key };
      edit(copy, key);
      await h.putObject(key.replace(/\.kv\.ndjson(\.gz)?$/, ".manifest.json"), JSON.stringify(copy));
    }
    const target = await fresh();
    const started = await target.start({ key, ...(edit ? {} : { manifestKey: null }) });
    if (!started.result) return { started, status: null, target };
    return { started, status: await driveRestore(target, started.result.id), target };
  }

  const lines = () => file.slice(0, -1).split("\n");

  test("truncated: without its trailer, or inside a line: KV_FILE_INVALID; entries before the cut are committed", async () => {
    const all = lines();
    // Every line but the header and the trailer is an entry: without the trailer, all of them are committed.
    const cuts = [
      { text: `${all.slice(0, -1).join("\n")}\n`, committed: all.length - 2 },
      { text: file.slice(0, Math.floor(file.length / 2)), committed: null },
    ];
    for (const cut of cuts) {
      const { status, target } = await restoreFile(cut.text);
      expect(status?.state).toBe("failed");
      expect(status?.error?.code).toBe("KV_FILE_INVALID");
      expect(status?.error?.message).toContain("truncated");
      const held = Object.keys(await target.kvDescribe()).length;
      expect(held).toBe(status?.progress.kvEntriesRestored);
      if (cut.committed === null) expect(held).toBeGreaterThan(0);
      else expect(held).toBe(cut.committed);
    }
  });

  test("a gzip stream cut short: TRUNCATED_DUMP", async () => {
    const gz = gzipSync(file);
    const { status } = await restoreFile(gz.subarray(0, gz.length - 20));
    expect(status?.state).toBe("failed");
    expect(status?.error?.code).toBe("TRUNCATED_DUMP");
  });

  test("another codec or file version: refused at start with KV_FILE_INVALID", async () => {
    const [header, ...rest] = lines();
    for (const changed of [header!.replace("devalue@6.0.3", "devalue@5.0.0"), header!.replace('"version":1', '"version":2')]) {
      const { started } = await restoreFile(`${[changed, ...rest].join("\n")}\n`);
      expect(started.error?.code).toBe("KV_FILE_INVALID");
      expect(started.error?.message).toMatch(/devalue@5\.0\.0|file version 2/);
    }
  });

  test("an entry count that differs from the manifest's: KV_FILE_INVALID once every entry is written", async () => {
    const { status } = await restoreFile(file, (m) => {
      m.kv!.entries += 1;
    });
    expect(status?.state).toBe("failed");
    expect(status?.error?.code).toBe("KV_FILE_INVALID");
    expect(status?.error?.message).toContain(`holds ${manifest.kv!.entries} entries`);
    expect(status?.progress.kvEntriesRestored).toBe(manifest.kv!.entries);
  });

  test("a part that differs from its SHA-256: CHECKSUM_MISMATCH, no entry written", async () => {
    const damaged = file.replace('"neighbour durable-dum"', '"neighbour durable-dux"');
    expect(damaged).not.toBe(file);
    const { status, target } = await restoreFile(damaged, () => {});
    expect(status?.error?.code).toBe("CHECKSUM_MISMATCH");
    expect(await target.kvDescribe()).toEqual({});
  });

  test("a key of the engines' own state in the file: KV_FILE_INVALID, the engines' keys untouched", async () => {
    const forged = [lines()[0], '["durable-dump:restore:x",[1]]', '{"entries":1}'];
    const { status, target } = await restoreFile(`${forged.join("\n")}\n`);
    expect(status?.error?.code).toBe("KV_FILE_INVALID");
    expect(status?.error?.message).toContain("durable-dump's own state");
    expect(await target.keys("durable-dump:restore:x")).toEqual([]);
  });
});
