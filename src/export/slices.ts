/**
 * How much an export's synchronous slice (about `SLICE_MS`, util/timing.ts) writes at most, with
 * a yield to the host's requests between two.
 */

/**
 * Characters (UTF-8 bytes for batches concatenated by SQLite) of rendered rows or key-value lines
 * one synchronous slice writes at most: short slices keep requests answered at no cost in
 * throughput (bench/README.md, "Constants in the code").
 */
export const MAX_SLICE_CHARS = 512 * 1024;
