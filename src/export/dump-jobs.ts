/**
 * Exports as a kind of job for the {@link JobQueue}: how a tick advances one, what a checkpoint
 * saves, what an ended export frees, and its status.
 */
import { DumpError } from "../errors.js";
import type { DumpFormatter } from "../formats/formatter.js";
import type { Commit, JobKind } from "../jobs/job-kind.js";
import type { KvLister } from "../kv/entry-reader.js";
import { TAIL_CHUNK_BYTES } from "../output/part-writer.js";
import { abortUploadQuietly, deleteOwnedObjects } from "../output/r2-objects.js";
import type { DumpRecord } from "../persisted/dump-record.js";
import type { JobState } from "../persisted/job-record.js";
import type { IndexedJob } from "../persisted/job-store.js";
import { STORAGE_PREFIX, keys } from "../persisted/keys.js";
import { type StorageLike, deleteKeys } from "../persisted/storage.js";
import { DumpWork, objectList } from "./dump-work.js";
import { ExportRunner } from "./export-runner.js";
import { writeManifest } from "./manifest.js";
import { toStatus, unreadableStatus } from "./status.js";
import type { DumpStatus } from "./types.js";

/** At most this long past `tickBudgetMs` a tick runs on to end near a part boundary (see ExportRunner.run). */
const MAX_TICK_GRACE_MS = 1_000;

/** How long a tick may run past its budget to end near a part boundary: half the budget, at most 1 s. */
export function tickGraceMs(tickBudgetMs: number): number {
  return Math.min(tickBudgetMs / 2, MAX_TICK_GRACE_MS);
}

/** What the export kind needs from its engine. */
export interface DumpJobsDeps {
  sql: SqlStorage;
  bucket: R2Bucket;
  storage: StorageLike;
  /** The object's key-value entries, read by jobs with `kv: true` (null when storage has no `kv`). */
  kv: KvLister | null;
  formatters: Record<string, DumpFormatter>;
  now: () => number;
  tickBudgetMs: number;
}

export class DumpJobs implements JobKind<DumpRecord, DumpStatus> {
  readonly #deps: DumpJobsDeps;
  /** Work kept in memory between ticks, valid while storage still holds checkpoint `seq` of job `id`. */
  #live: { id: string; seq: number; work: DumpWork } | null = null;
  /** The work of the latest tick, for {@link dropLateWork} (called during or right after it). */
  #current: DumpWork | null = null;

  constructor(deps: DumpJobsDeps) {
    this.#deps = deps;
  }

  /** The formatter of `name`. */
  formatter(name: string): DumpFormatter {
    const formatter = this.#deps.formatters[name];
    if (!formatter) throw new DumpError("UNKNOWN_FORMAT", `No formatter named ${JSON.stringify(name)} is registered with this engine.`);
    return formatter;
  }

