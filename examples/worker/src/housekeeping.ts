/**
 * The host's own periodic work, sharing the object's single alarm with the dump engine.
 *
 * The pattern, for any host that keeps its own alarm logic next to durable-dump:
 * 1. keep the time of your next wake-up in storage (here `app:cleanup-at`);
 * 2. in `alarm()`, do your work if it is due (bounded, so a long export never waits on it), then
 *    let the engine tick (also bounded, by `tickBudgetMs`);
 * 3. re-arm for your next wake-up, never postponing an alarm already set for earlier (the engine
 *    may have asked for "now" to continue an export). The engine does the same for you.
 */

const CLEANUP_AT = "app:cleanup-at";
const CLEANUP_STATS = "app:cleanup-stats";
/** Rows deleted per run at most, so one run holds the object for a few milliseconds only. */
const DELETE_SLICE = 5_000;

/** What the cleanup has done so far; kept in storage. */
export interface CleanupStats {
  runs: number;
  deleted: number;
  lastRunAt: number | null;
}

/** Sets the alarm to fire no later than `at` (overdue times fire at once); never postpones. */
export async function wakeNoLaterThan(storage: DurableObjectStorage, at: number): Promise<void> {
  const target = Math.max(at, Date.now() + 1);
  const current = await storage.getAlarm();
  if (current === null || current > target) await storage.setAlarm(target);
}

/** Purges old rows of the host's `events` table every `intervalMs`. */
export class EventsCleanup {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly intervalMs: number,
    private readonly retentionMs: number,
  ) {}

  /** Makes sure a cleanup is scheduled; call once when the object starts. */
  async ensureScheduled(): Promise<void> {
    let at = await this.storage.get<number>(CLEANUP_AT);
    if (at === undefined) {
      at = Date.now() + this.intervalMs;
      await this.storage.put(CLEANUP_AT, at);
    }
    await wakeNoLaterThan(this.storage, at);
  }

  /** Runs the cleanup when due. Call from `alarm()`; then call {@link rearm}. */
  async runIfDue(now = Date.now()): Promise<void> {
    const at = (await this.storage.get<number>(CLEANUP_AT)) ?? now;
    if (at > now) return;
    const deleted = this.storage.sql
      .exec("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY id LIMIT ?) RETURNING id", now - this.retentionMs, DELETE_SLICE)
      .toArray().length;
    const stats = await this.stats();
    // A full slice means more is left: come back soon rather than in a whole interval.
    const next = deleted === DELETE_SLICE ? now + 1_000 : now + this.intervalMs;
    await this.storage.put({
      [CLEANUP_AT]: next,
      [CLEANUP_STATS]: { runs: stats.runs + 1, deleted: stats.deleted + deleted, lastRunAt: now } satisfies CleanupStats,
    });
  }

  /** Arms the alarm for the next cleanup, keeping any earlier alarm. */
  async rearm(): Promise<void> {
    const at = await this.storage.get<number>(CLEANUP_AT);
    if (at !== undefined) await wakeNoLaterThan(this.storage, at);
  }

  async stats(): Promise<CleanupStats> {
    return (await this.storage.get<CleanupStats>(CLEANUP_STATS)) ?? { runs: 0, deleted: 0, lastRunAt: null };
  }
}
