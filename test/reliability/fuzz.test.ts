import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRelHarness, type RelHarness, type RelObject } from "./harness.js";

/**
 * Property-based fuzzing of the engine's inputs: whatever start() and the constructor are given,
 * they either accept it or refuse it with a DumpError of a known code, and a refusal starts and
 * persists nothing (no storage write, no R2 request).
 */

const START_CODES = new Set(["INVALID_OPTIONS", "UNKNOWN_FORMAT", "UNKNOWN_TABLE", "RESERVED_TABLE", "UNSUPPORTED_TABLE", "TOO_MANY_JOBS"]);
const RUNS = Number(process.env.DD_FUZZ_RUNS ?? 150);

const tableName = fc.oneof(
  fc.constantFrom("big", "small", "sqlite_master", "sqlite_sequence", "_cf_KV", "_CF_METADATA", "", "big; DROP TABLE big", "x' OR '1'='1", '"big"', "BIG"),
  fc.string({ maxLength: 12 }),
);
const junk = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 8 }), fc.object({ maxDepth: 1 }));

const callbackUrl = fc.oneof(
  fc.constantFrom(
    "https://hooks.example.com/x",
    "https://hooks.example.com:8443/p?q=1",
    "http://hooks.example.com/x",
    "https://127.0.0.1/",
    "https://0x7f.1/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://2130706433/",
    "https://169.254.169.254/latest",
    "ftp://x.example.com/",
    "https://u:p@x.example.com/",
    "javascript:alert(1)",
    "https://x.example.com/" + "a".repeat(2100),
  ),
  fc.webUrl({ withQueryParameters: true }),
);

const startOptions = fc.oneof(
  fc.record(
    {
      format: fc.oneof(fc.constantFrom("sql", "csv", "json", "ndjson", "SQL", "xml", "", "__proto__", "toString"), junk),
      tables: fc.oneof(fc.array(tableName, { maxLength: 4 }), junk),
      exclude: fc.oneof(fc.array(tableName, { maxLength: 4 }), junk),
      schema: fc.oneof(fc.boolean(), junk),
      data: fc.oneof(fc.boolean(), junk),
      gzip: fc.oneof(fc.boolean(), junk, fc.record({ level: fc.oneof(fc.integer({ min: -1, max: 11 }), junk) }, { requiredKeys: [] })),
      callbackUrl: fc.oneof(callbackUrl, junk),
      bogus: junk,
    },
    { requiredKeys: [] },
  ),
  junk,
  fc.array(junk, { maxLength: 2 }),
);

const intOption = fc.oneof(
  fc.integer({ min: -10, max: 700_000_000_000 }),
  fc.constantFrom(0, 99, 100, 600_000, 600_001, 5 * 2 ** 20, 5 * 2 ** 20 - 1, 64 * 2 ** 20, 64 * 2 ** 20 + 1, 1, 1000, 1001),
  junk,
);
const keyPrefix = fc.oneof(
  fc.constantFrom("backups/", "", "/abs/", "../up/", "a/../b/", "a//b/", "a\\b/", "ok/prefix-", "a/./b/", "x\u0000/", "é/😀/", "a".repeat(513)),
  fc.string({ maxLength: 20 }),
  junk,
);
const engineOptions = fc.record(
  {
    tickBudgetMs: intOption,
    partSize: intOption,
    keyPrefix,
    maxQueuedJobs: intOption,
    retentionMs: intOption,
    maxRetainedJobs: intOption,
    callbackSecret: fc.oneof(fc.string({ maxLength: 20 }), fc.constant("s".repeat(1025)), junk),
    allowInsecureCallbacks: fc.oneof(fc.boolean(), junk),
    callbackHosts: fc.oneof(
      fc.array(
        fc.oneof(
          fc.constantFrom("hooks.example.com", "*.example.com", "10.0.0.1", "[::1]", "*.", "*", "x:1", "https://x", "", "a/b", "*.1.2.3.4"),
          fc.domain(),
        ),
        {
          maxLength: 3,
        },
      ),
      junk,
    ),
    formatters: fc.oneof(junk, fc.dictionary(fc.string({ maxLength: 6 }), junk, { maxKeys: 2 })),
    now: junk,
    scheduler: junk,
  },
  { requiredKeys: [] },
);

/** Whether a key prefix is one the engine must refuse: absolute, with `..`, `.` or empty segments, backslashes or control characters. */
function badPrefix(p: string): boolean {
  const segments = p.split("/").slice(0, -1);
  return p.startsWith("/") || segments.some((s) => s === "" || s === "." || s === "..") || /[\u0000-\u001f\u007f\\]/.test(p) || p.length > 512;
}

