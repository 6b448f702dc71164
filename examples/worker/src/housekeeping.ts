/**
 * The host's own periodic work: purging old rows of the `events` table. It shares the object's
 * single alarm with the dump engine through the engine's scheduler (`engine.scheduler`), as the
 * named wake-up {@link CLEANUP_WAKE}; see `Tenant.alarm()` in `tenant.ts`. This file only does
 * the work and says when it should run next (nothing while no event is left); the scheduler keeps
 * that time in storage and arms the alarm for it.
 */

/** Name of the cleanup's wake-up in `engine.scheduler` (the engine's own is `durable-dump`). */
export const CLEANUP_WAKE = "cleanup";

const CLEANUP_STATS = "app:cleanup-stats";
/** Rows deleted per run at most, so one run holds the object for a few milliseconds only. */
const DELETE_SLICE = 5_000;

/** What the cleanup has done so far; kept in storage. */
export interface CleanupStats {
  runs: number;
  deleted: number;
  lastRunAt: number | null;
}

/** Purges old rows of the host's `events` table, at most {@link DELETE_SLICE} per run. */
export class EventsCleanup {
  constructor(
    private readonly storage: DurableObjectStorage,
    readonly intervalMs: number,
    private readonly retentionMs: number,
  ) {}

  /**
   * Runs the cleanup once and returns when it should run next (epoch ms), or null when no event
   * is left to clean up later (the next event written schedules it again). Idempotent: the
   * scheduler delivers at least once, so a run cut off by an eviction simply runs again.
   */
  async run(now = Date.now()): Promise<number | null> {
    const sql = this.storage.sql;
    if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").toArray().length === 0) return null;
    const deleted = sql
      .exec("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY id LIMIT ?) RETURNING id", now - this.retentionMs, DELETE_SLICE)
      .toArray().length;
    const stats = await this.stats();
    await this.storage.put(CLEANUP_STATS, { runs: stats.runs + 1, deleted: stats.deleted + deleted, lastRunAt: now } satisfies CleanupStats);
    if (sql.exec("SELECT 1 FROM events LIMIT 1").toArray().length === 0) return null;
    // A full slice means more is left: come back soon rather than in a whole interval.
    return now + (deleted === DELETE_SLICE ? Math.min(1_000, this.intervalMs) : this.intervalMs);
  }

  async stats(): Promise<CleanupStats> {
    return (await this.storage.get<CleanupStats>(CLEANUP_STATS)) ?? { runs: 0, deleted: 0, lastRunAt: null };
  }
}
