import { describe, expect, test } from "vitest";
import { BLOB_MARK, MarkedBlobExpander } from "../src/sqlite/marked-blobs.js";

// The expander is pure byte work, so it is checked here in Node against Node's own hex and base64;
// the format tests cover it end to end in workerd.
describe("MarkedBlobExpander", () => {
  const framings = [
    ["json", '"', '"'],
    ["csv", "", ""],
  ] as const;

  /** A batch of text runs and blobs, marked as SQLite renders it, and what expanding it must give. */
  function batch(parts: (string | Buffer)[], open: string, close: string): { marked: Uint8Array; expected: string } {
    let marked = "";
    let expected = "";
    for (const part of parts) {
      if (typeof part === "string") {
        marked += part;
        expected += part;
      } else {
        marked += `${String.fromCharCode(BLOB_MARK)}${part.toString("hex").toUpperCase()}${String.fromCharCode(BLOB_MARK)}`;
        expected += open + part.toString("base64") + close;
      }
    }
    return { marked: new Uint8Array(Buffer.from(marked, "latin1")), expected };
  }

  /** Deterministic pseudo-random numbers, so that a failure can be replayed. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
  }

  test.each(framings)("%s: random batches of text runs and blobs, one expander reused for all", (_name, open, close) => {
    const expander = new MarkedBlobExpander(open, close);
    const next = random(7);
    for (let round = 0; round < 300; round++) {
      const parts: (string | Buffer)[] = [];
      const count = Math.floor(next() * 400);
      for (let i = 0; i < count; i++) {
        if (next() < 0.5) parts.push("x".repeat(Math.floor(next() * (next() < 0.1 ? 3000 : 40))));
        else parts.push(Buffer.from(Array.from({ length: Math.floor(next() * (next() < 0.1 ? 2000 : 8)) }, () => Math.floor(next() * 256))));
      }
      const { marked, expected } = batch(parts, open, close);
      const blobs = parts.filter((p) => typeof p !== "string").length;
      const out = expander.expand(marked, blobs);
      expect(out && Buffer.from(out).toString("latin1"), `round ${round}`).toBe(expected);
    }
  });

  test.each(framings)("%s: the most growth, 1-byte blobs back to back, in place without overrunning the input", (_name, open, close) => {
    const expander = new MarkedBlobExpander(open, close);
    for (const count of [1, 2, 3, 100, 5000]) {
      const parts = Array.from({ length: count }, (_, i) => Buffer.from([i % 256]));
      const { marked, expected } = batch([...parts, "tail"], open, close);
      expect(Buffer.from(expander.expand(marked, count)!).toString("latin1")).toBe(expected);
      expect(Buffer.from(expander.expand(marked, null)!).toString("latin1")).toBe(expected);
    }
  });

  test("marks that are not a blob's are refused, and the input is left as it was", () => {
    const expander = new MarkedBlobExpander('"', '"');
    const mark = String.fromCharCode(BLOB_MARK);
    for (const text of [`a${mark}b`, `a${mark}ABC${mark}`, `${mark}0g${mark}`, `${mark}00${mark}x${mark}`, `${mark}ab${mark}`]) {
      const input = new Uint8Array(Buffer.from(text, "latin1"));
      const copy = input.slice();
      expect(expander.expand(input, null), JSON.stringify(text)).toBeNull();
      expect(input).toEqual(copy);
    }
    const two = batch([Buffer.from([1]), "x", Buffer.from([2])], '"', '"');
    expect(expander.expand(two.marked, 1)).toBeNull();
    expect(Buffer.from(expander.expand(two.marked, 2)!).toString("latin1")).toBe(two.expected);
  });
});
