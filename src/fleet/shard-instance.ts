/**
 * The run's children: how the run hands a shard of its objects to a child instance and waits for
 * its page, and what the child does.
 */
import { DumpError } from "../errors.js";
import { array, string } from "../persisted/shape.js";
import { readDocument, writeDocument } from "./documents.js";
import { type InstanceContext, ioStep } from "./lane.js";
import { writePage } from "./manifest.js";
import { childInstanceId, runKeys, shardEventType } from "./names.js";
import { noExport } from "./outcome.js";
import { isLiveStatus } from "./runs-index.js";
import { backupShard } from "./shard.js";
import type { FleetEntry, FleetPage } from "./types.js";

/** Parameters of a child instance. */
export interface ShardParams {
  fleetShard: { runId: string; shard: number; parent: string };
}

/** The shard parameters in an instance's params, or null for a run's own instance. */
export function shardParams(params: unknown): ShardParams["fleetShard"] | null {
  const shard = (params as Partial<ShardParams> | null)?.fleetShard;
  return typeof shard === "object" && shard !== null ? shard : null;
}

/** `value` if it is a page line (a child's output or event payload). */
function pageOf(value: unknown): FleetPage | null {
  const p = value as Partial<FleetPage> | null;
  return typeof p === "object" && p !== null && typeof p.key === "string" && typeof p.objects === "number" ? (p as FleetPage) : null;
}

/** Creates instance `id` unless it exists (production's `create` throws for an existing id; local mode returns it). */
async function createOnce(workflow: Workflow, id: string, params: ShardParams): Promise<void> {
  try {
    await workflow.create({ id, params });
  } catch (error) {
    const exists = await workflow.get(id).then(
      () => true,
      () => false,
    );
    if (!exists) throw error;
  }
}

/** Hands shard `n` (`names`) to a child instance and waits for its page; a child that ends without one fails its objects. */
export async function runChild(ctx: InstanceContext, n: number, names: readonly string[]): Promise<FleetPage> {
  const { bucket, prefix, workflow, waitTimeoutMs } = ctx.config;
  const keys = runKeys(prefix, ctx.runId);
  const id = childInstanceId(ctx.runId, n);
  await ctx.step.do(`shard ${n} create`, ioStep(ctx.config), async () => {
    await writeDocument(bucket, keys.shardNames(n), names);
    await createOnce(workflow, id, { fleetShard: { runId: ctx.runId, shard: n, parent: ctx.instanceId } });
    return id;
  });
  for (let wait = 1; ; wait++) {
    try {
      const page = pageOf((await ctx.step.waitForEvent(`shard ${n} wait ${wait}`, { type: shardEventType(n), timeout: waitTimeoutMs })).payload);
      if (page) return page;
    } catch {
      // Timed out: ask the child below.
    }
    const child = await ctx.step.do(`shard ${n} check ${wait}`, ioStep(ctx.config), async () => {
      const status = await (await workflow.get(id)).status();
      return { page: pageOf(status.output), live: isLiveStatus(status.status), error: status.error?.message ?? null };
    });
    if (child.page) return child.page;
    if (!child.live) {
      const error = { code: "SHARD_FAILED" as const, message: `Child instance ${id} ended without reporting: ${child.error ?? "no error given"}.` };
      const entries: FleetEntry[] = names.map((object) => ({ object, state: "failed", attempts: 0, ...noExport(error) }));
      return ctx.step.do(`shard ${n} failed`, ioStep(ctx.config), () => writePage(bucket, keys.page(n), entries));
    }
  }
}

/** A child instance: backs up its shard, then reports the page to the run (which also finds it in this instance's output). */
export async function runShardInstance(ctx: InstanceContext, shard: number, parent: string): Promise<FleetPage> {
  const { bucket, prefix, workflow } = ctx.config;
  const namesKey = runKeys(prefix, ctx.runId).shardNames(shard);
  const names = await ctx.step.do("names", ioStep(ctx.config), async () => {
    const doc = await readDocument(bucket, namesKey, array(string));
    if (!doc) throw new DumpError("RECORD_UNREADABLE", `The names of shard ${shard} (${namesKey}) are missing.`);
    return doc.value;
  });
  const page = await backupShard(ctx, shard, names);
  try {
    await ctx.step.do("report", ioStep(ctx.config), async () => {
      await (await workflow.get(parent)).sendEvent({ type: shardEventType(shard), payload: page });
    });
  } catch {
    // The run finds the page in this instance's output when its wait times out.
  }
  return page;
}
