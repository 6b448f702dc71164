import { DumpError } from "../errors.js";
import type { PartRecord, SegmentStart } from "../persisted/dump-record.js";
import { freeArrayBuffer, sha256Hex } from "../util/bytes.js";
import { GZIP_HEADER_BYTES, GZIP_SEGMENT_BYTES, type GzipStage } from "./gzip-stage.js";

/** R2 accepts at most this many parts in one multipart upload. */
export const MAX_PARTS = 10_000;

/** Bytes of the unuploaded tail stored under one storage key (values are limited to 2 MB with their key). */
export const TAIL_CHUNK_BYTES = 1024 * 1024;

/** How far an upload got: parts uploaded and their bytes. */
export interface UploadProgress {
  parts: number;
  bytes: number;
}

/** A slice of the tail that storage does not hold yet. */
export interface TailChunk {
  index: number;
  bytes: Uint8Array;
}

/**
 * Cuts a byte stream into equal multipart parts: fills a part-sized buffer, uploads it when full
 * while filling a second one, and keeps the rest (the tail) in memory until the next checkpoint
 * persists it. Every part
 * but the last has exactly `partSize` bytes, as R2 requires. Re-uploading a part number replaces
 * it, so redoing work after a crash is harmless.
 */
export class PartWriter {
  readonly #upload: R2MultipartUpload;
  readonly #partSize: number;
  #buffer: Uint8Array<ArrayBuffer>;
  /** The other part buffer: free again once the upload in flight resolved. */
  #spare: Uint8Array<ArrayBuffer> | null = null;
  /** Upload of the last full part while it has not resolved; the part is recorded when it does. */
  #inflight: { done: Promise<void>; size: number } | null = null;
  /** gzip: the first segment that starts in the part being filled (restores restart decoding there). */
  #segment: SegmentStart | null;
  #failed: { error: unknown } | null = null;
  #partCount: number;
  #uploadedBytes: number;
  /** Parts uploaded since the last {@link takeNewParts}. */
  #newParts: PartRecord[] = [];
  readonly #gzip: GzipStage | null;
  #length: number;
  #persistedPart: number;
  #persistedLength: number;

  /**
   * Continues an upload that got as far as `uploaded` and whose unuploaded bytes are `tail`. With
   * `gzip`, written bytes are compressed by it first; `segment` is the first gzip segment that
   * starts in the tail.
   */
  constructor(
    upload: R2MultipartUpload,
    partSize: number,
    uploaded: UploadProgress,
    tail: Uint8Array,
    gzip: GzipStage | null = null,
    segment: SegmentStart | null = null,
  ) {
    this.#upload = upload;
    this.#gzip = gzip;
    this.#segment = segment;
    this.#partSize = partSize;
    this.#buffer = new Uint8Array(partSize);
    this.#buffer.set(tail);
    this.#length = tail.length;
    this.#partCount = uploaded.parts;
    this.#uploadedBytes = uploaded.bytes;
    this.#persistedPart = uploaded.parts + 1;
    this.#persistedLength = tail.length;
  }

