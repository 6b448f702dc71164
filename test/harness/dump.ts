import { expect } from "vitest";
import type { DumpStatus } from "../../src/index.js";
import type { Harness } from "./miniflare.js";

/**
 * Asserts a job completed with exactly one complete output, and returns that R2 object's bytes
 * (checking its size against the status).
 */
export async function readSingleOutput(h: Harness, status: DumpStatus): Promise<{ key: string; bytes: Uint8Array }> {
  expect(status.error, "job error").toBeNull();
  expect(status.state).toBe("completed");
  expect(status.outputs).toHaveLength(1);
  const out = status.outputs[0]!;
  expect(out.complete).toBe(true);
  const bytes = await h.readObject(out.key);
  expect(bytes.byteLength, "object size = outputs[0].bytes").toBe(out.bytes);
  return { key: out.key, bytes };
}
