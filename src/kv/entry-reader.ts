/**
 * Reads the object's key-value entries in key order, a batch at a time, as entry lines of the
 * key-value file. Entries come from the synchronous `ctx.storage.kv.list()`, whose iterator reads
 * one entry at a time (the asynchronous `list({ limit })` loads a whole page of values, each up to
 * 2 MB, at once), so a batch holds its lines plus one value whatever the values' sizes. The
 * iterator is consumed synchronously and dropped before the caller awaits anything: it sees
 * writes made meanwhile.
 */
import { DumpError } from "../errors.js";
import { KV_EXCLUDED_PREFIXES, compareKeys, kvEntryLine } from "./kv-file.js";

/** The synchronous listing of a SQLite-backed object's key-value entries: `ctx.storage.kv` satisfies it. */
export interface KvLister {
  list(options?: { start?: string; startAfter?: string; end?: string }): Iterable<[string, unknown]>;
}

/** Entry lines read by one call of {@link readKvBatch}. */
export interface KvBatch {
  /** The lines, each ending in `\n`. */
  text: string;
  entries: number;
  /** Key of the last entry read (the `after` of the next batch); unchanged when none was read. */
  last: string | null;
  /** True when no entry follows `last`. */
  done: boolean;
}

/** Key ranges outside the excluded prefixes: `[start, end)`, null for open ends. */
const RANGES: readonly { start: string | null; end: string | null }[] = (() => {
  const prefixes = [...KV_EXCLUDED_PREFIXES].sort(compareKeys);
  const ranges: { start: string | null; end: string | null }[] = [];
  let start: string | null = null;
  for (const prefix of prefixes) {
    ranges.push({ start, end: prefix });
    // Every key under the prefix sorts before the prefix with its last character incremented.
    start = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  }
  ranges.push({ start, end: null });
  return ranges;
})();

/**
 * Reads entries after key `after` (from the first when null), skipping the excluded prefixes,
 * until `maxEntries` entries or `maxChars` characters of lines (the line that crosses it
 * included), or the end.
 *
 * @throws {DumpError} `KV_VALUE_UNSUPPORTED` naming the key of a value that cannot be written exactly.
 */
export function readKvBatch(kv: KvLister, after: string | null, maxEntries: number, maxChars: number): KvBatch {
  let text = "";
  let entries = 0;
  let last = after;
  for (const range of RANGES) {
    if (last !== null && range.end !== null && compareKeys(last, range.end) >= 0) continue;
    const from =
      last !== null && (range.start === null || compareKeys(last, range.start) >= 0)
        ? { startAfter: last }
        : range.start === null
          ? {}
          : { start: range.start };
    const iterator = kv.list(range.end === null ? from : { ...from, end: range.end })[Symbol.iterator]();
    try {
      for (let next = nextEntry(iterator, last); !next.done; next = nextEntry(iterator, last)) {
        const [key, value] = next.value;
        text += kvEntryLine(key, value);
        entries++;
        last = key;
        if (entries >= maxEntries || text.length >= maxChars) return { text, entries, last, done: false };
      }
    } finally {
      iterator.return?.();
    }
  }
  return { text, entries, last, done: true };
}

/** The iterator's next entry; a failure to read it (a value storage cannot deserialize, say) names where it happened. */
function nextEntry(iterator: Iterator<[string, unknown]>, after: string | null): IteratorResult<[string, unknown]> {
  try {
    return iterator.next();
  } catch (error) {
    const where = after === null ? "the first key-value entry" : `the key-value entry after ${JSON.stringify(after.slice(0, 200))}`;
    throw new DumpError("IO_ERROR", `Reading ${where} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * The first `limit` keys, in order, outside the excluded prefixes (the entries a restore of
 * key-value entries would meet, or replace). Reads with the synchronous iterator, one entry at a
 * time, and keeps the keys only.
 */
export function firstOwnKeys(kv: KvLister, limit: number): string[] {
  const found: string[] = [];
  for (const range of RANGES) {
    const options = { ...(range.start === null ? {} : { start: range.start }), ...(range.end === null ? {} : { end: range.end }) };
    const iterator = kv.list(options)[Symbol.iterator]();
    try {
      while (found.length < limit) {
        const next = nextEntry(iterator, found.at(-1) ?? null);
        if (next.done) break;
        found.push(next.value[0]);
      }
    } finally {
      iterator.return?.();
    }
    if (found.length >= limit) break;
  }
  return found;
}
