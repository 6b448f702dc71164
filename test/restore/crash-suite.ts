import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RestoreStartOptions, RestoreStatus } from "../../src/index.js";
import { failuresOf } from "../harness/parallel.js";
import { type Answer, HOST_CONFIG_KEY, createRestoreHarness, driveRestore, type RestoreHarness, type RestoreObject } from "./harness.js";
import type { RestoreHostConfig } from "./worker/host.js";

/**
 * The crash-at-every-step suite, for any restore scenario. Every I/O step of an undisturbed
 * restore is enumerated (R2 reads, storage writes, the transaction that commits each batch with its
 * checkpoint, the KV reads and writes and the SQL statements inside it, the syncs around foreign
 * keys); for each selected step N, one restore breaks there ("throw": the step fails; "die": it
 * succeeds and the process dies right after, which inside a transaction rolls it back), recovers
 * with fresh engines over the same storage, and finishes. The object must then equal the
 * undisturbed run's (`digest`), with the same counts and no scratch state left.
 */

/** Runs in flight at once (each in its own object). */
const PARALLEL = 3;
/** Every step of these kinds is broken; of the others (SQL statements, KV writes inside a transaction), a few spread evenly. */
const EVERY = new Set(["r2.head", "r2.get", "storage.put", "storage.setAlarm", "storage.delete", "storage.sync", "storage.transactionSync"]);

/** What a scenario supplies. */
export interface RestoreCrashScenario {
  /** Engine options of every restoring object. */
  config: RestoreHostConfig;
  /** Steps broken of each kind not in `EVERY` (its first, its last, and evenly between). */
  perKind: number;
  /** Writes the dump to R2 (from an object of its own); returns the restore's start options. */
  prepare(h: RestoreHarness): Promise<RestoreStartOptions>;
  /** What each restoring object holds before the restore (nothing by default). */
  prepareTarget?(obj: RestoreObject): Promise<void>;
  /** What the restored object holds, as one string: equal for equal objects. */
  digest(obj: RestoreObject): Promise<string>;
  /** Kinds of step the undisturbed run must have. */
  kinds: string[];
  /** Further tests of the undisturbed run: its final status, its status after each tick, the digest of what it restored. */
  baselineTests?(run: () => { h: RestoreHarness; status: RestoreStatus; ticks: RestoreStatus[]; digest: string }): void;
}

/** Picks steps deterministically: every step of the kinds in EVERY, `perKind` of each other kind (its first, its last, and evenly between). */
function selectSteps(log: string[], perKind: number): number[] {
  const byKind = new Map<string, number[]>();
  for (const [i, kind] of log.entries()) byKind.set(kind, [...(byKind.get(kind) ?? []), i + 1]);
  const chosen: number[] = [];
  for (const [kind, steps] of byKind) {
    if (EVERY.has(kind) || steps.length <= perKind) chosen.push(...steps);
    else for (let k = 0; k < perKind; k++) chosen.push(steps[Math.round((k * (steps.length - 1)) / (perKind - 1))]!);
  }
  return [...new Set(chosen)].sort((a, b) => a - b);
}

export function describeRestoreCrashes(title: string, scenario: RestoreCrashScenario): void {
  describe(title, () => {
    let h: RestoreHarness;
    let options: RestoreStartOptions;
    let baseline: { digest: string; log: string[]; threw: Set<number>; status: RestoreStatus; ticks: RestoreStatus[] };

    async function fresh(): Promise<RestoreObject> {
      const obj = h.object();
      await obj.config(scenario.config);
      await scenario.prepareTarget?.(obj);
      return obj;
    }

    beforeAll(async () => {
      h = await createRestoreHarness();
      options = await scenario.prepare(h);
      const obj = await fresh();
      await obj.ok("reset-io");
      const started = await obj.start(options);
      expect(started.error).toBeUndefined();
      const ticks: RestoreStatus[] = [];
      const status = await driveRestore(obj, started.result!.id, {
        afterTick: async () => {
          ticks.push((await obj.status(started.result!.id))!);
        },
      });
      expect(status.state, JSON.stringify(status.error)).toBe("completed");
      const io = await obj.io();
      baseline = { digest: await scenario.digest(obj), log: io.log, threw: new Set(io.threw), status, ticks };
      const histogram: Record<string, number> = {};
      for (const kind of baseline.log) histogram[kind] = (histogram[kind] ?? 0) + 1;
      console.log(`${title}: undisturbed run: ${JSON.stringify(histogram)}`);
    });
    afterAll(async () => {
      await h?.dispose();
    });

    test("the undisturbed run has every kind of step", () => {
      for (const kind of scenario.kinds) expect(baseline.log, kind).toContain(kind);
    });
    scenario.baselineTests?.(() => ({ h, status: baseline.status, ticks: baseline.ticks, digest: baseline.digest }));

    for (const mode of ["throw", "die"] as const) {
      test(`mode ${mode}: every selected step`, async () => {
        // A step whose own operation threw in the undisturbed run (a batch retried with foreign keys
        // off) cannot succeed and then die.
        const steps = selectSteps(baseline.log, scenario.perKind).filter((step) => mode === "throw" || !baseline.threw.has(step));
        expect(new Set(steps.map((s) => baseline.log[s - 1])).size, "every kind of step is broken").toBe(new Set(baseline.log).size);
        console.log(`${title}, mode ${mode}: breaking ${steps.length} of ${baseline.log.length} steps`);
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
        const a = await obj.start(options);
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
      const want = baseline.status.progress;
      const got = status.progress;
      if (got.statements !== want.statements || got.kvEntriesRestored !== want.kvEntriesRestored) {
        throw new Error(
          `${got.statements} statements and ${got.kvEntriesRestored} entries applied, the undisturbed run ${want.statements} and ${want.kvEntriesRestored}`,
        );
      }
      if ((await scenario.digest(obj)) !== baseline.digest) throw new Error("the restored object differs from the undisturbed run's");
      const leftovers = (await obj.keys("durable-dump:")).filter((k) => !k.startsWith("durable-dump:restore:") && k !== HOST_CONFIG_KEY);
      if (leftovers.length) throw new Error(`scratch state left: ${leftovers.join(", ")}`);
      const fk = (await obj.query("PRAGMA foreign_keys")).rows;
      if (JSON.stringify(fk) !== "[[1]]") throw new Error(`foreign keys left ${JSON.stringify(fk)}`);
    }
  });
}
