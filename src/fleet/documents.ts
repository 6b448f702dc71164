/**
 * The JSON documents a fleet run keeps in R2 (runs index, manifest, pages, progress): their shapes,
 * checked when read, and plain reads and writes.
 */
import { DumpError } from "../errors.js";
import { jobError } from "../persisted/job-record.js";
import { type Shape, ShapeError, array, count, literal, nullable, object, string } from "../persisted/shape.js";
import type { FleetEntry, FleetProgress, FleetRunManifest, FleetRunSummary, FleetTotals } from "./types.js";

const totalsFields = { objects: count, completed: count, failed: count, bytes: count, rows: count };
export const totalsShape: Shape<FleetTotals> = object(totalsFields);

export const entryShape: Shape<FleetEntry> = object({
  object: string,
  state: literal("completed", "failed"),
  attempts: count,
  jobId: nullable(string),
  dumpKey: nullable(string),
  manifestKey: nullable(string),
  bytes: count,
  rows: count,
  error: nullable(jobError),
  startedAt: nullable(count),
  finishedAt: nullable(count),
});

export const manifestShape: Shape<FleetRunManifest> = object({
  format: literal("durable-dump-fleet-run"),
  version: literal(1),
  runId: string,
  startedAt: count,
  finishedAt: count,
  instances: count,
  ...totalsFields,
  pages: array(object({ key: string, ...totalsFields })),
});

const summaryShape: Shape<FleetRunSummary> = object({
  runId: string,
  state: literal("running", "completed", "abandoned", "deleting"),
  startedAt: count,
  finishedAt: nullable(count),
  manifestKey: nullable(string),
  totals: nullable(totalsShape),
});

/** The runs index: the run holding the lock, and every run still kept, oldest first. */
export interface RunsIndex {
  version: 1;
  current: { runId: string; startedAt: number } | null;
  runs: FleetRunSummary[];
}

export const runsIndexShape: Shape<RunsIndex> = object({
  version: literal(1),
  current: nullable(object({ runId: string, startedAt: count })),
  runs: array(summaryShape),
});

/**
 * A progress document: an instance's (`listed` is its list, the rest its objects' outcomes so
 * far), or the run's own (`run.json`: `listed` is every object listed, the rest zero).
 */
export type ProgressDocument = Omit<FleetProgress, "updatedAt"> & { updatedAt: number };

export const progressShape: Shape<ProgressDocument> = object({
  listed: count,
  done: count,
  completed: count,
  failed: count,
  bytes: count,
  rows: count,
  updatedAt: count,
});

/** Parses and checks a document read from R2. @throws {DumpError} `RECORD_UNREADABLE`. */
export function parseDocument<T>(text: string, shape: Shape<T>, key: string): T {
  try {
    return shape.check(JSON.parse(text), key);
  } catch (error) {
    if (error instanceof ShapeError || error instanceof SyntaxError) {
      throw new DumpError("RECORD_UNREADABLE", `R2 object ${key} cannot be read: ${error.message}.`, { cause: error });
    }
    throw error;
  }
}

/** The document at `key` and its etag, or null when there is none. */
export async function readDocument<T>(bucket: R2Bucket, key: string, shape: Shape<T>): Promise<{ value: T; etag: string } | null> {
  const object = await bucket.get(key);
  if (!object) return null;
  return { value: parseDocument(await object.text(), shape, key), etag: object.etag };
}

/** Writes `value` as JSON at `key`. */
export async function writeDocument(bucket: R2Bucket, key: string, value: unknown): Promise<void> {
  await bucket.put(key, JSON.stringify(value), { httpMetadata: { contentType: "application/json" } });
}

/** The entries of one page (NDJSON: one entry per line). */
export function parsePage(text: string, key: string): FleetEntry[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line, i) => parseDocument(line, entryShape, `${key}:${i + 1}`));
}

/** Sums of `entries`. */
export function totalsOf(entries: readonly FleetEntry[]): FleetTotals {
  const totals: FleetTotals = { objects: entries.length, completed: 0, failed: 0, bytes: 0, rows: 0 };
  for (const e of entries) {
    if (e.state === "completed") totals.completed++;
    else totals.failed++;
    totals.bytes += e.bytes;
    totals.rows += e.rows;
  }
  return totals;
}

/** Sums of several totals. */
export function addTotals(parts: readonly FleetTotals[]): FleetTotals {
  const sum: FleetTotals = { objects: 0, completed: 0, failed: 0, bytes: 0, rows: 0 };
  for (const t of parts) {
    sum.objects += t.objects;
    sum.completed += t.completed;
    sum.failed += t.failed;
    sum.bytes += t.bytes;
    sum.rows += t.rows;
  }
  return sum;
}
