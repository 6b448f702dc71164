import { DumpError } from "../errors.js";
import { keys } from "../persisted/keys.js";
import type { DumpStorage } from "../persisted/storage.js";

/** Storage prefix of the scheduler's wake-ups: one key per name, the value is the epoch ms time. */
const WAKE_PREFIX = keys.wakePrefix;

const MAX_NAME_LENGTH = 256;

/** Work run by {@link AlarmScheduler.run} when its wake-up is due. */
export type WakeHandler = () => unknown;

/** What one {@link AlarmScheduler.run} did. */
export interface WakeRunResult {
  /** Names whose handler ran and returned. */
  ran: string[];
  /** Names whose handler threw; they stay scheduled and run again at the next alarm. */
  failed: string[];
  /** Due names without a handler; they were dropped. */
  unhandled: string[];
}

/** Options of the {@link AlarmScheduler} constructor. */
export interface AlarmSchedulerOptions {
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** A handler that throws runs again this long after. Default 1,000 ms. */
  retryDelayMs?: number;
}

function checkName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new DumpError("INVALID_OPTIONS", `A wake-up name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters; got ${String(name)}.`);
  }
  return name;
}

function checkTime(at: unknown): number {
  if (typeof at !== "number" || !Number.isFinite(at)) {
    throw new DumpError("INVALID_OPTIONS", `A wake-up time must be a finite number of epoch milliseconds; got ${String(at)}.`);
  }
  return at;
}

/**
 * Multiplexes named wake-ups over a Durable Object's single alarm. Each wake-up is persisted in
 * storage under `durable-dump:wake:<name>`, so it survives eviction; the alarm is kept armed no
 * later than the earliest one. Overdue wake-ups are armed for "now + 1 ms", never skipped. The
 * scheduler never deletes or postpones an alarm: an alarm set earlier than it needs (by the host,
 * say) is left alone, and handlers simply find nothing due when it fires.
 *
 * The {@link DumpEngine} keeps its own wake-up (named `durable-dump`) in the scheduler it exposes
 * as `engine.scheduler`; a host schedules its own work in the same one and runs everything from
 * `alarm()`. Delivery is at least once: a wake-up is removed only after its handler returned, so
 * a handler cut off by an eviction runs again. Handlers should be idempotent.
 *
 * @example
 * export class Tenant extends DurableObject<Env> {
 *   readonly dumps = new DumpEngine({ sql: this.ctx.storage.sql, bucket: this.env.DUMPS, storage: this.ctx.storage });
 *   async alarm() {
 *     await this.dumps.scheduler.run({
 *       cleanup: async () => { this.cleanup(); await this.dumps.scheduler.schedule("cleanup", Date.now() + 3_600_000); },
 *     });
 *   }
 * }
 */
export class AlarmScheduler {
  readonly #storage: DumpStorage;
  readonly #now: () => number;
  readonly #retryDelayMs: number;
  readonly #handlers = new Map<string, WakeHandler>();
  /**
   * Names scheduled since {@link AlarmScheduler.run} started their handler: a handler that schedules its own
   * wake-up again keeps it even when the new time equals the old one (same millisecond).
   */
  readonly #touched = new Set<string>();

  /** @throws {DumpError} `INVALID_OPTIONS` for a storage without alarms or a bad option. */
  constructor(storage: DumpStorage, options: AlarmSchedulerOptions = {}) {
    if (!storage || typeof storage.getAlarm !== "function" || typeof storage.setAlarm !== "function" || typeof storage.list !== "function") {
      throw new DumpError("INVALID_OPTIONS", "AlarmScheduler needs the object's storage: ctx.storage.");
    }
    if (typeof options !== "object" || options === null) throw new DumpError("INVALID_OPTIONS", "AlarmScheduler options must be an object.");
    if (options.now !== undefined && typeof options.now !== "function")
      throw new DumpError("INVALID_OPTIONS", "options.now must be a function returning epoch milliseconds.");
    const retry = options.retryDelayMs ?? 1_000;
    if (typeof retry !== "number" || !Number.isInteger(retry) || retry < 1 || retry > 86_400_000) {
      throw new DumpError("INVALID_OPTIONS", `retryDelayMs must be an integer from 1 to 86,400,000; got ${String(retry)}.`);
    }
    this.#storage = storage;
    this.#now = options.now ?? Date.now;
    this.#retryDelayMs = retry;
  }

