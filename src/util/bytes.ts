/** Byte helpers shared by every layer: hex, base64, comparison, freeing buffers early. */

const HEX_DIGITS = { lower: "0123456789abcdef", upper: "0123456789ABCDEF" } as const;
const HEX_PAIRS = {
  lower: Array.from({ length: 256 }, (_, i) => HEX_DIGITS.lower[i >> 4]! + HEX_DIGITS.lower[i & 15]!),
  upper: Array.from({ length: 256 }, (_, i) => HEX_DIGITS.upper[i >> 4]! + HEX_DIGITS.upper[i & 15]!),
};

/** Hex of `bytes`: lower-case (digests, signatures), or upper-case as SQLite's `hex()` writes it. */
export function toHex(bytes: Uint8Array, letters: "lower" | "upper" = "lower"): string {
  const pairs = HEX_PAIRS[letters];
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += pairs[bytes[i]!];
  return out;
}

/** Value of each ASCII hex digit (either case), -1 for any other byte. */
const HEX_VALUES = (() => {
  const values = new Int8Array(256).fill(-1);
  for (let i = 0; i < 16; i++) {
    values[HEX_DIGITS.lower.charCodeAt(i)] = i;
    values[HEX_DIGITS.upper.charCodeAt(i)] = i;
  }
  return values;
})();

/** The bytes of a hex string of either case; null when it is not an even run of hex digits. */
export function fromHex(hex: string): Uint8Array | null {
  return hexToBytes(hex.length, (i) => hex.charCodeAt(i) & 0xffff);
}

/** The bytes that hex digits, given as ASCII bytes (an `X'…'` literal of SQL text, say), stand for; null when they are not an even run of hex digits. */
export function fromHexBytes(digits: Uint8Array): Uint8Array | null {
  return hexToBytes(digits.length, (i) => digits[i]!);
}

function hexToBytes(length: number, code: (i: number) => number): Uint8Array | null {
  if (length % 2 !== 0) return null;
  const out = new Uint8Array(length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = code(2 * i);
    const low = code(2 * i + 1);
    const value = high < 256 && low < 256 ? (HEX_VALUES[high]! << 4) | HEX_VALUES[low]! : -1;
    if (value < 0) return null;
    out[i] = value;
  }
  return out;
}

/** The TC39 `Uint8Array.prototype.toBase64`, native in current workerd (V8) and much faster than the fallback. */
const nativeToBase64 = (Uint8Array.prototype as unknown as { toBase64?: (this: Uint8Array) => string }).toBase64;

/** Standard base64 (RFC 4648, with padding). */
export function toBase64(bytes: Uint8Array): string {
  if (nativeToBase64) return nativeToBase64.call(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The pieces one after the other, in a new array. */
export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const p of pieces) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Equality of two byte arrays in a time that does not depend on where they differ (only on their length). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Lower-case hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

const transfer = (ArrayBuffer.prototype as unknown as { transfer?: (this: ArrayBuffer, length: number) => ArrayBuffer }).transfer;

/**
 * Frees an ArrayBuffer's memory now rather than at some later garbage collection: `transfer(0)`
 * detaches it, and V8 drops its backing store at once. Only for a buffer nothing reads any more.
 * Does nothing where `ArrayBuffer.prototype.transfer` is missing (the collector frees it then).
 */
export function freeArrayBuffer(buffer: ArrayBufferLike): void {
  // A detached buffer has no bytes left to free (and cannot be transferred again).
  if (buffer instanceof ArrayBuffer && buffer.byteLength > 0) transfer?.call(buffer, 0);
}

/** Bytes as a Uint8Array, whether storage gave back a Uint8Array or an ArrayBuffer. */
export function asBytes(value: Uint8Array | ArrayBuffer): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}

/** Bytes of `text` in UTF-8 (a lone surrogate counts 3, as its U+FFFD replacement). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 units, 4 bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}
