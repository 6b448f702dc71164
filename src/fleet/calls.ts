/** Checks the calls a run makes to an object's `fleetBackup` method: they cross an RPC boundary. */
import { DumpError } from "../errors.js";
import { checkObjectName, checkRunId, isInstanceId } from "./names.js";
import type { FleetBackupCall, FleetExportOptions, FleetNotify } from "./types.js";

function invalid(message: string): DumpError {
  return new DumpError("INVALID_ARGUMENT", message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkNotify(value: unknown): FleetNotify | null {
  if (value === null) return null;
  if (!isRecord(value) || !isInstanceId(value.instanceId) || typeof value.type !== "string" || !isInstanceId(value.type)) {
    throw invalid("notify must be null or { instanceId, type }, both 1-100 letters, digits, '-' or '_'.");
  }
  return { instanceId: value.instanceId, type: value.type };
}

/** The export options of a call; the engine checks the values themselves when it starts the job. */
function checkOptions(value: unknown): FleetExportOptions {
  if (!isRecord(value)) throw invalid("options must be an object: { gzip?, tables?, exclude? }.");
  const options: FleetExportOptions = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === "gzip" && typeof v === "boolean") options.gzip = v;
    else if ((key === "tables" || key === "exclude") && Array.isArray(v) && v.every((t) => typeof t === "string")) options[key] = v;
    else throw invalid(`options.${key} is not an export option of a fleet backup (gzip: boolean, tables and exclude: string[]).`);
  }
  return options;
}

/**
 * `call`, checked and copied.
 *
 * @throws {DumpError} `INVALID_ARGUMENT` naming what is wrong.
 */
export function checkCall(call: unknown): FleetBackupCall {
  if (!isRecord(call)) throw invalid("A fleet backup call is an object with an action.");
  const runId = checkRunId(call.runId);
  if (call.action === "status" || call.action === "abort") return { action: call.action, runId };
  if (call.action !== "start") throw invalid(`Unknown action ${JSON.stringify(call.action)}: start, status or abort.`);
  const attempt = call.attempt;
  if (typeof attempt !== "number" || !Number.isInteger(attempt) || attempt < 1 || attempt > 100) throw invalid("attempt must be an integer from 1 to 100.");
  return { action: "start", runId, object: checkObjectName(call.object), attempt, notify: checkNotify(call.notify), options: checkOptions(call.options) };
}