  /** Parts uploaded so far, and their bytes. */
  get uploaded(): UploadProgress {
    return { parts: this.#partCount, bytes: this.#uploadedBytes };
  }

  /** The parts uploaded since the last call, in order; the caller records them. */
  takeNewParts(): PartRecord[] {
    const parts = this.#newParts;
    this.#newParts = [];
    return parts;
  }

  /** gzip: the first segment that starts in the part being filled, to checkpoint with the tail. */
  get segment(): SegmentStart | null {
    return this.#segment;
  }

  /** The compression stage, when the object is gzip-compressed. */
  get gzip(): GzipStage | null {
    return this.#gzip;
  }

  /** Bytes of the object written so far (compressed ones, with gzip), uploaded or not. */
  get bytes(): number {
    return this.#uploadedBytes + (this.#inflight?.size ?? 0) + this.#length;
  }

  /** Bytes not uploaded yet. */
  get tailLength(): number {
    return this.#length;
  }

  /** Appends bytes (through the compression stage, if any), uploading each part as soon as it is full. */
  async write(bytes: Uint8Array): Promise<void> {
    const gzip = this.#gzip;
    if (!gzip) return this.#append(bytes);
    await gzip.write(bytes, (compressed) => {
      // Each call is one full segment (the first one after the header): note where it starts.
      const index = gzip.state.inputBytes / GZIP_SEGMENT_BYTES - 1;
      this.#segment ??= { index, offset: this.bytes + (index === 0 ? GZIP_HEADER_BYTES : 0) };
      return this.#append(compressed);
    });
  }

  /**
   * Appends the UTF-8 bytes of `text`: the same bytes as `write(new TextEncoder().encode(text))`,
   * but encoded straight into the part buffer (one pass, no intermediate copy) when not compressing.
   */
  async writeText(text: string): Promise<void> {
    if (this.#gzip) return this.write(ENCODER.encode(text));
    let rest = text;
    while (rest.length > 0) {
      const { read, written } = ENCODER.encodeInto(rest, this.#buffer.subarray(this.#length));
      this.#length += written;
      rest = read === rest.length ? "" : rest.slice(read);
      if (rest.length > 0 && this.#length < this.#partSize) {
        // The next character's bytes straddle the part boundary: split them like write() would.
        const take = (rest.codePointAt(0) ?? 0) > 0xffff ? 2 : 1;
        const bytes = ENCODER.encode(rest.slice(0, take));
        rest = rest.slice(take);
        await this.#append(bytes);
      } else if (this.#length === this.#partSize) await this.#uploadFull();
    }
  }

  /** Ends the compressed stream, if any: writes its pending bytes, final block and trailer. */
  async endCompression(): Promise<void> {
    await this.#gzip?.end((compressed) => this.#append(compressed));
  }

  async #append(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(this.#partSize - this.#length, bytes.length - offset);
      this.#buffer.set(bytes.subarray(offset, offset + take), this.#length);
      this.#length += take;
      offset += take;
      if (this.#length === this.#partSize) await this.#uploadFull();
    }
  }

  /**
   * Uploads the tail as the last part (an empty part for an empty object). Does nothing when an
   * earlier call did it: the tail is empty then and the parts are recorded.
   */
  async finish(): Promise<void> {
    await this.settle();
    if (this.#length > 0 || this.#partCount === 0) await this.#uploadBuffer();
  }

  /**
   * Frees the two part buffers now rather than at a later garbage collection (a per-table format
   * fills a pair per table). Call it once the object is complete; the writer is unusable after.
   */
  release(): void {
    freeArrayBuffer(this.#buffer.buffer);
    if (this.#spare) freeArrayBuffer(this.#spare.buffer);
    this.#spare = null;
  }

  /** Tail chunks that changed since the last {@link markPersisted}. */
  dirtyChunks(): TailChunk[] {
    if (this.#inflight) throw new Error("durable-dump: settle() the part upload in flight before persisting the tail");
    const currentPart = this.#partCount + 1;
    const from = currentPart === this.#persistedPart ? Math.floor(this.#persistedLength / TAIL_CHUNK_BYTES) : 0;
    const chunks: TailChunk[] = [];
    for (let index = from; index * TAIL_CHUNK_BYTES < this.#length; index++) {
      const start = index * TAIL_CHUNK_BYTES;
      chunks.push({ index, bytes: this.#buffer.slice(start, Math.min(start + TAIL_CHUNK_BYTES, this.#length)) });
    }
    return chunks;
  }

  /** Records that storage now holds the tail (and pending uncompressed bytes) as they are. */
  markPersisted(): void {
    this.#gzip?.markPersisted();
    this.#persistedPart = this.#partCount + 1;
    this.#persistedLength = this.#length;
  }

  /**
   * Waits for the part upload in flight, if any, and records its part; throws its error (then and
   * on every later call: the writer is unusable, the engine rebuilds one from the checkpoint).
   * Call it before reading {@link uploaded} or {@link tailLength} for a checkpoint.
   */
  async settle(): Promise<void> {
    if (this.#failed) throw this.#failed.error;
    const inflight = this.#inflight;
    if (!inflight) return;
    try {
      await inflight.done;
    } catch (error) {
      this.#failed = { error };
      throw error;
    } finally {
      this.#inflight = null;
    }
  }

  /**
   * Starts uploading the full buffer and goes on filling the other one, so that producing part
   * N + 1 overlaps the upload of part N. At most one upload is in flight; its part is recorded
   * only once R2 answered, and {@link settle} waits for it before a checkpoint.
   */
  async #uploadFull(): Promise<void> {
    await this.settle();
    const full = this.#buffer;
    const size = this.#length;
    const done = this.#sendPart(full, size, this.#takeSegment()).then(() => {
      this.#spare = full;
    });
    done.catch(() => {}); // Reported by settle().
    this.#inflight = { done, size };
    this.#buffer = this.#spare ?? new Uint8Array(this.#partSize);
    this.#spare = null;
    this.#length = 0;
  }

  async #uploadBuffer(): Promise<void> {
    await this.#sendPart(this.#buffer, this.#length, this.#takeSegment());
    this.#length = 0;
  }

  /** The segment noted for the part being filled, which is now sent; the next part starts with none. */
  #takeSegment(): SegmentStart | null {
    const segment = this.#segment;
    this.#segment = null;
    return segment;
  }

  /**
   * Uploads the first `size` bytes of `buffer` as the next part and records it once R2 answered.
   * Throws at once (not through the promise) when R2's part limit would be passed.
   */
  #sendPart(buffer: Uint8Array, size: number, segment: SegmentStart | null): Promise<void> {
    const partNumber = this.#partCount + 1;
    if (partNumber > MAX_PARTS) {
      throw new DumpError(
        "PART_LIMIT_EXCEEDED",
        `The dump needs more than ${MAX_PARTS} parts of ${this.#partSize} bytes. Start it again with a larger partSize.`,
      );
    }
    const body = buffer.subarray(0, size);
    return Promise.all([this.#upload.uploadPart(partNumber, body), sha256Hex(body)]).then(([uploaded, sha256]) => {
      this.#newParts.push({ partNumber, etag: uploaded.etag, size, sha256, segment });
      this.#partCount = partNumber;
      this.#uploadedBytes += size;
    });
  }
}

const ENCODER = new TextEncoder();
