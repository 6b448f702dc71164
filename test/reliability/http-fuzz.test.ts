import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DUMP_ERROR_CODES, DumpError, createDumpHandler, type DumpHttpEngine } from "../../src/index.js";
import { createRelHarness, drive, type RelHarness, type RelObject } from "./harness.js";

/**
 * Property-based fuzzing of createDumpHandler in workerd: whatever the method, path (encoded
 * slashes and dots included), query, headers (Range, If-None-Match, Content-Type) and body, every
 * answer has a documented status, errors have the documented shape, and whatever is not a 202
 * leaves storage as it was.
 */

const RUNS = Number(process.env.DD_FUZZ_RUNS ?? 150);
const STATUSES = new Set([200, 202, 206, 300, 304, 400, 401, 404, 405, 409, 410, 413, 415, 416, 429]);
const HTTP_CODES = [
  "UNAUTHORIZED",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "INVALID_JSON",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "INVALID_REQUEST",
  "NOT_COMPLETED",
  "RANGE_NOT_SATISFIABLE",
  "OUTPUT_MISSING",
  "OUTPUT_CHANGED",
];
const CODES = new Set([...Object.keys(DUMP_ERROR_CODES), ...HTTP_CODES]);

describe("HTTP routes under random requests", () => {
  let h: RelHarness;
  let obj: RelObject;
  let ids: string[];

  beforeAll(async () => {
    h = await createRelHarness();
    obj = h.object();
    await obj.config({ tickBudgetMs: 1_000, maxQueuedJobs: 1_000, retentionMs: 3_650 * 86_400_000, raw: { maxRetainedJobs: 1_000 } });
    await obj.seed(50, 200);
    const sql = (await obj.start({ format: "sql" })).result!.id;
    const csv = (await obj.start({ format: "csv", gzip: true })).result!.id;
    await drive(obj, sql);
    await drive(obj, csv);
    const running = (await obj.start({ format: "json" })).result!.id;
    ids = [sql, csv, running];
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const segment = fc.oneof(
    fc.constantFrom("dumps", "download", "", ".", "..", "%2e", "%2E%2e", "%2F", "%2f..%2f", "%00", "%ff", "%", "%zz", "é", "%C3%A9", "dumps%2Fx", "a;b", "~"),
    fc.constant("ID"),
    fc.string({ maxLength: 6 }).map(encodeURIComponent),
  );
  const path = fc.oneof(
    { arbitrary: fc.constantFrom("/dumps", "/dumps/ID", "/dumps/ID/download"), weight: 6 },
    {
      arbitrary: fc.constantFrom("/dumps/ID/download/", "/dumps/", "//dumps", "/dumps//download", "/dumps/ID%2Fdownload", "/dumps/ID/%2e%2e/download"),
      weight: 1,
    },
    { arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`), weight: 2 },
  );
  const query = fc.oneof(
    { arbitrary: fc.constant(""), weight: 3 },
    {
      arbitrary: fc.constantFrom(
        "?limit=1",
        "?limit=0",
        "?limit=abc",
        "?limit=1001",
        "?after=ID",
        "?limit=2&after=x",
        "?table=big",
        "?table=",
        "?table=%2F..",
        "?table=big&table=small",
      ),
      weight: 2,
    },
    { arbitrary: fc.string({ maxLength: 10 }).map((q) => `?${encodeURIComponent(q)}=${encodeURIComponent(q)}`), weight: 1 },
  );
  const range = fc.oneof(
    { arbitrary: fc.constantFrom("bytes=0-9", "bytes=-5", "bytes=3-", "bytes=100000000-", "bytes=0-0,2-3"), weight: 3 },
    fc.constantFrom(
      "bytes=0-0",
      "bytes=0-",
      "bytes=-1",
      "bytes=-0",
      "bytes=5-2",
      "bytes=0-1,3-4",
      "bytes=99999999-",
      "bytes=--1",
      "items=0-1",
      "bytes=1e3-",
      "",
    ),
    fc.tuple(fc.nat(100_000), fc.nat(100_000)).map(([a, b]) => `bytes=${a}-${b}`),
    fc.string({ maxLength: 12 }),
  );
  const body = fc.oneof(
    fc.json({ maxDepth: 2 }),
    fc.constantFrom("{}", "", "[]", "null", '{"format":"csv"}', '{"format":"xml"}', '{"tables":["big"]}', '{"callbackUrl":"https://127.0.0.1/"}', "{bad"),
    fc.string({ maxLength: 30 }),
  );
  const request = fc.record({
    method: fc.oneof(
      { arbitrary: fc.constantFrom("GET", "HEAD", "POST", "DELETE"), weight: 4 },
      { arbitrary: fc.constantFrom("PUT", "PATCH", "OPTIONS", "PROPFIND", "get", "post"), weight: 1 },
    ),
    path,
    query,
    // Which job ID stands for: the completed SQL job most often, then the per-table CSV one, the running one, an unknown id.
    id: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.constant(1), weight: 2 }, fc.constant(2), fc.constant(3)),
    range: fc.option(range, { freq: 3 }),
    ifNoneMatch: fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, fc.constantFrom("*", '"x"', 'W/"x"', "")),
    contentType: fc.option(fc.constantFrom("application/json", "application/merge-patch+json", "text/plain", "application/jsonx", "")),
    body: fc.option(body),
  });

  test("every answer is documented; refusals persist nothing", async () => {
    let accepted = 0;
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const id = ids[r.id] ?? "20260101T000000000Z-aaaaaaaa";
        const url = `${r.path}${r.query}`.replaceAll("ID", encodeURIComponent(id));
        const headers: Record<string, string> = {};
        if (r.range !== null) headers.range = r.range;
        if (r.ifNoneMatch !== null) headers["if-none-match"] = r.ifNoneMatch;
        if (r.contentType !== null) headers["content-type"] = r.contentType;
        const method = r.method.toUpperCase();
        const withBody = r.body !== null && method !== "GET" && method !== "HEAD";
        const before = await obj.keys();
        const res = await obj.http(url, { method: r.method, headers, ...(withBody ? { body: r.body } : {}) });
        const text = await res.text();
        const what = `${r.method} ${url} ${JSON.stringify(headers)} ${withBody ? r.body : ""} → ${res.status} ${text.slice(0, 200)}`;
        expect(STATUSES.has(res.status), what).toBe(true);
        seen.add(res.status);
        if (res.status >= 400 && method !== "HEAD") {
          expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
          const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
          expect(CODES.has(String(error?.code)), what).toBe(true);
          expect(typeof error?.message, what).toBe("string");
        }
        if (res.status === 405) expect(res.headers.get("allow"), what).toMatch(/^[A-Z, ]+$/);
        if (res.status === 206) expect(res.headers.get("content-range"), what).toMatch(/^bytes \d+-\d+\/\d+$/);
        if (res.status === 416) expect(res.headers.get("content-range"), what).toMatch(/^bytes \*\/\d+$/);
        if (res.status === 202) {
          accepted++;
          await obj.abort((JSON.parse(text) as { id: string }).id);
        } else if (res.status >= 300 || method === "GET" || method === "HEAD") {
          // Only a start (202) or an abort (DELETE, 200) change anything.
          expect(await obj.keys(), `nothing persisted: ${what}`).toEqual(before);
        }
      }),
      { numRuns: RUNS * 2, seed: 20261203 },
    );
    expect(accepted, "some requests start a job").toBeGreaterThan(0);
    expect([...seen].sort(), "the requests reach every kind of answer").toEqual(
      expect.arrayContaining([200, 202, 206, 300, 304, 400, 404, 405, 409, 415, 416]),
    );
  });
});

describe("createDumpHandler options", () => {
  // Construction only checks these have the methods the routes call; no request is made.
  const unused = () => Promise.reject(new Error("not called"));
  const engine = { start: unused, status: unused, abort: unused, list: unused } as unknown as DumpHttpEngine;
  const bucket = { head: unused, get: unused } as unknown as R2Bucket;
  const junk = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.string({ maxLength: 8 }),
    fc.object({ maxDepth: 1 }),
  );

  test("are accepted, or refused with INVALID_OPTIONS", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            engine: fc.oneof(fc.constant(engine), junk),
            bucket: fc.oneof(fc.constant(bucket), junk),
            authorize: fc.oneof(
              fc.constant(() => true),
              junk,
            ),
            basePath: fc.oneof(fc.constantFrom("", "/", "/admin", "/admin/", "admin", "//x", "/a/b"), junk),
            maxBodyBytes: fc.oneof(
              fc.integer({ min: -10, max: 2_000_000 }),
              fc.constantFrom(0, 1_048_576, 1_048_577, Number.NaN, Number.POSITIVE_INFINITY, 1.5),
              junk,
            ),
          },
          { requiredKeys: [] },
        ),
        (options: Record<string, unknown>) => {
          let handler: unknown;
          try {
            handler = createDumpHandler(options as unknown as Parameters<typeof createDumpHandler>[0]);
          } catch (e) {
            expect(e).toBeInstanceOf(DumpError);
            expect((e as DumpError).code).toBe("INVALID_OPTIONS");
            return;
          }
          expect(typeof handler).toBe("function");
          expect([options.engine, options.bucket, typeof options.authorize]).toEqual([engine, bucket, "function"]);
          expect(options.basePath === undefined || (typeof options.basePath === "string" && /^(\/.*)?$/.test(options.basePath))).toBe(true);
          const max = options.maxBodyBytes;
          expect(max === undefined || (Number.isInteger(max) && (max as number) >= 0 && (max as number) <= 1_048_576), String(max)).toBe(true);
        },
      ),
      { numRuns: RUNS * 4, seed: 20261203 },
    );
  });
});
