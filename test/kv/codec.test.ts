import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe as group, expect, test } from "vitest";
import { KV_CODEC } from "../../src/kv/codec.js";
import { KvFileDecoder, kvEntryLine, kvHeaderLine, kvTrailerLine } from "../../src/kv/kv-file.js";
import { describe } from "./worker/describe.js";

/**
 * The codec's format, pinned: committed fixture lines (test/kv/fixtures/values.kv.ndjson) must be
 * what the codec writes for these values today, and must read back to them. A new devalue that
 * writes or reads anything differently fails here before it reaches a user's backups.
 * `UPDATE_KV_FIXTURES=1` rewrites the file (only ever with a new codec name in KV_CODEC).
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const FIXTURE = join(ROOT, "test", "kv", "fixtures", "values.kv.ndjson");

/** An error with a fixed stack, so that its line does not depend on where the test runs. */
function error<E extends Error>(e: E, stack = `${e.name}: ${e.message}\n    at fixture`): E {
  Object.defineProperty(e, "stack", { value: stack, writable: true, configurable: true, enumerable: false });
  return e;
}

/** One value of each kind devalue and the reducers write, by key. */
function fixtureValues(): [string, unknown][] {
  const cycle: Record<string, unknown> = { name: "cyc" };
  cycle.self = cycle;
  const shared = { s: 1 };
  const sparse: unknown[] = [];
  sparse[0] = 1;
  sparse[2] = 3;
  sparse[10] = "x";
  const verySparse: unknown[] = [];
  verySparse[100_000] = 1;
  const withProps: unknown[] & { extra?: string } = [1, 2];
  withProps.extra = "p";
  const buffer = new Uint8Array([10, 11, 12, 13, 14, 15, 16, 17]).buffer;
  const resizable = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(4, { maxByteLength: 16 });
  new Uint8Array(resizable).set([1, 2, 3, 4]);
  return [
    ["array:sparse", sparse],
    ["array:very-sparse", verySparse],
    ["array:with-props", withProps],
    ["bigint", -(2n ** 100n)],
    ["boxed", [Object(-0), Object("s"), Object(false), Object(5n)]],
    ["buffer", buffer],
    ["buffer:resizable", resizable],
    ["cycle", cycle],
    ["date", [new Date(1700000000123), new Date(Number.NaN)]],
    ["dom-exception", error(new DOMException("dm", "AbortError"), "AbortError: dm\n    at fixture")],
    ["error", error(new Error("outer", { cause: error(new TypeError("inner")) }))],
    ["error:range", error(new RangeError("r"))],
    [
      "map",
      new Map<unknown, unknown>([
        [1, "a"],
        [{ k: 1 }, new Set([-0, Number.NaN])],
      ]),
    ],
    ["numbers", [-0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, Number.MAX_VALUE]],
    ["object:null-proto", Object.assign(Object.create(null), { x: 1 })],
    ["object:proto-key", JSON.parse('{"__proto__": {"x": 1}, "b": 2}')],
    ["regexp", /a+[/]b\u2028/gimsuy],
    ["shared", { a: shared, b: shared, c: [shared] }],
    ["string", 'line\u2028para\u2029</script>\u0000\n"\\ 😀 a\uD800b'],
    ["typed", [new Int8Array([1, -1]), new Uint8ClampedArray([255]), new Float64Array([-0, Number.NaN]), new BigInt64Array([-2n])]],
    ["typed:views", { u8: new Uint8Array(buffer, 2, 3), dv: new DataView(buffer, 1, 3), u16: new Uint16Array(buffer, 4, 2) }],
    ["undefined", undefined],
    ["é", "keys in UTF-8 order: é (U+00E9) after ASCII"],
    ["\uFFFF", "U+FFFF sorts before an emoji in UTF-8, after it in UTF-16"],
    ["😀", "emoji"],
  ];
}

/** A line workerd wrote for a value Node 20 cannot build: `new Float16Array([1.5, -0, NaN])`. */
const FLOAT16_LINE = '["float16",[["Float16Array",1],["ArrayBuffer","AD4AgAB+"]]]';

function fileText(): string {
  const values = fixtureValues();
  return kvHeaderLine() + values.map(([key, value]) => kvEntryLine(key, value)).join("") + kvTrailerLine(values.length);
}

