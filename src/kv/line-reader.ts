/**
 * Cuts a byte stream (an R2 object read in ranges) into lines, with memory bounded by the longest
 * line: bytes of an unfinished line wait until the chunk holding its `\n` arrives.
 */
import { DumpError } from "../errors.js";

/**
 * Longest line accepted, in bytes. An entry's line is at most about six times its value (a 2 MB
 * string of control characters, each escaped as `\u00XX`); anything longer is not a file this
 * library wrote.
 */
export const MAX_KV_LINE_BYTES = 32 * 1024 * 1024;

/** A complete line, without its `\n`, and the byte offset just past that `\n` in the stream. */
export interface StreamLine {
  text: string;
  end: number;
}

/** Splits UTF-8 bytes into lines; see the module comment. */
export class LineReader {
  readonly #maxLineBytes: number;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #offset: number;

  /** A reader whose first byte is at `offset` of the stream (0, or a saved {@link offset} to resume). */
  constructor(offset = 0, maxLineBytes = MAX_KV_LINE_BYTES) {
    this.#offset = offset;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Byte offset just past the last complete line returned: where to read again to resume. */
  get offset(): number {
    return this.#offset;
  }

  /**
   * Adds the next bytes of the stream; returns the lines they complete, in order.
   *
   * @throws {DumpError} `KV_FILE_INVALID` for a line longer than the limit or not valid UTF-8.
   */
  push(chunk: Uint8Array): StreamLine[] {
    const lines: StreamLine[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      const bytes = this.#pending.length === 0 ? piece : this.#take(piece);
      this.#checkLength(bytes.length);
      const text = this.#decode(bytes);
      this.#offset += bytes.length + 1;
      lines.push({ text, end: this.#offset });
      start = newline + 1;
    }
    if (start < chunk.length) {
      // Copied: the caller may reuse its chunk.
      this.#pending.push(chunk.slice(start));
      this.#pendingBytes += chunk.length - start;
      this.#checkLength(this.#pendingBytes);
    }
    return lines;
  }

  /**
   * Checks that the stream ended at the end of a line.
   *
   * @throws {DumpError} `KV_FILE_INVALID` when bytes follow the last `\n`.
   */
  finish(): void {
    if (this.#pendingBytes > 0) throw invalid(`the last ${this.#pendingBytes} bytes are not followed by a newline: the file is truncated`, this.#offset);
  }

  /** The pending bytes and `piece`, as one array; clears the pending bytes. */
  #take(piece: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.#pendingBytes + piece.length);
    let at = 0;
    for (const p of this.#pending) {
      out.set(p, at);
      at += p.length;
    }
    out.set(piece, at);
    this.#pending = [];
    this.#pendingBytes = 0;
    return out;
  }

  #checkLength(bytes: number): void {
    if (bytes > this.#maxLineBytes) throw invalid(`a line is longer than ${this.#maxLineBytes} bytes`, this.#offset);
  }

  #decode(bytes: Uint8Array): string {
    try {
      return this.#decoder.decode(bytes);
    } catch (error) {
      throw invalid("a line is not valid UTF-8", this.#offset, error);
    }
  }
}

function invalid(why: string, offset: number, cause?: unknown): DumpError {
  return new DumpError("KV_FILE_INVALID", `Key-value file, at byte ${offset}: ${why}.`, cause === undefined ? {} : { cause });
}
