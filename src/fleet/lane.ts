/**
 * One object's backup inside a workflow instance: start the export through the object's
 * `fleetBackup` RPC method, wait for the object's completion event (asking the object only when
 * the wait times out), and try again while attempts remain. Never throws for the object's sake:
 * whatever happens ends as an entry of the manifest.
 */
import type { WorkflowStep, WorkflowStepConfig } from "cloudflare:workers";
import type { DumpErrorCode } from "../errors.js";
import type { JobError } from "../jobs/job-types.js";
import type { ResolvedFleetConfig } from "./config.js";
import { objectEventType } from "./names.js";
import { noExport } from "./outcome.js";
import type { FleetBackupCall, FleetEntry, FleetExportResult } from "./types.js";

/** What every step of an instance needs. */
export interface InstanceContext {
  config: ResolvedFleetConfig;
  step: WorkflowStep;
  runId: string;
  /** The instance that waits for the objects' events. */
  instanceId: string;
}

/** Failures another attempt cannot cure: the object refuses the options, or someone stopped the export. */
const PERMANENT = new Set<DumpErrorCode>([
  "INVALID_OPTIONS",
  "INVALID_ARGUMENT",
  "UNKNOWN_TABLE",
  "RESERVED_TABLE",
  "UNSUPPORTED_TABLE",
  "EXPORT_TIMEOUT",
  "EXPORT_ABORTED",
]);

/** The step config of a run's I/O steps. */
export function ioStep(config: ResolvedFleetConfig): WorkflowStepConfig {
  const { limit, delayMs, backoff } = config.stepRetries;
  return { retries: { limit, delay: delayMs, backoff } };
}

function isActive(state: FleetExportResult["state"]): boolean {
  return state === "queued" || state === "running";
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Calls the object's `fleetBackup` in a step; a step that exhausted its retries becomes an `OBJECT_UNREACHABLE` result. */
async function callObject(ctx: InstanceContext, name: string, object: string, call: FleetBackupCall, attempt: number): Promise<FleetExportResult> {
  try {
    return await ctx.step.do(name, ioStep(ctx.config), async () => {
      const ns = ctx.config.namespace;
      return ns.get(ns.idFromName(object)).fleetBackup(call);
    });
  } catch (error) {
    const failure: JobError = { code: "OBJECT_UNREACHABLE", message: `${call.action} failed through every retry: ${message(error)}` };
    return { runId: ctx.runId, object, attempt, state: "failed", at: 0, ...noExport(failure) };
  }
}

/** The payload of a completion event, if it is the result it should be. */
function eventResult(payload: unknown, runId: string, attempt: number): FleetExportResult | null {
  const p = payload as Partial<FleetExportResult> | null;
  if (typeof p !== "object" || p === null || p.runId !== runId || p.attempt !== attempt || typeof p.state !== "string" || typeof p.at !== "number") return null;
  return p as FleetExportResult;
}

/** One attempt: start (or find again) the export, then wait until it ends. */
async function exportOnce(ctx: InstanceContext, index: number, object: string, attempt: number): Promise<FleetExportResult> {
  const { config, runId, step } = ctx;
  const label = `object ${index} attempt ${attempt}`;
  const type = objectEventType(index, attempt);
  const notify = { instanceId: ctx.instanceId, type };
  let result = await callObject(ctx, `${label} start`, object, { action: "start", runId, object, attempt, notify, options: config.export }, attempt);
  const startedAt = result.at;
  for (let wait = 1; isActive(result.state); wait++) {
    if (result.at - startedAt >= config.objectTimeoutMs) {
      const aborted = await callObject(ctx, `${label} abort`, object, { action: "abort", runId }, attempt);
      const error: JobError = {
        code: "EXPORT_TIMEOUT",
        message: `The export was still ${result.state} ${config.objectTimeoutMs} ms after it started; it was aborted.`,
      };
      return { ...aborted, state: "failed", error };
    }
    let event: FleetExportResult | null = null;
    try {
      event = eventResult((await step.waitForEvent(`${label} wait ${wait}`, { type, timeout: config.waitTimeoutMs })).payload, runId, attempt);
    } catch {
      // Timed out: ask the object below.
    }
    result = event ?? (await callObject(ctx, `${label} check ${wait}`, object, { action: "status", runId }, attempt));
  }
  return result;
}

/** The manifest entry of an object whose last attempt ended with `result`. */
function entryOf(object: string, attempts: number, result: FleetExportResult): FleetEntry {
  const completed = result.state === "completed";
  let error = result.error;
  if (!completed && !error) {
    error =
      result.state === "aborted"
        ? { code: "EXPORT_ABORTED", message: "The export was aborted in the object." }
        : { code: "JOB_LOST", message: "The export's state is unknown." };
  }
  return {
    object,
    state: completed ? "completed" : "failed",
    attempts,
    jobId: result.jobId,
    dumpKey: result.dumpKey,
    manifestKey: result.manifestKey,
    bytes: result.bytes,
    rows: result.rows,
    error: completed ? null : error,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
  };
}

/** Backs up the object at `index` of the instance's list, with up to `attempts` exports. */
export async function backupObject(ctx: InstanceContext, index: number, object: string): Promise<FleetEntry> {
  let attempt = 0;
  let result: FleetExportResult;
  do {
    attempt++;
    result = await exportOnce(ctx, index, object, attempt);
    const code = result.error?.code ?? (result.state === "aborted" ? "EXPORT_ABORTED" : null);
    if (result.state === "completed" || (code !== null && PERMANENT.has(code))) break;
  } while (attempt < ctx.config.attempts);
  return entryOf(object, attempt, result);
}

/** Runs `work` over `count` items with at most `concurrency` at once; results in item order. */
export async function pool<T>(count: number, concurrency: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await work(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return results;
}
