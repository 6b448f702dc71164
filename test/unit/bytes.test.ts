import { randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { concatBytes, constantTimeEqual, fromHex, sha256Hex, toBase64, toHex } from "../../src/util/bytes.js";

test("hex, base64 and SHA-256 agree with Node's own", async () => {
  for (const size of [0, 1, 2, 3, 255, 4096, 100_001]) {
    const bytes = new Uint8Array(randomBytes(size));
    const buffer = Buffer.from(bytes);
    expect(toHex(bytes)).toBe(buffer.toString("hex"));
    expect(toHex(bytes, "upper")).toBe(buffer.toString("hex").toUpperCase());
    expect(fromHex(toHex(bytes, "upper"))).toEqual(bytes);
    expect(toBase64(bytes)).toBe(buffer.toString("base64"));
    expect(await sha256Hex(bytes)).toBe((await import("node:crypto")).createHash("sha256").update(buffer).digest("hex"));
  }
  expect(fromHex("abc")).toBeNull();
  expect(fromHex("zz")).toBeNull();
});

test("concatenation and constant-time comparison", () => {
  expect(concatBytes([new Uint8Array([1]), new Uint8Array([]), new Uint8Array([2, 3])])).toEqual(new Uint8Array([1, 2, 3]));
  expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
  expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
  expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
});
