import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHarness, type Harness } from "./harness/miniflare.js";
import type { HostObject } from "./harness/host-client.js";
import { bigDataStatements } from "./harness/big-data.js";
import { expectSqlite3RestoresObject } from "./harness/compare.js";
import { runToCompletion } from "./harness/drive.js";
import { readSingleOutput } from "./harness/dump.js";

const MiB = 1024 * 1024;
/** See roundtrip.test.ts: each clock read advances this much, against a 100 ms budget. */
const CLOCK_STEP_MS = Number(process.env.DD_TEST_CLOCK_STEP_MS ?? 1000);

describe("multipart upload of a ~30 MB database", () => {
  let h: Harness;
  let obj: HostObject;
  let undisturbed: Uint8Array | undefined;

  beforeAll(async () => {
    h = await createHarness();
    obj = h.object();
    await obj.exec(bigDataStatements());
    await obj.config({ tickBudgetMs: 100, partSize: 5 * MiB, clockStepMs: CLOCK_STEP_MS });
    await obj.mode("manual");
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("source is as big as intended", async () => {
    const r = await obj.query(`SELECT count(*), sum(length(b)) + sum(length(t)), max(max(length(b)), max(length(t))) FROM mixed`);
    const [rows, bytes, largest] = r.rows[0] as number[];
    expect(rows).toBe(2036);
    expect(bytes).toBeGreaterThan(28e6);
    expect(largest).toBe(1_500_000);
  });

  test("undisturbed: many parts, completed object, exact restore", async () => {
    const started = await obj.start({ format: "sql" });
    const { status, ticks } = await runToCompletion(obj, started.id, { maxTicks: 50_000 });
    const { bytes } = await readSingleOutput(h, status);
    undisturbed = bytes;
    console.log(`undisturbed: ${ticks} ticks, ${status.outputs[0]!.parts} parts, ${bytes.byteLength} bytes`);
    expect(status.outputs[0]!.parts).toBeGreaterThan(1);
    expect(status.progress.partsUploaded).toBe(status.outputs[0]!.parts);
    expect(status.outputs[0]!.parts).toBe(Math.ceil(bytes.byteLength / (5 * MiB)));
    expect(status.progress.bytesWritten).toBe(bytes.byteLength);
    expect(status.progress.rowsWritten).toBe(2036);
    expect(ticks).toBeGreaterThan(status.outputs[0]!.parts);

    await expectSqlite3RestoresObject(obj, bytes);
  });

  test("evicted between every tick: same object byte for byte", async () => {
    expect(undisturbed, "needs the undisturbed run").toBeDefined();
    const started = await obj.start({ format: "sql" });
    const { status } = await runToCompletion(obj, started.id, { maxTicks: 50_000, afterTick: () => obj.evict() });
    const { bytes } = await readSingleOutput(h, status);
    expect(status.outputs[0]!.parts).toBeGreaterThan(1);
    expect(bytes.byteLength).toBe(undisturbed!.byteLength);
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(undisturbed!))).toBe(0);
  });
});
