import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHarness, type Harness } from "./harness/miniflare.js";
import { HostError, type HostObject } from "./harness/host-client.js";
import { corpusStatements } from "./harness/corpus.js";
import { runToCompletion } from "./harness/drive.js";
import { readSingleOutput } from "./harness/dump.js";

/** The engine keeps its jobs under this KV prefix. */
const ENGINE_PREFIX = "durable-dump:";

/** sqlite_master as `type|name`, without the platform's `_cf_*` objects. */
async function userSchema(obj: HostObject): Promise<string[]> {
  const r = await obj.query(`SELECT type || '|' || name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY 1`);
  return r.rows.map((row) => String(row[0]));
}

/** Expects `promise` to fail with a DumpError answered as HTTP 400 with this code. */
async function expectDumpError(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected DumpError ${code}`).toBeInstanceOf(HostError);
  expect({ status: (err as HostError).status, code: (err as HostError).code }).toEqual({ status: 400, code });
}

describe("the engine leaves no trace in the database or the dump", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("no engine tables, no engine strings in the dump", async () => {
    const obj = h.object();
    await obj.exec(corpusStatements());
    await obj.config({ tickBudgetMs: 100 });
    const before = await userSchema(obj);
    const started = await obj.start({ format: "sql" });
    // Mid-job: engine state exists (in KV) but no table of its own appeared.
    await obj.tick();
    expect(await userSchema(obj)).toEqual(before);
    expect((await obj.kvKeys(ENGINE_PREFIX)).length).toBeGreaterThan(0);
    const { status } = await runToCompletion(obj, started.id);
    expect(await userSchema(obj)).toEqual(before);
    const { bytes } = await readSingleOutput(h, status);
    const text = Buffer.from(bytes).toString("latin1");
    expect(text).not.toContain("durable-dump");
    expect(text).not.toContain("_cf_");
    expect(text).not.toContain("test-host:");
  });

  test("a job's folder goes between the engine's keyPrefix and the job id", async () => {
    const obj = h.object();
    await obj.config({ keyPrefix: `${obj.name}/` });
    await obj.exec([`CREATE TABLE t (id INTEGER PRIMARY KEY, v)`, `INSERT INTO t (v) VALUES (1), ('x')`]);
    const started = await obj.start({ format: "sql", folder: "nightly/2026-11-25/" });
    const { status } = await runToCompletion(obj, started.id);
    expect(status.outputs.map((o) => o.key)).toEqual([`${obj.name}/nightly/2026-11-25/${started.id}.sql`]);
    expect(status.manifestKey).toBe(`${obj.name}/nightly/2026-11-25/${started.id}.manifest.json`);
  });

  test("bad input is refused with a DumpError and persists nothing", async () => {
    const obj = h.object();
    const keyPrefix = `${obj.name}/`;
    await obj.config({ keyPrefix });
    await obj.exec([`CREATE TABLE t (id INTEGER PRIMARY KEY, v)`, `INSERT INTO t (v) VALUES (1), ('x')`]);
    // Schema that wrangler's D1 import would take for a transaction of the file.
    await obj.exec([`CREATE TABLE tx (note TEXT DEFAULT 'BEGIN TRANSACTION')`]);

    await expectDumpError(obj.start({ format: "xml" }), "UNKNOWN_FORMAT");
    await expectDumpError(obj.start({ format: "sql", tables: ["nope"] }), "UNKNOWN_TABLE");
    await expectDumpError(obj.start({ format: "sql", exclude: ["nope"] }), "UNKNOWN_TABLE");
    await expectDumpError(obj.start({ format: "sql", tables: ["_cf_KV"] }), "RESERVED_TABLE");
    await expectDumpError(obj.start({ format: "sql", dialect: "d1", tables: ["tx"] }), "UNSUPPORTED_SCHEMA");
    await obj.exec([`CREATE TABLE "x BEGIN TRANSACTION" (v)`]);
    await expectDumpError(obj.start({ format: "sql", dialect: "d1", schema: false, exclude: ["tx"] }), "UNSUPPORTED_SCHEMA");
    await expectDumpError(obj.start({ format: "csv", dialect: "d1" }), "INVALID_OPTIONS");
    await expectDumpError(obj.start({ format: "sql", schema: false, data: false }), "INVALID_OPTIONS");
    await expectDumpError(obj.start({ format: "sql", bogus: 1 } as never), "INVALID_OPTIONS");
    for (const folder of ["", "no-slash", "/abs/", "a/../b/", "a//b/", "./a/", "a\\b/", "tab\t/", "x".repeat(600) + "/", 7]) {
      await expectDumpError(obj.start({ format: "sql", folder } as never), "INVALID_OPTIONS");
    }

    expect(await obj.list()).toEqual([]);
    expect(await obj.kvKeys(ENGINE_PREFIX)).toEqual([]);
    expect((await (await h.bucket()).list({ prefix: keyPrefix })).objects).toEqual([]);
    expect((await obj.alarmInfo()).alarm).toBeNull();

    // Bad engine options are refused too (the host builds the engine on the next call).
    await obj.config({ keyPrefix, partSize: 1024 });
    await expectDumpError(obj.start({ format: "sql", tables: ["t"] }), "INVALID_OPTIONS");
    expect(await obj.kvKeys(ENGINE_PREFIX)).toEqual([]);
  });
});