  /**
   * Registers the handler {@link AlarmScheduler.run} calls for `name` when no handler is passed to it. Kept in
   * memory only (register again in the host's constructor).
   *
   * @throws {DumpError} `INVALID_OPTIONS` when `name` already has a registered handler.
   */
  register(name: string, handler: WakeHandler): void {
    checkName(name);
    if (typeof handler !== "function") throw new DumpError("INVALID_OPTIONS", `The handler of ${JSON.stringify(name)} must be a function.`);
    if (this.#handlers.has(name)) throw new DumpError("INVALID_OPTIONS", `A handler for ${JSON.stringify(name)} is already registered.`);
    this.#handlers.set(name, handler);
  }

  /** Sets (or moves) the wake-up `name` to `at` (epoch ms) and arms the alarm no later than it. */
  async schedule(name: string, at: number): Promise<void> {
    const key = WAKE_PREFIX + checkName(name);
    checkTime(at);
    this.#touched.add(name);
    if ((await this.#storage.get<number>(key)) !== at) await this.#storage.put({ [key]: at });
    await this.#armNoLaterThan(at);
  }

  /** Like {@link AlarmScheduler.schedule}, but keeps an existing wake-up of `name` that is earlier than `at`. */
  async scheduleNoLaterThan(name: string, at: number): Promise<void> {
    const key = WAKE_PREFIX + checkName(name);
    checkTime(at);
    this.#touched.add(name);
    const current = await this.#storage.get<number>(key);
    if (current !== undefined && current <= at) {
      await this.#armNoLaterThan(current);
      return;
    }
    await this.#storage.put({ [key]: at });
    await this.#armNoLaterThan(at);
  }

  /** Removes the wake-up `name`; returns whether there was one. Writes nothing when there was none. The alarm is left as it is. */
  async cancel(name: string): Promise<boolean> {
    const key = WAKE_PREFIX + checkName(name);
    if ((await this.#storage.get<number>(key)) === undefined) return false;
    await this.#storage.delete([key]);
    return true;
  }

  /** Time of the wake-up `name`, or null. */
  async get(name: string): Promise<number | null> {
    return (await this.#storage.get<number>(WAKE_PREFIX + checkName(name))) ?? null;
  }

  /** Every pending wake-up, earliest first. */
  async pending(): Promise<{ name: string; at: number }[]> {
    const map = await this.#storage.list<number>({ prefix: WAKE_PREFIX });
    return [...map].map(([key, at]) => ({ name: key.slice(WAKE_PREFIX.length), at })).sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
  }

  /** Names of the wake-ups that are due now. */
  async due(): Promise<string[]> {
    const now = this.#now();
    return (await this.pending()).filter((w) => w.at <= now).map((w) => w.name);
  }

  /**
   * Runs the handler of every due wake-up, earliest first, then re-arms the alarm for the earliest
   * one left. Call it from the host's `alarm()`. `handlers` add to (and override) the registered
   * ones. A wake-up is removed after its handler returned, unless the handler scheduled it again.
   * A handler that throws keeps its wake-up (moved `retryDelayMs` ahead) and, once the others ran,
   * `run` throws its error, so that the platform logs and retries the alarm.
   */
  async run(handlers: Record<string, WakeHandler> = {}): Promise<WakeRunResult> {
    if (typeof handlers !== "object" || handlers === null) throw new DumpError("INVALID_OPTIONS", "run() takes an object of handlers by name.");
    const result: WakeRunResult = { ran: [], failed: [], unhandled: [] };
    const errors: unknown[] = [];
    const now = this.#now();
    for (const { name, at } of await this.pending()) {
      if (at > now) continue;
      const key = WAKE_PREFIX + name;
      const handler = Object.hasOwn(handlers, name) ? handlers[name] : this.#handlers.get(name);
      if (typeof handler !== "function") {
        await this.#storage.delete([key]);
        result.unhandled.push(name);
        continue;
      }
      this.#touched.delete(name);
      try {
        await handler();
        result.ran.push(name);
        // Removed only if the handler did not schedule it again.
        if (!this.#touched.has(name) && (await this.#storage.get<number>(key)) === at) await this.#storage.delete([key]);
      } catch (error) {
        result.failed.push(name);
        errors.push(error);
        if (!this.#touched.has(name) && (await this.#storage.get<number>(key)) === at) await this.#storage.put({ [key]: this.#now() + this.#retryDelayMs });
      }
    }
    await this.arm();
    if (errors.length > 0) throw errors[0];
    return result;
  }

  /** Arms the alarm no later than the earliest wake-up (overdue ones at now + 1). Never postpones an earlier alarm. */
  async arm(): Promise<void> {
    const first = (await this.pending())[0];
    if (first) await this.#armNoLaterThan(first.at);
  }

  async #armNoLaterThan(at: number): Promise<void> {
    const target = Math.max(at, this.#now() + 1);
    const current = await this.#storage.getAlarm();
    if (current === null || current > target) await this.#storage.setAlarm(target);
  }
}
