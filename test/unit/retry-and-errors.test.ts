import { describe, expect, test } from "vitest";
import { DUMP_ERROR_CODES, DumpError, classifyFailure } from "../../src/errors.js";
import { NOTIFY_RETRY } from "../../src/jobs/callbacks.js";
import { TICK_RETRY, backoffMs } from "../../src/jobs/retry.js";

describe("backoff", () => {
  test("doubles from the base up to the cap, without jitter when random() is 0", () => {
    const delays = Array.from({ length: 8 }, (_, i) => backoffMs(TICK_RETRY, i + 1, () => 0));
    expect(delays).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 120_000, 120_000]);
  });

  test("adds at most a quarter at random", () => {
    const nominal = backoffMs(NOTIFY_RETRY, 3, () => 0);
    expect(nominal).toBe(NOTIFY_RETRY.baseMs * 4);
    for (const r of [0.25, 0.5, 0.999]) {
      const d = backoffMs(NOTIFY_RETRY, 3, () => r);
      expect(d).toBeGreaterThan(nominal);
      expect(d).toBeLessThan(nominal * 1.25);
    }
  });
});

describe("failures", () => {
  test("retryability is decided by the code", () => {
    for (const [code, { retryable }] of Object.entries(DUMP_ERROR_CODES)) {
      const failure = classifyFailure(new DumpError(code as keyof typeof DUMP_ERROR_CODES, "x"));
      expect(failure.retryable, code).toBe(retryable);
      expect(failure.code).toBe(code);
    }
    expect(new DumpError("INTERNAL", "x").retryable).toBe(false);
    expect(new DumpError("IO_ERROR", "x").retryable).toBe(true);
  });

  test("platform errors are I/O errors unless they say they are not retryable, and overloaded ones back off further", () => {
    expect(classifyFailure(new Error("network connection lost"))).toMatchObject({ code: "IO_ERROR", retryable: true, overloaded: false });
    expect(classifyFailure(Object.assign(new Error("nope"), { retryable: false }))).toMatchObject({ code: "IO_ERROR", retryable: false });
    expect(classifyFailure(Object.assign(new Error("busy"), { retryable: true, overloaded: true }))).toMatchObject({ retryable: true, overloaded: true });
    expect(classifyFailure("a string")).toMatchObject({ code: "IO_ERROR", message: "a string" });
  });

  test("R2's no-such-upload is UPLOAD_LOST, by its code property or the code R2 ends its messages with", () => {
    expect(classifyFailure(new Error("uploadPart: The specified multipart upload does not exist. (10024)")).code).toBe("UPLOAD_LOST");
    expect(classifyFailure(Object.assign(new Error("gone"), { code: 10024 })).code).toBe("UPLOAD_LOST");
    expect(classifyFailure(new Error("uploadPart: We encountered an internal error. (10001)")).code).toBe("IO_ERROR");
    expect(classifyFailure(new Error("a message mentioning 10024 elsewhere")).code).toBe("IO_ERROR");
  });
});
