import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RestoreStatus } from "../../src/index.js";
import { doBackend } from "../harness/backends.js";
import { type TablePlan, planTables, takeSnapshot } from "../harness/snapshot.js";
import { type Answer, createRestoreHarness, driveRestore, type RestoreHarness, type RestoreObject } from "./harness.js";
import { failuresOf } from "../harness/parallel.js";

/**
 * Every I/O step of an undisturbed restore is enumerated (R2 reads, storage writes, the
 * transaction that commits each batch with its checkpoint, the KV reads and writes and the SQL
 * statements inside it, the syncs around foreign keys); for each selected step N, one restore
 * breaks there ("throw": the step fails; "die": it succeeds and the process dies right after,
 * which inside a transaction rolls it back), recovers with fresh engines over the same storage,
 * and finishes. The database must equal the undisturbed run's, value by value, with no scratch
 * state left. The dump: a gzip dump of this library (its part verified, decoded from a recorded
 * segment start), with foreign keys in the wrong order, FTS5, a trigger, rows over
 * 100 KB (bound as parameters). One part: the restart test (restart.test.ts) and the round trips
 * resume multi-part dumps.
 */

const CONFIG = { tickBudgetMs: 100, clockStepMs: 5, faultSql: true };
const PARALLEL = 3;
/** Every step of these kinds is broken; of the others (SQL statements, KV writes inside a transaction), a few spread evenly. */
const EVERY = new Set(["r2.head", "r2.get", "storage.put", "storage.setAlarm", "storage.delete", "storage.sync", "storage.transactionSync"]);
const PER_KIND = Number(process.env.DD_RESTORE_FAULTS_PER_KIND ?? 12);

function seed(): string[] {
  return [
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent(id), note TEXT)",
    "CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, blob BLOB)",
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT)",
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 60)
      INSERT INTO parent (name, blob) SELECT 'parent ' || i, CASE WHEN i % 10 = 0 THEN randomblob(60000) ELSE zeroblob(i * 100) END FROM s`,
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000)
      INSERT INTO child (parent, note) SELECT 1 + i % 60, 'note ' || i || char(10) || hex(randomblob(i % 50)) FROM s`,
    "CREATE TRIGGER parent_ai AFTER INSERT ON parent BEGIN INSERT INTO audit (what) VALUES ('parent ' || NEW.id); END",
    "CREATE VIEW busy AS SELECT parent, count(*) AS n FROM child GROUP BY parent",
    "CREATE VIRTUAL TABLE notes USING fts5(body)",
    "INSERT INTO notes (rowid, body) SELECT id, note FROM child WHERE id % 10 = 0",
    "CREATE INDEX child_parent ON child (parent)",
  ];
}

/** Picks steps deterministically: every step of the kinds in EVERY, PER_KIND of each other kind (its first, its last, and evenly between). */
function selectSteps(log: string[]): number[] {
  const byKind = new Map<string, number[]>();
  for (const [i, kind] of log.entries()) byKind.set(kind, [...(byKind.get(kind) ?? []), i + 1]);
  const chosen: number[] = [];
  for (const [kind, steps] of byKind) {
    if (EVERY.has(kind) || steps.length <= PER_KIND) chosen.push(...steps);
    else for (let k = 0; k < PER_KIND; k++) chosen.push(steps[Math.round((k * (steps.length - 1)) / (PER_KIND - 1))]!);
  }
  return [...new Set(chosen)].sort((a, b) => a - b);
}

