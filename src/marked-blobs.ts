import { freeArrayBuffer } from "./free-array-buffer.js";

/** The mark around a blob's hex in a rendered batch (U+0001: one byte in UTF-8, never inside another character). */
export const BLOB_MARK = 0x01;

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
    const marks: number[] = [];
    for (let at = bytes.indexOf(BLOB_MARK); at >= 0; at = bytes.indexOf(BLOB_MARK, at + 1)) marks.push(at);
    if (blobs === null ? marks.length % 2 !== 0 : marks.length !== 2 * blobs) return null;
    let size = bytes.length;
    for (let i = 0; i < marks.length; i += 2) {
      const hexLength = marks[i + 1]! - marks[i]! - 1;
      if (hexLength % 2 !== 0) return null;
      size += this.#open.length + this.#close.length + 4 * Math.ceil(hexLength / 6) - hexLength - 2;
    }
    if (this.#out.length < size) this.#out = new Uint8Array(Math.max(size, 2 * this.#out.length));
    const out = this.#out;
    let from = 0;
    let to = 0;
    for (let i = 0; i < marks.length; i += 2) {
      const start = marks[i]!;
      const end = marks[i + 1]!;
      out.set(bytes.subarray(from, start), to);
      to += start - from;
      out.set(this.#open, to);
      to += this.#open.length;
      const written = hexToBase64Bytes(bytes, start + 1, end, out, to);
      if (written < 0) return null;
      to += written;
      out.set(this.#close, to);
      to += this.#close.length;
      from = end + 1;
    }
    out.set(bytes.subarray(from), to);
    return out.subarray(0, size);
  }

  /** Frees the output buffer now rather than at a later garbage collection; the next call allocates another. */
  release(): void {
    freeArrayBuffer(this.#out.buffer);
    this.#out = new Uint8Array(0);
  }
}

/**
 * Writes the standard base64 (padded) of the bytes that the hex digits `hex[from..to)` stand for
 * into `out` at `at`; returns how many bytes it wrote, or -1 when a digit is not upper-case hex.
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
