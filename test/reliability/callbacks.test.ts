import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRelHarness, drive, type RelHarness, type RelObject } from "./harness.js";

/** Completion callbacks: signed POSTs and an onComplete hook, retried with backoff, never failing the export. */

const SECRET = "s3cret-for-tests";
const MiB = 1024 * 1024;

interface Received {
  url: string;
  body: string;
  signature: string | null;
  job: string | null;
}

describe("completion callbacks", () => {
  let h: RelHarness;
  const received: Received[] = [];
  /** The outbound answers with these statuses first, then 200. */
  let failFirst: number[] = [];

  beforeAll(async () => {
    h = await createRelHarness({
      outbound: async (request) => {
        received.push({
          url: request.url,
          body: await request.text(),
          signature: request.headers.get("Durable-Dump-Signature"),
          job: request.headers.get("Durable-Dump-Job"),
        });
        return new Response(null, { status: failFirst.shift() ?? 200 });
      },
    });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function fresh(config: Record<string, unknown> = {}): Promise<RelObject> {
    const obj = h.object();
    await obj.config({ tickBudgetMs: 100, partSize: 5 * MiB, clockStepMs: 20, callbackSecret: SECRET, ...config });
    await obj.seed(200, 1000);
    return obj;
  }

  async function drain(obj: RelObject): Promise<number> {
    let n = 0;
    while (n < 30 && (await obj.tick()).result?.more !== false) n++;
    for (; n < 30; n++) {
      const a = await obj.tick();
      if (a.error) throw new Error(a.error.message);
      const wake = (await obj.keys("durable-dump:wake:")).length;
      if (wake === 0) break;
    }
    return n;
  }

  test("the final status is POSTed, signed, and retried with backoff; the hook too", async () => {
    received.length = 0;
    failFirst = [500, 503];
    const obj = await fresh({ hook: true, hookFailures: 1 });
    const id = (await obj.start({ callbackUrl: "https://hooks.example.com/dumps?tenant=1" })).result!.id;
    const st = await drive(obj, id);
    expect(st.state).toBe("completed");
    expect(received, "not delivered by the tick that completed the job").toHaveLength(0);
    await drain(obj);
    expect(received).toHaveLength(3);
    for (const r of received) {
      expect(r.url).toBe("https://hooks.example.com/dumps?tenant=1");
      expect(r.job).toBe(id);
      expect(r.signature).toBe(`sha256=${createHmac("sha256", SECRET).update(r.body).digest("hex")}`);
      const body = JSON.parse(r.body);
      expect(body.id).toBe(id);
      expect(body.state).toBe("completed");
    }
    expect(await obj.ok("hook-calls")).toEqual([
      { id, state: "completed" },
      { id, state: "completed" },
    ]);
    const rec = await obj.ok<{ notify: { attempts: number; pending: string[] } }>(`record/${id}`);
    expect(rec.notify.pending).toEqual([]);
    expect(rec.notify.attempts).toBe(3);
    expect((await obj.status(id)).result!.state, "delivery never changes the job").toBe("completed");
  });

  test("a failed job notifies too", async () => {
    received.length = 0;
    failFirst = [];
    const obj = await fresh();
    const id = (await obj.start({ callbackUrl: "https://hooks.example.com/x" })).result!.id;
    await obj.fault({ failAt: null, mode: "throw", kind: "r2.uploadPart", times: 1_000, message: "boom" });
    const st = await drive(obj, id);
    expect(st.state).toBe("failed");
    await obj.fault({ failAt: null, mode: "throw" });
    await drain(obj);
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!.body).error.code).toBe("RETRIES_EXHAUSTED");
  });

  test("callback URLs are validated; nothing starts when refused", async () => {
    const obj = await fresh();
    const before = await obj.keys();
    for (const url of ["http://hooks.example.com/x", "not a url", "ftp://x.example.com/", "https://user:pw@x.example.com/", "", 42, "javascript:alert(1)"]) {
      const a = await obj.start({ callbackUrl: url as string });
      expect(a.error?.code, String(url)).toBe("INVALID_OPTIONS");
    }
    expect(await obj.keys()).toEqual(before);
    const noSecret = await fresh({ callbackSecret: undefined });
    expect((await noSecret.start({ callbackUrl: "https://x.example.com/" })).error?.message).toMatch(/callbackSecret/);
    const insecure = await fresh({ allowInsecureCallbacks: true });
    expect((await insecure.start({ callbackUrl: "http://localhost:8787/hook" })).result?.state).toBe("queued");
  });
});
