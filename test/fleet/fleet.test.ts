import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkDump, checkManifest, listAll, sqliteCli } from "../../examples/fleet/demo/verify.mjs";
import { FAST, type TestClient, nightly, startFleetTest } from "./harness.js";

const PREFIX = "durable-dump/fleet/";

/** Waits until run `runId` holds the fleet's lock (its first step ran). */
async function waitForLock(client: TestClient, runId: string): Promise<void> {
  const bucket = await (client as any).mf.getR2Bucket("DUMPS");
  for (let n = 0; n < 600; n++) {
    const index = await bucket.get(`${PREFIX}runs.json`);
    if (index && JSON.parse(await index.text()).current?.runId === runId) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${runId} never took the lock`);
}
const NIGHT = Date.UTC(2026, 2, 1, 3);

// A fleet of 21 healthy tenants and 6 that misbehave (see test/fleet/worker.ts), backed up with 8
// objects per instance: the run fans out over 4 child instances.
describe("a fleet backup run", () => {
  const healthy = Array.from({ length: 21 }, (_, i) => `t-${String(i).padStart(2, "0")}`);
  const faulty = {
    startFails: "x-start-fails",
    startFlaky: "x-start-flaky",
    startLost: "x-start-lost",
    exportFails: "x-export-fails",
    exportFlaky: "x-export-flaky",
    silent: "x-silent",
  };
  const all = [...healthy, ...Object.values(faulty)];
  const runId = nightly(NIGHT);
  let client: TestClient;
  let dispose: () => Promise<void>;
  let manifest: any;
  let output: any;
  const work = mkdtempSync(join(tmpdir(), "fleet-test-"));

  beforeAll(async () => {
    const rt = await startFleetTest({
      ...FAST,
      FLEET_OBJECTS_PER_INSTANCE: "8",
      FLEET_CONCURRENCY: "4",
      FAULT_START: faulty.startFails,
      FAULT_START_ONCE: faulty.startFlaky,
      FAULT_START_LOST: faulty.startLost,
      FAULT_EXPORT: faulty.exportFails,
      FAULT_EXPORT_ONCE: faulty.exportFlaky,
      FAULT_SILENT: faulty.silent,
    });
    client = rt.client;
    dispose = () => rt.mf.dispose();
    for (const [i, name] of all.entries()) await client.seed(name, i % 5 === 0 ? 3_000 : 40 + i * 13, i);
    await client.cron(NIGHT);
    await waitForLock(client, runId);
    // The trigger delivered twice, and the next night's while this run is going: neither starts another run.
    await client.cron(NIGHT);
    await client.cron(NIGHT + 86_400_000);
    const ended = await client.waitForRun(runId, { timeoutMs: 240_000 });
    manifest = ended.manifest;
    output = ended.status.output;
  }, 300_000);
  afterAll(async () => {
    await dispose?.();
    rmSync(work, { recursive: true, force: true });
  });

  test("completes with every object accounted for, in 4 child instances; failures are reported, not fatal", async () => {
    expect(output).toMatchObject({ runId, state: "completed", totals: { objects: 27, completed: 25, failed: 2 } });
    expect(manifest).toMatchObject({ runId, instances: 4, objects: 27, completed: 25, failed: 2 });
    expect(manifest.pages.map((p: any) => p.objects)).toEqual([8, 8, 8, 3]);
    for (let n = 0; n < 4; n++) expect((await client.instanceStatus(`${runId}-s${n}`))?.status).toBe("complete");
    expect(await client.instanceStatus(`${runId}-s4`)).toBeNull();
    expect(await client.instanceStatus(nightly(NIGHT + 86_400_000))).toBeNull();
  });

  test("the manifest matches R2: every dump with its size, nothing else under the run's prefix", async () => {
    const bucket = await (client as any).mf.getR2Bucket("DUMPS");
    const { problems, entries } = await checkManifest(bucket, manifest, `${PREFIX}${runId}/`, all);
    expect(problems).toEqual([]);
    const byName = Object.fromEntries(entries.map((e: any) => [e.object, e]));
    // Retried by the step, then given up: two attempts, each refused.
    expect(byName[faulty.startFails]).toMatchObject({ state: "failed", attempts: 2, jobId: null, error: { code: "OBJECT_UNREACHABLE" } });
    expect(byName[faulty.startFails].error.message).toContain("injected: start refused");
    // The step's retry cured it.
    expect(byName[faulty.startFlaky]).toMatchObject({ state: "completed", attempts: 1 });
    // Its export started, the answer was lost and the step retried: the retry found the same export
    // (no second one in the object, nothing else in R2: checkManifest above).
    expect(byName[faulty.startLost]).toMatchObject({ state: "completed", attempts: 1 });
    const lostJobs = (await client.jobs(faulty.startLost)).filter((j) => j.outputs.some((o) => o.key.includes(`/${runId}/`)));
    expect(lostJobs.map((j) => j.id)).toEqual([byName[faulty.startLost].jobId]);
    // Every attempt's export failed: reported with the export's own error.
    expect(byName[faulty.exportFails]).toMatchObject({ state: "failed", attempts: 2, error: { code: "IO_ERROR" } });
    expect(byName[faulty.exportFails].error.message).toContain("injected: part upload refused");
    // The second attempt's export completed, into the second attempt's folder.
    expect(byName[faulty.exportFlaky]).toMatchObject({ state: "completed", attempts: 2 });
    expect(byName[faulty.exportFlaky].dumpKey).toContain(`/objects/${faulty.exportFlaky}/2/`);
    // It never announced the end of its export: the run asked it after its wait timed out.
    expect(byName[faulty.silent]).toMatchObject({ state: "completed", attempts: 1 });
    for (const name of healthy) {
      expect(byName[name]).toMatchObject({ state: "completed", attempts: 1, error: null });
      expect(byName[name].dumpKey).toMatch(new RegExp(`^${PREFIX}${runId}/objects/${name}/1/[0-9TZ]+-[0-9a-z]{8}\\.sql\\.gz$`));
    }
    const progress = (await client.run(runId)).progress;
    expect(progress).toMatchObject({ listed: 27, done: 27, completed: 25, failed: 2, bytes: manifest.bytes, rows: manifest.rows });
  });

  test.skipIf(!sqliteCli())("every dump restores, with the sqlite3 CLI, to its object's tables", async () => {
    const bucket = await (client as any).mf.getR2Bucket("DUMPS");
    const entries = (await checkManifest(bucket, manifest, `${PREFIX}${runId}/`, all)).entries.filter((e: any) => e.state === "completed");
    expect(entries.length).toBe(25);
    for (const entry of entries) {
      const dump = new Uint8Array(await (await bucket.get(entry.dumpKey)).arrayBuffer());
      const db = join(work, `${entry.object}.db`);
      expect(checkDump(sqliteCli(), dump, true, await client.checksum(entry.object), db), entry.object).toEqual([]);
    }
  });

  test("an object's calls are idempotent: the same start answers the same job; a malformed call is refused", async () => {
    const tenant = healthy[3]!;
    const start = { action: "start", runId: "manual-1", object: tenant, attempt: 1, notify: null, options: {} };
    const first = await client.call(tenant, start);
    const again = await client.call(tenant, start);
    expect(first.state).toMatch(/queued|running|completed/);
    expect(again.jobId).toBe(first.jobId);
    // An older attempt asked again answers the current one; a new attempt is a new job in its own folder.
    const second = await client.call(tenant, { ...start, attempt: 2 });
    expect(second.jobId).not.toBe(first.jobId);
    expect(second.dumpKey).toContain(`/manual-1/objects/${tenant}/2/`);
    expect((await client.call(tenant, start)).jobId).toBe(second.jobId);
    // The first attempt's job was ended by the second: one active export per run and object.
    const jobs = await client.jobs(tenant);
    expect(jobs.find((j) => j.id === first.jobId)?.state).toMatch(/aborted|completed/);
    // Refused before anything is stored (a DumpError INVALID_ARGUMENT in the object; its message crosses the RPC).
    for (const [bad, message] of [
      [{ ...start, runId: "-bad" }, /A run id is/],
      [{ ...start, object: "" }, /An object name is/],
      [{ ...start, attempt: 0 }, /attempt must be/],
      [{ ...start, options: { format: "csv" } }, /options.format is not an export option/],
      [{ ...start, notify: { instanceId: "x", type: "bad type" } }, /notify must be/],
      [{ action: "drop", runId: "manual-1" }, /Unknown action/],
    ] as const) {
      expect((await client.call(tenant, bad)).error?.message, JSON.stringify(bad)).toMatch(message);
    }
    expect(await client.call(tenant, { action: "status", runId: "never" })).toMatchObject({ state: "unknown", error: { code: "JOB_LOST" } });
  });

  test("after a crash between the job's save and the run record's, a retried start finds the job by its folder", async () => {
    const tenant = healthy[4]!;
    const start = { action: "start", runId: "crash-1", object: tenant, attempt: 1, notify: null, options: {} };
    const first = await client.call(tenant, start);
    expect(await client.forgetJob(tenant, "crash-1")).toBe(true);
    const again = await client.call(tenant, start);
    expect(again.jobId).toBe(first.jobId);
    const jobs = (await client.jobs(tenant)).filter((j) => j.outputs.some((o) => o.key.includes("/crash-1/")));
    expect(jobs.map((j) => j.id)).toEqual([first.jobId]);
  });

  test("restores one tenant from the run's manifest into a fresh object", async () => {
    const tenant = healthy[5]!;
    const into = `${tenant}-copy`;
    const started = await client.post("/_demo/restore", { runId, tenant, into });
    let status = started.status;
    for (let n = 0; status.state === "queued" || status.state === "running"; n++) {
      expect(n).toBeLessThan(2_000);
      await new Promise((r) => setTimeout(r, 50));
      status = await client.json(`/_demo/restore/${into}/${status.id}`);
    }
    expect(status.state).toBe("completed");
    const strip = (c: any) => c.tables.map(({ query: _, ...t }: any) => t);
    expect(strip(await client.checksum(into))).toEqual(strip(await client.checksum(tenant)));
  });
});

// Retention and the lock, on a small fleet backed up by the run's own instance.
describe("runs of a fleet", () => {
  const tenants = ["a", "b", "c"];
  let client: TestClient;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    // "c" never announces its export's end: each run waits for it until the 2 s wait times out.
    const rt = await startFleetTest({ ...FAST, FLEET_KEEP_RUNS: "2", FAULT_SILENT: "c", ADMIN_TOKEN: "admin-token" });
    client = rt.client;
    dispose = () => rt.mf.dispose();
    for (const [i, name] of tenants.entries()) await client.seed(name, 50 * (i + 1), i);
  });
  afterAll(async () => {
    await dispose?.();
  });

  test("keep the last keepRuns runs: what an older run wrote is deleted when a run ends", async () => {
    const bucket = await (client as any).mf.getR2Bucket("DUMPS");
    const runs: string[] = [];
    for (let night = 0; night < 3; night++) {
      const time = NIGHT + night * 86_400_000;
      await client.cron(time);
      runs.push(nightly(time));
      const { manifest, status } = await client.waitForRun(nightly(time), { timeoutMs: 120_000 });
      expect(manifest).toMatchObject({ instances: 1, objects: 3, completed: 3 });
      expect(status.output.deletedRuns).toEqual(night === 2 ? [runs[0]] : []);
    }
    expect([...(await listAll(bucket, `${PREFIX}${runs[0]}/`)).keys()]).toEqual([]);
    for (const run of runs.slice(1)) {
      const { manifest } = await client.run(run);
      expect((await checkManifest(bucket, manifest, `${PREFIX}${run}/`, tenants)).problems).toEqual([]);
    }
    const index = JSON.parse(await (await bucket.get(`${PREFIX}runs.json`)).text());
    expect(index.current).toBeNull();
    expect(index.runs.map((r: any) => [r.runId, r.state])).toEqual(runs.slice(1).map((r) => [r, "completed"]));
  });

  test("a run started while another is live ends at once, skipped, and writes nothing", async () => {
    const first = nightly(NIGHT + 10 * 86_400_000);
    await client.cron(NIGHT + 10 * 86_400_000);
    await waitForLock(client, first);
    // Bypass startFleetBackup's own check: the run's lock must hold by itself.
    const workflow = (await (client as any).mf.getBindings()).TENANT_BACKUPS;
    await workflow.create({ id: "intruder", params: {} });
    const intruder = await client.waitForRun("intruder", { timeoutMs: 60_000 });
    expect(intruder.status.output).toEqual({ runId: "intruder", state: "skipped", heldBy: first });
    await client.waitForRun(first, { timeoutMs: 120_000 });
    const bucket = await (client as any).mf.getR2Bucket("DUMPS");
    expect([...(await listAll(bucket, `${PREFIX}intruder/`)).keys()]).toEqual([]);
  });

  test("the example's routes: the app registers tenants; /backups starts a run (once), shows its progress, then its manifest", async () => {
    const mf = (client as any).mf;
    const call = async (path: string, init: RequestInit = {}, token: string | null = "admin-token") => {
      const headers = new Headers(init.headers);
      if (token) headers.set("authorization", `Bearer ${token}`);
      const res = await mf.dispatchFetch(`http://fleet.local${path}`, { ...init, headers });
      return { status: res.status as number, body: (await res.json()) as any };
    };
    const note = await call("/tenants/d/notes", { method: "POST", body: JSON.stringify({ text: "hello" }) }, null);
    expect(note).toEqual({ status: 201, body: { id: 1 } });
    expect((await call("/tenants/d/notes", {}, null)).body).toEqual({ notes: 1 });
    expect((await call("/backups", { method: "POST" }, null)).status).toBe(401);
    expect((await call("/backups", { method: "POST" }, "wrong")).status).toBe(401);
    const started = await call("/backups", { method: "POST" });
    expect(started).toMatchObject({ status: 202, body: { started: true, runId: expect.stringMatching(/^manual-\d{8}T\d{6}Z$/) } });
    const runId = started.body.runId;
    await waitForLock(client, runId);
    expect(await call("/backups", { method: "POST" })).toMatchObject({ status: 409, body: { started: false, runId } });
    expect((await call(`/backups/${runId}`)).body).toMatchObject({ runId, progress: { listed: expect.any(Number) } });
    await client.waitForRun(runId, { timeoutMs: 120_000 });
    // The tenant the app registered is in the run, with the others.
    expect((await call(`/backups/${runId}`)).body).toMatchObject({ runId, objects: 4, completed: 4 });
    const runs = (await call("/backups")).body;
    expect(runs.current).toBeNull();
    expect(runs.runs.at(-1)).toMatchObject({ runId, state: "completed" });
  });
});

// The object source is the app's code: a page it gets wrong fails the run at once, without retries.
describe("a fleet whose object source returns a bad name", () => {
  test("the run errors with the source's mistake in its message", async () => {
    const rt = await startFleetTest({ ...FAST, FLEET_STEP_RETRY_DELAY_MS: "60000" });
    try {
      await rt.client.seed("fine", 5, 0);
      await rt.client.seed("bad\u0001name", 5, 1);
      await rt.client.cron(NIGHT);
      // A retried step would wait a minute first (FLEET_STEP_RETRY_DELAY_MS): the run fails long before.
      await expect(rt.client.waitForRun(nightly(NIGHT), { timeoutMs: 30_000 })).rejects.toThrow(
        /errored.*objects\(\) returned .*bad.*u0001name.*without control characters/,
      );
    } finally {
      await rt.mf.dispose();
    }
  });
});
