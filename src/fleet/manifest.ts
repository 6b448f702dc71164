/**
 * A run's manifest and its pages in R2: written by the run, read by anyone (restore, audits,
 * dashboards). The manifest holds the totals and times and names its pages; each page holds one
 * NDJSON line per object, so no document grows with the fleet beyond one instance's objects.
 */
import { DumpError } from "../errors.js";
import { addTotals, manifestShape, parsePage, progressShape, readDocument, totalsOf, writeDocument } from "./documents.js";
import { checkFleetPrefix, checkObjectName, checkRunId, runKeys } from "./names.js";
import { readRunsIndex } from "./runs-index.js";
import type { FleetEntry, FleetPage, FleetProgress, FleetRunManifest, FleetRunSummary } from "./types.js";

/** Where a fleet keeps its runs and which run: `prefix` defaults to `"durable-dump/fleet/"`. */
export interface FleetRunLocation {
  prefix?: string;
  runId: string;
}

/** Writes `entries` as page `key` and returns the page's line for the manifest. */
export async function writePage(bucket: R2Bucket, key: string, entries: readonly FleetEntry[]): Promise<FleetPage> {
  const body = entries.map((e) => `${JSON.stringify(e)}\n`).join("");
  await bucket.put(key, body, { httpMetadata: { contentType: "application/x-ndjson" } });
  return { key, ...totalsOf(entries) };
}

/** Writes the manifest of a run whose pages are all written. */
export async function writeManifest(
  bucket: R2Bucket,
  prefix: string,
  run: { runId: string; startedAt: number; finishedAt: number; instances: number; pages: FleetPage[] },
): Promise<FleetRunManifest> {
  const manifest: FleetRunManifest = {
    format: "durable-dump-fleet-run",
    version: 1,
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    instances: run.instances,
    ...addTotals(run.pages),
    pages: run.pages,
  };
  await writeDocument(bucket, runKeys(prefix, run.runId).manifest, manifest);
  return manifest;
}

/**
 * The manifest of a run, or null when it has none (running, skipped, abandoned or deleted).
 *
 * @throws {DumpError} `INVALID_ARGUMENT` for a bad run id or prefix, `RECORD_UNREADABLE` for a damaged manifest.
 */
export async function readFleetManifest(bucket: R2Bucket, location: FleetRunLocation): Promise<FleetRunManifest | null> {
  const prefix = checkFleetPrefix(location.prefix);
  return (await readDocument(bucket, runKeys(prefix, checkRunId(location.runId)).manifest, manifestShape))?.value ?? null;
}

/** The entries of one page of a manifest. */
export async function readFleetPage(bucket: R2Bucket, page: FleetPage): Promise<FleetEntry[]> {
  const object = await bucket.get(page.key);
  if (!object) throw new DumpError("RECORD_UNREADABLE", `Page ${page.key} of the run manifest is missing.`);
  return parsePage(await object.text(), page.key);
}

/** Every entry of a run, page after page, in the order the objects were listed. */
export async function* fleetEntries(bucket: R2Bucket, manifest: FleetRunManifest): AsyncGenerator<FleetEntry> {
  for (const page of manifest.pages) yield* await readFleetPage(bucket, page);
}

/**
 * The entry of `object` in run `runId`, or null when the run has no manifest or did not list the
 * object. Reads the pages in order until it finds the object (one R2 read per page).
 */
export async function findFleetEntry(bucket: R2Bucket, location: FleetRunLocation & { object: string }): Promise<FleetEntry | null> {
  const name = checkObjectName(location.object);
  const manifest = await readFleetManifest(bucket, location);
  if (!manifest) return null;
  for await (const entry of fleetEntries(bucket, manifest)) if (entry.object === name) return entry;
  return null;
}

/** The runs a fleet keeps (oldest first) and the one in progress, from its runs index. */
export async function listFleetRuns(bucket: R2Bucket, options: { prefix?: string } = {}): Promise<{ current: string | null; runs: FleetRunSummary[] }> {
  const index = await readRunsIndex(bucket, checkFleetPrefix(options.prefix));
  return { current: index.current?.runId ?? null, runs: index.runs };
}

/**
 * Progress of a run, from the documents its instances write every `progressIntervalMs` (and when
 * they end): approximate while the run goes on, exact once it has ended.
 */
export async function readFleetProgress(bucket: R2Bucket, location: FleetRunLocation): Promise<FleetProgress> {
  const keys = runKeys(checkFleetPrefix(location.prefix), checkRunId(location.runId));
  const progress: FleetProgress = { listed: 0, done: 0, completed: 0, failed: 0, bytes: 0, rows: 0, updatedAt: null };
  let cursor: string | undefined;
  do {
    const listing = await bucket.list({ prefix: keys.progressPrefix, ...(cursor ? { cursor } : {}) });
    for (const item of listing.objects) {
      const doc = (await readDocument(bucket, item.key, progressShape))?.value;
      if (!doc) continue;
      // The run's own document counts every object listed; an instance's counts its objects' outcomes.
      if (item.key === keys.progress("run")) progress.listed = doc.listed;
      else for (const field of ["done", "completed", "failed", "bytes", "rows"] as const) progress[field] += doc[field];
      progress.updatedAt = Math.max(progress.updatedAt ?? 0, doc.updatedAt);
    }
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
  return progress;
}
