/**
 * Restores as a kind of job for the {@link JobQueue}: how a tick advances one, what an ended
 * restore frees, and its status.
 */
import type { Commit, CommitSync, JobKind } from "../jobs/job-kind.js";
import type { JobState } from "../persisted/job-record.js";
import type { IndexedJob } from "../persisted/job-store.js";
import { keys } from "../persisted/keys.js";
import type { RestoreRecord } from "../persisted/restore-record.js";
import { type TransactionalStorage, deleteKeys } from "../persisted/storage.js";
import { ForeignKeyGuard } from "./foreign-keys.js";
import { RestoreRunner } from "./restore-runner.js";
import { RestoreWork } from "./restore-work.js";
import { StatementApplier } from "./statement-applier.js";
import { toStatus, unreadableStatus } from "./status.js";
import { TargetSchema } from "./target-schema.js";
import type { RestoreStatus } from "./types.js";

/** What the restore kind needs from its engine. */
export interface RestoreJobsDeps {
  sql: SqlStorage;
  bucket: R2Bucket;
  storage: TransactionalStorage;
  now: () => number;
  readBytes: number;
}

export class RestoreJobs implements JobKind<RestoreRecord, RestoreStatus> {
  readonly #deps: RestoreJobsDeps;
  readonly #target: TargetSchema;
  readonly #applier: StatementApplier;
  readonly #foreignKeys: ForeignKeyGuard;
  /** Work kept in memory between ticks, valid while storage still holds checkpoint `seq` of job `id`. */
  #live: { id: string; seq: number; work: RestoreWork } | null = null;

  constructor(deps: RestoreJobsDeps) {
    this.#deps = deps;
    this.#target = new TargetSchema(deps.sql);
    this.#applier = new StatementApplier(deps.sql, this.#target);
    this.#foreignKeys = new ForeignKeyGuard(deps.sql, deps.storage);
  }

  /** The database the restores write into, as far as they need to know it. */
  get target(): TargetSchema {
    return this.#target;
  }

  async advance(record: RestoreRecord, deadline: number, _commit: Commit<RestoreRecord>, commitSync: CommitSync<RestoreRecord>): Promise<JobState> {
    const work = this.#workFor(record);
    // The host may have changed the schema since the last tick.
    this.#target.changed();
    const runner = new RestoreRunner(work, {
      sql: this.#deps.sql,
      kv: this.#deps.storage.kv,
      target: this.#target,
      applier: this.#applier,
      foreignKeys: this.#foreignKeys,
      now: this.#deps.now,
      commitSync,
    });
    const state = await runner.run(deadline);
    if (state !== "aborted") this.#live = { id: record.id, seq: work.record.seq, work };
    return state;
  }

  #workFor(record: RestoreRecord): RestoreWork {
    const live = this.#live;
    if (live && live.id === record.id && live.seq === record.seq) {
      live.work.record = record;
      return live.work;
    }
    this.#live = null;
    return new RestoreWork(this.#deps.storage, this.#deps.bucket, record, this.#deps.readBytes);
  }

  /**
   * Puts back the triggers a data-only restore set aside (when it failed or was aborted before its
   * end did) and deletes its parts lists. Idempotent.
   */
  async release(record: RestoreRecord): Promise<void> {
    if (record.triggers.length > 0) this.#deps.storage.transactionSync(() => this.#target.createTriggers(record.triggers));
    const pages = record.sources.flatMap((source, index) => source.partPages.map((_, page) => keys.restoreParts(record.id, index, page)));
    await deleteKeys(this.#deps.storage, pages);
  }

  /** A restore does nothing outside storage that an abort would have to undo. */
  async dropLateWork(): Promise<void> {}

  forget(id: string): void {
    if (this.#live?.id === id) this.#live = null;
  }

  async status(record: RestoreRecord): Promise<RestoreStatus> {
    return toStatus(record);
  }

  unreadableStatus(job: IndexedJob): RestoreStatus {
    return unreadableStatus(job);
  }

  recordKeys(): string[] {
    return [];
  }
}
