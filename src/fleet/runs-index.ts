/**
 * The runs index (`<prefix>runs.json`): the lock that keeps two runs of a fleet from running at
 * once, and the list of runs retention goes by. Every change is a conditional put on the etag
 * read, so two writers never lose each other's change: the loser reads again.
 */
import { DumpError } from "../errors.js";
import { type RunsIndex, readDocument, runsIndexShape } from "./documents.js";
import { runsIndexKey } from "./names.js";
import type { FleetRunSummary, FleetTotals } from "./types.js";

/** Instance states in which a run may still make progress. */
const LIVE = new Set(["queued", "running", "paused", "waiting", "waitingForPause", "unknown"]);

/** Whether an instance with this status may still make progress. */
export function isLiveStatus(status: string): boolean {
  return LIVE.has(status);
}

/** Whether instance `id` of `workflow` may still make progress (false when it ended or does not exist). */
export async function isLive(workflow: Workflow, id: string): Promise<boolean> {
  let instance: WorkflowInstance;
  try {
    instance = await workflow.get(id);
  } catch {
    return false;
  }
  return isLiveStatus((await instance.status()).status);
}

/** Reads the index, applies `change` and writes it back if the etag did not move; reads again otherwise. */
async function update<T>(bucket: R2Bucket, prefix: string, change: (index: RunsIndex) => Promise<{ result: T; write: boolean }>): Promise<T> {
  const key = runsIndexKey(prefix);
  for (let attempt = 0; attempt < 10; attempt++) {
    const read = await readDocument(bucket, key, runsIndexShape);
    const index: RunsIndex = read?.value ?? { version: 1, current: null, runs: [] };
    const { result, write } = await change(index);
    if (!write) return result;
    const onlyIf = read ? { etagMatches: read.etag } : new Headers({ "if-none-match": "*" });
    const written = await bucket.put(key, JSON.stringify(index), { onlyIf, httpMetadata: { contentType: "application/json" } });
    if (written) return result;
  }
  throw new DumpError("IO_ERROR", `${key} kept changing while this run tried to update it.`);
}

/** What a run's claim found: it holds the lock now, or another live run does. */
export type Claim = { claimed: true; startedAt: number } | { claimed: false; heldBy: string };

/**
 * Takes the fleet's lock for run `runId` unless another live run holds it (a holder whose
 * instance ended is marked `abandoned`). Idempotent: claiming again answers the same.
 */
export function claimRun(bucket: R2Bucket, prefix: string, workflow: Workflow, runId: string, now: number): Promise<Claim> {
  return update<Claim>(bucket, prefix, async (index) => {
    const current = index.current;
    if (current?.runId === runId) return { result: { claimed: true, startedAt: current.startedAt }, write: false };
    if (index.runs.some((r) => r.runId === runId)) return { result: { claimed: false, heldBy: runId }, write: false };
    if (current && (await isLive(workflow, current.runId))) return { result: { claimed: false, heldBy: current.runId }, write: false };
    for (const run of index.runs) {
      if (run.state === "running") {
        run.state = "abandoned";
        run.finishedAt = now;
      }
    }
    index.current = { runId, startedAt: now };
    index.runs.push({ runId, state: "running", startedAt: now, finishedAt: null, manifestKey: null, totals: null });
    return { result: { claimed: true, startedAt: now }, write: true };
  });
}

/**
 * Records run `runId` as completed, releases the lock, and marks for deletion every ended run
 * beyond the newest `keep` (runs being deleted already included). Returns the runs to delete.
 */
export function finishRun(
  bucket: R2Bucket,
  prefix: string,
  run: { runId: string; finishedAt: number; manifestKey: string; totals: FleetTotals },
  keep: number,
): Promise<string[]> {
  return update(bucket, prefix, async (index) => {
    const mine = index.runs.find((r) => r.runId === run.runId);
    if (mine && (mine.state === "running" || mine.state === "abandoned"))
      Object.assign(mine, { state: "completed", finishedAt: run.finishedAt, manifestKey: run.manifestKey, totals: run.totals });
    if (index.current?.runId === run.runId) index.current = null;
    const ended = index.runs.filter((r) => r.state !== "running").sort((a, b) => b.startedAt - a.startedAt);
    const doomed: FleetRunSummary[] = ended.filter((r, i) => i >= keep || r.state === "deleting");
    for (const r of doomed) r.state = "deleting";
    return { result: doomed.map((r) => r.runId), write: true };
  });
}

/** Removes deleted runs from the index. */
export function forgetRuns(bucket: R2Bucket, prefix: string, runIds: readonly string[]): Promise<void> {
  return update(bucket, prefix, async (index) => {
    const before = index.runs.length;
    index.runs = index.runs.filter((r) => !runIds.includes(r.runId));
    return { result: undefined, write: index.runs.length !== before };
  });
}

/** Every run the index keeps, oldest first, and the run holding the lock. */
export async function readRunsIndex(bucket: R2Bucket, prefix: string): Promise<RunsIndex> {
  return (await readDocument(bucket, runsIndexKey(prefix), runsIndexShape))?.value ?? { version: 1, current: null, runs: [] };
}
