import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRelHarness, type RelHarness } from "./harness.js";

/** The AlarmScheduler: one alarm shared by the engine and the host's own work. */

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("AlarmScheduler", () => {
  let h: RelHarness;
  beforeAll(async () => {
    h = await createRelHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("a handler that schedules its own wake-up again for the same millisecond keeps it", async () => {
    const obj = h.object(); // virtual clock (2030): the alarm it arms never fires during the test
    const sched = (op: string, name = "", at = 0) => obj.ok<any>("sched", { op, name, at });
    const names = async () => (await sched("pending")).map((w: { name: string }) => w.name);
    await sched("schedule", "again", 1_000);
    await sched("runRescheduleSame", "again", 1_000);
    expect(await names(), "rescheduled at the very same time: still pending").toEqual(["again"]);
    await sched("run", "again");
    expect(await names(), "a handler that does not reschedule: removed").toEqual([]);
  });

  test("arms the earliest wake-up, never postpones or cancels the host's alarm, runs overdue ones", async () => {
    const obj = h.object();
    await obj.config({ clock: "real" });
    const sched = (op: string, name = "", at = 0) => obj.ok<any>("sched", { op, name, at });
    const now = await sched("now");
    await sched("setAlarm", "", now + 60_000);
    await sched("schedule", "later", now + 3_600_000);
    expect(await sched("getAlarm"), "an earlier alarm of the host is kept").toBe(now + 60_000);
    await sched("schedule", "sooner", now + 30_000);
    expect(await sched("getAlarm")).toBe(now + 30_000);
    expect(await sched("cancel", "sooner")).toBe(true);
    expect(await sched("cancel", "sooner")).toBe(false);
    expect(await sched("getAlarm"), "cancel leaves the alarm alone").toBe(now + 30_000);
    expect((await sched("pending")).map((w: { name: string }) => w.name)).toEqual(["later"]);

    // Overdue: armed for now + 1 rather than skipped; the host's alarm() runs it (and drops it: no handler).
    await sched("deleteAlarm");
    await sched("schedule", "overdue", now - 10_000);
    for (let i = 0; i < 50 && (await sched("pending")).some((w: { name: string }) => w.name === "overdue"); i++) await sleep(50);
    expect((await sched("pending")).map((w: { name: string }) => w.name)).toEqual(["later"]);
    const state = await obj.ok<{ alarmRuns: number; alarm: number }>("host-state");
    expect(state.alarmRuns).toBeGreaterThan(0);
    expect(state.alarm, "re-armed for the remaining wake-up").toBe(now + 3_600_000);
  });

  test("bad names and times are refused with INVALID_OPTIONS", async () => {
    const obj = h.object();
    await obj.config({ clock: "real" });
    for (const [name, at] of [
      ["", 1],
      ["x", Number.NaN],
      [42, 1],
      ["x", "soon"],
    ] as const) {
      const a = await obj.call("sched", { op: "schedule", name, at });
      expect(a.error?.code, JSON.stringify([name, at])).toBe("INVALID_OPTIONS");
    }
  });

  test("a host's periodic work and long exports both make progress on the one alarm", async () => {
    const obj = h.object();
    await obj.config({ clock: "real", tickBudgetMs: 100, partSize: 5 * MiB });
    await obj.seed(6000, 4000);
    await obj.ok("periodic", { everyMs: 50 });
    const ids = [(await obj.start()).result!.id, (await obj.start({ exclude: ["small"] })).result!.id];
    const seen: number[] = [];
    const deadline = Date.now() + 120_000;
    for (;;) {
      const states = await Promise.all(ids.map(async (id) => (await obj.status(id)).result!.state));
      const host = await obj.ok<{ periodicRuns: number }>("host-state");
      seen.push(host.periodicRuns);
      if (states.every((s) => s === "completed")) break;
      expect(states.some((s) => s === "failed" || s === "aborted")).toBe(false);
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(100);
    }
    const host = await obj.ok<{ periodicRuns: number; ticksInAlarm: number; wakes: { name: string }[] }>("host-state");
    expect(host.ticksInAlarm, "the engine ran from the shared alarm").toBeGreaterThan(2);
    expect(seen.at(-1)! - seen[0]!, "periodic work ran during the exports").toBeGreaterThan(2);
    // The engine's wake-up is gone once nothing is left; the host's keeps going.
    await sleep(300);
    const after = await obj.ok<{ periodicRuns: number; wakes: { name: string }[] }>("host-state");
    expect(after.wakes.map((w) => w.name)).toEqual(["host:periodic"]);
    expect(after.periodicRuns).toBeGreaterThan(host.periodicRuns);
  });
});
