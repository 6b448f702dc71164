import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRelHarness, type RelHarness, type RelObject } from "./reliability/harness.js";

/**
 * createDumpHandler's guards, in workerd: only `true` authorizes, bodies are counted in bytes as
 * they arrive and never read past the limit, the limit itself is checked, and the job list comes
 * in pages. Whatever is refused persists nothing.
 */

const MiB = 1024 * 1024;

describe("createDumpHandler guards", () => {
  let h: RelHarness;
  beforeAll(async () => {
    h = await createRelHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function routes(http: Record<string, unknown> = {}): Promise<RelObject> {
    const obj = h.object();
    await obj.config({ tickBudgetMs: 100, http });
    await obj.seed(20, 100);
    return obj;
  }

  const post = (body: string) => ({ method: "POST", body, headers: { "content-type": "application/json" } });

  test("authorize: anything but true is 401, and nothing is started", async () => {
    for (const returns of [false, "false", "true", 1, {}, [], null, { ok: true }]) {
      const obj = await routes({ authorize: { returns } });
      const before = await obj.keys();
      for (const [path, init] of [
        ["/dumps", post("{}")],
        ["/dumps", {}],
        ["/dumps/20260101T000000000Z-aaaaaaaa", { method: "DELETE" }],
      ] as const) {
        const res = await obj.http(path, init);
        expect(res.status, `authorize returned ${JSON.stringify(returns)}: ${init.method ?? "GET"} ${path}`).toBe(401);
        expect(((await res.json()) as any).error.code).toBe("UNAUTHORIZED");
      }
      expect(await obj.keys(), "nothing persisted").toEqual(before);
    }
    const response = await routes({ authorize: "response" });
    const refused = await response.http("/dumps", post("{}"));
    expect(refused.status, "a Response is not true").toBe(401);
    await refused.arrayBuffer();
    expect(await response.keys("durable-dump:")).toEqual([]);

    const open = await routes({ authorize: { returns: true } });
    const started = await open.http("/dumps", post("{}"));
    expect(started.status).toBe(202);
    await started.arrayBuffer();
  });

  test("a body without Content-Length is read only up to maxBodyBytes: 32 MiB stream, 413 after the first bytes over the limit", async () => {
    const obj = await routes();
    const before = await obj.keys();
    const probe = await obj.ok<{ status: number; code: string; pulled: number; total: number }>("body-probe", {
      prefix: '{"tables":["',
      unit: "x",
      count: 32 * MiB,
      suffix: '"]}',
      chunkBytes: 16 * 1024,
    });
    expect([probe.status, probe.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    expect(probe.total).toBeGreaterThan(32 * MiB);
    // The stream may be pulled a chunk or two ahead of the reader; never much further than the limit.
    expect(probe.pulled, "bytes pulled from the stream").toBeLessThanOrEqual(65_536 + 3 * 16 * 1024);
    expect(await obj.keys()).toEqual(before);
  });

  test("the limit counts bytes, not UTF-16 characters", async () => {
    const obj = await routes({ maxBodyBytes: 1_000 });
    const before = await obj.keys();
    // 600 characters, 1,200 bytes of UTF-8.
    const probe = await obj.ok<{ status: number; code: string }>("body-probe", {
      prefix: '{"tables":["',
      unit: "é",
      count: 600,
      suffix: '"]}',
      chunkBytes: 256,
    });
    expect([probe.status, probe.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    const streamed = await obj.http("/dumps", {
      ...post(""),
      body: new Blob([`{"tables":["${"é".repeat(600)}"]}`]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as any).error.code).toBe("PAYLOAD_TOO_LARGE");
    const declared = await obj.http("/dumps", post(`{"tables":["${"é".repeat(600)}"]}`));
    expect(declared.status).toBe(413);
    await declared.arrayBuffer();
    // Within the limit: read, parsed, and refused by the engine for what it says.
    const fits = await obj.http("/dumps", post(`{"tables":["${"é".repeat(400)}"]}`));
    expect([fits.status, ((await fits.json()) as any).error.code]).toEqual([400, "UNKNOWN_TABLE"]);
    expect(await obj.keys()).toEqual(before);
  });

  test("a body that is not UTF-8 is 400 INVALID_JSON", async () => {
    const obj = await routes();
    const res = await obj.http("/dumps", {
      method: "POST",
      body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]),
      headers: { "content-type": "application/json" },
    });
    expect([res.status, ((await res.json()) as any).error.code]).toEqual([400, "INVALID_JSON"]);
  });

  test("maxBodyBytes must be an integer from 0 to 1 MiB: NaN no longer switches the limit off", async () => {
    for (const maxBodyBytes of ["NaN", "Infinity", -1, 1.5, 2 * MiB, "12"]) {
      const obj = h.object();
      await obj.config({ http: { maxBodyBytes } });
      const answer = await obj.call("body-probe", { prefix: "{}", unit: "x", count: 0, suffix: "", chunkBytes: 1 });
      if (maxBodyBytes === "12") {
        expect(answer.error).toBeUndefined();
        continue;
      }
      expect(answer.error?.code, String(maxBodyBytes)).toBe("INVALID_OPTIONS");
      expect(answer.error?.message).toMatch(/maxBodyBytes/);
    }
    const zero = await routes({ maxBodyBytes: 0 });
    const empty = await zero.http("/dumps", { method: "POST" });
    expect(empty.status, "0 allows an empty body only").toBe(202);
    await empty.arrayBuffer();
    const one = await zero.http("/dumps", post("{}"));
    expect(one.status).toBe(413);
    await one.arrayBuffer();
  });

  test("GET /dumps comes in pages: ?limit=&after=, with a next cursor", async () => {
    const obj = await routes();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await obj.http("/dumps", post('{"format":"csv"}'));
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as any).id);
    }
    const page = async (query: string) => {
      const res = await obj.http(`/dumps${query}`);
      expect(res.status, query).toBe(200);
      const body = (await res.json()) as { dumps: { id: string }[]; next: string | null };
      return { ids: body.dumps.map((d) => d.id), next: body.next };
    };
    expect(await page("")).toEqual({ ids, next: null });
    const first = await page("?limit=2");
    expect(first).toEqual({ ids: ids.slice(0, 2), next: ids[1] });
    const second = await page(`?limit=2&after=${first.next}`);
    expect(second).toEqual({ ids: ids.slice(2, 4), next: ids[3] });
    expect(await page(`?limit=2&after=${second.next}`)).toEqual({ ids: ids.slice(4), next: null });
    expect(await page(`?limit=5`), "a full last page has no cursor").toEqual({ ids, next: null });
    expect(await page(`?after=${ids[4]}`)).toEqual({ ids: [], next: null });

    for (const query of ["?limit=0", "?limit=abc", "?limit=1001", "?limit=-1", "?limit=1.5", "?limit=", "?limit=99999"]) {
      const res = await obj.http(`/dumps${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as any).error.code).toBe("INVALID_REQUEST");
    }
  });
});
