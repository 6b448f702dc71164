import { MAX_NOTIFY_ATTEMPTS, notifyBackoff, postStatus, type NotifyRecord } from "./callbacks.js";
import type { JobRecord } from "./job-store.js";
import { toStatus } from "./status.js";
import type { DumpStatus } from "./types.js";

/** Where finished jobs are announced: the engine's callback secret, hook and fetch. */
export interface NotifierOptions {
  callbackSecret: string | null;
  onComplete: ((status: DumpStatus) => unknown) | null;
  fetch: typeof fetch | null;
}

/**
 * Announces finished jobs to their callback URL and the engine's `onComplete` hook. It only
 * changes `record.notify`; the engine saves the record.
 */
export class CompletionNotifier {
  readonly #options: NotifierOptions;

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  /** The notification a job owes when it ends (completed or failed), or null when it has no target. */
  plan(record: JobRecord, now: number): NotifyRecord | null {
    const pending: NotifyRecord["pending"] = [];
    if (record.callbackUrl) pending.push("url");
    if (this.#options.onComplete) pending.push("hook");
    return pending.length > 0 ? { pending, attempts: 0, nextAt: now, lastError: null } : null;
  }

  /** Whether the record has a delivery due at `now`. */
  isDue(record: JobRecord, now: number): boolean {
    return !!record.notify && record.notify.pending.length > 0 && record.notify.nextAt <= now;
  }

  /**
   * One delivery attempt: POSTs the signed status and calls the hook; what failed is retried
   * with backoff until {@link MAX_NOTIFY_ATTEMPTS}. Never throws for a delivery failure.
   */
  async deliver(record: JobRecord, now: number): Promise<void> {
    const notify = record.notify;
    if (!notify) return;
    const status = toStatus(record);
    const left: NotifyRecord["pending"] = [];
    for (const target of notify.pending) {
      try {
        if (target === "url") await this.#post(record, status);
        else await this.#options.onComplete?.(status);
      } catch (error) {
        left.push(target);
        notify.lastError = `${target}: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    notify.attempts++;
    notify.pending = notify.attempts >= MAX_NOTIFY_ATTEMPTS ? [] : left;
    notify.nextAt = now + notifyBackoff(notify.attempts);
  }

  async #post(record: JobRecord, status: DumpStatus): Promise<void> {
    const secret = this.#options.callbackSecret;
    if (!record.callbackUrl || secret === null) throw new Error("no callbackSecret to sign the callback with");
    await postStatus(this.#options.fetch ?? ((input, init) => fetch(input, init)), record.callbackUrl, secret, status);
  }
}
