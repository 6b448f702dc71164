/**
 * The restore side of key-value files, ready to be driven by a restore job: {@link KvFileReader}
 * turns the object's bytes, read in chunks, into entries and says where to resume;
 * {@link putKvEntries} writes entries with the synchronous KV API inside the caller's
 * `transactionSync`, so that they commit together with whatever else the caller writes there.
 *
 * Writing an entry again writes the same value: a batch redone after a crash is harmless.
 */
import type { KvDecodeOptions } from "./codec.js";
import { type KvDecoderPosition, type KvEntry, KvFileDecoder } from "./kv-file.js";
import { LineReader } from "./line-reader.js";

/** Where a reader stands: the byte offset to read from next (a line boundary) and the decoder's position. Plain data, to checkpoint. */
export interface KvReadPosition extends KvDecoderPosition {
  offset: number;
}

/** Reads a key-value file from bytes delivered in chunks of any size; see the module comment. */
export class KvFileReader {
  readonly #lines: LineReader;
  readonly #decoder: KvFileDecoder;

  /** A reader at the start of the file, or at a saved `position` (read the object again from `position.offset`). */
  constructor(position?: KvReadPosition, options: KvDecodeOptions = {}) {
    this.#lines = new LineReader(position?.offset ?? 0);
    this.#decoder = new KvFileDecoder(options, position);
  }

  /**
   * Adds the next bytes; returns the entries of the lines they complete. After it returns,
   * `position` is just past the last of them.
   *
   * @throws {DumpError} `KV_FILE_INVALID` for bytes that are not such a file.
   */
  push(chunk: Uint8Array): KvEntry[] {
    const entries: KvEntry[] = [];
    for (const line of this.#lines.push(chunk)) {
      const entry = this.#decoder.accept(line.text);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  /**
   * Checks that the file is complete: its last line ended and was the trailer.
   *
   * @throws {DumpError} `KV_FILE_INVALID` for a truncated file.
   */
  finish(): void {
    this.#lines.finish();
    this.#decoder.finish();
  }

  /** Where to resume after the entries returned so far. */
  get position(): KvReadPosition {
    return { ...this.#decoder.position, offset: this.#lines.offset };
  }
}

/** The synchronous KV API of a SQLite-backed object, as far as a restore writes it: `ctx.storage.kv` satisfies it. */
export interface KvWriter {
  put(key: string, value: unknown): void;
}

/**
 * Writes `entries` with `kv.put`, which (unlike the asynchronous `ctx.storage.put`) stores
 * `undefined` too. Call it inside `ctx.storage.transactionSync(() => …)`: the entries then commit
 * atomically with the SQL and KV writes made in the same closure. Returns the number written.
 */
export function putKvEntries(kv: KvWriter, entries: Iterable<KvEntry>): number {
  let written = 0;
  for (const [key, value] of entries) {
    kv.put(key, value);
    written++;
  }
  return written;
}
