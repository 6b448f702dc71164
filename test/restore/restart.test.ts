import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import type { DumpManifest } from "../../src/index.js";
import { doBackend } from "../harness/backends.js";
import { planTables, takeSnapshot } from "../harness/snapshot.js";
import { createRestoreHarness, driveRestore, type RestoreHarness } from "./harness.js";

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), "dd-restore-restart-"));
let runtime: RestoreHarness | null = null;

afterAll(async () => {
  await runtime?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Stops the runtime running, if any, and starts one on the objects and R2 persisted under `dir/name`. */
async function launch(name: string): Promise<RestoreHarness> {
  await runtime?.dispose();
  runtime = await createRestoreHarness(join(dir, name));
  return runtime;
}

/**
 * The runtime is stopped mid-restore (workerd disposed, objects and R2 persisted on disk) and
 * started again on the same directory: the restore goes on from its last checkpoint, in a new
 * isolate, and ends with the source's database. The dump is a gzip dump in three parts: the new
 * isolate decodes from the segment start recorded for the part it resumes in, reading nothing
 * before that part.
 */
test("a runtime restarted mid-restore resumes at its checkpoint, from a recorded gzip segment", async () => {
  let rt = await launch("sql");
  const source = rt.object("source");
  await source.exec([
    "CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT, payload BLOB)",
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 115)
      INSERT INTO t SELECT i, 'row ' || i, randomblob(100000) FROM s`,
    "CREATE TABLE small (k TEXT PRIMARY KEY, v) WITHOUT ROWID",
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000) INSERT INTO small SELECT 'k' || i, i * 0.5 FROM s`,
  ]);
  const dump = await source.dump({ format: "sql", gzip: true });
  expect(dump.outputs[0]!.parts).toBe(3);
  const plans = await planTables(doBackend(source));
  const digest = async (obj: typeof source) =>
    createHash("sha256")
      .update(JSON.stringify(await takeSnapshot(doBackend(obj), plans)))
      .digest("hex");
  const want = await digest(source);

  const target = rt.object("target");
  await target.config({ tickBudgetMs: 100, clockStepMs: 10 });
  const started = await target.start({ key: dump.outputs[0]!.key });
  const id = started.result!.id;
  for (let n = 0; n < 500; n++) {
    await target.tick();
    const status = await target.status(id);
    if (status!.progress.bytesRead > 10 * MiB) break;
  }
  const before = (await target.status(id))!;
  expect(before.state).toBe("running");
  expect(before.progress.bytesRead).toBeGreaterThan(10 * MiB);

  rt = await launch("sql");
  const again = rt.object("target");
  await again.ok("reset-io");
  expect((await again.tick()).error).toBeUndefined();
  // Part 3 only: neither of the first two parts is read (nor decoded) again.
  expect((await again.io()).log.filter((k) => k === "r2.get")).toHaveLength(1);
  const status = await driveRestore(again, id);
  expect(status.state, JSON.stringify(status.error)).toBe("completed");
  expect(status.progress.statements).toBeGreaterThan(before.progress.statements);
  expect(await digest(again)).toBe(want);
});

/**
 * The runtime is stopped amid the key-value entries of a restore (workerd disposed, objects and R2
 * persisted on disk) and started again on the same directory: the restore goes on from its last
 * checkpoint in a new isolate and ends with the source's entries, type for type. The file is gzip
 * in two parts: the new isolate decodes from the segment start the manifest records for the
 * second part, reading nothing of the first.
 */
test("a runtime restarted amid the entries resumes at its checkpoint, from a recorded gzip segment", async () => {
  let rt = await launch("kv");
  const source = rt.object("source");
  await source.exec(["CREATE TABLE t (id INTEGER PRIMARY KEY)", "INSERT INTO t VALUES (1), (2)"]);
  await source.kvSeedCases();
  await source.kvSeed(50, 12, { bytes: 700_000, incompressible: true });
  const want = await source.kvDescribe();
  const dump = await source.dump({ format: "sql", kv: true, gzip: true });
  const manifest = JSON.parse(Buffer.from(await rt.readObject(dump.manifestKey!)).toString()) as DumpManifest;
  const kvObject = manifest.objects.find((o) => o.kv)!;
  expect(kvObject.parts, JSON.stringify(kvObject.parts)).toHaveLength(2);
  expect(kvObject.parts[1]!.gzipSegment).toBeDefined();
  const sqlBytes = dump.outputs[0]!.bytes;

  const target = rt.object("target");
  await target.config({ tickBudgetMs: 100, clockStepMs: 10 });
  const started = await target.start({ key: dump.outputs[0]!.key });
  const id = started.result!.id;
  // Far enough into the second part that the checkpoint lies past its first segment start.
  const past = kvObject.parts[0]!.size + 1.5 * MiB;
  for (let n = 0; n < 500; n++) {
    await target.tick();
    const status = (await target.status(id))!;
    if (status.progress.phase === "entries" && status.progress.bytesRead - sqlBytes > past) break;
  }
  const before = (await target.status(id))!;
  expect(before.state).toBe("running");
  expect(before.progress.kvEntriesRestored).toBeGreaterThan(0);
  expect(before.progress.kvEntriesRestored).toBeLessThan(manifest.kv!.entries);

  rt = await launch("kv");
  const again = rt.object("target");
  await again.ok("reset-io");
  expect((await again.tick()).error).toBeUndefined();
  // The second part only: the first is neither read nor decoded again.
  expect((await again.io()).log.filter((k) => k === "r2.get")).toHaveLength(1);
  const status = await driveRestore(again, id);
  expect(status.state, JSON.stringify(status.error)).toBe("completed");
  expect(status.progress.kvEntriesRestored).toBe(manifest.kv!.entries);
  expect(await again.kvDescribe()).toEqual(want);
});
