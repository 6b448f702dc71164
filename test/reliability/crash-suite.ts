import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DumpStatus, StartOptions } from "../../src/index.js";
import { type RelHarness, type RelObject, createRelHarness, drive } from "./harness.js";

/**
 * The crash-at-every-step suite, for any export scenario. Every I/O step of an undisturbed run is
 * enumerated; for each selected step N, one run breaks there ("throw": the step fails; "die": the
 * step succeeds and the process dies right after), recovers with a fresh engine over the same
 * storage, and finishes. Each run must end with objects byte-identical to the undisturbed run's,
 * and with no temporary state left.
 */

/** Runs in flight at once (each in its own object). */
const PARALLEL = 3;
/** Besides every step that is not a storage put, and puts next to them, every Nth put is broken (unless the scenario says). */
const PUT_STRIDE = Number(process.env.DD_FAULT_PUT_STRIDE ?? 8);

/** An output of a completed job: size, SHA-256, parts. */
export interface OutputSummary {
  size: number;
  sha: string;
  parts: number;
}

/** What a scenario supplies. */
export interface CrashScenario {
  /** The export's start options. */
  options: StartOptions;
  /** A fresh object, configured and seeded (the same data every time). */
  prepare(h: RelHarness): Promise<RelObject>;
  /** Parts of the largest object of the undisturbed run, and its least size. */
  largest: { parts: number; minBytes: number };
  /** Break every Nth storage put (1: every step). Default `DD_FAULT_PUT_STRIDE`, else 8. */
  putStride?: number;
  /** Further tests of the undisturbed run; `ticks` holds the job's status after each of its ticks. */
  baselineTests?(run: () => { h: RelHarness; obj: RelObject; status: DumpStatus; ticks: DumpStatus[] }): void;
}

function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
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

/** Each output of a completed job by its key without the job id ("" for a whole-job object's extension). */
async function outputsOf(h: RelHarness, status: DumpStatus): Promise<Map<string, OutputSummary>> {
  const outputs = new Map<string, OutputSummary>();
  for (const o of status.outputs) {
    const bytes = await h.readObject(o.key);
    if (!bytes) throw new Error(`no object ${o.key}`);
    if (o.bytes !== bytes.length) throw new Error(`status says ${o.bytes} bytes for ${o.key}, R2 has ${bytes.length}`);
    outputs.set(o.key.replace(status.id, "<id>"), { size: bytes.length, sha: sha(bytes), parts: o.parts });
  }
  return outputs;
}

/** Defines the suite for `scenario`. */
export function describeCrashAtEveryStep(name: string, scenario: CrashScenario): void {
  describe(`a crash at any I/O step leaves the export byte-identical: ${name}`, () => {
    let h: RelHarness;
    let baseline: { obj: RelObject; status: DumpStatus; ticks: DumpStatus[]; outputs: Map<string, OutputSummary>; log: string[] };

    beforeAll(async () => {
      h = await createRelHarness();
      const obj = await scenario.prepare(h);
      await obj.ok("reset-io");
      const started = await obj.start(scenario.options);
      const id = started.result!.id;
      const ticks: DumpStatus[] = [];
      const status = await drive(obj, id, { afterTick: async () => ticks.push((await obj.status(id)).result!) });
      expect(status.state).toBe("completed");
      // Reads of the status are not I/O steps (reads are not counted): the log is the export's alone.
      const { log } = await obj.io();
      baseline = { obj, status, ticks, outputs: await outputsOf(h, status), log };
    });
    afterAll(async () => {
      await h?.dispose();
    });

    test("the undisturbed run is multi-part and has every kind of step", () => {
      const largest = [...baseline.outputs.values()].sort((a, b) => b.size - a.size)[0]!;
      expect(largest.parts).toBe(scenario.largest.parts);
      expect(largest.size).toBeGreaterThan(scenario.largest.minBytes);
      for (const kind of ["r2.head", "r2.createMultipartUpload", "storage.put", "storage.setAlarm", "r2.uploadPart", "r2.complete", "storage.delete"]) {
        expect(baseline.log, kind).toContain(kind);
      }
    });

    scenario.baselineTests?.(() => ({ h, obj: baseline.obj, status: baseline.status, ticks: baseline.ticks }));

    for (const mode of ["throw", "die"] as const) {
      test(`mode ${mode}: every selected step`, async () => {
        const steps = selectSteps(baseline.log, scenario.putStride ?? PUT_STRIDE);
        const kinds = new Set(steps.map((s) => baseline.log[s - 1]));
        expect(kinds.size, "every kind of step is broken at least once").toBe(new Set(baseline.log).size);
        console.log(`${name}, mode ${mode}: breaking ${steps.length} of ${baseline.log.length} steps`);
        const failures: string[] = [];
        const queue = [...steps];
        const worker = async () => {
          for (let step = queue.shift(); step !== undefined; step = queue.shift()) {
            try {
              await crashRun(step, mode);
            } catch (e) {
              failures.push(`step ${step} (${baseline.log[step - 1]}): ${e instanceof Error ? e.message : String(e)}`);
            }
          }
        };
        await Promise.all(Array.from({ length: PARALLEL }, worker));
        expect(failures).toEqual([]);
      });
    }

    async function crashRun(step: number, mode: "throw" | "die"): Promise<void> {
      const obj = await scenario.prepare(h);
      await obj.fault({ failAt: step, mode });
      let fired = false;
      let id: string | null = null;
      for (let attempt = 0; attempt < 3 && id === null; attempt++) {
        const a = await obj.start(scenario.options);
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
      for (const [key, want] of baseline.outputs) {
        const got = outputs.get(key);
        if (got?.sha !== want.sha) throw new Error(`object ${key} differs: ${got?.size} bytes vs ${want.size}`);
      }
      if (outputs.size !== baseline.outputs.size) throw new Error(`${outputs.size} objects, the undisturbed run wrote ${baseline.outputs.size}`);
      const leftovers = (await obj.keys("durable-dump:")).filter((k) => !k.startsWith("durable-dump:job:"));
      if (leftovers.length) throw new Error(`temporary state left: ${leftovers.join(", ")}`);
      await (await h.mf.getR2Bucket("DUMPS")).delete(status.outputs.map((o) => o.key));
    }
  });
}
