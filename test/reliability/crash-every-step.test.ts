import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DumpStatus, StartOptions } from "../../src/index.js";
import { createRelHarness, drive, type RelHarness, type RelObject } from "./harness.js";
import { failuresOf } from "../harness/parallel.js";

/**
 * For a multi-part export (5 MiB parts, ~12.6 MB of text), every I/O step of an undisturbed run
 * is enumerated; for each selected step N, one run breaks there ("throw": the step fails;
 * "die": the step succeeds and the process dies right after), recovers with a fresh engine over
 * the same storage, and finishes. Each run must end with objects byte-identical to the
 * undisturbed run's, and with no temporary state left. Two formats: a SQL dump (one object) and
 * NDJSON (one object per table, so uploads open and complete in the middle of the job).
 */

const MiB = 1024 * 1024;
const CONFIG = { tickBudgetMs: 100, partSize: 5 * MiB, clockStepMs: 20 };
const SEED = { rows: 6000, maxText: 4000 };
/** Runs in flight at once (each in its own object). */
const PARALLEL = 3;
/** Besides every step that is not a storage put, and puts next to them, every Nth put is broken. */
const PUT_STRIDE = Number(process.env.DD_FAULT_PUT_STRIDE ?? 8);

function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function freshObject(h: RelHarness): Promise<RelObject> {
  const obj = h.object();
  await obj.config(CONFIG);
  await obj.seed(SEED.rows, SEED.maxText);
  return obj;
}

/** Picks steps deterministically: all non-put steps, their neighbours, and every PUT_STRIDE-th put. */
function selectSteps(log: string[], stride: number): number[] {
  const chosen = new Set<number>();
  let puts = 0;
  log.forEach((kind, i) => {
    const step = i + 1;
    if (kind !== "storage.put") {
      chosen.add(step);
      if (step > 1) chosen.add(step - 1);
      if (step < log.length) chosen.add(step + 1);
    } else if (puts++ % stride === 0) chosen.add(step);
  });
  return [...chosen].sort((a, b) => a - b);
}

/** Each output of a completed job by table ("" for a whole-job object): size and SHA-256. */
async function outputsOf(h: RelHarness, status: DumpStatus): Promise<Map<string, { size: number; sha: string; parts: number }>> {
  const outputs = new Map<string, { size: number; sha: string; parts: number }>();
  for (const o of status.outputs) {
    const bytes = await h.readObject(o.key);
    if (!bytes) throw new Error(`no object ${o.key}`);
    if (o.bytes !== bytes.length) throw new Error(`status says ${o.bytes} bytes for ${o.key}, R2 has ${bytes.length}`);
    outputs.set(o.table ?? "", { size: bytes.length, sha: sha(bytes), parts: o.parts });
  }
  return outputs;
}

describe.each<[string, StartOptions]>([
  ["SQL dump", {}],
  ["NDJSON, one object per table", { format: "ndjson" }],
])("a crash at any I/O step leaves the export byte-identical: %s", (_name, options) => {
  let h: RelHarness;
  let baseline: { outputs: Map<string, { size: number; sha: string; parts: number }>; log: string[] };

  beforeAll(async () => {
    h = await createRelHarness();
    const obj = await freshObject(h);
    await obj.ok("reset-io");
    const started = await obj.start(options);
    const status = await drive(obj, started.result!.id);
    expect(status.state).toBe("completed");
    const { log } = await obj.io();
    baseline = { outputs: await outputsOf(h, status), log };
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("the undisturbed run is multi-part and has every kind of step", () => {
    const largest = [...baseline.outputs.values()].sort((a, b) => b.size - a.size)[0]!;
    expect(largest.parts).toBe(3);
    expect(largest.size).toBeGreaterThan(12e6);
    for (const kind of ["r2.head", "r2.createMultipartUpload", "storage.put", "storage.setAlarm", "r2.uploadPart", "r2.complete", "storage.delete"]) {
      expect(baseline.log, kind).toContain(kind);
    }
  });

  for (const mode of ["throw", "die"] as const) {
    test(`mode ${mode}: every selected step`, async () => {
      const steps = selectSteps(baseline.log, PUT_STRIDE);
      const kinds = new Set(steps.map((s) => baseline.log[s - 1]));
      expect(kinds.size, "every kind of step is broken at least once").toBe(new Set(baseline.log).size);
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
    const obj = await freshObject(h);
    await obj.fault({ failAt: step, mode });
    let fired = false;
    let id: string | null = null;
    for (let attempt = 0; attempt < 3 && id === null; attempt++) {
      const a = await obj.start(options);
      if (a.fault) fired = true;
      if (a.result) id = a.result.id;
      else {
        if (!a.fault) throw new Error(`start failed without a fault: ${JSON.stringify(a.error)}`);
        // The job may have been saved before the process died: the caller finds it in the list.
        id = (await obj.list())[0]?.id ?? null;
      }
    }
    if (id === null) throw new Error("could not start");
    const status = await drive(obj, id, {
      afterTick: async (_n, a) => {
        if (a.fault) fired = true;
        else if (a.error) throw new Error(`tick failed without a fault: ${a.error.message}`);
      },
    });
    if (!fired) throw new Error("the fault never fired");
    // The wake-up left by the last tick still fires: let it finish what a crash interrupted.
    for (let n = 0; n < 10; n++) {
      const a = await obj.tick();
      if (a.error) throw new Error(`tick after completion failed: ${a.error.message}`);
      if (!a.result!.more) break;
    }
    if (status.state !== "completed") throw new Error(`ended ${status.state}: ${JSON.stringify(status.error)}`);
    const outputs = await outputsOf(h, status);
    for (const [table, want] of baseline.outputs) {
      const got = outputs.get(table);
      if (got?.sha !== want.sha) throw new Error(`object of ${JSON.stringify(table)} differs: ${got?.size} bytes vs ${want.size}`);
    }
    if (outputs.size !== baseline.outputs.size) throw new Error(`${outputs.size} objects, the undisturbed run wrote ${baseline.outputs.size}`);
    const leftovers = (await obj.keys("durable-dump:")).filter((k) => !k.startsWith("durable-dump:job:"));
    if (leftovers.length) throw new Error(`temporary state left: ${leftovers.join(", ")}`);
    await (await h.mf.getR2Bucket("DUMPS")).delete(status.outputs.map((o) => o.key));
  }
});
