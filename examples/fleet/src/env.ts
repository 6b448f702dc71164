import type { Tenant } from "./tenant.js";

/** Bindings and vars of the fleet example (wrangler.jsonc). */
export interface Env {
  /** One Durable Object per tenant. */
  TENANTS: DurableObjectNamespace<Tenant>;
  /** Dumps, run manifests and the runs index. */
  DUMPS: R2Bucket;
  /** The app's list of tenants: the fleet's source of object names. */
  DB: D1Database;
  /** The fleet backup Workflow (class `TenantBackups`). */
  TENANT_BACKUPS: Workflow;
  /** Bearer token of the `/backups` admin routes (a secret). Without it they answer 401. */
  ADMIN_TOKEN?: string;
  /** Tunables of the fleet (all optional; the library's defaults otherwise). */
  FLEET_CONCURRENCY?: string;
  FLEET_OBJECTS_PER_INSTANCE?: string;
  FLEET_KEEP_RUNS?: string;
  FLEET_ATTEMPTS?: string;
  FLEET_STEP_RETRY_DELAY_MS?: string;
  FLEET_WAIT_TIMEOUT_MS?: string;
  FLEET_PROGRESS_INTERVAL_MS?: string;
  /** Wall time of one export tick in ms. Default: the engine's (5,000). */
  DUMP_TICK_BUDGET_MS?: string;
}
