import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import type { DumpManifest } from "../../src/index.js";
import { createRestoreHarness, driveRestore, type RestoreHarness } from "./harness.js";

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), "dd-restore-kv-restart-"));
let runtime: RestoreHarness | null = null;

afterAll(async () => {
  await runtime?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The runtime is stopped amid the key-value entries of a restore (workerd disposed, objects and R2
 * persisted on disk) and started again on the same directory: the restore goes on from its last
 * checkpoint in a new isolate and ends with the source's entries, type for type. The file is gzip
 * in two parts: the new isolate decodes from the segment start the manifest records for the
 * second part, reading nothing of the first.
 */
test("a runtime restarted amid the entries resumes at its checkpoint, from a recorded gzip segment", async () => {
  runtime = await createRestoreHarness(dir);
  const source = runtime.object("source");
  await source.exec(["CREATE TABLE t (id INTEGER PRIMARY KEY)", "INSERT INTO t VALUES (1), (2)"]);
  await source.kvSeedCases();
  await source.kvSeed(50, 12, { bytes: 700_000, incompressible: true });
  const want = await source.kvDescribe();
  const dump = await source.dump({ format: "sql", kv: true, gzip: true });
  const manifest = JSON.parse(Buffer.from(await runtime.readObject(dump.manifestKey!)).toString()) as DumpManifest;
  const kvObject = manifest.objects.find((o) => o.kv)!;
  expect(kvObject.parts, JSON.stringify(kvObject.parts)).toHaveLength(2);
  expect(kvObject.parts[1]!.gzipSegment).toBeDefined();
  const sqlBytes = dump.outputs[0]!.bytes;

  const target = runtime.object("target");
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

  await runtime.dispose();
  runtime = await createRestoreHarness(dir);
  const again = runtime.object("target");
  await again.ok("reset-io");
  expect((await again.tick()).error).toBeUndefined();
  // The second part only: the first is neither read nor decoded again.
  expect((await again.io()).log.filter((k) => k === "r2.get")).toHaveLength(1);
  const status = await driveRestore(again, id);
  expect(status.state, JSON.stringify(status.error)).toBe("completed");
  expect(status.progress.kvEntriesRestored).toBe(manifest.kv!.entries);
  expect(await again.kvDescribe()).toEqual(want);
});
