import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHarness, type Harness } from "./harness/miniflare.js";
import { bigDataStatements } from "./harness/big-data.js";
import { expectSqlite3RestoresObject } from "./harness/compare.js";
import { waitForAlarms } from "./harness/drive.js";
import { readSingleOutput } from "./harness/dump.js";

const MiB = 1024 * 1024;

describe("real alarms drive a job to completion (auto mode, real clock)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("counters match the object, then the alarm goes quiet", async () => {
    const obj = h.object();
    await obj.exec([
      ...bigDataStatements({ hugeRows: 6, mediumRows: 10, smallRows: 3000 }),
      `CREATE TABLE other (id INTEGER PRIMARY KEY, v TEXT)`,
      `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) INSERT INTO other (v) SELECT 'row ' || i FROM s`,
    ]);
    await obj.config({ tickBudgetMs: 100, partSize: 5 * MiB });
    await obj.mode("auto");

    const started = await obj.start({ format: "sql" });
    const { status, alarmRuns } = await waitForAlarms(obj, started.id, { timeoutMs: 180_000 });
    const { bytes } = await readSingleOutput(h, status);

    expect(alarmRuns).toBeGreaterThanOrEqual(1);
    expect(status.progress.tablesTotal).toBe(2);
    expect(status.progress.tablesDone).toBe(status.progress.tablesTotal);
    expect(status.progress.rowsWritten).toBe(3016 + 5000);
    expect(status.progress.bytesWritten).toBe(bytes.byteLength);
    expect(status.progress.partsUploaded).toBe(status.outputs[0]!.parts);
    expect(status.outputs[0]!.parts).toBeGreaterThan(1);
    expect(status.startedAt).not.toBeNull();
    expect(status.finishedAt).toBeGreaterThanOrEqual(status.startedAt!);
    expect(await obj.list()).toEqual([expect.objectContaining({ id: started.id, state: "completed" })]);

    await expectSqlite3RestoresObject(obj, bytes);

    // With no work left the engine must stop re-arming: the alarm clears (bounded wait).
    const deadline = Date.now() + 30_000;
    let info = await obj.alarmInfo();
    while (info.alarm !== null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      info = await obj.alarmInfo();
    }
    expect(info.alarm, "alarm still armed after the job completed").toBeNull();
    expect(info.alarmErrors).toEqual([]);
    console.log(`alarms: ${info.alarmRuns} runs, ${status.outputs[0]!.parts} parts, ${bytes.byteLength} bytes`);
  });
});
