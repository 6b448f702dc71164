/**
 * The fleet backup Workflow of the example: every tenant the app registered in D1, backed up
 * nightly (see the cron trigger in wrangler.jsonc and `scheduled` in index.ts).
 */
import { type FleetBackupConfig, FleetBackupWorkflow } from "durable-dump/fleet";
import type { Env } from "./env.js";
import { tenantPage } from "./tenants.js";

const number = (value: string | undefined): number | undefined => (value === undefined || value === "" ? undefined : Number(value));

export class TenantBackups extends FleetBackupWorkflow<Env> {
  protected fleet(): FleetBackupConfig {
    const env = this.env;
    const retryDelay = number(env.FLEET_STEP_RETRY_DELAY_MS);
    return {
      namespace: env.TENANTS,
      bucket: env.DUMPS,
      workflow: env.TENANT_BACKUPS,
      // Workers cannot list a namespace's objects: the app keeps its tenants in D1, read here page by page.
      objects: (cursor) => tenantPage(env.DB, cursor),
      concurrency: number(env.FLEET_CONCURRENCY),
      objectsPerInstance: number(env.FLEET_OBJECTS_PER_INSTANCE),
      keepRuns: number(env.FLEET_KEEP_RUNS),
      attempts: number(env.FLEET_ATTEMPTS),
      waitTimeoutMs: number(env.FLEET_WAIT_TIMEOUT_MS),
      progressIntervalMs: number(env.FLEET_PROGRESS_INTERVAL_MS),
      export: { gzip: true },
      ...(retryDelay === undefined ? {} : { stepRetries: { limit: 3, delayMs: retryDelay, backoff: "constant" as const } }),
    };
  }
}
