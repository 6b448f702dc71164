/**
 * A fleet backup run, as its own workflow instance runs it: take the fleet's lock, list the
 * objects, back them up (itself, or through child instances when there are more than
 * `objectsPerInstance`), write the manifest, release the lock and delete the runs beyond
 * `keepRuns`.
 */
import { DumpError } from "../errors.js";
import { FLEET_LIMITS } from "./config.js";
import { writeDocument } from "./documents.js";
import { type InstanceContext, ioStep } from "./lane.js";
import { writeManifest } from "./manifest.js";
import { MAX_OBJECT_NAME_LENGTH, isObjectName, runKeys } from "./names.js";
import { deleteRun } from "./retention.js";
import { claimRun, finishRun, forgetRuns } from "./runs-index.js";
import { runChild } from "./shard-instance.js";
import { backupShard } from "./shard.js";
import type { FleetObjectPage, FleetPage, FleetRunOutput } from "./types.js";

/** A page from the object source, checked outside its step: a bad page is a bug of the source, not worth a retry, and fails the run with this message. */
function checkPage(page: FleetObjectPage): FleetObjectPage {
  const p = page as Partial<FleetObjectPage> | null;
  if (typeof p !== "object" || p === null || !Array.isArray(p.names) || (p.cursor !== null && typeof p.cursor !== "string")) {
    throw new DumpError("INVALID_ARGUMENT", "objects() must return { names: string[], cursor: string | null }.");
  }
  if (p.names.length > FLEET_LIMITS.pageNames)
    throw new DumpError("INVALID_ARGUMENT", `objects() returned ${p.names.length} names; at most ${FLEET_LIMITS.pageNames} per page.`);
  const bad = p.names.find((n) => !isObjectName(n));
  if (bad !== undefined) {
    throw new DumpError(
      "INVALID_ARGUMENT",
      `objects() returned ${JSON.stringify(bad)}: names are strings of 1-${MAX_OBJECT_NAME_LENGTH} characters without control characters.`,
    );
  }
  return { names: p.names, cursor: p.cursor ?? null };
}

/** Every object name, one step per page of the source. */
async function listObjects(ctx: InstanceContext): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | null = null;
  for (let n = 0; ; n++) {
    const from: string | null = cursor;
    const page = checkPage(await ctx.step.do(`list ${n}`, ioStep(ctx.config), (): Promise<FleetObjectPage> => ctx.config.objects(from)));
    names.push(...page.names);
    if (page.cursor === null) return names;
    cursor = page.cursor;
  }
}

/** Backs up `names` in this instance, or shard after shard in child instances when there are too many. */
async function backupAll(ctx: InstanceContext, names: string[]): Promise<FleetPage[]> {
  const size = ctx.config.objectsPerInstance;
  if (names.length <= size) return [await backupShard(ctx, 0, names)];
  const pages: FleetPage[] = [];
  // One child at a time: the run's concurrency is each child's concurrency.
  for (let n = 0; n * size < names.length; n++) pages.push(await runChild(ctx, n, names.slice(n * size, (n + 1) * size)));
  return pages;
}

/** The run: see the file's comment. Returns what the instance outputs. */
export async function runFleet(ctx: InstanceContext): Promise<FleetRunOutput> {
  const { config, step, runId } = ctx;
  const { bucket, prefix } = config;
  const keys = runKeys(prefix, runId);
  const claim = await step.do("claim", ioStep(config), () => claimRun(bucket, prefix, config.workflow, runId, Date.now()));
  if (!claim.claimed) return { runId, state: "skipped", heldBy: claim.heldBy };
  const names = await listObjects(ctx);
  await step.do("listed", ioStep(config), async () => {
    await writeDocument(bucket, keys.progress("run"), { listed: names.length, done: 0, completed: 0, failed: 0, bytes: 0, rows: 0, updatedAt: Date.now() });
    return names.length;
  });
  const pages = await backupAll(ctx, names);
  const manifest = await step.do("manifest", ioStep(config), () =>
    writeManifest(bucket, prefix, { runId, startedAt: claim.startedAt, finishedAt: Date.now(), instances: pages.length, pages }),
  );
  const { objects, completed, failed, bytes, rows, finishedAt } = manifest;
  const totals = { objects, completed, failed, bytes, rows };
  const doomed = await step.do("retention", ioStep(config), () =>
    finishRun(bucket, prefix, { runId, finishedAt, manifestKey: keys.manifest, totals }, config.keepRuns),
  );
  const deleted: string[] = [];
  for (const old of doomed) {
    try {
      await deleteRun(ctx, old);
      deleted.push(old);
    } catch {
      // Left as "deleting" in the index: the next run tries again.
    }
  }
  if (deleted.length > 0) await step.do("forget deleted runs", ioStep(config), () => forgetRuns(bucket, prefix, deleted));
  return { runId, state: "completed", manifestKey: keys.manifest, totals, deletedRuns: deleted };
}
