import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { doBackend } from "../harness/backends.js";
import { expectSameSnapshot } from "../harness/compare.js";
import { CORPUS_FTS5_TABLES, corpusStatements } from "../harness/corpus.js";
import { type Snapshot, type TablePlan, planTables, takeSnapshot } from "../harness/snapshot.js";
import { createRestoreHarness, type RestoreHarness, type RestoreObject, restore } from "./harness.js";

/** Options of start(): what users of pg_restore expect (tables, exclude, schema-only, data-only) and what to do with tables already there. */
describe("restore options", () => {
  let h: RestoreHarness;
  let source: RestoreObject;
  let plans: TablePlan[];
  let full: Snapshot;
  let key: string;

  /** Whether a table (or a schema object of it) belongs to the tables `keep` names, FTS5 shadow tables going with their table. */
  const within = (keep: (name: string) => boolean) => (table: string) => keep(CORPUS_FTS5_TABLES.find((f) => table.startsWith(`${f}_`)) ?? table);

  async function expected(include: (table: string) => boolean): Promise<Snapshot> {
    return takeSnapshot(
      doBackend(source),
      plans.filter((p) => include(p.name)),
      { include },
    );
  }

  /** The target's snapshot of the tables `include` keeps; fails when the target holds any other table or view. */
  async function restored(target: RestoreObject, include: (table: string) => boolean): Promise<Snapshot> {
    const names = (await target.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")).rows.map(
      ([n]) => n as string,
    );
    expect(names.filter((n) => !include(n) && !n.startsWith("sqlite_"))).toEqual([]);
    return takeSnapshot(
      doBackend(target),
      plans.filter((p) => include(p.name)),
      { include },
    );
  }

  beforeAll(async () => {
    h = await createRestoreHarness();
    source = h.object();
    await source.exec(corpusStatements());
    plans = await planTables(doBackend(source));
    full = await takeSnapshot(doBackend(source), plans);
    key = (await source.dump({ format: "sql" })).outputs[0]!.key;
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("tables: only those, with their indexes, triggers and sequences; no view unless named", async () => {
    const names = ["orders", "order items", "docs"];
    const target = h.object();
    const status = await restore(target, { key, tables: names });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    const include = within((t) => names.includes(t));
    expectSameSnapshot(await restored(target, include), await expected(include));
  });

  test("exclude: everything else, views included", async () => {
    const left = ["sizes", "docs", "audit"];
    const target = h.object();
    const status = await restore(target, { key, exclude: left });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    const include = within((t) => !left.includes(t));
    const got = await restored(target, include);
    expect(got.schema.some((r) => r.startsWith("view|"))).toBe(true);
    expectSameSnapshot(got, await expected(include));
  });

  test("schema only, then data only into it: the whole database, and no trigger fired for the rows", async () => {
    const target = h.object();
    const schemaOnly = await restore(target, { key, data: false });
    expect(schemaOnly.state, JSON.stringify(schemaOnly.error)).toBe("completed");
    const afterSchema = await takeSnapshot(doBackend(target), plans);
    expect(afterSchema.schema).toEqual(full.schema);
    expect(afterSchema.sequences).toEqual([]);
    expect(Object.values(afterSchema.tables).every((rows) => rows.length === 0)).toBe(true);
    // The schema holds triggers (orders_audit writes to audit on every insert into orders): set aside while rows are restored.
    const dataOnly = await restore(target, { key, schema: false });
    expect(dataOnly.state, JSON.stringify(dataOnly.error)).toBe("completed");
    expectSameSnapshot(await takeSnapshot(doBackend(target), plans), full);
  });

  test("a database holding a table the restore creates: refused at start, or at the first tick when it appears later", async () => {
    const target = h.object();
    await target.exec(["CREATE TABLE orders (x)"]);
    const refused = await target.start({ key });
    expect(refused.error?.code).toBe("TARGET_NOT_EMPTY");
    expect(refused.error?.message).toContain('"orders"');
    // Out of scope, the same table is no conflict.
    expect((await target.start({ key, tables: ["values"] })).result?.state).toBe("queued");
    const late = h.object();
    const started = await late.start({ key });
    await late.exec(["CREATE TABLE kv (x)"]);
    const tick = await late.tick();
    expect(tick.error).toBeUndefined();
    const status = await late.status(started.result!.id);
    expect(status?.state).toBe("failed");
    expect(status?.error?.code).toBe("TARGET_NOT_EMPTY");
    expect((await late.query("SELECT count(*) FROM sqlite_master WHERE name = 'orders'")).rows).toEqual([[0]]);
  });

  test("replace: drops the user's tables, views, indexes and triggers first, never the engines' keys or the host's", async () => {
    const target = h.object();
    await target.config({});
    await target.exec([
      "CREATE TABLE orders (x TEXT)",
      "INSERT INTO orders VALUES ('old')",
      "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
      "CREATE TABLE keepme (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id))",
      "INSERT INTO parent VALUES (1)",
      "INSERT INTO keepme VALUES (1, 1)",
      "CREATE INDEX keepme_p ON keepme (p)",
      "CREATE VIEW old_view AS SELECT * FROM keepme",
      "CREATE TRIGGER old_trigger AFTER INSERT ON orders BEGIN INSERT INTO keepme VALUES (NULL, 1); END",
      "CREATE VIRTUAL TABLE old_fts USING fts5(t)",
    ]);
    const status = await restore(target, { key, replace: true });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expectSameSnapshot(await takeSnapshot(doBackend(target), plans), full);
    // The host's configuration and the engine's own records are still there.
    expect(await target.keys("durable-dump:test-host:")).toEqual(["durable-dump:test-host:config"]);
    expect(await target.keys(`durable-dump:restore:${status.id}`)).toEqual([`durable-dump:restore:${status.id}`]);
  });

  test("replace with tables: only those are dropped and restored", async () => {
    const target = h.object();
    await target.exec(["CREATE TABLE orders (x TEXT)", "CREATE TABLE mine (y)", "INSERT INTO mine VALUES (7)"]);
    const status = await restore(target, { key, tables: ["orders"], replace: true });
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expect((await target.query("SELECT y FROM mine")).rows).toEqual([[7]]);
    const orders = (t: string) => t === "orders";
    expectSameSnapshot(
      await takeSnapshot(
        doBackend(target),
        plans.filter((p) => orders(p.name)),
        { include: orders },
      ),
      await expected(orders),
    );
  });

  test("invalid options are refused at start, nothing stored", async () => {
    const target = h.object();
    const bad: [unknown, string][] = [
      [{}, "INVALID_OPTIONS"],
      [{ key: "" }, "INVALID_OPTIONS"],
      [{ key, schema: false, data: false }, "INVALID_OPTIONS"],
      [{ key, replace: true, schema: false }, "INVALID_OPTIONS"],
      [{ key, tables: "orders" }, "INVALID_OPTIONS"],
      [{ key, format: "sql" }, "INVALID_OPTIONS"],
      [{ key: "no/such/object.sql" }, "SOURCE_NOT_FOUND"],
      [{ key, manifestKey: "no/such/manifest.json" }, "INVALID_MANIFEST"],
    ];
    for (const [options, code] of bad) expect((await target.call("restore-start", options)).error?.code, JSON.stringify(options)).toBe(code);
    expect(await target.keys("durable-dump:")).toEqual([]);
  });
});
