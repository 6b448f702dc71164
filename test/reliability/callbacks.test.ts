import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { verifyCallbackSignature } from "../../src/index.js";
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
  /** When set, answers every outbound request instead. */
  let answer: ((url: URL) => Response) | null = null;

  beforeAll(async () => {
    h = await createRelHarness({
      outbound: async (request) => {
        received.push({
          url: request.url,
          body: await request.text(),
          signature: request.headers.get("Durable-Dump-Signature"),
          job: request.headers.get("Durable-Dump-Job"),
        });
        return answer?.(new URL(request.url)) ?? new Response(null, { status: failFirst.shift() ?? 200 });
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
      // The signature covers the time it was sent as well as the body, so it cannot be replayed later.
      const t = /^t=(\d+),v1=[0-9a-f]{64}$/.exec(r.signature ?? "")?.[1];
      expect(t, r.signature ?? "no signature").toBeDefined();
      expect(r.signature).toBe(`t=${t},v1=${createHmac("sha256", SECRET).update(`${t}.${r.body}`).digest("hex")}`);
      expect(await verifyCallbackSignature(SECRET, r.body, r.signature, { now: Number(t) * 1000 })).toBe(true);
      expect(await verifyCallbackSignature(SECRET, r.body, r.signature, { now: (Number(t) + 301) * 1000 }), "replayed 5 minutes later").toBe(false);
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

  /** The `t=` of a received signature, in seconds. */
  const sentAt = (r: Received) => Number(/^t=(\d+),/.exec(r.signature ?? "")?.[1]);

  test("a receiver that keeps failing gets 12 attempts over 4 h 3 min 45 s (the documented schedule), then none", async () => {
    received.length = 0;
    answer = () => new Response(null, { status: 500 });
    try {
      const obj = await fresh();
      const id = (await obj.start({ callbackUrl: "https://hooks.example.com/down" })).result!.id;
      await drive(obj, id);
      await drain(obj);
      expect(received).toHaveLength(12);
      const times = received.map(sentAt);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      // 15 s doubling to 1 h (no jitter in this host); each gap may exceed it by a second of clock steps.
      const nominal = [15, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600];
      for (const [i, gap] of gaps.entries()) expect(gap - nominal[i]!, `gap ${i + 1}`).toBeGreaterThanOrEqual(0);
      for (const [i, gap] of gaps.entries()) expect(gap - nominal[i]!, `gap ${i + 1}`).toBeLessThanOrEqual(1);
      expect(times[11]! - times[0]!).toBeGreaterThanOrEqual(4 * 3600 + 3 * 60 + 45);
      const rec = await obj.ok<{ notify: { attempts: number; pending: string[]; lastError: string } }>(`record/${id}`);
      expect(rec.notify).toMatchObject({ attempts: 12, pending: [], lastError: "url: callback answered HTTP 500" });
      expect((await obj.keys("durable-dump:wake:")).length, "nothing left to wake up for").toBe(0);
    } finally {
      answer = null;
    }
  });

  test("a record is never purged while its callback is pending, even with retentionMs 0", async () => {
    received.length = 0;
    failFirst = [500, 500];
    const obj = await fresh({ retentionMs: 0 });
    const id = (await obj.start({ callbackUrl: "https://hooks.example.com/later" })).result!.id;
    expect((await drive(obj, id)).state).toBe("completed");
    for (let attempt = 1; attempt <= 2; attempt++) {
      await obj.tick();
      expect(received).toHaveLength(attempt);
      expect(
        (await obj.list()).map((s) => s.id),
        "list() purges, but not this one",
      ).toEqual([id]);
      expect((await obj.status(id)).result?.state).toBe("completed");
    }
    await drain(obj);
    expect(received).toHaveLength(3);
    expect(JSON.parse(received[2]!.body)).toMatchObject({ id, state: "completed" });
    expect(await obj.list(), "purged once delivered").toEqual([]);
    expect((await obj.keys("durable-dump:")).filter((k) => k.includes(id))).toEqual([]);
  });

  test("redirects are not followed: a 3xx is a failed attempt, and the signed body goes nowhere else", async () => {
    received.length = 0;
    answer = (url) =>
      url.hostname === "hooks.example.com"
        ? new Response(null, { status: 302, headers: { location: "http://attacker.example.net/steal" } })
        : new Response(null);
    try {
      const obj = await fresh();
      const id = (await obj.start({ callbackUrl: "https://hooks.example.com/moved" })).result!.id;
      await drive(obj, id);
      await obj.tick();
      await obj.tick();
      expect(received.map((r) => new URL(r.url).hostname)).toEqual(["hooks.example.com", "hooks.example.com"]);
      const rec = await obj.ok<{ notify: { attempts: number; pending: string[]; lastError: string } }>(`record/${id}`);
      expect(rec.notify).toMatchObject({ attempts: 2, pending: ["url"] });
      expect(rec.notify.lastError).toMatch(/HTTP 302.*redirect/);
    } finally {
      answer = null;
    }
  });

  test("IP-literal hosts are refused unless listed; callbackHosts restricts the rest; nothing starts when refused", async () => {
    const ipLiterals = [
      "https://127.0.0.1/x",
      "https://10.0.0.7/x",
      "https://169.254.169.254/latest/meta-data",
      "https://0x7f.1/x",
      "https://2130706433/x",
      "https://0177.0.0.1/x",
      "https://127.1/x",
      "https://127.0.0.1./x",
      "https://[::1]/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://[0:0:0:0:0:ffff:7f00:1]/x",
      "https://[fd00::1]:8443/x",
    ];
    const open = await fresh({ allowInsecureCallbacks: true });
    const before = await open.keys();
    for (const url of [...ipLiterals, "http://0x7f.1/x", "http://[::1]:8787/x"]) {
      const a = await open.start({ callbackUrl: url });
      expect(a.error?.code, url).toBe("INVALID_OPTIONS");
      expect(a.error?.message, url).toMatch(/IP address/);
    }
    expect(await open.keys(), "nothing persisted").toEqual(before);
    expect((await open.start({ callbackUrl: "https://hooks.example.com/x" })).result?.state, "host names stay allowed by default").toBe("queued");

    const listed = await fresh({ raw: { callbackHosts: ["hooks.example.com", "*.corp.example", "10.0.0.7", "[::1]", "[::ffff:127.0.0.1]"] } });
    for (const url of [
      "https://hooks.example.com/x",
      "https://HOOKS.example.com./x",
      "https://a.corp.example/x",
      "https://a.b.corp.example/x",
      "https://10.0.0.7/x",
      "https://[::1]:8443/x",
      "https://[0:0:0:0:0:ffff:7f00:1]/x",
    ]) {
      const a = await listed.start({ callbackUrl: url });
      expect(a.result?.state, `${url}: ${a.error?.message}`).toBe("queued");
      await listed.abort(a.result!.id);
    }
    const listedBefore = await listed.keys();
    for (const url of [
      "https://corp.example/x",
      "https://evil.example.com/x",
      "https://hooks.example.com.evil.net/x",
      "https://xcorp.example/x",
      ...ipLiterals.filter((u) => !/10\.0\.0\.7|\[::1\]|ffff/.test(u)),
    ]) {
      const a = await listed.start({ callbackUrl: url });
      expect(a.error?.code, url).toBe("INVALID_OPTIONS");
      expect(a.error?.message, url).toMatch(/callbackHosts/);
    }
    expect(await listed.keys()).toEqual(listedBefore);

    for (const callbackHosts of [
      ["https://x.example.com"],
      ["x.example.com:443"],
      ["*."],
      ["*"],
      ["*.com.", "*.10.0.0.1"],
      [""],
      [5],
      ["a/b"],
      "x.example.com",
      [".x.example.com"],
    ]) {
      const a = await open.call("construct", { callbackHosts });
      expect(a.error?.code, JSON.stringify(callbackHosts)).toBe("INVALID_OPTIONS");
    }
  });

  test("a host no longer allowed when the callback is due is given up without a request", async () => {
    received.length = 0;
    const obj = await fresh({ raw: { callbackHosts: ["hooks.example.com"] } });
    const id = (await obj.start({ callbackUrl: "https://hooks.example.com/x" })).result!.id;
    await drive(obj, id);
    await obj.config({ tickBudgetMs: 100, partSize: 5 * MiB, clockStepMs: 20, callbackSecret: SECRET, raw: { callbackHosts: ["other.example.com"] } });
    await drain(obj);
    expect(received).toEqual([]);
    const rec = await obj.ok<{ notify: { attempts: number; pending: string[]; lastError: string } }>(`record/${id}`);
    expect(rec.notify.pending).toEqual([]);
    expect(rec.notify.attempts).toBe(1);
    expect(rec.notify.lastError).toMatch(/not in the engine option callbackHosts/);
  });

  test("slow receivers cannot stall exports: a tick starts deliveries only within its budget, then works on the export", async () => {
    received.length = 0;
    failFirst = [500, 500, 500, 500];
    const obj = await fresh();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await obj.start({ format: "csv", callbackUrl: `https://hooks.example.com/${i}` })).result!.id);
    for (const id of ids) await drive(obj, id);
    while (received.length < 4) await obj.tick();
    // Four notifications will be due together, each receiver taking 3 s, while a long export runs.
    await obj.exec([
      "CREATE TABLE wide (v TEXT)",
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) INSERT INTO wide SELECT printf('%.*c', 3000, 'x') FROM n",
    ]);
    const big = (await obj.start({ format: "sql" })).result!.id;
    await obj.config({ tickBudgetMs: 100, partSize: 5 * MiB, clockStepMs: 20, callbackSecret: SECRET, callbackDelayMs: 3_000 });
    await obj.ok("clock", { advanceMs: 20_000 });
    const progress = async () => (await obj.status(big)).result!.progress.rowsWritten;
    const rowsBefore = await progress();
    await obj.tick();
    expect(received, "one delivery started within the tick's 100 ms budget").toHaveLength(5);
    expect(await progress(), "the export went on in the same tick").toBeGreaterThan(rowsBefore);
    for (let i = 0; i < 10 && received.length < 8; i++) await obj.tick();
    expect(received.slice(4).map((r) => new URL(r.url).pathname)).toEqual(["/0", "/1", "/2", "/3"]);
  });
});
