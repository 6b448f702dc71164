/** Starting a run: what a cron trigger (or an admin route) calls. */
import { checkRunId, checkFleetPrefix, runIdAt } from "./names.js";
import { isLive, readRunsIndex } from "./runs-index.js";
import type { FleetRunParams } from "./types.js";

/** Options of {@link startFleetBackup}. */
export interface StartFleetBackupOptions {
  /** The fleet's prefix, as in its configuration. Default `"durable-dump/fleet/"`. */
  prefix?: string;
  /** Run id (the instance id). Default `<name>-<time as YYYYMMDDTHHMMSSZ>`. */
  runId?: string;
  /** First part of the default run id. Default `"fleet"`. */
  name?: string;
  /** Time the default run id is made of: pass the cron's `controller.scheduledTime`, so that a trigger delivered twice makes one run. Default now. */
  time?: number;
  /** Parameters of the run's instance. */
  params?: FleetRunParams;
}

/** What {@link startFleetBackup} did. */
export type StartFleetBackupResult =
  | { started: true; runId: string }
  /** `in-progress`: another run of the fleet is live; `exists`: an instance with this run id exists already. */
  | { started: false; runId: string; reason: "in-progress" | "exists" };

/**
 * Starts a fleet backup run unless one is in progress (the runs index names a live instance) or
 * an instance with the same id exists. The run itself also takes the fleet's lock first, and ends
 * at once ("skipped") if another live run holds it, so two starts racing each other still make
 * one run.
 *
 * @example
 * async scheduled(controller, env) {
 *   await startFleetBackup(env.TENANT_BACKUPS, env.DUMPS, { time: controller.scheduledTime });
 * }
 */
export async function startFleetBackup(workflow: Workflow, bucket: R2Bucket, options: StartFleetBackupOptions = {}): Promise<StartFleetBackupResult> {
  const prefix = checkFleetPrefix(options.prefix);
  const runId = options.runId === undefined ? runIdAt(options.name ?? "fleet", options.time ?? Date.now()) : checkRunId(options.runId);
  const current = (await readRunsIndex(bucket, prefix)).current;
  if (current && current.runId !== runId && (await isLive(workflow, current.runId))) return { started: false, runId: current.runId, reason: "in-progress" };
  const exists = () =>
    workflow.get(runId).then(
      () => true,
      () => false,
    );
  if (await exists()) return { started: false, runId, reason: "exists" };
  try {
    await workflow.create({ id: runId, params: options.params ?? {} });
  } catch (error) {
    // Another start created it meanwhile (production refuses an existing id).
    if (await exists()) return { started: false, runId, reason: "exists" };
    throw error;
  }
  return { started: true, runId };
}
