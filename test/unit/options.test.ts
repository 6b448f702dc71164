import { describe, expect, test } from "vitest";
import { DumpError } from "../../src/errors.js";
import { checkKeyPrefix, resolveEngineOptions, resolveStartOptions } from "../../src/export/options.js";
import { builtinFormatters } from "../../src/formats/builtins.js";
import { MemoryStorage } from "./memory-storage.js";

const required = {
  sql: { exec: () => [] } as unknown as SqlStorage,
  bucket: { get: () => null, createMultipartUpload: () => null } as unknown as R2Bucket,
  storage: new MemoryStorage(),
};

function code(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (e) {
    if (e instanceof DumpError) return e.code;
    throw e;
  }
}

describe("engine options", () => {
  test("defaults", () => {
    const o = resolveEngineOptions(required, builtinFormatters);
    expect(o).toMatchObject({
      tickBudgetMs: 5_000,
      partSize: 5 * 1024 * 1024,
      keyPrefix: "durable-dump/",
      maxQueuedJobs: 10,
      maxRetainedJobs: 100,
      retentionMs: 7 * 86_400_000,
    });
    expect(Object.keys(o.formatters)).toEqual(["sql", "csv", "json", "ndjson"]);
  });

  test.each([
    ["tickBudgetMs", 99],
    ["tickBudgetMs", 600_001],
    ["tickBudgetMs", 1.5],
    ["tickBudgetMs", Number.NaN],
    ["partSize", 5 * 1024 * 1024 - 1],
    ["partSize", 64 * 1024 * 1024 + 1],
    ["maxQueuedJobs", 0],
    ["maxRetainedJobs", 1_001],
    ["retentionMs", -1],
    ["callbackSecret", ""],
    ["allowInsecureCallbacks", "yes"],
    ["onComplete", 42],
    ["now", "clock"],
    ["random", 0.5],
    ["scheduler", {}],
    ["keyPrefix", "/abs/"],
    ["formatters", { "Bad Name": builtinFormatters.sql }],
    ["formatters", { xml: { extension: "xml" } }],
  ])("%s = %j is refused with INVALID_OPTIONS", (name, value) => {
    expect(code(() => resolveEngineOptions({ ...required, [name]: value }, builtinFormatters))).toBe("INVALID_OPTIONS");
  });

  test.each(["backups/", "a/b/", "", "tenant-1", "x/y"])("key prefix %j is accepted", (prefix) => {
    expect(checkKeyPrefix(prefix)).toBe(prefix);
  });

  test.each(["/x/", "a//b/", "a/../b/", "./x/", "a\\b/", "a\u0000/", "x".repeat(513)])("key prefix %j is refused", (prefix) => {
    expect(code(() => checkKeyPrefix(prefix))).toBe("INVALID_OPTIONS");
  });
});

describe("start options", () => {
  test("defaults", () => {
    expect(resolveStartOptions(undefined, builtinFormatters, "durable-dump/")).toEqual({
      format: "sql",
      tables: null,
      exclude: [],
      schema: true,
      data: true,
      gzip: false,
      gzipLevel: 6,
      kv: false,
      folder: "",
      dialect: "sqlite3",
    });
  });

  test.each([
    [{ format: "xml" }, "UNKNOWN_FORMAT"],
    [{ format: 1 }, "UNKNOWN_FORMAT"],
    [{ formats: "sql" }, "INVALID_OPTIONS"],
    [{ tables: "t" }, "INVALID_OPTIONS"],
    [{ tables: ["a", "a"] }, "INVALID_OPTIONS"],
    [{ tables: [""] }, "INVALID_OPTIONS"],
    [{ exclude: Array.from({ length: 1_001 }, (_, i) => `t${i}`) }, "INVALID_OPTIONS"],
    [{ schema: false, data: false }, "INVALID_OPTIONS"],
    [{ gzip: "yes" }, "INVALID_OPTIONS"],
  ])("%j → %s", (options, expected) => {
    expect(code(() => resolveStartOptions(options as never, builtinFormatters, "durable-dump/"))).toBe(expected);
  });
});
