import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DumpManifest } from "../../src/index.js";
import type { StartOptions } from "../../src/index.js";
import { corpusObject } from "../harness/corpus-object.js";
import { runToCompletion } from "../harness/drive.js";
import { HostError, type HostObject } from "../harness/host-client.js";
import type { Harness } from "../harness/miniflare.js";
import { restoreWithSqlite3 } from "../harness/restore.js";
import { takeSnapshot, type Snapshot, type TablePlan } from "../harness/snapshot.js";
import { compareTable, expectExactBigIntegers, jsonRows, parseCsv, parseNdjson, readOutputs } from "./exports.js";
import { parseExactJson } from "./exact-json.js";

/** Tables whose rows live elsewhere (external-content FTS5): exported without rows. */
const NO_ROWS = new Set(["articles_fts"]);

describe("CSV, JSON and NDJSON exports of the tricky corpus, in tiny ticks with an eviction after each", () => {
  let h: Harness;
  let obj: HostObject;
  let plans: TablePlan[];
  let source: Snapshot;

  beforeAll(async () => {
    ({ h, obj, plans, source } = await corpusObject(1000));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function dump(options: StartOptions) {
    const started = await obj.start(options);
    const { status, ticks } = await runToCompletion(obj, started.id, { afterTick: () => obj.evict() });
    expect(ticks, "many ticks").toBeGreaterThan(20);
    return { status, outputs: await readOutputs(h, status) };
  }

  function planOf(name: string): TablePlan {
    const plan = plans.find((p) => p.name === name);
    if (!plan) throw new Error(`no plan for ${name}`);
    return plan;
  }

  test("csv: one RFC 4180 object per table that csv-parse reads back exactly", async () => {
    const { status, outputs } = await dump({ format: "csv" });
    expect(outputs.map((o) => o.table).sort()).toEqual(plans.map((p) => p.name).sort());
    const problems: string[] = [];
    for (const o of outputs) {
      expect(o.key).toBe(`durable-dump/${status.id}/${encodeURIComponent(o.table!)}.csv`);
      const text = Buffer.from(o.bytes).toString("utf8");
      expect(text.endsWith("\r\n")).toBe(true);
      const parsed = parseCsv(text);
      if (NO_ROWS.has(o.table!)) expect(parsed.rows).toEqual([]);
      else problems.push(...compareTable(o.table!, planOf(o.table!), source, parsed));
    }
    expect(problems).toEqual([]);
    const head = await (await h.mf.getR2Bucket("DUMPS")).head(outputs[0]!.key);
    expect(head?.httpMetadata?.contentType).toBe("text/csv; charset=utf-8; header=present");
  });

  test("ndjson: one object per table, one JSON object per line, exact values", async () => {
    const { outputs } = await dump({ format: "ndjson" });
    const problems: string[] = [];
    for (const o of outputs) {
      const text = Buffer.from(o.bytes).toString("utf8");
      const objects = parseNdjson(text);
      if (NO_ROWS.has(o.table!)) {
        expect(objects).toEqual([]);
        continue;
      }
      const plan = planOf(o.table!);
      problems.push(...compareTable(o.table!, plan, source, { columns: objects[0] ? Object.keys(objects[0]) : plan.columns, rows: jsonRows(objects) }));
    }
    expect(problems).toEqual([]);
    expectExactBigIntegers(outputs.map((o) => Buffer.from(o.bytes).toString("utf8")).join("\n"), source);
  });

  test("json: one document per job that JSON.parse reads, with exact values and a manifest", async () => {
    const { status, outputs } = await dump({ format: "json" });
    expect(outputs).toHaveLength(1);
    const raw = Buffer.from(outputs[0]!.bytes).toString("utf8");
    const doc = parseExactJson(raw) as Record<string, unknown[]>;
    expect(Object.keys(doc).sort()).toEqual(plans.map((p) => p.name).sort());
    const problems: string[] = [];
    for (const [name, rows] of Object.entries(doc)) {
      if (NO_ROWS.has(name)) expect(rows).toEqual([]);
      else
        problems.push(
          ...compareTable(name, planOf(name), source, { columns: rows[0] ? Object.keys(rows[0] as object) : planOf(name).columns, rows: jsonRows(rows) }),
        );
    }
    expect(problems).toEqual([]);
    expectExactBigIntegers(raw, source);
    // Plain JSON.parse reads it too: ±Infinity and -0.0 as numbers.
    const plain = JSON.parse(raw) as Record<string, Record<string, unknown>[]>;
    const reals = plain["values"]!.filter((r) => r.kind === "real").map((r) => r.v);
    expect(reals).toContain(Infinity);
    expect(reals).toContain(-Infinity);
    expect(reals.some((v) => Object.is(v, -0))).toBe(true);

    // The manifest: written next to the output, pointed to by the status.
    expect(status.manifestKey).toBe(`durable-dump/${status.id}.manifest.json`);
    const manifest = JSON.parse(Buffer.from(await h.readObject(status.manifestKey!)).toString("utf8")) as DumpManifest;
    expect(manifest.jobId).toBe(status.id);
    expect(manifest.format).toBe("json");
    expect(manifest.databaseSize).toBe(status.databaseSize);
    for (const t of manifest.tables) {
      expect(t.rows, `rows of ${t.name}`).toBe(NO_ROWS.has(t.name) ? 0 : source.tables[t.name]!.length);
      expect(t.columns?.map((c) => c.name)).toEqual(planOf(t.name).columns);
    }
    expect(manifest.tables.find((t) => t.name === "strict_t")!.columns!.map((c) => c.type)).toEqual(["INTEGER", "INT", "REAL", "TEXT", "BLOB", "ANY"]);
    expect(manifest.objects.map((o) => o.key)).toEqual([outputs[0]!.key]);
    let offset = 0;
    for (const part of manifest.objects[0]!.parts) {
      const bytes = outputs[0]!.bytes.subarray(offset, offset + part.size);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(part.sha256);
      offset += part.size;
    }
    expect(offset).toBe(outputs[0]!.bytes.length);
  });

  test("sql: schema only and data only, as wrangler d1 export --no-data / --no-schema", async () => {
    const schemaOnly = Buffer.from((await dump({ format: "sql", data: false })).outputs[0]!.bytes).toString("utf8");
    expect(schemaOnly).not.toMatch(/^INSERT /m);
    expect(schemaOnly).toMatch(/^CREATE TABLE orders/m);
    expect(schemaOnly).toMatch(/^CREATE TRIGGER orders_audit/m);
    const db = restoreWithSqlite3(schemaOnly);
    try {
      const restored = await takeSnapshot(db.backend, plans);
      expect(restored.schema).toEqual(source.schema);
      for (const [name, rows] of Object.entries(restored.tables)) expect(rows, name).toEqual([]);
    } finally {
      db.dispose();
    }
    const dataOnly = Buffer.from((await dump({ format: "sql", schema: false })).outputs[0]!.bytes).toString("utf8");
    expect(dataOnly).not.toMatch(/^CREATE /m);
    expect(dataOnly).toMatch(/^INSERT INTO "values"/m);
  });

  test("bad options are refused before anything starts", async () => {
    await expect(obj.start({ format: "csv", gzip: "yes" as unknown as boolean })).rejects.toThrow(HostError);
    await expect(obj.start({ format: "xml" })).rejects.toThrow(/UNKNOWN_FORMAT/);
    await expect(obj.start({ format: "csv", tables: ["nope"] })).rejects.toThrow(/UNKNOWN_TABLE/);
    await expect(obj.start({ format: "csv", dialect: "d1" })).rejects.toThrow(/INVALID_OPTIONS: dialect applies to the sql format only/);
    await expect(obj.start({ format: "sql", dialect: "mysql" as "d1" })).rejects.toThrow(/INVALID_OPTIONS: dialect must be/);
  });

  test("the dialect is in the status and the manifest: sqlite3 by default for sql, null for other formats", async () => {
    const done = async (options: StartOptions) => (await runToCompletion(obj, (await obj.start(options)).id)).status;
    const [sql, csv] = [await done({ format: "sql", tables: ["kv"] }), await done({ format: "csv", tables: ["kv"] })];
    expect([sql.options.dialect, csv.options.dialect]).toEqual(["sqlite3", null]);
    for (const status of [sql, csv]) {
      const manifest = JSON.parse(Buffer.from(await h.readObject(status.manifestKey!)).toString("utf8")) as DumpManifest;
      expect(manifest.options.dialect).toBe(status.options.dialect);
    }
  });
});
