/** The Workflow a user exports from their Worker to back up a fleet of Durable Objects. */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { resolveFleetConfig } from "./config.js";
import { runFleet } from "./run.js";
import { type ShardParams, runShardInstance, shardParams } from "./shard-instance.js";
import type { FleetBackupConfig, FleetPage, FleetRunOutput, FleetRunParams } from "./types.js";

/**
 * Backs up every object of a Durable Object namespace into R2: extend it, return the fleet's
 * configuration from {@link FleetBackupWorkflow.fleet}, export the class from the Worker and bind it as a Workflow.
 * Each instance is one run (its instance id is the run id); a run with more objects than
 * `objectsPerInstance` creates child instances of the same Workflow, one shard at a time.
 *
 * @example
 * export class TenantBackups extends FleetBackupWorkflow<Env> {
 *   protected fleet(): FleetBackupConfig {
 *     return {
 *       namespace: this.env.TENANTS, bucket: this.env.DUMPS, workflow: this.env.TENANT_BACKUPS,
 *       objects: async (cursor) => listTenants(this.env.DB, cursor),
 *     };
 *   }
 * }
 */
export abstract class FleetBackupWorkflow<Env = unknown> extends WorkflowEntrypoint<Env, FleetRunParams | ShardParams> {
  /** The fleet's configuration, usually from `this.env`. Called at the start of every run and every child instance. */
  protected abstract fleet(): FleetBackupConfig;

  /** Runs a run, or one of its child instances. */
  override async run(event: Readonly<WorkflowEvent<FleetRunParams | ShardParams>>, step: WorkflowStep): Promise<FleetRunOutput | FleetPage> {
    const config = resolveFleetConfig(this.fleet());
    const shard = shardParams(event.payload);
    if (shard) return runShardInstance({ config, step, runId: shard.runId, instanceId: event.instanceId }, shard.shard, shard.parent);
    return runFleet({ config, step, runId: event.instanceId, instanceId: event.instanceId });
  }
}