describe("a crash at any I/O step leaves the restored database identical", () => {
  let h: RestoreHarness;
  let key: string;
  let plans: TablePlan[];
  let baseline: { digest: string; log: string[]; threw: Set<number>; status: RestoreStatus };

  async function digestOf(obj: RestoreObject): Promise<string> {
    const snapshot = await takeSnapshot(doBackend(obj), plans);
    return createHash("sha256").update(JSON.stringify(snapshot)).digest("hex");
  }

  async function fresh(): Promise<RestoreObject> {
    const obj = h.object();
    await obj.config(CONFIG);
    return obj;
  }

  beforeAll(async () => {
    h = await createRestoreHarness();
    const source = h.object();
    await source.exec(seed());
    const dump = await source.dump({ format: "sql", gzip: true });
    key = dump.outputs[0]!.key;
    plans = await planTables(doBackend(source));
    const obj = await fresh();
    await obj.ok("reset-io");
    const started = await obj.start({ key });
    const status = await driveRestore(obj, started.result!.id);
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    const io = await obj.io();
    baseline = { digest: await digestOf(obj), log: io.log, threw: new Set(io.threw), status };
    const histogram: Record<string, number> = {};
    for (const kind of baseline.log) histogram[kind] = (histogram[kind] ?? 0) + 1;
    console.log(`undisturbed run: ${JSON.stringify(histogram)}`);
    expect(baseline.digest).toBe(await digestOf(source));
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("the undisturbed run reads a verified gzip part and has every kind of step", async () => {
    const manifest = JSON.parse(Buffer.from(await h.readObject(baseline.status.source.manifestKey!)).toString());
    expect(manifest.objects[0].parts[0].gzipSegment).toEqual({ index: 0, offset: 10 });
    expect(baseline.status.source.gzip).toBe(true);
    for (const kind of ["r2.head", "r2.get", "storage.put", "storage.transactionSync", "storage.kv.put", "storage.sync", "sql.exec", "storage.delete"]) {
      expect(baseline.log, kind).toContain(kind);
    }
  });

  for (const mode of ["throw", "die"] as const) {
    test(`mode ${mode}: every selected step`, async () => {
      // A step whose own operation threw in the undisturbed run (a batch retried with foreign keys
      // off) cannot succeed and then die.
      const steps = selectSteps(baseline.log).filter((step) => mode === "throw" || !baseline.threw.has(step));
      expect(new Set(steps.map((s) => baseline.log[s - 1])).size, "every kind of step is broken").toBe(new Set(baseline.log).size);
      console.log(`mode ${mode}: breaking ${steps.length} of ${baseline.log.length} steps`);
      const failures = await failuresOf(
        steps,
        PARALLEL,
        (step) => `step ${step} (${baseline.log[step - 1]})`,
        (step) => crashRun(step, mode),
      );
      expect(failures).toEqual([]);
    });
  }

  async function crashRun(step: number, mode: "throw" | "die"): Promise<void> {
    const obj = await fresh();
    await obj.fault({ failAt: step, mode });
    let fired = false;
    let id: string | null = null;
    for (let attempt = 0; attempt < 3 && id === null; attempt++) {
      const a = await obj.start({ key });
      if (a.fault) fired = true;
      if (a.result) id = a.result.id;
      else if (!a.fault) throw new Error(`start failed without a fault: ${JSON.stringify(a.error)}`);
      else id = (await obj.list())[0]?.id ?? null;
    }
    if (id === null) throw new Error("could not start");
    const status = await driveRestore(obj, id, {
      afterTick: async (_n, a: Answer<unknown>) => {
        if (a.fault) fired = true;
      },
    });
    if (!fired) throw new Error("the fault never fired");
    // The wake-up left by the last tick still fires: let it finish what a crash interrupted.
    for (let n = 0; n < 10; n++) {
      const a = await obj.tick();
      if (a.error) throw new Error(`tick after completion failed: ${a.error.message}`);
      if (!(a.result as { more: boolean }).more) break;
    }
    if (status.state !== "completed") throw new Error(`ended ${status.state}: ${JSON.stringify(status.error)}`);
    if (status.progress.statements !== baseline.status.progress.statements) {
      throw new Error(`${status.progress.statements} statements applied, the undisturbed run applied ${baseline.status.progress.statements}`);
    }
    if ((await digestOf(obj)) !== baseline.digest) throw new Error("the restored database differs from the undisturbed run's");
    const leftovers = (await obj.keys("durable-dump:")).filter((k) => !k.startsWith("durable-dump:restore:"));
    if (leftovers.length) throw new Error(`scratch state left: ${leftovers.join(", ")}`);
    const fk = (await obj.query("PRAGMA foreign_keys")).rows;
    if (JSON.stringify(fk) !== "[[1]]") throw new Error(`foreign keys left ${JSON.stringify(fk)}`);
  }
});
