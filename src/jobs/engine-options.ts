/** The options every engine takes (exports and restores alike), their defaults and bounds. */
import type { AlarmScheduler } from "../alarms/scheduler.js";
import { DumpError } from "../errors.js";
import type { DumpStorage } from "../persisted/storage.js";
import { type CallbackHostRule, resolveCallbackHosts } from "./callback-hosts.js";

/** Options shared by the engines' constructors. `S` is the engine's job status. */
export interface JobEngineOptions<S> {
  /** The object's SQL handle: `ctx.storage.sql`. */
  sql: SqlStorage;
  /** The bucket dumps are written to and read from. */
  bucket: R2Bucket;
  /** Where jobs and checkpoints live: `ctx.storage`. Keys start with `durable-dump:` (docs/storage.md). */
  storage: DumpStorage;
  /** Wall time one `tick()` may work before it checkpoints. Default 5,000; 100 to 600,000. */
  tickBudgetMs?: number;
  /**
   * Scheduler that multiplexes the object's alarm; the engine keeps its wake-up there and registers
   * its handler. Default: a new one over `storage` and `now`, exposed as `engine.scheduler`. Pass
   * one to share the alarm between engines and the host's own work.
   */
  scheduler?: AlarmScheduler;
  /** At most this many jobs may be queued or running; `start` refuses more with `TOO_MANY_JOBS`. Default 10; 1 to 1,000. */
  maxQueuedJobs?: number;
  /**
   * Records of ended jobs (completed, failed, aborted) are purged this long after they ended,
   * lazily by `tick` and `list`. Default 7 days; 0 (purge at once) to 10 years.
   */
  retentionMs?: number;
  /** At most this many ended jobs are remembered; the oldest beyond it are purged first. Default 100; 1 to 1,000. */
  maxRetainedJobs?: number;
  /** Secret that signs callback bodies (with a timestamp, see `verifyCallbackSignature`); required to use `callbackUrl`. */
  callbackSecret?: string;
  /** Accept `http:` callback URLs (local development). Default false. */
  allowInsecureCallbacks?: boolean;
  /**
   * Hosts callbacks may go to: exact names (`hooks.example.com`), wildcards for every subdomain
   * (`*.example.com`, not `example.com` itself) and IP literals (`10.0.0.7`, `[::1]`). Default: any
   * host name, but no IP literal (an IP literal is allowed only when listed exactly). Checked by
   * `start` and again before every delivery.
   */
  callbackHosts?: string[];
  /**
   * Called with the final status of every job that completes or fails, from a later tick than the
   * one that ended it. If it throws it is called again with backoff, like a callback URL.
   */
  onComplete?: (status: S) => unknown;
  /** `fetch` used for callbacks. Default the global `fetch`. */
  fetch?: typeof fetch;
  /** Clock in epoch milliseconds. Default `Date.now`. Tests pass one that advances without sleeping. */
  now?: () => number;
  /** Source of the jitter added to retry delays, in [0, 1). Default `Math.random`; tests pass `() => 0` for exact delays. */
  random?: () => number;
}

/** Defaults and bounds of the shared options. */
export const JOB_LIMITS = {
  tickBudgetMs: { default: 5_000, min: 100, max: 600_000 },
  maxQueuedJobs: { default: 10, min: 1, max: 1_000 },
  retentionMs: { default: 7 * 86_400_000, min: 0, max: 3_650 * 86_400_000 },
  maxRetainedJobs: { default: 100, min: 1, max: 1_000 },
} as const;

/** The shared options with defaults applied. */
export interface ResolvedJobOptions<S> {
  tickBudgetMs: number;
  maxQueuedJobs: number;
  retentionMs: number;
  maxRetainedJobs: number;
  now: () => number;
  random: () => number;
  callbackSecret: string | null;
  allowInsecureCallbacks: boolean;
  callbackHosts: CallbackHostRule[] | null;
  onComplete: ((status: S) => unknown) | null;
  fetch: typeof fetch | null;
}

/** An `INVALID_OPTIONS` error. */
export function invalidOption(message: string): DumpError {
  return new DumpError("INVALID_OPTIONS", message);
}

