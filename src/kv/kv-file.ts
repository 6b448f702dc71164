/**
 * The key-value file, `<keyBase>.kv.ndjson`: one JSON text per line, UTF-8, each line ending in
 * `\n` (docs/kv.md has the format line by line).
 *
 *     {"format":"durable-dump-kv","version":1,"codec":"devalue@6.0.3"}     header
 *     ["config",[{"theme":1},"dark"]]                                       one line per entry, keys in order
 *     {"entries":1}                                                         trailer: the number of entries
 *
 * An entry line is a JSON array of the key and the value's devalue payload. The trailer tells a
 * complete file from a truncated one.
 */
import { DumpError } from "../errors.js";
import { KV_CODEC, KvEncodeError, type KvDecodeOptions, decodeKvPayload, encodeKvValue } from "./codec.js";

/** Version of the file layout (header, entry lines, trailer), written in the header. */
export const KV_FILE_VERSION = 1;

/** What the header names as the file's format. */
const FORMAT_NAME = "durable-dump-kv";

/** Extension and Content-Type of the key-value object. */
export const KV_OBJECT = { extension: "kv.ndjson", contentType: "application/x-ndjson; charset=utf-8" } as const;

/**
 * Keys under these prefixes are left out of the file (the engines' own state) and refused when
 * read back, so that a restore can never overwrite the engines' records.
 */
export const KV_EXCLUDED_PREFIXES: readonly string[] = ["durable-dump:"];

/** One key-value entry, as `ctx.storage.kv.list()` yields it. */
export type KvEntry = [key: string, value: unknown];

/** Whether `line` (without its newline) is the header of a key-value file, of any version or codec. */
export function isKvHeaderLine(line: string): boolean {
  try {
    return (JSON.parse(line) as { format?: unknown } | null)?.format === FORMAT_NAME;
  } catch {
    return false;
  }
}

/** The header line, with its newline. */
export function kvHeaderLine(): string {
  return `${JSON.stringify({ format: FORMAT_NAME, version: KV_FILE_VERSION, codec: KV_CODEC })}\n`;
}

/**
 * The line of one entry, with its newline.
 *
 * @throws {DumpError} `KV_VALUE_UNSUPPORTED`, naming the key, when the value cannot be written exactly.
 */
export function kvEntryLine(key: string, value: unknown): string {
  try {
    return `[${JSON.stringify(key)},${encodeKvValue(value)}]\n`;
  } catch (error) {
    if (!(error instanceof KvEncodeError)) throw error;
    throw new DumpError("KV_VALUE_UNSUPPORTED", `The value of key-value entry ${shortKey(key)} cannot be written exactly: ${error.message}.`, { cause: error });
  }
}

/** The trailer line, with its newline. */
export function kvTrailerLine(entries: number): string {
  return `${JSON.stringify({ entries })}\n`;
}

/** A key for a message: JSON-quoted, cut after 200 characters. */
function shortKey(key: string): string {
  return key.length > 200 ? `${JSON.stringify(key.slice(0, 200))}…` : JSON.stringify(key);
}

/** Orders strings as UTF-8 bytes (= code points), the order `list()` gives keys in. Negative when a < b. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    // UTF-16 units order code points except surrogates against U+E000…U+FFFF: move surrogates above.
    if (x !== y)
      return (x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x) - (y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y);
  }
  return a.length - b.length;
}

/** Where a reader of a key-value file stands: entries read so far and the last key. Plain data. */
export interface KvDecoderPosition {
  /** Whether the header was read. */
  header: boolean;
  entries: number;
  lastKey: string | null;
  /** Whether the trailer was read (nothing may follow). */
  ended: boolean;
}

/**
 * Reads the lines of a key-value file one by one (without their `\n`), checking the header, that
 * keys strictly increase, that no key lies under `KV_EXCLUDED_PREFIXES`, and that the
 * trailer counts the entries. Works in Workers and in Node.
 *
 * @example
 * const decoder = new KvFileDecoder();
 * for await (const line of lines) { const entry = decoder.accept(line); if (entry) entries.push(entry); }
 * decoder.finish(); // throws if the trailer is missing: the file is truncated
 */
export class KvFileDecoder {
  readonly #options: KvDecodeOptions;
  #position: KvDecoderPosition;

  /** A decoder at the start of a file, or at `position` (saved from `position`) to resume. */
  constructor(options: KvDecodeOptions = {}, position: KvDecoderPosition = { header: false, entries: 0, lastKey: null, ended: false }) {
    this.#options = options;
    this.#position = { ...position };
  }

  /** Where the decoder stands, after the last line it accepted. */
  get position(): KvDecoderPosition {
    return { ...this.#position };
  }

  /**
   * Reads one line: returns its entry, or null for the header and the trailer.
   *
   * @throws {DumpError} `KV_FILE_INVALID` naming the line, for anything but the file this library writes.
   */
  accept(line: string): KvEntry | null {
    const at = this.#position;
    const lineNumber = at.header ? at.entries + 2 : 1;
    const fail = (why: string, cause?: unknown): never => {
      throw new DumpError("KV_FILE_INVALID", `Key-value file, line ${lineNumber}: ${why}.`, cause === undefined ? {} : { cause });
    };
    if (at.ended) fail("a line follows the trailer");
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      fail(`not JSON (${(error as Error).message})`, error);
    }
    if (!at.header) {
      const h = parsed as { format?: unknown; version?: unknown; codec?: unknown } | null;
      if (h?.format !== FORMAT_NAME) fail(`not the header of a durable-dump key-value file`);
      if (h?.version !== KV_FILE_VERSION) fail(`file version ${String(h?.version)}; this release reads version ${KV_FILE_VERSION}`);
      if (h?.codec !== KV_CODEC) fail(`values encoded with ${String(h?.codec)}; this release reads ${KV_CODEC}`);
      at.header = true;
      return null;
    }
    if (!Array.isArray(parsed)) {
      const count = (parsed as { entries?: unknown } | null)?.entries;
      if (typeof count !== "number") fail("neither an entry nor the trailer");
      if (count !== at.entries) fail(`the trailer counts ${count} entries, the file holds ${at.entries}`);
      at.ended = true;
      return null;
    }
    const [key, payload] = parsed as [unknown, unknown];
    if (parsed.length !== 2 || typeof key !== "string") fail("an entry must be [key, value]");
    const k = key as string;
    if (at.lastKey !== null && compareKeys(k, at.lastKey) <= 0) fail(`key ${shortKey(k)} does not follow ${shortKey(at.lastKey)}`);
    if (KV_EXCLUDED_PREFIXES.some((prefix) => k.startsWith(prefix))) fail(`key ${shortKey(k)} belongs to durable-dump's own state`);
    let value: unknown;
    try {
      value = decodeKvPayload(payload, this.#options);
    } catch (error) {
      fail(`the value of ${shortKey(k)} does not decode (${(error as Error).message})`, error);
    }
    at.entries++;
    at.lastKey = k;
    return [k, value];
  }

  /**
   * Checks that the file ended with its trailer.
   *
   * @throws {DumpError} `KV_FILE_INVALID` for a truncated file.
   */
  finish(): void {
    if (!this.#position.ended) {
      throw new DumpError("KV_FILE_INVALID", `Key-value file ends after ${this.#position.entries} entries without its trailer: it is truncated.`);
    }
  }
}
