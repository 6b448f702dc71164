import fc from "fast-check";
import { expect, test } from "vitest";
import { LineReader } from "../../src/kv/line-reader.js";
import { KvFileReader } from "../../src/kv/kv-restore.js";
import { kvEntryLine, kvHeaderLine, kvTrailerLine } from "../../src/kv/kv-file.js";

/** Byte streams cut anywhere (amid a line, amid a UTF-8 sequence) read as the same lines, with offsets to resume from. */

const encoder = new TextEncoder();

/** `bytes` cut at `cuts` (positions, any order). */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  return [...at, bytes.length].map((end, i) => bytes.subarray(i === 0 ? 0 : at[i - 1], end));
}

test("lines and their end offsets do not depend on where the chunks are cut", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.string({ unit: "binary", maxLength: 40 }).map((s) => s.replaceAll("\n", " ")),
        { maxLength: 20 },
      ),
      fc.array(fc.nat()),
      (texts, cuts) => {
        const wellFormed = texts.map((t) => (t as string & { toWellFormed(): string }).toWellFormed());
        const bytes = encoder.encode(wellFormed.map((t) => `${t}\n`).join(""));
        const reader = new LineReader();
        const lines = chunks(bytes, cuts).flatMap((c) => reader.push(c));
        reader.finish();
        expect(lines.map((l) => l.text)).toEqual(wellFormed);
        let end = 0;
        expect(lines.map((l) => l.end)).toEqual(wellFormed.map((t) => (end += encoder.encode(t).length + 1)));
      },
    ),
  );
});

test("a file read in chunks, resumed from its saved position after every chunk that ended a line, gives every entry once", () => {
  const entries: [string, unknown][] = Array.from({ length: 50 }, (_, i) => [
    `k${String(i).padStart(3, "0")}é😀`,
    i % 2 ? "é".repeat(i * 10) : new Map([[i, new Date(i)]]),
  ]);
  const bytes = encoder.encode(kvHeaderLine() + entries.map(([k, v]) => kvEntryLine(k, v)).join("") + kvTrailerLine(entries.length));
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 300 }), (chunk) => {
      const got: [string, unknown][] = [];
      let reader = new KvFileReader();
      let offset = 0;
      let resumedAt = 0;
      while (offset < bytes.length) {
        const piece = bytes.subarray(offset, offset + chunk);
        got.push(...reader.push(piece));
        offset += piece.length;
        // A new reader from the saved position, as after a tick: it reads again from position.offset
        // (not amid a line longer than a chunk, which would start over forever).
        const position = reader.position;
        if (position.offset > resumedAt) {
          reader = new KvFileReader(JSON.parse(JSON.stringify(position)));
          offset = resumedAt = position.offset;
        }
      }
      reader.finish();
      expect(got).toEqual(entries);
    }),
    { numRuns: 40 },
  );
});

test("invalid UTF-8, an over-long line and a missing final newline are refused", () => {
  expect(() => new LineReader().push(new Uint8Array([0x61, 0xff, 0x0a]))).toThrow(/not valid UTF-8/);
  expect(() => new LineReader(0, 4).push(encoder.encode("abcde"))).toThrow(/longer than 4 bytes/);
  const reader = new LineReader();
  reader.push(encoder.encode("a\nb"));
  expect(() => reader.finish()).toThrow(/truncated/);
});
