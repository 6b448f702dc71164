/**
 * The SQL text of a source, decoded from the object's bytes, in pieces of at most 64 KiB, from
 * any offset a checkpoint names:
 *
 * - plain SQL: the object's bytes, read from that offset;
 * - this library's gzip ("segments"): every 256 KiB segment of the text was compressed on its own
 *   and ended with a full flush, and the manifest records, per part, where a segment starts. The
 *   stream decodes from the last recorded segment start at or before the offset, drops the
 *   decoded bytes up to it, and checks the trailer's length at the end (the parts' SHA-256s
 *   vouch for the bytes);
 * - any other gzip: decoded from the object's first byte, dropping the bytes up to the offset;
 *   concatenated members are read in turn, and zlib checks each member's CRC-32.
 */
import { Inflate } from "pako";
import { DumpError } from "../errors.js";
import type { RestorePart, RestoreSource } from "../persisted/restore-record.js";
import { freeArrayBuffer } from "../util/bytes.js";
import { ObjectReader } from "./object-reader.js";

/** Largest piece handed out; compressed input goes to the inflater in slices of {@link INFLATE_SLICE}. */
const PIECE_BYTES = 64 * 1024;
/** Compressed bytes inflated at once: output stays small even for text that compresses 1000 to 1. */
const INFLATE_SLICE = 8 * 1024;
/** Bytes of the gzip trailer: CRC-32 and length. */
const TRAILER_BYTES = 8;

/** Where decoding starts for a checkpoint at `offset` of the text: a byte of the object, and the text offset it decodes to. */
function decodeStart(source: RestoreSource, parts: readonly RestorePart[] | null, offset: number): { raw: number; text: number } {
  if (source.encoding === "plain") return { raw: offset, text: offset };
  if (source.encoding === "gzip") return { raw: 0, text: 0 };
  let best = { raw: 10, text: 0 };
  for (const part of parts ?? []) {
    const segment = part.segment;
    if (!segment) continue;
    const text = segment.index * source.segmentBytes;
    if (text <= offset && text >= best.text) best = { raw: segment.offset, text };
  }
  return best;
}

/** The decoded text of one source, from a checkpoint on. */
export class DecodedStream {
  readonly #reader: ObjectReader;
  readonly #source: RestoreSource;
  /** Text offset of the next byte decoded. */
  #text: number;
  /** Decoded bytes before this offset are dropped (they were applied before the checkpoint). */
  readonly #skipUntil: number;
  #input: Uint8Array = new Uint8Array(0);
  /** The buffer of the last read (a whole part, say): freed as soon as all of it is decoded and handed out. */
  #read: ArrayBufferLike | null = null;
  #inflate: Inflate | null = null;
  readonly #output: Uint8Array[] = [];
  /** Raw bytes read past the end of the deflate data ("segments": the trailer). */
  #trailer: Uint8Array | null = null;
  #done = false;

  constructor(bucket: R2Bucket, source: RestoreSource, parts: readonly RestorePart[] | null, offset: number, rangeBytes: number) {
    const start = decodeStart(source, parts, offset);
    this.#source = source;
    this.#reader = new ObjectReader(bucket, source, parts, start.raw, rangeBytes);
    this.#text = start.text;
    this.#skipUntil = offset;
    if (source.encoding !== "plain") this.#inflate = this.#inflater();
  }

  /** Bytes of the object read so far (for the progress). */
  get consumed(): number {
    return this.#reader.position - this.#input.length;
  }

