/** A fleet's configuration checked, with defaults applied. */
import { integerIn, invalidOption } from "../jobs/engine-options.js";
import { checkFleetPrefix } from "./names.js";
import type { FleetBackupConfig, FleetExportOptions, FleetObjectPage, FleetStepRetries } from "./types.js";

/** Defaults and bounds of {@link FleetBackupConfig}. */
export const FLEET_LIMITS = {
  concurrency: { default: 20, min: 1, max: 100 },
  objectsPerInstance: { default: 1_000, min: 1, max: 1_000 },
  attempts: { default: 2, min: 1, max: 5 },
  keepRuns: { default: 7, min: 1, max: 1_000 },
  waitTimeoutMs: { default: 15 * 60_000, min: 1_000, max: 86_400_000 },
  objectTimeoutMs: { default: 12 * 3_600_000, min: 1_000, max: 7 * 86_400_000 },
  progressIntervalMs: { default: 10_000, min: 0, max: 3_600_000 },
  maxSteps: { default: 10_000, min: 100, max: 25_000 },
  /** Names per page of the object source: a page is one step's result (at most 1 MiB). */
  pageNames: 1_000,
} as const;

/** Steps an instance takes besides its objects' (names, page, report, progress). */
const STEPS_PER_INSTANCE = 10;

/** The configuration with defaults applied. */
export interface ResolvedFleetConfig {
  namespace: FleetBackupConfig["namespace"];
  bucket: R2Bucket;
  workflow: Workflow;
  objects: (cursor: string | null) => Promise<FleetObjectPage>;
  prefix: string;
  concurrency: number;
  objectsPerInstance: number;
  attempts: number;
  keepRuns: number;
  export: FleetExportOptions;
  stepRetries: Required<FleetStepRetries>;
  waitTimeoutMs: number;
  objectTimeoutMs: number;
  progressIntervalMs: number;
}

function binding(name: string, value: unknown, methods: string[]): void {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== "object" || v === null || methods.some((m) => typeof v[m] !== "function"))
    throw invalidOption(`${name} must be a binding with ${methods.join(", ")}.`);
}

function stepRetries(value: FleetStepRetries | undefined): Required<FleetStepRetries> {
  if (value === undefined) return { limit: 5, delayMs: 10_000, backoff: "exponential" };
  const backoff = value.backoff ?? "exponential";
  if (!["constant", "linear", "exponential"].includes(backoff)) throw invalidOption("stepRetries.backoff must be constant, linear or exponential.");
  return {
    limit: integerIn("stepRetries.limit", value.limit, { default: 5, min: 0, max: 20 }),
    delayMs: integerIn("stepRetries.delayMs", value.delayMs, { default: 10_000, min: 0, max: 3_600_000 }),
    backoff,
  };
}

/**
 * Checks a fleet's configuration: the bindings, every bound, and that an instance's objects fit
 * in its steps (two per attempt: the start and the wait, plus a status check after each wait that
 * times out).
 *
 * @throws {DumpError} `INVALID_OPTIONS` naming the first option out of range.
 */
export function resolveFleetConfig(config: FleetBackupConfig): ResolvedFleetConfig {
  if (typeof config !== "object" || config === null) throw invalidOption("fleet() must return { namespace, bucket, workflow, objects }.");
  binding("namespace", config.namespace, ["idFromName", "get"]);
  binding("bucket", config.bucket, ["get", "put", "list", "delete"]);
  binding("workflow", config.workflow, ["create", "get"]);
  if (typeof config.objects !== "function") throw invalidOption("objects must be a function (cursor) => Promise<{ names, cursor }>.");
  const exportOptions = config.export ?? {};
  for (const key of Object.keys(exportOptions)) {
    if (!["gzip", "tables", "exclude"].includes(key)) throw invalidOption(`export.${key} is not an option of fleet exports (gzip, tables, exclude).`);
  }
  const resolved: ResolvedFleetConfig = {
    namespace: config.namespace,
    bucket: config.bucket,
    workflow: config.workflow,
    objects: (cursor) => config.objects(cursor),
    prefix: checkFleetPrefix(config.prefix),
    concurrency: integerIn("concurrency", config.concurrency, FLEET_LIMITS.concurrency),
    objectsPerInstance: integerIn("objectsPerInstance", config.objectsPerInstance, FLEET_LIMITS.objectsPerInstance),
    attempts: integerIn("attempts", config.attempts, FLEET_LIMITS.attempts),
    keepRuns: integerIn("keepRuns", config.keepRuns, FLEET_LIMITS.keepRuns),
    export: exportOptions,
    stepRetries: stepRetries(config.stepRetries),
    waitTimeoutMs: integerIn("waitTimeoutMs", config.waitTimeoutMs, FLEET_LIMITS.waitTimeoutMs),
    objectTimeoutMs: integerIn("objectTimeoutMs", config.objectTimeoutMs, FLEET_LIMITS.objectTimeoutMs),
    progressIntervalMs: integerIn("progressIntervalMs", config.progressIntervalMs, FLEET_LIMITS.progressIntervalMs),
  };
  const maxSteps = integerIn("maxSteps", config.maxSteps, FLEET_LIMITS.maxSteps);
  const needed = resolved.objectsPerInstance * 2 * resolved.attempts + STEPS_PER_INSTANCE;
  if (needed > maxSteps) {
    throw invalidOption(
      `objectsPerInstance × attempts needs up to ${needed} steps per instance, more than maxSteps (${maxSteps}): lower objectsPerInstance or attempts, or raise the account's step limit and maxSteps.`,
    );
  }
  return resolved;
}
