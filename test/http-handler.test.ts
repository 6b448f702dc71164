import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jsonBody, seed, startExample, waitForJob, type ExampleRuntime } from "./example/harness.js";

// The library's HTTP routes (createDumpHandler + bearerAuth), served by the example Worker's
// Durable Object in workerd, with real alarms driving the exports and a local R2 bucket.
describe("createDumpHandler in workerd", () => {
  let rt: ExampleRuntime;
  const T = "handler";
  let done: any;
  let dump: Uint8Array;

  beforeAll(async () => {
    rt = await startExample("demo", { DUMP_TICK_BUDGET_MS: "100" });
    await seed(rt, T, ["customers", "products"]);
    const res = await rt.fetch(`/${T}/dumps`, jsonBody("POST", { format: "sql" }));
    expect(res.status).toBe(202);
    const started = (await res.json()) as any;
    expect(res.headers.get("location")).toBe(`/${T}/dumps/${started.id}`);
    expect(["queued", "running"]).toContain(started.state);
    done = await waitForJob(rt, T, started.id);
    expect(done.state, JSON.stringify(done.error)).toBe("completed");
    const obj = await (await rt.mf.getR2Bucket("DUMPS")).get(done.outputs[0].key);
    dump = new Uint8Array(await obj!.arrayBuffer());
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  test("401 without a token, with a wrong one, or with another scheme", async () => {
    for (const init of [
      { auth: false },
      { auth: "wrong" },
      { auth: rt.tokenFor(T) + "x" },
      { auth: rt.tokenFor(T).slice(0, -1) },
      { auth: rt.tokenFor("other") },
    ]) {
      const res = await rt.fetch(`/${T}/dumps`, init);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(((await res.json()) as any).error.code).toBe("UNAUTHORIZED");
    }
    const basic = await rt.fetch(`/${T}/dumps`, { auth: false, headers: { authorization: `Basic ${btoa("u:" + rt.tokenFor(T))}` } });
    expect(basic.status).toBe(401);
    await basic.arrayBuffer();
    // Unauthenticated requests start nothing.
    const post = await rt.fetch(`/${T}/dumps`, { ...jsonBody("POST", {}), auth: false });
    expect(post.status).toBe(401);
    await post.arrayBuffer();
    const list = await rt.json(`/${T}/dumps`);
    expect(list.dumps).toHaveLength(1);
  });

  // Oversized bodies (413) are tested inside workerd (http-limits.test.ts): the handler answers
  // before reading them, and Miniflare's local proxy may then reset the connection of a client
  // still sending over 64 KiB.
  test("400 with a JSON error for bad bodies and refused options; nothing is started", async () => {
    const cases: [RequestInit, number, string][] = [
      [{ method: "POST", body: "{not json", headers: { "content-type": "application/json" } }, 400, "INVALID_JSON"],
      [jsonBody("POST", [1, 2]), 400, "INVALID_OPTIONS"],
      [jsonBody("POST", { format: "xml" }), 400, "UNKNOWN_FORMAT"],
      [jsonBody("POST", { colour: "red" }), 400, "INVALID_OPTIONS"],
      [jsonBody("POST", { tables: ["nope"] }), 400, "UNKNOWN_TABLE"],
      [jsonBody("POST", { schema: false, data: false }), 400, "INVALID_OPTIONS"],
      [{ method: "POST", body: "format=sql", headers: { "content-type": "text/plain" } }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    ];
    for (const [init, status, code] of cases) {
      const res = await rt.fetch(`/${T}/dumps`, init);
      const body = (await res.json()) as any;
      expect([res.status, body.error?.code], String(init.body).slice(0, 40)).toEqual([status, code]);
      expect(typeof body.error.message).toBe("string");
    }
    expect((await rt.json(`/${T}/dumps`)).dumps).toHaveLength(1);
  });

  test("404 for unknown jobs and paths, 405 with Allow for other methods", async () => {
    const unknown = "20260101T000000000Z-aaaaaaaa";
    for (const path of [`/${T}/dumps/${unknown}`, `/${T}/dumps/${unknown}/download`, `/${T}/dumps/garbage`]) {
      const res = await rt.fetch(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as any).error.code).toBe("JOB_NOT_FOUND");
    }
    const del = await rt.fetch(`/${T}/dumps/${unknown}`, { method: "DELETE" });
    expect(del.status).toBe(404);
    await del.arrayBuffer();
    for (const path of [`/${T}/dumps/${done.id}/other`, `/${T}/dumps/${done.id}/download/x`, `/${T}/nothing`]) {
      const res = await rt.fetch(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as any).error.code).toBe("NOT_FOUND");
    }
    for (const [method, path, allow] of [
      ["PUT", `/${T}/dumps`, "GET, HEAD, POST"],
      ["POST", `/${T}/dumps/${done.id}`, "DELETE, GET, HEAD"],
      ["DELETE", `/${T}/dumps/${done.id}/download`, "GET, HEAD"],
    ] as const) {
      const res = await rt.fetch(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect(((await res.json()) as any).error.code).toBe("METHOD_NOT_ALLOWED");
    }
  });

  test("GET status and list", async () => {
    const status = await rt.json(`/${T}/dumps/${done.id}`);
    expect(status).toEqual(done);
    expect(status.progress.rowsWritten).toBe(60_000);
    const list = await rt.json(`/${T}/dumps`);
    expect(list.dumps.map((d: any) => d.id)).toContain(done.id);
  });

  test("download: the whole object with its headers, identical to R2", async () => {
    const res = await rt.fetch(`/${T}/dumps/${done.id}/download`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/sql/);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${done.id}.sql"; filename*=UTF-8''${done.id}.sql`);
    expect(res.headers.get("etag")).toMatch(/^"[^"]+"$/);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(Number(res.headers.get("content-length"))).toBe(done.outputs[0].bytes);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBe(dump.byteLength);
    expect(Buffer.from(body).equals(Buffer.from(dump))).toBe(true);
    expect(new TextDecoder().decode(body)).toContain("CREATE TABLE customers");

    const head = await rt.fetch(`/${T}/dumps/${done.id}/download`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe(res.headers.get("etag"));
    expect(Number(head.headers.get("content-length"))).toBe(dump.byteLength);
  });

  test("download: Range gives 206 with Content-Range, 416 outside the object", async () => {
    const url = `/${T}/dumps/${done.id}/download`;
    const size = dump.byteLength;
    const cases: [string, number, number][] = [
      ["bytes=0-99", 0, 100],
      ["bytes=1000-", 1000, size - 1000],
      ["bytes=-50", size - 50, 50],
      [`bytes=${size - 10}-${size + 1000}`, size - 10, 10],
    ];
    for (const [range, offset, length] of cases) {
      const res = await rt.fetch(url, { headers: { range } });
      expect(res.status, range).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${offset}-${offset + length - 1}/${size}`);
      expect(Number(res.headers.get("content-length"))).toBe(length);
      const part = Buffer.from(await res.arrayBuffer());
      expect(part.equals(Buffer.from(dump.subarray(offset, offset + length))), range).toBe(true);
    }
    const outside = await rt.fetch(url, { headers: { range: `bytes=${size}-` } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get("content-range")).toBe(`bytes */${size}`);
    expect(((await outside.json()) as any).error.code).toBe("RANGE_NOT_SATISFIABLE");
    // Several ranges, or a stale If-Range, get the whole object.
    for (const headers of [{ range: "bytes=0-1,5-6" }, { range: "bytes=0-1", "if-range": '"stale"' }] as Record<string, string>[]) {
      const res = await rt.fetch(url, { headers });
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(size);
    }
  });

  test("download: If-None-Match answers 304", async () => {
    const url = `/${T}/dumps/${done.id}/download`;
    const first = await rt.fetch(url, { method: "HEAD" });
    const etag = first.headers.get("etag")!;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await rt.fetch(url, { headers: { "if-none-match": inm } });
      expect(res.status, inm).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect((await res.arrayBuffer()).byteLength).toBe(0);
    }
    const changed = await rt.fetch(url, { headers: { "if-none-match": '"other"' } });
    expect(changed.status).toBe(200);
    await changed.arrayBuffer();
  });

  test("DELETE aborts a running job; its download is refused with 409; DELETE again changes nothing", async () => {
    const started = await rt.json(`/${T}/dumps`, { ...jsonBody("POST", {}), expected: 202 });
    const aborted = await rt.json(`/${T}/dumps/${started.id}`, { method: "DELETE" });
    expect(aborted.state).toBe("aborted");
    expect(aborted.finishedAt).not.toBeNull();
    const res = await rt.fetch(`/${T}/dumps/${started.id}/download`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).error.code).toBe("NOT_COMPLETED");
    expect((await rt.json(`/${T}/dumps/${started.id}`, { method: "DELETE" })).state).toBe("aborted");
    // Aborting a completed job leaves it completed.
    expect((await rt.json(`/${T}/dumps/${done.id}`, { method: "DELETE" })).state).toBe("completed");
  });

  test("?table= on a single-object job is a 400", async () => {
    const res = await rt.fetch(`/${T}/dumps/${done.id}/download?table=customers`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("INVALID_REQUEST");
  });
});

// Formats with one object per table (CSV, NDJSON): the routes over a stub engine and Miniflare's
// local R2 bucket, run in Node (the handler only needs Request, Response and Web Crypto).
describe("createDumpHandler: per-table downloads and mounting", () => {
  let rt: ExampleRuntime;
  const id = "20261125T120000000Z-abcdefgh";
  const status = (state: string) => ({
    id,
    state,
    format: "csv",
    outputs: [
      { key: `p/${id}/users.csv`, table: "users", bytes: 11, parts: 1, complete: true },
      { key: `p/${id}/${encodeURIComponent("a/b é")}.csv`, table: "a/b é", bytes: 5, parts: 1, complete: true },
    ],
  });
  // A job that also exported key-value entries (kv: true).
  const kvId = "20261125T130000000Z-kvkvkvkv";
  const kvStatus = () => ({
    id: kvId,
    state: "completed",
    format: "csv",
    outputs: [
      { key: `p/${kvId}/users.csv`, table: "users", bytes: 11, parts: 1, complete: true },
      { key: `p/${kvId}.kv.ndjson`, kv: true, bytes: 3, parts: 1, complete: true },
    ],
  });
  let handler: (r: Request) => Promise<Response>;

  beforeAll(async () => {
    rt = await startExample("example");
    const bucket = (await rt.mf.getR2Bucket("DUMPS")) as unknown as R2Bucket;
    await bucket.put(`p/${kvId}.kv.ndjson`, "kv\n", { httpMetadata: { contentType: "application/x-ndjson; charset=utf-8" } });
    await bucket.put(`p/${id}/users.csv`, "id,name\r\n1\r\n", { httpMetadata: { contentType: "text/csv; charset=utf-8" } });
    await bucket.put(`p/${id}/${encodeURIComponent("a/b é")}.csv`, "x\r\n1\r\n", { httpMetadata: { contentType: "text/csv; charset=utf-8" } });
    const { createDumpHandler, bearerAuth } = await import("../src/index.js");
    const engine = {
      start: async () => status("queued"),
      status: async (x: string) => (x === id ? status("completed") : x === kvId ? kvStatus() : null),
      abort: async () => null,
      list: async () => [status("completed")],
    } as never;
    handler = createDumpHandler({ engine, bucket, authorize: bearerAuth("s3cret"), basePath: "/admin/" });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    handler(new Request(`http://x${path}`, { headers: { authorization: "Bearer s3cret", ...headers } }));

  test("without ?table= a 300 lists every table's download", async () => {
    const res = await get(`/admin/dumps/${id}/download`);
    expect(res.status).toBe(300);
    expect(await res.json()).toEqual({
      outputs: [
        { table: "users", bytes: 11, href: `/admin/dumps/${id}/download?table=users` },
        { table: "a/b é", bytes: 5, href: `/admin/dumps/${id}/download?table=a%2Fb%20%C3%A9` },
      ],
    });
  });

  test("?table= streams that table's object, named after the job and the table", async () => {
    const res = await get(`/admin/dumps/${id}/download?table=a%2Fb%20%C3%A9`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("x\r\n1\r\n");
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${id}-a/b _.csv"; filename*=UTF-8''${id}-a%2Fb%20%C3%A9.csv`);
    const users = await get(`/admin/dumps/${id}/download?table=users`, { range: "bytes=3-6" });
    expect(users.status).toBe(206);
    expect(await users.text()).toBe("name");
    const missing = await get(`/admin/dumps/${id}/download?table=nope`);
    expect(missing.status).toBe(404);
  });

  test("the key-value object: listed in the 300 with ?kv, served with ?kv, refused with ?table= too", async () => {
    const list = await get(`/admin/dumps/${kvId}/download`);
    expect(list.status).toBe(300);
    expect(await list.json()).toEqual({
      outputs: [
        { table: "users", bytes: 11, href: `/admin/dumps/${kvId}/download?table=users` },
        { kv: true, bytes: 3, href: `/admin/dumps/${kvId}/download?kv` },
      ],
    });
    const res = await get(`/admin/dumps/${kvId}/download?kv`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("kv\n");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${kvId}.kv.ndjson"; filename*=UTF-8''${kvId}.kv.ndjson`);
    expect((await get(`/admin/dumps/${kvId}/download?kv&table=users`)).status).toBe(400);
    const none = await get(`/admin/dumps/${id}/download?kv`);
    expect(none.status).toBe(404);
    expect(((await none.json()) as any).error.message).toMatch(/kv: true/);
  });

  test("mounted under basePath only; outside it 404 before any auth", async () => {
    expect((await get(`/dumps`)).status).toBe(404);
    expect((await handler(new Request("http://x/admin/dumps"))).status).toBe(401);
    const list = await get(`/admin/dumps`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as any).dumps).toHaveLength(1);
  });

  test("an object deleted from R2 behind the engine's back answers 410", async () => {
    const bucket = (await rt.mf.getR2Bucket("DUMPS")) as unknown as R2Bucket;
    await bucket.delete(`p/${id}/users.csv`);
    const res = await get(`/admin/dumps/${id}/download?table=users`);
    expect(res.status).toBe(410);
    expect(((await res.json()) as any).error.code).toBe("OUTPUT_MISSING");
  });

  test("bearerAuth with an empty secret refuses everything; createDumpHandler requires authorize", async () => {
    const { bearerAuth, createDumpHandler } = await import("../src/index.js");
    expect(await bearerAuth("")(new Request("http://x", { headers: { authorization: "Bearer " } }))).toBe(false);
    expect(await bearerAuth(undefined)(new Request("http://x", { headers: { authorization: "Bearer x" } }))).toBe(false);
    const unused = () => Promise.reject(new Error("not called"));
    const engine = { start: unused, status: unused, abort: unused, list: unused } as never;
    const bucket = { head: unused, get: unused } as never;
    expect(() => createDumpHandler({ engine, bucket } as never)).toThrow(/authorize/);
    expect(() => createDumpHandler({ engine: {} as never, bucket, authorize: () => true })).toThrow(/engine/);
  });
});
