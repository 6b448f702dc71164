/**
 * Reads workerd's binary Cap'n Proto config from stdin and writes it to stdout with V8 flags set
 * (the space-separated `DD_WORKERD_V8_FLAGS`). Miniflare 4.20260421 has no option for the config's
 * `v8Flags` (field @2 of `Config`, a `List(Text)`), so the flags go in a segment appended to the
 * message, reached from the root struct's third pointer by a far pointer. See with-v8-flags.sh.
 */
import { readFileSync, writeSync } from "node:fs";

const WORD = 8;
/** Pointer index of `Config.v8Flags` in workerd.capnp. */
const V8_FLAGS_POINTER = 2;

const flags = (process.env.DD_WORKERD_V8_FLAGS ?? "").split(" ").filter(Boolean);
const input = readFileSync(0);
writeAll(flags.length === 0 ? input : withV8Flags(input, flags));

function writeAll(bytes) {
  for (let at = 0; at < bytes.length; ) at += writeSync(1, bytes, at, bytes.length - at);
}

/** The message with the root struct's pointer `V8_FLAGS_POINTER` set to a list of `flags`. */
function withV8Flags(message, flags) {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const count = view.getUint32(0, true) + 1;
  const sizes = Array.from({ length: count }, (_, i) => view.getUint32(4 + 4 * i, true));
  const headerBytes = align(4 * (count + 1));
  const starts = [];
  let at = headerBytes;
  for (const size of sizes) {
    starts.push(at);
    at += size * WORD;
  }
  if (at !== message.length) throw new Error(`workerd config: ${message.length} bytes, its segment table says ${at}`);

  const root = structAt(view, starts, starts[0]);
  if (root.pointers <= V8_FLAGS_POINTER) throw new Error("workerd config: the root struct has no v8Flags pointer");
  const slot = root.start + (root.dataWords + V8_FLAGS_POINTER) * WORD;
  if (view.getBigUint64(slot, true) !== 0n) throw new Error("workerd config: v8Flags is already set");

  // The new segment: a landing pad (the list pointer), one pointer per flag, then each flag's bytes and NUL.
  const texts = flags.map((flag) => Buffer.from(`${flag}\0`, "utf8"));
  const textWords = texts.map((t) => align(t.length) / WORD);
  const words = 1 + flags.length + textWords.reduce((a, b) => a + b, 0);
  const segment = Buffer.alloc(words * WORD);
  const seg = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
  seg.setBigUint64(0, listPointer(0, 6, flags.length), true);
  let textAt = 1 + flags.length;
  for (const [i, text] of texts.entries()) {
    const pointerWord = 1 + i;
    seg.setBigUint64(pointerWord * WORD, listPointer(textAt - pointerWord - 1, 2, text.length), true);
    text.copy(segment, textAt * WORD);
    textAt += textWords[i];
  }
  const out = Buffer.concat([header([...sizes, words]), message.subarray(headerBytes), segment]);
  // The far pointer, in the root struct's segment: landing pad at word 0 of the new segment.
  const shift = align(4 * (count + 2)) - headerBytes;
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(slot + shift, (BigInt(count) << 32n) | 2n, true);
  return out;
}

/** The struct that the pointer at byte `at` of the message points to, following one far pointer. */
function structAt(view, starts, at) {
  const pointer = view.getBigUint64(at, true);
  const kind = Number(pointer & 3n);
  if (kind === 2) {
    if (pointer & 4n) throw new Error("workerd config: double-far root pointer");
    const target = Number(pointer >> 32n);
    return structAt(view, starts, starts[target] + Number((pointer >> 3n) & 0x1fffffffn) * WORD);
  }
  if (kind !== 0) throw new Error("workerd config: the root pointer is not a struct pointer");
  const offset = Number(BigInt.asIntN(30, (pointer >> 2n) & 0x3fffffffn));
  return { start: at + WORD + offset * WORD, dataWords: Number((pointer >> 32n) & 0xffffn), pointers: Number(pointer >> 48n) };
}

/** A list pointer: `offset` words from the end of the pointer, element size code `size`, `count` elements. */
function listPointer(offset, size, count) {
  return (BigInt(count) << 35n) | (BigInt(size) << 32n) | (BigInt(offset & 0x3fffffff) << 2n) | 1n;
}

/** The segment table for segments of `sizes` words. */
function header(sizes) {
  const bytes = Buffer.alloc(align(4 * (sizes.length + 1)));
  bytes.writeUInt32LE(sizes.length - 1, 0);
  for (const [i, size] of sizes.entries()) bytes.writeUInt32LE(size, 4 + 4 * i);
  return bytes;
}

function align(bytes) {
  return Math.ceil(bytes / WORD) * WORD;
}
