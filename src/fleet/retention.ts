/** Deleting what an old run wrote: its objects' dumps (as its manifest lists them), then everything under its prefix. */
import { ioStep, type InstanceContext } from "./lane.js";
import { manifestShape, parsePage, readDocument } from "./documents.js";
import { runKeys } from "./names.js";

/** R2 deletes at most this many keys per call. */
const DELETE_BATCH = 1_000;

async function deleteKeys(bucket: R2Bucket, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) await bucket.delete(keys.slice(i, i + DELETE_BATCH));
}

/**
 * Deletes run `runId`: one step per page of its manifest (the dumps and dump manifests the page
 * lists, then the page), then a step that empties the run's prefix (manifest, shard lists,
 * progress, and anything a run that never finished left there). Every step can run again.
 */
export async function deleteRun(ctx: InstanceContext, runId: string): Promise<number> {
  const { bucket, prefix } = ctx.config;
  const keys = runKeys(prefix, runId);
  const pages = await ctx.step.do(`delete ${runId} pages`, ioStep(ctx.config), async () => {
    return (await readDocument(bucket, keys.manifest, manifestShape))?.value.pages.map((p) => p.key) ?? [];
  });
  let deleted = 0;
  for (const [n, pageKey] of pages.entries()) {
    deleted += await ctx.step.do(`delete ${runId} page ${n}`, ioStep(ctx.config), async () => {
      const page = await bucket.get(pageKey);
      if (!page) return 0;
      const dumps = parsePage(await page.text(), pageKey).flatMap((e) => [e.dumpKey, e.manifestKey].filter((k): k is string => k !== null));
      await deleteKeys(bucket, dumps);
      await bucket.delete(pageKey);
      return dumps.length + 1;
    });
  }
  deleted += await ctx.step.do(`delete ${runId} rest`, ioStep(ctx.config), async () => {
    let count = 0;
    for (;;) {
      const listing = await bucket.list({ prefix: keys.base, limit: DELETE_BATCH });
      if (listing.objects.length === 0) return count;
      await deleteKeys(
        bucket,
        listing.objects.map((o) => o.key),
      );
      count += listing.objects.length;
    }
  });
  return deleted;
}
