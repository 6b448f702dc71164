import type { JobRecordBase, NotifyRecord } from "../persisted/job-record.js";
import { type CallbackPolicy, NOTIFY_RETRY, UndeliverableError, postStatus } from "./callbacks.js";
import { backoffMs } from "./retry.js";

/** Where finished jobs are announced: the engine's callback policy, hook and fetch. */
export interface NotifierOptions<S> extends CallbackPolicy {
  onComplete: ((status: S) => unknown) | null;
  fetch: typeof fetch | null;
  random: () => number;
}

/**
 * Announces finished jobs to their callback URL and the engine's `onComplete` hook, retrying what
 * failed with {@link NOTIFY_RETRY}. It only changes `record.notify`; the caller saves the record.
 */
export class CompletionNotifier<S extends { id: string }> {
  readonly #options: NotifierOptions<S>;

  constructor(options: NotifierOptions<S>) {
    this.#options = options;
  }

  /** The notification a job owes when it ends (completed or failed), or null when it has no target. */
  plan(record: JobRecordBase, now: number): NotifyRecord | null {
    const pending: NotifyRecord["pending"] = [];
    if (record.callbackUrl) pending.push("url");
    if (this.#options.onComplete) pending.push("hook");
    return pending.length > 0 ? { pending, attempts: 0, nextAt: now, lastError: null } : null;
  }

  /**
   * One delivery attempt of the job's final `status`: POSTs it signed and calls the hook; what
   * failed is tried again later, until the policy's attempts are spent. A URL the engine's
   * policy no longer allows is given up at once. Never throws for a failed delivery.
   */
  async deliver(record: JobRecordBase, status: S, now: number): Promise<void> {
    const notify = record.notify;
    if (!notify) return;
    const left: NotifyRecord["pending"] = [];
    for (const target of notify.pending) {
      try {
        if (target === "url") await this.#post(record, status, now);
        else await this.#options.onComplete?.(status);
      } catch (error) {
        if (!(error instanceof UndeliverableError)) left.push(target);
        notify.lastError = `${target}: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    notify.attempts++;
    notify.pending = notify.attempts >= NOTIFY_RETRY.attempts ? [] : left;
    notify.nextAt = now + backoffMs(NOTIFY_RETRY, notify.attempts, this.#options.random);
  }

  async #post(record: JobRecordBase, status: S, now: number): Promise<void> {
    if (!record.callbackUrl) return;
    await postStatus(this.#options.fetch ?? ((input, init) => fetch(input, init)), record.callbackUrl, this.#options, status, now);
  }
}
