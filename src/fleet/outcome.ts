/** The outcome of an object whose export never started. */
import type { JobError } from "../jobs/job-types.js";
import type { FleetExportOutcome } from "./types.js";

/** No job, no dump, nothing written: only `error`. */
export function noExport(error: JobError): FleetExportOutcome {
  return { jobId: null, dumpKey: null, manifestKey: null, bytes: 0, rows: 0, error, startedAt: null, finishedAt: null };
}
