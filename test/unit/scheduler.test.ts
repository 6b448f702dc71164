import { describe, expect, test } from "vitest";
import { AlarmScheduler } from "../../src/alarms/scheduler.js";
import { MemoryStorage } from "./memory-storage.js";

function setup(now = 1_000) {
  const clock = { now };
  const storage = new MemoryStorage();
  const scheduler = new AlarmScheduler(storage, { now: () => clock.now, retryDelayMs: 500 });
  return { clock, storage, scheduler };
}

describe("the alarm the scheduler arms", () => {
  test("is the earliest wake-up, never later than one already set, and overdue ones arm now + 1", async () => {
    const { storage, scheduler } = setup();
    await scheduler.schedule("a", 5_000);
    expect(storage.alarm).toBe(5_000);
    await scheduler.schedule("b", 3_000);
    expect(storage.alarm).toBe(3_000);
    await scheduler.schedule("c", 9_000);
    expect(storage.alarm).toBe(3_000);
    await scheduler.schedule("d", 10);
    expect(storage.alarm).toBe(1_001);
    storage.alarm = 500;
    await scheduler.schedule("e", 2_000);
    expect(storage.alarm, "an earlier alarm (the host's) is left alone").toBe(500);
  });

  test("scheduleNoLaterThan keeps an earlier time; cancel writes nothing when there is nothing", async () => {
    const { storage, scheduler } = setup();
    await scheduler.scheduleNoLaterThan("x", 4_000);
    await scheduler.scheduleNoLaterThan("x", 6_000);
    expect(await scheduler.get("x")).toBe(4_000);
    await scheduler.scheduleNoLaterThan("x", 2_000);
    expect(await scheduler.get("x")).toBe(2_000);
    const puts = storage.calls.put;
    expect(await scheduler.cancel("nothing")).toBe(false);
    expect(storage.calls.put).toBe(puts);
    expect(storage.calls.delete).toBeUndefined();
  });
});

describe("run()", () => {
  test("runs due wake-ups earliest first, removes them, keeps those scheduled again and re-arms for the next", async () => {
    const { clock, storage, scheduler } = setup();
    const ran: string[] = [];
    await scheduler.schedule("late", 3_000);
    await scheduler.schedule("second", 900);
    await scheduler.schedule("first", 800);
    await scheduler.schedule("again", 950);
    clock.now = 1_000;
    const result = await scheduler.run({
      first: () => ran.push("first"),
      second: () => ran.push("second"),
      again: async () => {
        ran.push("again");
        await scheduler.schedule("again", 950);
      },
    });
    expect(ran).toEqual(["first", "second", "again"]);
    expect(result).toEqual({ ran: ["first", "second", "again"], failed: [], unhandled: [] });
    expect((await scheduler.pending()).map((w) => w.name)).toEqual(["again", "late"]);
    expect(storage.alarm).toBe(1_001);
  });

  test("a handler that throws runs again after retryDelayMs while the others run; run() rethrows; unknown names are dropped", async () => {
    const { clock, scheduler } = setup();
    await scheduler.schedule("bad", 10);
    await scheduler.schedule("good", 20);
    await scheduler.schedule("orphan", 30);
    clock.now = 100;
    let good = 0;
    await expect(
      scheduler.run({
        bad: () => {
          throw new Error("boom");
        },
        good: () => good++,
      }),
    ).rejects.toThrow("boom");
    expect(good).toBe(1);
    expect(await scheduler.pending()).toEqual([{ name: "bad", at: 600 }]);
  });
});
