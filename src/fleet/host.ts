/**
 * The host side of fleet backups: what a backed-up Durable Object runs when a run calls its
 * `fleetBackup` RPC method. It composes a {@link DumpEngine} and remembers which export job
 * belongs to which run, so a retried call never starts a second export.
 */
import { DumpError } from "../errors.js";
import { DumpEngine } from "../export/dump-engine.js";
import { LIMITS } from "../export/options.js";
import type { DumpEngineOptions, DumpStatus } from "../export/types.js";
import { integerIn } from "../jobs/engine-options.js";
import { type FleetRecord, listFleetRecords, readFleetRecord, saveFleetRecord } from "../persisted/fleet-record.js";
import { isActive } from "../persisted/job-record.js";
import { keys } from "../persisted/keys.js";
import { deleteKeys } from "../persisted/storage.js";
import { checkCall } from "./calls.js";
import { exportFolder } from "./names.js";
import { noExport } from "./outcome.js";
import type { FleetBackupCall, FleetExportResult } from "./types.js";

/** The part of a Workflow binding a host needs: the waiting instance, to send it an event. */
export interface FleetEventTarget {
  get(id: string): Promise<{ sendEvent(event: { type: string; payload: unknown }): Promise<void> }>;
}

/** Options of {@link FleetExports}: the engine's, and these. */
export interface FleetExportsOptions extends DumpEngineOptions {
  /** The fleet's Workflow binding (`env.BACKUPS`): the object announces the end of each export to the waiting instance through it. */
  workflow: FleetEventTarget;
  /** Run records kept in the object (the oldest beyond are dropped). Default 20; 1 to 1,000. */
  keepRunRecords?: number;
}

/** Start errors that no retry can cure: the run records the object as failed instead of retrying the call. */
function refusedForGood(error: unknown): error is DumpError {
  return error instanceof DumpError && !error.retryable && error.code !== "TOO_MANY_JOBS";
}

/**
 * Runs a fleet backup's exports in one Durable Object. Compose it in the object, forward the
 * alarm to its engine and expose {@link FleetExports.handle} as the `fleetBackup` RPC method:
 *
 * @example
 * export class Tenant extends DurableObject<Env> implements FleetBackupTarget {
 *   readonly backups = new FleetExports({ sql: this.ctx.storage.sql, bucket: this.env.DUMPS, storage: this.ctx.storage, workflow: this.env.BACKUPS });
 *   fleetBackup(call: FleetBackupCall) { return this.backups.handle(call); }
 *   async alarm() { await this.backups.engine.tick(); }
 * }
 *
 * Each run's export goes to `<keyPrefix>fleet/<runId>/objects/<object>/<attempt>/<jobId>.sql`. When a job
 * ends, the engine's `onComplete` (alongside yours, if you pass one) sends its result to the waiting
 * workflow instance.
 */
export class FleetExports {
  /** The export engine; `engine.tick()` (or `engine.scheduler.run()`) belongs in `alarm()`. */
  readonly engine: DumpEngine;
  readonly #storage: DumpEngineOptions["storage"];
  readonly #workflow: FleetEventTarget;
  readonly #keyPrefix: string;
  readonly #keep: number;
  readonly #now: () => number;
  /** Calls run one after another, so two calls for the same run never both start an export. */
  #queue: Promise<unknown> = Promise.resolve();

