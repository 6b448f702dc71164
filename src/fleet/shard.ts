/**
 * The objects of one workflow instance (the run itself when it is small, or one of its children):
 * backed up `concurrency` at a time, then written as one page of the run manifest.
 */
import { writeDocument } from "./documents.js";
import { type InstanceContext, backupObject, ioStep, pool } from "./lane.js";
import { writePage } from "./manifest.js";
import { runKeys } from "./names.js";
import { ProgressWriter, finalProgress } from "./progress.js";
import type { FleetEntry, FleetPage } from "./types.js";

/** Name of an instance's progress document: `s<n>` for shard `n`. */
export function shardProgressName(shard: number): string {
  return `s${shard}`;
}

/** Backs up `names` (shard `shard` of the run) and writes their page; returns the page's line. */
export async function backupShard(ctx: InstanceContext, shard: number, names: readonly string[]): Promise<FleetPage> {
  const { bucket, concurrency, progressIntervalMs, prefix } = ctx.config;
  const keys = runKeys(prefix, ctx.runId);
  const progressKey = keys.progress(shardProgressName(shard));
  const progress = new ProgressWriter(bucket, progressKey, names.length, progressIntervalMs);
  const entries: FleetEntry[] = await pool(names.length, concurrency, async (index) => {
    const entry = await backupObject(ctx, index, names[index]!);
    progress.add(entry);
    return entry;
  });
  const page = await ctx.step.do(`page ${shard}`, ioStep(ctx.config), async () => {
    const written = await writePage(bucket, keys.page(shard), entries);
    await writeDocument(bucket, progressKey, finalProgress(names.length, entries, Date.now()));
    return written;
  });
  await progress.close(entries);
  return page;
}
