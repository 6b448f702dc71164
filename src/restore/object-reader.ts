/**
 * Reads a dump from R2 in order, a piece at a time, never the whole object: with R2 `get` and a
 * `range`, each read conditional on the ETag the job started with (a replaced object fails the
 * job with `SOURCE_CHANGED`). When the dump's manifest lists its parts, every part is checked
 * against its SHA-256 before any of its bytes is handed out; parts up to 8 MiB are read whole
 * (one read), larger ones are hashed by a streamed read first and then read in ranges. The next
 * piece is read while the current one is applied (two pieces in memory at most).
 */
import { DumpError } from "../errors.js";
import type { RestorePart, RestoreSource } from "../persisted/restore-record.js";
import { sha256Hex, toHex } from "../util/bytes.js";

/** Parts up to this size are read whole, then verified; larger ones are verified by a streamed read first. */
const WHOLE_PART_MAX = 8 * 1024 * 1024;

/** A piece of the object: its bytes and the offset of the first one. */
export interface ObjectPiece {
  offset: number;
  bytes: Uint8Array;
}

/** Reads one source object from `position` on. */
export class ObjectReader {
  readonly #bucket: R2Bucket;
  readonly #source: RestoreSource;
  readonly #parts: readonly RestorePart[] | null;
  /** Offset of each part's first byte, and one past the last part. */
  readonly #starts: number[];
  readonly #rangeBytes: number;
  /** Where the next read starts. */
  #next: number;
  /** The end of the last piece handed out. */
  #position: number;
  /** The read of the next piece, started when the last one was handed out. */
  #ahead: Promise<ObjectPiece | null> | null = null;
  /** The part whose SHA-256 was checked by a streamed read (large parts only). */
  #verified = -1;

  /**
   * @param parts the parts the manifest lists (null without a manifest: nothing to verify)
   * @param rangeBytes bytes per read without a manifest, or within a large part
   */
  constructor(bucket: R2Bucket, source: RestoreSource, parts: readonly RestorePart[] | null, position: number, rangeBytes: number) {
    this.#bucket = bucket;
    this.#source = source;
    this.#parts = parts;
    this.#rangeBytes = rangeBytes;
    this.#position = position;
    this.#next = position;
    this.#starts = [0];
    for (const part of parts ?? []) this.#starts.push(this.#starts[this.#starts.length - 1]! + part.size);
  }

  /** Offset just past the last piece handed out. */
  get position(): number {
    return this.#position;
  }

  /** The next piece, or null at the end of the object; starts reading the one after it. */
  async read(): Promise<ObjectPiece | null> {
    const piece = await (this.#ahead ?? this.#fetch());
    this.#ahead = piece ? this.#fetch() : null;
    // A failed read ahead is reported when its piece is asked for.
    this.#ahead?.catch(() => {});
    if (piece) this.#position = piece.offset + piece.bytes.length;
    return piece;
  }

  /** Reads the piece at `#next` (verified, when the manifest lists parts) and moves `#next` past it at once. */
  async #fetch(): Promise<ObjectPiece | null> {
    const size = this.#source.size;
    const from = this.#next;
    if (from >= size) return null;
    const part = this.#parts ? this.#partAt(from) : -1;
    if (part >= 0 && this.#parts![part]!.size <= WHOLE_PART_MAX) {
      const start = this.#starts[part]!;
      this.#next = this.#starts[part + 1]!;
      const whole = await this.#get(start, this.#parts![part]!.size);
      await this.#check(part, await sha256Hex(whole));
      return { offset: from, bytes: whole.subarray(from - start) };
    }
    const end = part >= 0 ? this.#starts[part + 1]! : size;
    const length = Math.min(this.#rangeBytes, end - from);
    this.#next = from + length;
    if (part >= 0 && this.#verified !== part) {
      this.#verified = part;
      await this.#check(part, await this.#streamedHash(this.#starts[part]!, this.#parts![part]!.size));
    }
    return { offset: from, bytes: await this.#get(from, length) };
  }

  /** Index of the part holding byte `offset`. */
  #partAt(offset: number): number {
    let lo = 0;
    let hi = this.#starts.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async #check(part: number, sha256: string): Promise<void> {
    const want = this.#parts![part]!.sha256;
    if (sha256 !== want) {
      throw new DumpError(
        "CHECKSUM_MISMATCH",
        `Part ${part + 1} of ${this.#source.key} (bytes ${this.#starts[part]} to ${this.#starts[part + 1]! - 1}) has SHA-256 ${sha256}; its manifest says ${want}. Nothing of that part was applied.`,
      );
    }
  }

  /** The object's bytes `[offset, offset + length)`, as the job's ETag has them. */
  async #get(offset: number, length: number): Promise<Uint8Array> {
    const body = await this.#body(offset, length);
    const bytes = new Uint8Array(await body.arrayBuffer());
    if (bytes.length !== length) throw this.#changed(`a read of ${length} bytes at ${offset} returned ${bytes.length}`);
    return bytes;
  }

  /** SHA-256 of `[offset, offset + length)`, streamed: the bytes are never all in memory. */
  async #streamedHash(offset: number, length: number): Promise<string> {
    const body = await this.#body(offset, length);
    const digest = new crypto.DigestStream("SHA-256");
    await body.body.pipeTo(digest);
    return toHex(new Uint8Array(await digest.digest));
  }

  async #body(offset: number, length: number): Promise<R2ObjectBody> {
    const object = await this.#bucket.get(this.#source.key, { range: { offset, length }, onlyIf: { etagMatches: this.#source.etag } });
    if (object === null) throw this.#changed("it no longer exists");
    if (!("body" in object)) throw this.#changed("it was replaced (its ETag changed)");
    return object;
  }

  #changed(what: string): DumpError {
    return new DumpError("SOURCE_CHANGED", `${this.#source.key} changed while it was being restored: ${what}. Start the restore again.`);
  }
}
