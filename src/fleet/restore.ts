/** Restoring one object from a fleet run: find its dump in the run's manifest and start a restore of it. */
import { DumpError } from "../errors.js";
import { type FleetRunLocation, findFleetEntry } from "./manifest.js";
import type { FleetEntry } from "./types.js";

/** What restoring needs of a restore engine: `RestoreEngine.start({ key })`. */
export interface FleetRestoreEngine<S> {
  start(options: { key: string }): Promise<S>;
}

/**
 * The completed backup of `object` in run `runId`.
 *
 * @throws {DumpError} `BACKUP_NOT_FOUND` when the run has no manifest, did not list the object, or its backup failed.
 */
export async function findFleetBackup(bucket: R2Bucket, location: FleetRunLocation & { object: string }): Promise<FleetEntry & { dumpKey: string }> {
  const entry = await findFleetEntry(bucket, location);
  if (!entry) throw new DumpError("BACKUP_NOT_FOUND", `Run ${location.runId} has no manifest, or did not list ${JSON.stringify(location.object)}.`);
  if (entry.state !== "completed" || entry.dumpKey === null) {
    throw new DumpError(
      "BACKUP_NOT_FOUND",
      `The backup of ${JSON.stringify(location.object)} in run ${location.runId} failed: ${entry.error?.code ?? "?"} ${entry.error?.message ?? ""}`,
    );
  }
  return { ...entry, dumpKey: entry.dumpKey };
}

/**
 * Starts restoring `object`'s backup of run `runId` into the database of the object `engine`
 * belongs to: the same object, or a new one. Call it inside that object, with its `RestoreEngine`;
 * the engine's ticks do the work, and `engine.status(id)` follows it.
 *
 * @example
 * // in the Durable Object that receives the data
 * async restoreTenant(runId: string, tenant: string) {
 *   return restoreFromFleetRun(this.restores, this.env.DUMPS, { runId, object: tenant });
 * }
 * @throws {DumpError} `BACKUP_NOT_FOUND`, and whatever `engine.start` throws.
 */
export async function restoreFromFleetRun<S>(engine: FleetRestoreEngine<S>, bucket: R2Bucket, location: FleetRunLocation & { object: string }): Promise<S> {
  const backup = await findFleetBackup(bucket, location);
  return engine.start({ key: backup.dumpKey });
}
