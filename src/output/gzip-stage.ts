import { Deflate, Z_FULL_FLUSH } from "pako";
import type { GzipState } from "../persisted/dump-record.js";
import { concatBytes } from "../util/bytes.js";

/**
 * Uncompressed bytes compressed at once. Segments are cut at fixed offsets of the uncompressed
 * stream, so that a redone tick compresses the same segments into the same bytes.
 */
export const GZIP_SEGMENT_BYTES = 256 * 1024;

/** Compression level of every segment (zlib's default). */
const LEVEL = 6;

/** gzip header: deflate, no flags, mtime 0 (reproducible), no extra flags, OS unknown. */
const HEADER = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

/** Bytes of the header that precedes the first segment. */
export const GZIP_HEADER_BYTES = HEADER.length;

/** A final, empty deflate block with fixed codes: BFINAL=1, BTYPE=01, end-of-block. */
const FINAL_BLOCK = new Uint8Array([0x03, 0x00]);

/** Where compressed bytes go. */
export type ByteSink = (bytes: Uint8Array) => Promise<void>;

/**
 * Compresses a byte stream that spans many ticks into ONE standard gzip member. Every full
 * segment is deflated on its own and ended with a full flush (byte-aligned, non-final blocks,
 * no back-references across segments), so compression state between segments is just the CRC-32
 * and the length; `end` writes an empty final block and the trailer. Decoders that reject
 * concatenated members (`DecompressionStream`) read the result.
 */
export class GzipStage {
  readonly #buffer = new Uint8Array(GZIP_SEGMENT_BYTES);
  #length: number;
  #crc: number;
  #inputBytes: number;
  #dirty: boolean;

  /** Continues a stream from its saved state and pending bytes; {@link initialState} starts one. */
  constructor(state: GzipState, pending: Uint8Array) {
    if (pending.length !== state.pending) throw new Error(`durable-dump: gzip pending bytes are ${pending.length}, the checkpoint says ${state.pending}`);
    this.#buffer.set(pending);
    this.#length = pending.length;
    this.#crc = state.crc;
    this.#inputBytes = state.inputBytes;
    this.#dirty = false;
  }

  /** State of a stream with nothing written yet. */
  static initialState(): GzipState {
    return { crc: 0, inputBytes: 0, pending: 0 };
  }

  /** The state to checkpoint with {@link pendingBytes}. */
  get state(): GzipState {
    return { crc: this.#crc, inputBytes: this.#inputBytes, pending: this.#length };
  }

  /** The pending bytes when they changed since {@link markPersisted}, else null. */
  dirtyPending(): Uint8Array | null {
    return this.#dirty ? this.#buffer.slice(0, this.#length) : null;
  }

  /** Records that storage now holds the pending bytes as they are. */
  markPersisted(): void {
    this.#dirty = false;
  }

  /** Adds uncompressed bytes, sending every completed segment to `sink` compressed. */
  async write(bytes: Uint8Array, sink: ByteSink): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(GZIP_SEGMENT_BYTES - this.#length, bytes.length - offset);
      const slice = bytes.subarray(offset, offset + take);
      this.#buffer.set(slice, this.#length);
      this.#crc = crc32(this.#crc, slice);
      this.#length += take;
      this.#inputBytes += take;
      this.#dirty = true;
      offset += take;
      if (this.#length === GZIP_SEGMENT_BYTES) await sink(this.#compressPending(false));
    }
  }

  /** Compresses what is pending and sends the end of the member: final block and trailer. */
  async end(sink: ByteSink): Promise<void> {
    await sink(this.#compressPending(true));
  }

  /** Deflates the pending bytes (header first if nothing was sent yet), the trailer too when `last`. */
  #compressPending(last: boolean): Uint8Array {
    const pieces: Uint8Array[] = [];
    if (this.#inputBytes - this.#length === 0) pieces.push(HEADER);
    if (this.#length > 0) {
      const deflate = new Deflate({ raw: true, level: LEVEL });
      deflate.push(this.#buffer.subarray(0, this.#length), Z_FULL_FLUSH);
      if (deflate.err) throw new Error(`durable-dump: deflate failed: ${deflate.msg}`);
      pieces.push(...deflate.chunks);
    }
    if (last) {
      const trailer = new Uint8Array(8);
      const view = new DataView(trailer.buffer);
      view.setUint32(0, this.#crc, true);
      view.setUint32(4, this.#inputBytes % 2 ** 32, true);
      pieces.push(FINAL_BLOCK, trailer);
    }
    this.#length = 0;
    this.#dirty = true;
    return concatBytes(pieces);
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (the gzip/zip polynomial) of `bytes`, continuing from `crc` (0 to start). */
export function crc32(crc: number, bytes: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
