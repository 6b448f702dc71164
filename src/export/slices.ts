/**
 * How an export cuts its synchronous work into slices: each aims at {@link SLICE_MS}, with a
 * yield to the host's requests between two.
 */

/** A synchronous slice of work aims at this many milliseconds, so the host keeps serving requests. */
export const SLICE_MS = 20;

/**
 * Characters (UTF-8 bytes for batches concatenated by SQLite) of rendered rows or key-value lines
 * one synchronous slice writes at most: short slices keep requests answered at no cost in
 * throughput (bench/README.md, "Constants in the code").
 */
export const MAX_SLICE_CHARS = 512 * 1024;

/**
 * The batch size (rows, entries) that makes one slice take about {@link SLICE_MS}, given that
 * `current` took `elapsedMs`: scaled in proportion, at most doubled, within `[min, max]`.
 */
export function adaptBatch(current: number, elapsedMs: number, min: number, max: number): number {
  const scaled = elapsedMs <= 0 ? current * 2 : Math.round((current * SLICE_MS) / elapsedMs);
  return Math.max(min, Math.min(max, scaled, current * 2));
}
