import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRelHarness, drive, type RelHarness, type RelObject } from "./harness.js";

/** Transient and permanent R2 errors, a vanished upload, and an alarm handler that throws. */

const MiB = 1024 * 1024;
const CONFIG = { tickBudgetMs: 100, partSize: 5 * MiB, clockStepMs: 20 };

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("R2 errors", () => {
  let h: RelHarness;
  let baseline: string;

  async function fresh(): Promise<RelObject> {
    const obj = h.object();
    await obj.config(CONFIG);
    await obj.seed(2500, 4000);
    return obj;
  }

  async function leftovers(obj: RelObject): Promise<string[]> {
    return (await obj.keys("durable-dump:")).filter((k) => !k.startsWith("durable-dump:job:"));
  }

  async function drain(obj: RelObject): Promise<void> {
    for (let n = 0; n < 10; n++) if (!(await obj.tick()).result?.more) return;
  }

  beforeAll(async () => {
    h = await createRelHarness();
    const obj = await fresh();
    const st = await drive(obj, (await obj.start()).result!.id);
    baseline = sha((await h.readObject(st.outputs[0]!.key))!);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("transient upload errors are retried with exponential backoff, and the output is exact", async () => {
    const obj = await fresh();
    const id = (await obj.start()).result!.id;
    await obj.fault({ failAt: null, mode: "throw", kind: "r2.uploadPart", times: 3, message: "network connection lost" });
    const delays: number[] = [];
    const st = await drive(obj, id, {
      afterTick: async (_n, a) => {
        if (!a.fault) return;
        const rec = await obj.ok<{ retryAt: number; updatedAt: number; error: { code: string } }>(`record/${id}`);
        expect(rec.error.code).toBe("IO_ERROR");
        delays.push(rec.retryAt - rec.updatedAt);
      },
    });
    expect(st.state).toBe("completed");
    expect(st.error).toBeNull();
    expect(delays).toEqual([2_000, 4_000, 8_000]);
    expect(sha((await h.readObject(st.outputs[0]!.key))!)).toBe(baseline);
  });

  test("an error that keeps coming fails the job with RETRIES_EXHAUSTED, aborts the upload and removes its state", async () => {
    const obj = await fresh();
    const id = (await obj.start()).result!.id;
    await obj.fault({ failAt: null, mode: "throw", kind: "r2.uploadPart", times: 1_000, message: "internal error" });
    const st = await drive(obj, id);
    expect(st.state).toBe("failed");
    expect(st.error?.code).toBe("RETRIES_EXHAUSTED");
    expect(st.error?.message).toMatch(/6 attempts.*internal error/);
    await obj.fault({ failAt: null, mode: "throw" });
    await drain(obj);
    expect(await leftovers(obj)).toEqual([]);
    // The upload was aborted: it accepts no more parts.
    const rec = await obj.ok<{ upload: { key: string; uploadId: string } }>(`record/${id}`);
    const bucket = await h.mf.getR2Bucket("DUMPS");
    await expect(bucket.resumeMultipartUpload(rec.upload.key, rec.upload.uploadId).uploadPart(1, "x")).rejects.toThrow();
    expect(await bucket.head(rec.upload.key)).toBeNull();
  });

  test("a completion that keeps failing exhausts its retries instead of looping", async () => {
    const obj = await fresh();
    const id = (await obj.start()).result!.id;
    await obj.fault({ failAt: null, mode: "throw", kind: "r2.complete", times: 1_000, message: "internal error" });
    const st = await drive(obj, id, { maxTicks: 200 });
    expect(st.state).toBe("failed");
    expect(st.error?.code).toBe("RETRIES_EXHAUSTED");
  });

  test("a job whose multipart upload vanished fails with UPLOAD_LOST", async () => {
    const obj = await fresh();
    const id = (await obj.start()).result!.id;
    await obj.tick();
    await obj.ok(`lose-upload/${id}`);
    const st = await drive(obj, id);
    expect(st.state).toBe("failed");
    expect(st.error?.code).toBe("UPLOAD_LOST");
    await drain(obj);
    expect(await leftovers(obj)).toEqual([]);
  });

  test("an alarm handler that throws after its work (platform retries) neither duplicates nor skips work", async () => {
    const obj = h.object();
    await obj.config({ tickBudgetMs: 100, partSize: 5 * MiB, clock: "real" });
    await obj.seed(6000, 4000);
    const wait = async (id: string) => {
      const deadline = Date.now() + 120_000;
      let st = (await obj.status(id)).result!;
      while (!["completed", "failed", "aborted"].includes(st.state) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        st = (await obj.status(id)).result!;
      }
      return st;
    };
    const clean = await wait((await obj.start()).result!.id);
    await obj.ok("alarm-throws", { times: 2 });
    const st = await wait((await obj.start()).result!.id);
    expect(st.state).toBe("completed");
    const host = await obj.ok<{ alarmThrowsLeft: number }>("host-state");
    expect(host.alarmThrowsLeft, "the alarm threw during the export").toBe(0);
    expect(sha((await h.readObject(st.outputs[0]!.key))!)).toBe(sha((await h.readObject(clean.outputs[0]!.key))!));
  });
});
