import { freeArrayBuffer } from "../util/bytes.js";

/** The mark around a blob's hex in a rendered batch (U+0001: one byte in UTF-8, never inside another character). */
export const BLOB_MARK = 0x01;

/** {@link BLOB_MARK} as a character. */
export const BLOB_MARK_CHAR = String.fromCharCode(BLOB_MARK);

const BASE64 = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const PAD = 0x3d;

/** Value of each upper-case hex digit as SQLite's `hex()` writes it, -1 for any other byte. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE["0123456789ABCDEF".charCodeAt(i)] = i;

/**
 * Turns the marked blobs of a batch rendered by SQLite (UTF-8 bytes, each blob as U+0001, upper-case
 * hex, U+0001) into their framed base64, byte to byte: no string crosses into the V8 heap. The
 * output goes to one buffer reused from batch to batch.
 */
export class MarkedBlobExpander {
  readonly #open: Uint8Array;
  readonly #close: Uint8Array;
  #out = new Uint8Array(0);
  /** Positions of the marks in the batch being expanded, reused from batch to batch like the output. */
  #marks = new Int32Array(256);

  /** `open` and `close` frame each blob's base64 (`"` and `"` in JSON, nothing in CSV). */
  constructor(open: string, close: string) {
    const encoder = new TextEncoder();
    this.#open = encoder.encode(open);
    this.#close = encoder.encode(close);
  }

  /**
   * The batch with its blobs expanded, valid until the next call; null when the marks do not pair
   * up as `blobs` blobs (or, with `blobs` null, as any number of them) or enclose anything but hex:
   * text holding U+0001 too. The caller then renders the batch another way.
   */
  expand(bytes: Uint8Array, blobs: number | null): Uint8Array | null {
    let count = 0;
    for (let at = bytes.indexOf(BLOB_MARK); at >= 0; at = bytes.indexOf(BLOB_MARK, at + 1)) {
      if (count === this.#marks.length) this.#marks = grown(this.#marks);
      this.#marks[count++] = at;
    }
    const marks = this.#marks;
    if (blobs === null ? count % 2 !== 0 : count !== 2 * blobs) return null;
    let size = bytes.length;
    for (let i = 0; i < count; i += 2) {
      const hexLength = marks[i + 1]! - marks[i]! - 1;
      if (hexLength % 2 !== 0) return null;
      size += this.#open.length + this.#close.length + 4 * Math.ceil(hexLength / 6) - hexLength - 2;
    }
    // The batch is copied `slack` bytes into the output buffer and expanded from there towards the
    // buffer's start, in place: a blob's framed base64 takes at most its framing's length more than
    // its marked hex (a 1-byte blob), so the writes never reach bytes not read yet. The runs between
    // blobs move with copyWithin, which allocates nothing: a subarray view per run was most of a
    // CSV or JSON export's garbage (bench/README.md, "What was optimised").
    const slack = (this.#open.length + this.#close.length) * (count / 2 + 1) + 4;
    const needed = Math.max(size, slack + bytes.length);
    if (this.#out.length < needed) this.#out = new Uint8Array(Math.max(needed, 2 * this.#out.length));
    const out = this.#out;
    out.set(bytes, slack);
    let from = 0;
    let to = 0;
    for (let i = 0; i < count; i += 2) {
      const start = marks[i]!;
      const end = marks[i + 1]!;
      out.copyWithin(to, slack + from, slack + start);
      to += start - from;
      out.set(this.#open, to);
      to += this.#open.length;
      const written = hexToBase64Bytes(out, slack + start + 1, slack + end, out, to);
      if (written < 0) return null;
      to += written;
      out.set(this.#close, to);
      to += this.#close.length;
      from = end + 1;
    }
    out.copyWithin(to, slack + from, slack + bytes.length);
    return out.subarray(0, size);
  }

  /** Frees the output buffer now rather than at a later garbage collection; the next call allocates another. */
  release(): void {
    freeArrayBuffer(this.#out.buffer);
    this.#out = new Uint8Array(0);
  }
}

/** A copy of `marks` with twice the room. */
function grown(marks: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(marks.length * 2);
  bigger.set(marks);
  return bigger;
}

/**
 * Writes the standard base64 (padded) of the bytes that the hex digits `hex[from..to)` stand for
 * into `out` at `at`; returns how many bytes it wrote, or -1 when a digit is not upper-case hex.
 * `out` may be `hex` itself when `at` stays behind the digits: each step reads before it writes.
 */
function hexToBase64Bytes(hex: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  const start = at;
  let i = from;
  for (; i + 6 <= to; i += 6) {
    const a = (HEX_VALUE[hex[i]!]! << 4) | HEX_VALUE[hex[i + 1]!]!;
    const b = (HEX_VALUE[hex[i + 2]!]! << 4) | HEX_VALUE[hex[i + 3]!]!;
    const c = (HEX_VALUE[hex[i + 4]!]! << 4) | HEX_VALUE[hex[i + 5]!]!;
    // A -1 digit makes its byte negative.
    if ((a | b | c) < 0) return -1;
    out[at++] = BASE64[a >> 2]!;
    out[at++] = BASE64[((a & 3) << 4) | (b >> 4)]!;
    out[at++] = BASE64[((b & 15) << 2) | (c >> 6)]!;
    out[at++] = BASE64[c & 63]!;
  }
  const rest = (to - i) / 2;
  if (rest > 0) {
    const a = (HEX_VALUE[hex[i]!]! << 4) | HEX_VALUE[hex[i + 1]!]!;
    const b = rest === 2 ? (HEX_VALUE[hex[i + 2]!]! << 4) | HEX_VALUE[hex[i + 3]!]! : 0;
    if ((a | b) < 0) return -1;
    out[at++] = BASE64[a >> 2]!;
    out[at++] = BASE64[((a & 3) << 4) | (b >> 4)]!;
    out[at++] = rest === 2 ? BASE64[(b & 15) << 2]! : PAD;
    out[at++] = PAD;
  }
  return at - start;
}