/** `value` if it is an integer within `bounds`, its default if undefined; `INVALID_OPTIONS` otherwise. */
export function integerIn(name: string, value: unknown, bounds: { default: number; min: number; max: number }): number {
  if (value === undefined) return bounds.default;
  if (typeof value !== "number" || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw invalidOption(`${name} must be an integer from ${bounds.min} to ${bounds.max}; got ${String(value)}.`);
  }
  return value;
}

/** Names in a job's `tables` or `exclude`: the record keeps them, so they are bounded. */
const MAX_TABLE_NAMES = 1_000;

/** `value` if it is a list of distinct table names (at most 1,000); `INVALID_OPTIONS` otherwise. */
export function tableNames(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((t) => typeof t !== "string" || t.length === 0)) {
    throw invalidOption(`${name} must be an array of table names.`);
  }
  if (value.length > MAX_TABLE_NAMES) throw invalidOption(`${name} may name at most ${MAX_TABLE_NAMES} tables; use the other list instead.`);
  if (new Set(value).size !== value.length) throw invalidOption(`${name} names a table twice.`);
  return value as string[];
}

/** `value` if it is a boolean, `fallback` if undefined; `INVALID_OPTIONS` otherwise. */
export function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw invalidOption(`${name} must be true or false.`);
  return value;
}

function optionalFunction<F>(name: string, value: unknown, what: string): F | null {
  if (value === undefined) return null;
  if (typeof value !== "function") throw invalidOption(`${name} must be ${what}.`);
  return value as F;
}

/**
 * Checks the shared options and applies defaults.
 *
 * @throws {DumpError} `INVALID_OPTIONS` naming the first option out of range.
 */
export function resolveJobOptions<S>(options: JobEngineOptions<S>, engine: string): ResolvedJobOptions<S> {
  if (typeof options !== "object" || options === null) throw invalidOption(`${engine} needs an options object: { sql, bucket, storage }.`);
  if (!options.sql || typeof options.sql.exec !== "function") throw invalidOption("options.sql must be the object's SqlStorage: ctx.storage.sql.");
  if (!options.bucket || typeof options.bucket.get !== "function" || typeof options.bucket.createMultipartUpload !== "function") {
    throw invalidOption("options.bucket must be an R2Bucket binding.");
  }
  if (!options.storage || typeof options.storage.put !== "function" || typeof options.storage.setAlarm !== "function") {
    throw invalidOption("options.storage must be the object's storage: ctx.storage.");
  }
  if (
    options.scheduler !== undefined &&
    (typeof options.scheduler !== "object" || options.scheduler === null || typeof options.scheduler.register !== "function")
  ) {
    throw invalidOption("options.scheduler must be an AlarmScheduler.");
  }
  const { callbackSecret, allowInsecureCallbacks } = options;
  if (callbackSecret !== undefined && (typeof callbackSecret !== "string" || callbackSecret.length === 0 || callbackSecret.length > 1024)) {
    throw invalidOption("callbackSecret must be a non-empty string of at most 1,024 characters.");
  }
  if (allowInsecureCallbacks !== undefined && typeof allowInsecureCallbacks !== "boolean") throw invalidOption("allowInsecureCallbacks must be true or false.");
  return {
    tickBudgetMs: integerIn("tickBudgetMs", options.tickBudgetMs, JOB_LIMITS.tickBudgetMs),
    maxQueuedJobs: integerIn("maxQueuedJobs", options.maxQueuedJobs, JOB_LIMITS.maxQueuedJobs),
    retentionMs: integerIn("retentionMs", options.retentionMs, JOB_LIMITS.retentionMs),
    maxRetainedJobs: integerIn("maxRetainedJobs", options.maxRetainedJobs, JOB_LIMITS.maxRetainedJobs),
    now: optionalFunction<() => number>("options.now", options.now, "a function returning epoch milliseconds") ?? Date.now,
    random: optionalFunction<() => number>("options.random", options.random, "a function returning a number in [0, 1)") ?? Math.random,
    callbackSecret: callbackSecret ?? null,
    allowInsecureCallbacks: allowInsecureCallbacks ?? false,
    callbackHosts: resolveCallbackHosts(options.callbackHosts),
    onComplete: optionalFunction<(status: S) => unknown>("onComplete", options.onComplete, "a function taking the job's final status"),
    fetch: optionalFunction<typeof fetch>("fetch", options.fetch, "a function like the global fetch"),
  };
}
