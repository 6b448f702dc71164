/** Decodes a value from the test host's JSON (`{ $blob }`, `{ $real }` tags) into a JS value. */
export function decodeHostValue(v: unknown): unknown {
  if (v !== null && typeof v === "object") {
    if ("$blob" in v) return Buffer.from((v as { $blob: string }).$blob, "hex");
    if ("$real" in v) return Number((v as { $real: string }).$real);
  }
  return v;
}

/** The 8 bytes of an IEEE-754 double, big-endian, as upper-case hex (keeps -0 and NaN payloads). */
export function doubleBits(x: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return b.toString("hex").toUpperCase();
}

/** Lower-case hex of some bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