describe("bad input is refused with typed errors and leaves no trace", () => {
  let h: RelHarness;
  let obj: RelObject;
  beforeAll(async () => {
    h = await createRelHarness();
    obj = h.object();
    await obj.config({ tickBudgetMs: 100, maxQueuedJobs: 1000, callbackSecret: "fuzz-secret" });
    await obj.seed(20, 100);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("start() options", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(startOptions, async (options) => {
        const before = await obj.keys();
        await obj.ok("reset-io");
        const a = await obj.call<{ id: string; state: string }>("start", options);
        if (a.error) {
          expect(a.error.name, a.error.message).toBe("DumpError");
          expect(START_CODES.has(a.error.code), a.error.code).toBe(true);
          expect(await obj.keys(), "nothing persisted").toEqual(before);
          expect((await obj.io()).writes, "nothing started").toEqual({});
        } else {
          accepted++;
          expect(a.result!.state).toBe("queued");
          const tables = (options as { tables?: unknown })?.tables;
          if (Array.isArray(tables)) for (const t of tables) expect(["big", "small"]).toContain(t);
          // A callback goes over https to a host name: never to an IP literal, whatever its spelling.
          const url = (options as { callbackUrl?: unknown })?.callbackUrl;
          if (url !== undefined) {
            const { protocol, hostname } = new URL(url as string);
            expect(protocol).toBe("https:");
            expect(hostname, url as string).not.toMatch(/^\[|^[\d.]+$/);
          }
          const gzip = (options as { gzip?: unknown })?.gzip;
          if (typeof gzip === "object" && gzip !== null) {
            const level = (gzip as { level?: unknown }).level ?? 6;
            expect(Object.keys(gzip).every((k) => k === "level") && Number.isInteger(level) && (level as number) >= 1 && (level as number) <= 9).toBe(true);
          }
          await obj.abort(a.result!.id);
        }
      }),
      { numRuns: RUNS, seed: 20261125 },
    );
    expect(accepted, "some generated options are valid").toBeGreaterThan(0);
  });

  test("start() with a callback URL: https to a host name, or refused", async () => {
    await fc.assert(
      fc.asyncProperty(callbackUrl, async (url) => {
        const before = await obj.keys();
        const a = await obj.call<{ id: string }>("start", { format: "csv", callbackUrl: url });
        if (a.error) {
          expect(a.error.code, a.error.message).toBe("INVALID_OPTIONS");
          expect(await obj.keys(), "nothing persisted").toEqual(before);
          return;
        }
        const { protocol, hostname } = new URL(url);
        expect(protocol, url).toBe("https:");
        expect(hostname, url).not.toMatch(/^\[|^[\d.]+$/);
        await obj.abort(a.result!.id);
      }),
      { numRuns: RUNS, seed: 20261203 },
    );
  });

  test("engine options", async () => {
    await fc.assert(
      fc.asyncProperty(engineOptions, async (options) => {
        const a = await obj.call<{ writes: Record<string, number> }>("construct", options);
        if (a.error) {
          expect(a.error.name, a.error.message).toBe("DumpError");
          expect(a.error.code).toBe("INVALID_OPTIONS");
          return;
        }
        expect(a.result!.writes, "constructing writes nothing").toEqual({});
        const o = options as Record<string, unknown>;
        const inRange = (v: unknown, min: number, max: number) => v === undefined || (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max);
        expect(inRange(o.tickBudgetMs, 100, 600_000)).toBe(true);
        expect(inRange(o.partSize, 5 * 2 ** 20, 64 * 2 ** 20)).toBe(true);
        expect(inRange(o.maxQueuedJobs, 1, 1_000)).toBe(true);
        expect(inRange(o.maxRetainedJobs, 1, 1_000)).toBe(true);
        expect(o.callbackSecret === undefined || (typeof o.callbackSecret === "string" && o.callbackSecret.length > 0 && o.callbackSecret.length <= 1024)).toBe(
          true,
        );
        expect(o.allowInsecureCallbacks === undefined || typeof o.allowInsecureCallbacks === "boolean").toBe(true);
        const hosts = o.callbackHosts;
        expect(
          hosts === undefined || (Array.isArray(hosts) && hosts.every((h) => typeof h === "string" && h !== "" && !/[/:]/.test(h.replace(/^\[.*\]$/, "")))),
        ).toBe(true);
        expect(o.keyPrefix === undefined || (typeof o.keyPrefix === "string" && !badPrefix(o.keyPrefix))).toBe(true);
      }),
      { numRuns: RUNS * 2, seed: 20261125 },
    );
  });
});
