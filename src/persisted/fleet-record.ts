/**
 * What a fleet backup host (`src/fleet/host.ts`) keeps per run in the object it backs up: which
 * export job belongs to the run, so that a retried request never starts a second export.
 */
import { jobError } from "./job-record.js";
import { keys } from "./keys.js";
import { type Infer, count, literal, nullable, object, readable, string } from "./shape.js";
import type { StorageLike } from "./storage.js";

/** Version of the records this release writes. */
export const FLEET_RECORD_VERSION = 1;

export const fleetRecordShape = object({
  v: literal(FLEET_RECORD_VERSION),
  runId: string,
  /** The object's name, as the run listed it. */
  object: string,
  /** 1 for the first export of the run, 2 for the retry after it failed, … */
  attempt: count,
  /** Folder of the attempt's objects under the engine's keyPrefix; it identifies the attempt's job. */
  folder: string,
  /**
   * The attempt's export job. Null from the moment the attempt is decided until the job is saved:
   * after a crash in between, the job (if it was saved) is found again by its folder.
   */
  jobId: nullable(string),
  /** Where to announce the end of the job: the waiting workflow instance and the event type. */
  notify: nullable(object({ instanceId: string, type: string })),
  /** Why the attempt could not start at all (options the object refuses); null otherwise. */
  error: nullable(jobError),
  /** Epoch milliseconds. */
  requestedAt: count,
});
export type FleetRecord = Infer<typeof fleetRecordShape>;

/** The record of run `runId`, or null. @throws {DumpError} `RECORD_UNREADABLE` for a damaged or newer record. */
export async function readFleetRecord(storage: StorageLike, runId: string): Promise<FleetRecord | null> {
  const key = keys.fleetRun(runId);
  const value = await storage.get<unknown>(key);
  return value === undefined ? null : readable(() => fleetRecordShape.check(value, key));
}

/** Saves `record` in one put. */
export function saveFleetRecord(storage: StorageLike, record: FleetRecord): Promise<void> {
  return storage.put({ [keys.fleetRun(record.runId)]: record });
}

/** Every run record of the object, oldest request first; unreadable ones are left out (and reported by key). */
export async function listFleetRecords(storage: StorageLike): Promise<{ records: FleetRecord[]; unreadable: string[] }> {
  const records: FleetRecord[] = [];
  const unreadable: string[] = [];
  for (const [key, value] of await storage.list<unknown>({ prefix: keys.fleetPrefix })) {
    try {
      records.push(fleetRecordShape.check(value, key));
    } catch {
      unreadable.push(key);
    }
  }
  return { records: records.sort((a, b) => a.requestedAt - b.requestedAt), unreadable };
}
