import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { checkDump, checkManifest, sqliteCli } from "../../examples/fleet/demo/verify.mjs";
import { FAST, nightly, startFleetTest } from "./harness.js";

const PREFIX = "durable-dump/fleet/";
const NIGHT = Date.UTC(2026, 3, 1, 3);

// The runtime stops in the middle of a run (workflow state, objects, R2 and D1 on disk) and a new
// one starts on the same state: the run must end as if nothing happened.
describe("a fleet run across a runtime restart", () => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-restart-"));
  const bindings = { ...FAST, FLEET_OBJECTS_PER_INSTANCE: "8", FLEET_CONCURRENCY: "2", DUMP_TICK_BUDGET_MS: "100" };
  const tenants = Array.from({ length: 20 }, (_, i) => `r-${String(i).padStart(2, "0")}`);
  const runId = nightly(NIGHT);
  let dispose: (() => Promise<void>) | null = null;

  afterAll(async () => {
    await dispose?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test("completes with every object accounted for, one export per object, and a manifest that matches R2", async () => {
    let rt = await startFleetTest(bindings, dir);
    dispose = () => rt.mf.dispose();
    for (const [i, name] of tenants.entries()) await rt.client.seed(name, i % 4 === 0 ? 3_000 : 100 + i * 10, i);
    await rt.client.cron(NIGHT);
    // Stop once some objects of the first child are done and others are not.
    for (let n = 0; ; n++) {
      expect(n, "the run never got under way").toBeLessThan(1_200);
      const { instance, progress } = await rt.client.run(runId);
      expect(instance?.status).not.toBe("complete");
      if (progress.done >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await rt.mf.dispose();

    rt = await startFleetTest(bindings, dir);
    dispose = () => rt.mf.dispose();
    // Local Workflows do not resume running instances after a restart (production does): wake them.
    const woken = [];
    for (const id of [runId, ...[0, 1, 2].map((n) => `${runId}-s${n}`)]) woken.push((await rt.client.wake(id)).woken);
    expect(woken[0]).toBe(true);
    const { manifest, status } = await rt.client.waitForRun(runId, { timeoutMs: 240_000 });
    expect(status.output).toMatchObject({ state: "completed", totals: { objects: 20, completed: 20, failed: 0 } });
    expect(manifest).toMatchObject({ instances: 3, objects: 20, completed: 20 });

    const bucket = await rt.mf.getR2Bucket("DUMPS");
    const { problems, entries } = await checkManifest(bucket, manifest, `${PREFIX}${runId}/`, tenants);
    expect(problems).toEqual([]);
    for (const entry of entries) {
      // One export of the run in the object, the one the manifest names, whatever was retried.
      const jobs = (await rt.client.jobs(entry.object)).filter((j) => j.outputs.some((o) => o.key.includes(`/${runId}/`)));
      expect(
        jobs.map((j) => [j.id, j.state]),
        entry.object,
      ).toEqual([[entry.jobId, "completed"]]);
      expect(entry.attempts).toBe(1);
    }
    const cli = sqliteCli();
    if (cli) {
      for (const entry of entries) {
        const dump = new Uint8Array(await (await bucket.get(entry.dumpKey))!.arrayBuffer());
        expect(checkDump(cli, dump, true, await rt.client.checksum(entry.object), join(dir, `${entry.object}.db`)), entry.object).toEqual([]);
      }
    }
  }, 300_000);
});
