import { DumpError } from "./errors.js";

/** R2 accepts at most this many parts in one multipart upload. */
export const MAX_PARTS = 10_000;

/** Bytes of the unuploaded tail stored under one storage key (values are limited to 2 MB with their key). */
export const TAIL_CHUNK_BYTES = 1024 * 1024;

/** An uploaded part, as the job records it. */
export interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
  /** Hex SHA-256 of the part's bytes. */
  sha256: string;
}

/** A slice of the tail that storage does not hold yet. */
export interface TailChunk {
  index: number;
  bytes: Uint8Array;
}

/**
 * Cuts a byte stream into equal multipart parts: fills one part-sized buffer, uploads it when
 * full, and keeps the rest (the tail) in memory until the next checkpoint persists it. Every part
 * but the last has exactly `partSize` bytes, as R2 requires. Re-uploading a part number replaces
 * it, so redoing work after a crash is harmless.
 */
export class PartWriter {
  readonly #upload: R2MultipartUpload;
  readonly #partSize: number;
  readonly #buffer: Uint8Array;
  readonly #parts: PartRecord[];
  #length: number;
  #persistedPart: number;
  #persistedLength: number;

  /** Continues an upload whose parts are `parts` and whose unuploaded bytes are `tail`. */
  constructor(upload: R2MultipartUpload, partSize: number, parts: PartRecord[], tail: Uint8Array) {
    this.#upload = upload;
    this.#partSize = partSize;
    this.#buffer = new Uint8Array(partSize);
    this.#buffer.set(tail);
    this.#length = tail.length;
    this.#parts = [...parts];
    this.#persistedPart = parts.length + 1;
    this.#persistedLength = tail.length;
  }

  /** Parts uploaded so far. */
  get parts(): readonly PartRecord[] {
    return this.#parts;
  }

  /** Bytes written so far, uploaded or not. */
  get bytes(): number {
    return this.#parts.reduce((sum, p) => sum + p.size, 0) + this.#length;
  }

  /** Bytes not uploaded yet. */
  get tailLength(): number {
    return this.#length;
  }

  /** Appends bytes, uploading each part as soon as it is full. */
  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(this.#partSize - this.#length, bytes.length - offset);
      this.#buffer.set(bytes.subarray(offset, offset + take), this.#length);
      this.#length += take;
      offset += take;
      if (this.#length === this.#partSize) await this.#uploadBuffer();
    }
  }

  /** Uploads the tail as the last part (if any) and returns every part. */
  async finish(): Promise<PartRecord[]> {
    if (this.#length > 0 || this.#parts.length === 0) await this.#uploadBuffer();
    return [...this.#parts];
  }

  /**
   * The parts as {@link finish} would have returned them, for an upload that an earlier attempt
   * already completed: the tail is described as the last part, without the etag R2 gave it.
   */
  async describeFinal(): Promise<PartRecord[]> {
    if (this.#length === 0 && this.#parts.length > 0) return [...this.#parts];
    const body = this.#buffer.subarray(0, this.#length);
    const digest = await crypto.subtle.digest("SHA-256", body);
    return [...this.#parts, { partNumber: this.#parts.length + 1, etag: "", size: this.#length, sha256: hex(new Uint8Array(digest)) }];
  }

  /** Tail chunks that changed since the last {@link markPersisted}. */
  dirtyChunks(): TailChunk[] {
    const currentPart = this.#parts.length + 1;
    const from = currentPart === this.#persistedPart ? Math.floor(this.#persistedLength / TAIL_CHUNK_BYTES) : 0;
    const chunks: TailChunk[] = [];
    for (let index = from; index * TAIL_CHUNK_BYTES < this.#length; index++) {
      const start = index * TAIL_CHUNK_BYTES;
      chunks.push({ index, bytes: this.#buffer.slice(start, Math.min(start + TAIL_CHUNK_BYTES, this.#length)) });
    }
    return chunks;
  }

  /** Records that storage now holds the tail as it is. */
  markPersisted(): void {
    this.#persistedPart = this.#parts.length + 1;
    this.#persistedLength = this.#length;
  }

  async #uploadBuffer(): Promise<void> {
    const partNumber = this.#parts.length + 1;
    if (partNumber > MAX_PARTS) {
      throw new DumpError("PART_LIMIT_EXCEEDED", `The dump needs more than ${MAX_PARTS} parts of ${this.#partSize} bytes. Start it again with a larger partSize.`);
    }
    const body = this.#buffer.subarray(0, this.#length);
    const [uploaded, digest] = await Promise.all([this.#upload.uploadPart(partNumber, body), crypto.subtle.digest("SHA-256", body)]);
    this.#parts.push({ partNumber, etag: uploaded.etag, size: this.#length, sha256: hex(new Uint8Array(digest)) });
    this.#length = 0;
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
