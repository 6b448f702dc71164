/**
 * Names a fleet backup gives to things: run and instance ids, where a run's files live in R2,
 * the folder of an object's export, step and event names.
 */
import { DumpError } from "../errors.js";
import { checkKeyPrefix } from "../export/options.js";

/** Default prefix of everything a run writes in R2 itself (manifest, pages, progress, runs index). */
export const DEFAULT_FLEET_PREFIX = "durable-dump/fleet/";

/** Workflow instance ids: letters, digits, `-` and `_`, not starting with `-`, at most 100 characters. */
const INSTANCE_ID = /^[a-zA-Z0-9_][a-zA-Z0-9_-]*$/;

/** Run ids are instance ids short enough to leave room for a child's suffix (`-s<n>`). */
export const MAX_RUN_ID_LENGTH = 80;

/** Object names: what the namespace's `idFromName` receives; bounded so that a page of them stays small. */
export const MAX_OBJECT_NAME_LENGTH = 256;

function invalid(message: string): DumpError {
  return new DumpError("INVALID_ARGUMENT", message);
}

/** Whether `id` can be a workflow instance id. */
export function isInstanceId(id: unknown, maxLength = 100): id is string {
  return typeof id === "string" && id.length <= maxLength && INSTANCE_ID.test(id);
}

/** `runId`, checked. @throws {DumpError} `INVALID_ARGUMENT`. */
export function checkRunId(runId: unknown): string {
  if (!isInstanceId(runId, MAX_RUN_ID_LENGTH)) {
    throw invalid(`A run id is 1-${MAX_RUN_ID_LENGTH} letters, digits, "-" or "_" (not starting with "-"); got ${JSON.stringify(runId)}.`);
  }
  return runId;
}

/**
 * Whether `name` can be an object name: 1-256 characters, no control characters (so that a page
 * of 1,000 names, JSON-encoded, stays well under a step result's 1 MiB).
 */
export function isObjectName(name: unknown): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= MAX_OBJECT_NAME_LENGTH && !/[\u0000-\u001f\u007f]/.test(name);
}

/** `name`, checked. @throws {DumpError} `INVALID_ARGUMENT`. */
export function checkObjectName(name: unknown): string {
  if (!isObjectName(name)) {
    throw invalid(
      `An object name is a string of 1-${MAX_OBJECT_NAME_LENGTH} characters without control characters; got ${JSON.stringify(name)?.slice(0, 300)}.`,
    );
  }
  return name;
}

/** `prefix`, checked (the same rules as an engine's keyPrefix, and it must end with "/"). */
export function checkFleetPrefix(prefix: unknown): string {
  if (prefix === undefined) return DEFAULT_FLEET_PREFIX;
  const checked = checkKeyPrefix(prefix);
  if (!checked.endsWith("/")) throw new DumpError("INVALID_OPTIONS", `prefix ${JSON.stringify(prefix)} must end with "/".`);
  return checked;
}

/** An object name as one key segment: URI-encoded, so "/" cannot open a folder and "." or ".." cannot climb one. */
export function objectSegment(name: string): string {
  const encoded = encodeURIComponent(name);
  return encoded === "." || encoded === ".." ? encoded.replaceAll(".", "%2E") : encoded;
}

/** The folder, under the host engine's keyPrefix, of attempt `attempt` of `object` in run `runId`. */
export function exportFolder(runId: string, object: string, attempt: number): string {
  return `fleet/${runId}/objects/${objectSegment(object)}/${attempt}/`;
}

const pad = (n: number) => String(n).padStart(5, "0");

/** Keys of what run `runId` writes under `prefix`. */
export function runKeys(prefix: string, runId: string) {
  const base = `${prefix}${runId}/`;
  return {
    /** Everything of the run (except dumps written under the hosts' own keyPrefix) is under this. */
    base,
    manifest: `${base}manifest.json`,
    /** One NDJSON line per object of shard `n`. */
    page: (n: number) => `${base}pages/${pad(n)}.ndjson`,
    /** The names handed to child instance `n`. */
    shardNames: (n: number) => `${base}shards/${pad(n)}.json`,
    progressPrefix: `${base}progress/`,
    progress: (instance: string) => `${base}progress/${instance}.json`,
  };
}

/** The runs index: the run holding the lock, and every run kept. */
export function runsIndexKey(prefix: string): string {
  return `${prefix}runs.json`;
}

/** Instance id of child `n` of run `runId`. */
export function childInstanceId(runId: string, n: number): string {
  return `${runId}-s${n}`;
}

/** Event a host sends when attempt `attempt` of the object at `index` of its instance's list ends. */
export function objectEventType(index: number, attempt: number): string {
  return `object-${index}-${attempt}`;
}

/** Event a child instance sends its parent when shard `n` is done. */
export function shardEventType(n: number): string {
  return `shard-${n}`;
}

/** A run id for a run started at `time`: `<name>-YYYYMMDDTHHMMSSZ`, so that runs sort by start time. */
export function runIdAt(name: string, time: number): string {
  const stamp = new Date(time)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return checkRunId(`${name}-${stamp}`);
}