if (process.env.UPDATE_KV_FIXTURES) writeFileSync(FIXTURE, fileText());

test("the installed devalue is the version the codec names, pinned exactly", () => {
  const installed = JSON.parse(readFileSync(join(ROOT, "node_modules", "devalue", "package.json"), "utf8")).version;
  expect(`devalue@${installed}`).toBe(KV_CODEC);
  const pinned = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies.devalue;
  expect(`devalue@${pinned}`).toBe(KV_CODEC);
});

group("committed fixture lines", () => {
  const committed = readFileSync(FIXTURE, "utf8");

  test("the codec writes them byte for byte", () => {
    expect(fileText()).toBe(committed);
  });

  test("they read back to the values, type for type", () => {
    const decoder = new KvFileDecoder();
    const lines = committed.slice(0, -1).split("\n");
    const read = lines.map((line) => decoder.accept(line)).filter((e) => e !== null);
    decoder.finish();
    expect(read.map(([key, value]) => [key, describe(value)])).toEqual(fixtureValues().map(([key, value]) => [key, describe(value)]));
  });

  test("a Float16Array written by workerd reads in Node as its raw bits when asked to", () => {
    const decoder = (options = {}) => {
      const d = new KvFileDecoder(options);
      d.accept(kvHeaderLine().trim());
      return d;
    };
    const [, value] = decoder({ float16AsUint16: true }).accept(FLOAT16_LINE)!;
    if (typeof (globalThis as { Float16Array?: unknown }).Float16Array === "function")
      expect(Array.from(value as ArrayLike<number>)).toEqual([1.5, -0, Number.NaN]);
    else {
      expect(value).toBeInstanceOf(Uint16Array);
      expect(Array.from(value as Uint16Array)).toEqual([0x3e00, 0x8000, 0x7e00]);
      expect(() => decoder().accept(FLOAT16_LINE)).toThrow(/KV_FILE_INVALID|does not decode/);
    }
  });
});

group("the decoder refuses what this library did not write", () => {
  const header = kvHeaderLine().trim();
  const entry = (key: string) => kvEntryLine(key, 1).trim();
  const cases: [string, string[], RegExp][] = [
    ["another codec", [JSON.stringify({ format: "durable-dump-kv", version: 1, codec: "devalue@7.0.0" })], /encoded with devalue@7.0.0/],
    ["another file version", [JSON.stringify({ format: "durable-dump-kv", version: 2, codec: KV_CODEC })], /file version 2/],
    ["no header", [entry("a")], /not the header/],
    ["keys out of order", [header, entry("b"), entry("a")], /does not follow/],
    ["a key twice", [header, entry("a"), entry("a")], /does not follow/],
    ["UTF-16 order instead of UTF-8", [header, entry("😀"), entry("\uFFFF")], /does not follow/],
    ["the engine's own keys", [header, entry("durable-dump:job:x")], /durable-dump's own state/],
    ["a wrong count", [header, entry("a"), '{"entries":2}'], /counts 2 entries/],
    ["a line after the trailer", [header, '{"entries":0}', entry("a")], /follows the trailer/],
    ["not JSON", [header, '["a",'], /not JSON/],
    ["a damaged payload", [header, '["a",[["Set",7]]]'], /value of "a" does not decode/],
  ];
  test.each(cases)("%s", (_name, lines, message) => {
    const decoder = new KvFileDecoder();
    expect(() => {
      for (const line of lines) decoder.accept(line);
    }).toThrow(message);
  });

  test("an Error's name picks one of the seven standard classes, never another global", () => {
    const decoder = new KvFileDecoder();
    decoder.accept(header);
    const [, value] = decoder.accept('["e",[["dd:Error",1],[2,3,-1,4],"constructor","m",[]]]')!;
    expect(value).toBeInstanceOf(Error);
    expect(Object.getPrototypeOf(value)).toBe(Error.prototype);
    expect((value as Error).name).toBe("constructor");
  });

  test("a file without its trailer is truncated", () => {
    const decoder = new KvFileDecoder();
    decoder.accept(header);
    decoder.accept(entry("a"));
    expect(() => decoder.finish()).toThrow(/truncated/);
  });
});
