/** Lets queued requests and events run between two synchronous slices of work. */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A synchronous slice of work (exports' and restores') aims at this many milliseconds, so the host keeps serving requests. */
export const SLICE_MS = 20;

/**
 * The batch size (rows, entries, bytes) that makes one slice take about `targetMs` ({@link
 * SLICE_MS} unless said), given that `current` took `elapsedMs`: scaled in proportion, at most
 * doubled, within `[min, max]`.
 */
export function adaptBatch(current: number, elapsedMs: number, min: number, max: number, targetMs = SLICE_MS): number {
  const scaled = elapsedMs <= 0 ? current * 2 : Math.round((current * targetMs) / elapsedMs);
  return Math.max(min, Math.min(max, scaled, current * 2));
}
