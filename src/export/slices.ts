/**
 * How much an export's synchronous slice (about `SLICE_MS`, util/timing.ts) writes at most, with
 * a yield to the host's requests between two.
 */

/**
 * Characters (UTF-8 bytes for batches concatenated by SQLite) of rendered rows or key-value lines
 * one synchronous slice writes at most: short slices keep requests answered at no cost in
 * throughput (bench/README.md, "What was optimised").
 */
export const MAX_SLICE_CHARS = 512 * 1024;

/**
 * The same for a gzip export: half a segment (`GZIP_SEGMENT_BYTES`), so that a slice deflates
 * about one segment (at most one when characters are bytes), which takes about as long as
 * rendering it (p99 of requests during a 1M-row gzip export 57–73 → 32–54 ms; bench/README.md,
 * "Round two, final").
 */
export const MAX_GZIP_SLICE_CHARS = 128 * 1024;

/** The characters a slice of an export writes at most: {@link MAX_GZIP_SLICE_CHARS} when it is gzipped, else {@link MAX_SLICE_CHARS}. */
export function maxSliceChars(gzip: boolean): number {
  return gzip ? MAX_GZIP_SLICE_CHARS : MAX_SLICE_CHARS;
}