  /** @throws {DumpError} `INVALID_OPTIONS` for an option out of range. */
  constructor(options: FleetExportsOptions) {
    const { workflow, keepRunRecords, onComplete, ...engineOptions } = options;
    if (typeof workflow?.get !== "function") throw new DumpError("INVALID_OPTIONS", "workflow must be the fleet's Workflow binding.");
    this.#workflow = workflow;
    this.#storage = options.storage;
    this.#keep = integerIn("keepRunRecords", keepRunRecords, { default: 20, min: 1, max: 1_000 });
    this.engine = new DumpEngine({
      ...engineOptions,
      onComplete: async (status) => {
        const results = await Promise.allSettled([onComplete?.(status), this.#announce(status)]);
        for (const r of results) if (r.status === "rejected") throw r.reason;
      },
    });
    this.#keyPrefix = options.keyPrefix ?? LIMITS.keyPrefix.default;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Answers a run's call: `start` (idempotent per run and attempt), `status` or `abort`. This is the
   * body of the object's `fleetBackup` RPC method.
   *
   * @throws {DumpError} `INVALID_ARGUMENT` for a malformed call; other errors are worth retrying.
   */
  handle(call: FleetBackupCall): Promise<FleetExportResult> {
    const checked = checkCall(call);
    const run = this.#queue.then(() => {
      if (checked.action === "start") return this.#start(checked);
      if (checked.action === "abort") return this.#abort(checked.runId);
      return this.#status(checked.runId);
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  async #start(call: Extract<FleetBackupCall, { action: "start" }>): Promise<FleetExportResult> {
    const known = await readFleetRecord(this.#storage, call.runId);
    if (known && (known.attempt > call.attempt || (known.attempt === call.attempt && (known.jobId !== null || known.error !== null)))) {
      return this.#report(known);
    }
    if (known && known.attempt === call.attempt) {
      // The attempt was decided but its job id never saved: find the job by its folder, if it was saved.
      const found = await this.#findJob(this.#keyPrefix + known.folder);
      if (found) {
        known.jobId = found.id;
        await saveFleetRecord(this.#storage, known);
        return this.#result(known, found);
      }
    } else if (known?.jobId) {
      // A new attempt ends the previous one, so that a run never has two exports in one object.
      await this.engine.abort(known.jobId);
    }
    const record: FleetRecord =
      known?.attempt === call.attempt
        ? known
        : {
            v: 1,
            runId: call.runId,
            object: call.object,
            attempt: call.attempt,
            folder: exportFolder(call.runId, call.object, call.attempt),
            jobId: null,
            notify: call.notify,
            error: null,
            requestedAt: this.#now(),
          };
    await saveFleetRecord(this.#storage, record);
    let status: DumpStatus;
    try {
      status = await this.engine.start({ ...call.options, format: "sql", folder: record.folder });
    } catch (error) {
      if (!refusedForGood(error)) throw error;
      record.error = { code: error.code, message: error.message };
      await saveFleetRecord(this.#storage, record);
      return this.#result(record, null);
    }
    record.jobId = status.id;
    await saveFleetRecord(this.#storage, record);
    await this.#purge();
    return this.#result(record, status);
  }

  async #status(runId: string): Promise<FleetExportResult> {
    const record = await readFleetRecord(this.#storage, runId);
    return record ? this.#report(record) : this.#unknown(runId);
  }

  async #abort(runId: string): Promise<FleetExportResult> {
    const record = await readFleetRecord(this.#storage, runId);
    if (!record) return this.#unknown(runId);
    return this.#result(record, record.jobId ? await this.engine.abort(record.jobId) : null);
  }

  async #report(record: FleetRecord): Promise<FleetExportResult> {
    return this.#result(record, record.jobId ? await this.engine.status(record.jobId) : null);
  }

  #unknown(runId: string): FleetExportResult {
    const error = { code: "JOB_LOST" as const, message: `This object has no export of run ${runId}.` };
    return { runId, object: "", attempt: 0, state: "unknown", at: this.#now(), ...noExport(error) };
  }

  /** The result of `record`'s attempt, given its job's status (null when there is no job, or the engine forgot it). */
  #result(record: FleetRecord, status: DumpStatus | null): FleetExportResult {
    const base = { runId: record.runId, object: record.object, attempt: record.attempt, at: this.#now() };
    if (!status) {
      const error = record.error ?? {
        code: "JOB_LOST" as const,
        message: `The object no longer knows export ${record.jobId ?? "(none)"} of run ${record.runId}.`,
      };
      return { ...base, state: record.error ? "failed" : "unknown", ...noExport(error), jobId: record.jobId };
    }
    return {
      ...base,
      jobId: record.jobId,
      state: status.state,
      dumpKey: status.outputs[0]?.key ?? null,
      manifestKey: status.manifestKey,
      bytes: status.progress.bytesWritten,
      rows: status.progress.rowsWritten,
      error: status.error,
      startedAt: status.createdAt,
      finishedAt: status.finishedAt,
    };
  }

  /** The job whose output key starts with `keyBase`: the engine's jobs are few, and this runs only after a crash. */
  async #findJob(keyBase: string): Promise<DumpStatus | null> {
    for (let after: string | undefined; ; ) {
      const page = await this.engine.list({ limit: 100, ...(after === undefined ? {} : { after }) });
      const found = page.find((s) => s.outputs.some((o) => o.key.startsWith(keyBase)));
      if (found || page.length < 100) return found ?? null;
      after = page[page.length - 1]!.id;
    }
  }

  /** Sends a finished job's result to the instance waiting for it; jobs of no run are left alone. */
  async #announce(status: DumpStatus): Promise<void> {
    const { records } = await listFleetRecords(this.#storage);
    const record = records.find((r) => r.jobId === status.id);
    if (!record?.notify || isActive(status.state)) return;
    const instance = await this.#workflow.get(record.notify.instanceId);
    await instance.sendEvent({ type: record.notify.type, payload: this.#result(record, status) });
  }

  /** Drops the oldest run records beyond `keepRunRecords` (their dumps stay: runs delete what they wrote). */
  async #purge(): Promise<void> {
    const { records } = await listFleetRecords(this.#storage);
    const old = records.slice(0, Math.max(0, records.length - this.#keep));
    await deleteKeys(
      this.#storage,
      old.map((r) => keys.fleetRun(r.runId)),
    );
  }
}