  async advance(record: DumpRecord, deadline: number, commit: Commit<DumpRecord>): Promise<JobState> {
    const formatter = this.formatter(record.format);
    const work = await this.#workFor(record);
    this.#current = work;
    const runner = new ExportRunner(work, { sql: this.#deps.sql, bucket: this.#deps.bucket, kv: this.#deps.kv, formatter, now: this.#deps.now });
    try {
      return await this.#run(work, runner, deadline, commit);
    } finally {
      runner.release();
    }
  }

  /** Runs, completes uploads and checkpoints until the deadline. */
  async #run(work: DumpWork, runner: ExportRunner, deadline: number, commit: Commit<DumpRecord>): Promise<JobState> {
    const record = work.record;
    for (;;) {
      await runner.run(deadline, deadline + tickGraceMs(this.#deps.tickBudgetMs));
      if (record.cursor.step !== "finish") break;
      await runner.uploadLastPart();
      // Saved before completing, so that an attempt cut off after complete() can tell it happened.
      // Not counted as progress: a completion that keeps failing must exhaust its retries.
      if (!(await this.#checkpoint(work, commit, false))) return "aborted";
      await runner.finish();
      if (this.#deps.now() >= deadline) break;
    }
    if (record.cursor.step === "done") {
      record.finishedAt = this.#deps.now();
      record.manifestKey = await writeManifest(this.#deps.bucket, this.#deps.sql, work);
      record.state = "completed";
    }
    if (!(await this.#checkpoint(work, commit))) return "aborted";
    return record.state;
  }

  /** Saves the record with everything of the work not saved yet, unless the job was aborted meanwhile. */
  async #checkpoint(work: DumpWork, commit: Commit<DumpRecord>, progress = true): Promise<boolean> {
    const saved = await commit(work.record, await work.changes(), progress);
    if (!saved) return false;
    work.saved();
    this.#live = { id: work.record.id, seq: work.record.seq, work };
    return true;
  }

  /** The work of the record: the one in memory if still current, else rebuilt from storage. */
  async #workFor(record: DumpRecord): Promise<DumpWork> {
    const live = this.#live;
    if (live && live.id === record.id && live.seq === record.seq) {
      live.work.record = record;
      return live.work;
    }
    // Stale (another job, or storage moved on): its buffers can go now.
    live?.work.release();
    this.#live = null;
    return DumpWork.load(this.#deps.storage, this.#deps.bucket, record);
  }

  /** Drops the work kept for job `id`; a tick may still be using it, so its buffers are left to the collector. */
  forget(id: string): void {
    if (this.#live?.id === id) this.#live = null;
  }

  /**
   * Undoes what a tick did in R2 after an abort was saved meanwhile (R2 calls let other requests
   * in): deletes the objects it completed and the manifest it wrote, and aborts an upload it
   * opened. The aborted record lists none of them, so nothing would free them otherwise.
   */
  async dropLateWork(record: DumpRecord, stored: DumpRecord | null): Promise<void> {
    const bucket = this.#deps.bucket;
    if (this.#current?.record.id === record.id) record = this.#current.record;
    if (record.upload && record.upload.uploadId !== stored?.upload?.uploadId) await abortUploadQuietly(bucket, record.upload);
    const current = this.#current?.record.id === record.id ? this.#current : null;
    const finished = current ? await current.objects.all() : [];
    const late = finished.slice(stored ? stored.objects.reduce((sum, n) => sum + n, 0) : 0).map((o) => o.key);
    if (record.manifestKey && !stored?.manifestKey) late.push(record.manifestKey);
    await deleteOwnedObjects(bucket, late, record.id);
  }

  /**
   * Aborts the open upload of an ended job (best effort: R2 drops it after 7 days anyway) and
   * deletes its scratch state: tail chunks, pending gzip bytes, and the pages of its plan, rows and
   * part lists. Idempotent.
   */
  async release(record: DumpRecord): Promise<void> {
    if (record.upload && record.state !== "completed") await abortUploadQuietly(this.#deps.bucket, record.upload);
    const tail = Array.from({ length: Math.ceil(record.partSize / TAIL_CHUNK_BYTES) }, (_, i) => keys.tail(record.id, i));
    await deleteKeys(this.#deps.storage, [...tail, keys.gzip(record.id)]);
    for (const list of ["plan", "rows", "parts"]) await deleteByPrefix(this.#deps.storage, `${STORAGE_PREFIX}${list}:${record.id}:`);
  }

  async status(record: DumpRecord): Promise<DumpStatus> {
    return toStatus(record, await objectList(this.#deps.storage, record).all());
  }

  unreadableStatus(job: IndexedJob): DumpStatus {
    return unreadableStatus(job);
  }

  recordKeys(record: DumpRecord): string[] {
    return objectList(this.#deps.storage, record).pageKeys();
  }

  /** Deletes the job's R2 objects, as far as they still carry its id, and its manifest. */
  async deleteOutputs(record: DumpRecord): Promise<void> {
    const keysToDelete = (await objectList(this.#deps.storage, record).all()).map((o) => o.key);
    if (record.manifestKey) keysToDelete.push(record.manifestKey);
    await deleteOwnedObjects(this.#deps.bucket, keysToDelete, record.id);
  }
}

/** Deletes every key under `prefix`, listing a few at a time (values here are pages of at most 256 KiB). */
async function deleteByPrefix(storage: StorageLike, prefix: string): Promise<void> {
  for (;;) {
    const page = [...(await storage.list({ prefix, limit: 16 })).keys()];
    if (page.length > 0) await storage.delete(page);
    if (page.length < 16) return;
  }
}
