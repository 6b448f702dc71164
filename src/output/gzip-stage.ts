import type { GzipState } from "../persisted/dump-record.js";
import { concatBytes, freeArrayBuffer } from "../util/bytes.js";
import type { Deflater } from "./deflater.js";

/**
 * Uncompressed bytes compressed at once. Segments are cut at fixed offsets of the uncompressed
 * stream, so that a redone tick compresses the same segments into the same bytes.
 */
export const GZIP_SEGMENT_BYTES = 256 * 1024;

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
  readonly #deflater: Deflater;
  readonly #crc32: (crc: number, bytes: Uint8Array) => number;

  /**
   * Continues a stream from its saved state and pending bytes ({@link initialState} starts one),
   * compressing with `deflater`: the engine and level the job recorded.
   */
  constructor(state: GzipState, pending: Uint8Array, deflater: Deflater) {
    if (pending.length !== state.pending) throw new Error(`durable-dump: gzip pending bytes are ${pending.length}, the checkpoint says ${state.pending}`);
    this.#buffer.set(pending);
    this.#length = pending.length;
    this.#crc = state.crc;
    this.#inputBytes = state.inputBytes;
    this.#dirty = false;
    this.#deflater = deflater;
    this.#crc32 = deflater.crc32 ?? crc32;
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
      this.#crc = this.#crc32(this.#crc, slice);
      this.#length += take;
      this.#inputBytes += take;
      this.#dirty = true;
      offset += take;
      if (this.#length === GZIP_SEGMENT_BYTES) await this.#send(false, sink);
    }
  }

  /** Compresses what is pending and sends the end of the member: final block and trailer. */
  async end(sink: ByteSink): Promise<void> {
    await this.#send(true, sink);
  }

  /**
   * Sends the compressed pending bytes, then frees the buffers that held them (the sink has copied
   * them): ~80 KiB per segment that would otherwise pile up until a collection (bench/README.md).
   */
  async #send(last: boolean, sink: ByteSink): Promise<void> {
    const { bytes, deflated } = this.#compressPending(last);
    await sink(bytes);
    if (deflated) freeArrayBuffer(deflated.buffer);
    if (bytes !== deflated) freeArrayBuffer(bytes.buffer);
  }

  /** Deflates the pending bytes (header first if nothing was sent yet), the trailer too when `last`. */
  #compressPending(last: boolean): { bytes: Uint8Array; deflated: Uint8Array | null } {
    const pieces: Uint8Array[] = [];
    if (this.#inputBytes - this.#length === 0) pieces.push(HEADER);
    const deflated = this.#length > 0 ? this.#deflater.segment(this.#buffer.subarray(0, this.#length)) : null;
    if (deflated) pieces.push(deflated);
    if (last) {
      const trailer = new Uint8Array(8);
      const view = new DataView(trailer.buffer);
      view.setUint32(0, this.#crc, true);
      view.setUint32(4, this.#inputBytes % 2 ** 32, true);
      pieces.push(FINAL_BLOCK, trailer);
    }
    this.#length = 0;
    this.#dirty = true;
    return { bytes: pieces.length === 1 && deflated ? deflated : concatBytes(pieces), deflated };
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
