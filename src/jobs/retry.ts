/** How long to wait before trying again: one exponential backoff with jitter, used by every retry of the library. */

/** A backoff: the first delay, doubling up to a cap, and how many attempts in all. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  attempts: number;
}

/** A failed tick: 2 s doubling to 2 min, 6 attempts in all (about a minute before a job fails). */
export const TICK_RETRY: BackoffPolicy = { baseMs: 2_000, maxMs: 120_000, attempts: 6 };

/** A tick that failed because the platform is overloaded starts its backoff further out. */
export const OVERLOADED_FACTOR = 4;

/** Up to this fraction of a delay is added at random, so that many objects failing together do not retry in step. */
const JITTER = 0.25;

/**
 * Delay before attempt `failed + 1`, after `failed` (1 or more) failed attempts: `baseMs × 2^(failed−1)`,
 * at most `maxMs`, plus up to 25% at random (`random` returns [0, 1), like `Math.random`).
 */
export function backoffMs(policy: BackoffPolicy, failed: number, random: () => number): number {
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failed - 1));
  return Math.round(nominal * (1 + JITTER * random()));
}