  /** The next piece of text (at text offset `offset`), or null at its end. */
  async next(): Promise<{ offset: number; bytes: Uint8Array } | null> {
    for (;;) {
      const piece = this.#take();
      if (piece) return piece;
      if (this.#done) return null;
      if (this.#input.length === 0) {
        // Every piece of the last read was handed out (and copied by the splitter): its memory can go now.
        if (this.#read) freeArrayBuffer(this.#read);
        const read = await this.#reader.read();
        this.#read = read?.bytes.buffer ?? null;
        if (!read) {
          this.#end();
          continue;
        }
        this.#input = read.bytes;
      }
      this.#feed();
    }
  }

  /** A piece of decoded output not below the checkpoint, or null. */
  #take(): { offset: number; bytes: Uint8Array } | null {
    while (this.#output.length > 0) {
      let bytes = this.#output.shift()!;
      const offset = this.#text;
      this.#text += bytes.length;
      if (this.#text <= this.#skipUntil) continue;
      if (offset < this.#skipUntil) bytes = bytes.subarray(this.#skipUntil - offset);
      return { offset: this.#text - bytes.length, bytes };
    }
    return null;
  }

  /** Moves some input to the output: plain text as it is, compressed input through the inflater. */
  #feed(): void {
    if (!this.#inflate) {
      const take = Math.min(PIECE_BYTES, this.#input.length);
      this.#output.push(this.#input.subarray(0, take));
      this.#input = this.#input.subarray(take);
      return;
    }
    let take = Math.min(INFLATE_SLICE, this.#input.length);
    if (this.#source.encoding === "segments") {
      // The last 8 bytes are the trailer, not deflate data.
      const deflateEnd = this.#source.size - TRAILER_BYTES;
      const at = this.consumed;
      if (at >= deflateEnd) {
        this.#trailer = concat(this.#trailer, this.#input).slice();
        this.#input = new Uint8Array(0);
        return;
      }
      take = Math.min(take, deflateEnd - at);
    }
    const slice = this.#input.subarray(0, take);
    this.#input = this.#input.subarray(take);
    const inflate = this.#inflate;
    if (inflate.ended) {
      this.#afterMember(slice);
      return;
    }
    inflate.push(slice, 2 /* Z_SYNC_FLUSH: hand out all output now */);
    if (inflate.err) throw this.#corrupt(inflate.msg);
    if (inflate.ended) {
      // What the member did not use of this slice.
      const unused = (inflate as unknown as { strm: { avail_in: number } }).strm.avail_in;
      this.#afterMember(slice.subarray(slice.length - unused));
    }
  }

  /**
   * A gzip member ended: input left over is another member (pako reads one only when it arrives
   * in the same push), or garbage.
   */
  #afterMember(more: Uint8Array): void {
    if (more.length === 0 && this.#source.encoding !== "gzip") return;
    if (this.#source.encoding !== "gzip") throw this.#corrupt("data after the end of the deflate stream");
    const rest = concat(more, this.#input);
    this.#input = rest;
    if (rest.length === 0) return;
    if (rest[0] !== 0x1f || (rest.length > 1 && rest[1] !== 0x8b)) throw this.#corrupt("data after the end of the gzip member");
    this.#inflate = this.#inflater();
  }

  #end(): void {
    this.#done = true;
    if (!this.#inflate) return;
    if (!this.#inflate.ended) {
      throw new DumpError("TRUNCATED_DUMP", `The gzip stream of ${this.#source.key} ends before its end marker: the object is cut short.`);
    }
    if (this.#source.encoding === "segments") {
      const trailer = this.#trailer;
      const size = trailer && trailer.length === TRAILER_BYTES ? new DataView(trailer.buffer, trailer.byteOffset).getUint32(4, true) : -1;
      const total = this.#output.reduce((sum, piece) => sum + piece.length, this.#text);
      if (size !== total % 2 ** 32) throw this.#corrupt(`the trailer says ${size} bytes of text, the stream holds ${total}`);
    }
  }

  #inflater(): Inflate {
    const inflate =
      this.#source.encoding === "segments" ? new Inflate({ raw: true, chunkSize: PIECE_BYTES }) : new Inflate({ windowBits: 31, chunkSize: PIECE_BYTES });
    inflate.onData = (chunk) => {
      this.#output.push(chunk);
    };
    inflate.onEnd = () => {};
    return inflate;
  }

  #corrupt(why: string): DumpError {
    return new DumpError("CORRUPT_GZIP", `The gzip stream of ${this.#source.key} is damaged near byte ${this.consumed} of the object: ${why}.`);
  }
}

function concat(a: Uint8Array | null, b: Uint8Array): Uint8Array {
  if (!a || a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
