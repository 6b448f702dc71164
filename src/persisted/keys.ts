/**
 * Every key the library writes in the object's key-value storage, in one place (docs/storage.md
 * describes them). Each starts with {@link STORAGE_PREFIX}. What lives as long as a job's record
 * sits under `durable-dump:<kind>:`; scratch state that a job frees when it ends sits under names
 * of its own (`tail:`, `gzip:`, `parts:`, `plan:`, `rows:`, `restore-parts:`).
 */

/** Every storage key of the library starts with this. */
export const STORAGE_PREFIX = "durable-dump:";

/** The kinds of job, each with a namespace of its own: `job` holds export jobs (its name predates restores). */
export type JobNamespace = "job" | "restore";

export const keys = {
  /** A job's record. */
  record: (ns: JobNamespace, id: string) => `${STORAGE_PREFIX}${ns}:${id}`,
  /** Prefix of the index entries of a kind: one small entry per job, listed by a tick instead of every record. */
  indexPrefix: (ns: JobNamespace) => `${STORAGE_PREFIX}${ns}:index:`,
  indexEntry: (ns: JobNamespace, id: string) => `${STORAGE_PREFIX}${ns}:index:${id}`,
  /** Layout version of a kind's keys; missing before the index existed (release 0.1.0). */
  layout: (ns: JobNamespace) => `${STORAGE_PREFIX}${ns}:layout`,
  /** A page of a list kept as long as the job's record (a dump's finished objects). */
  recordPage: (ns: JobNamespace, id: string, list: string, page: number) => `${STORAGE_PREFIX}${ns}:${id}:${list}:${page}`,
  /** A page of a list kept while the job runs. */
  scratchPage: (list: "plan" | "rows" | "parts", id: string, page: number, object?: number) =>
    object === undefined ? `${STORAGE_PREFIX}${list}:${id}:${page}` : `${STORAGE_PREFIX}${list}:${id}:${object}:${page}`,
  /** A page of the parts (size, SHA-256, gzip segment) of the dump a restore reads, kept while it runs. */
  restoreParts: (id: string, source: number, page: number) => `${STORAGE_PREFIX}restore-parts:${id}:${source}:${page}`,
  /** Bytes 1 MiB × `index` … of the part being filled, not yet uploaded. */
  tail: (id: string, index: number) => `${STORAGE_PREFIX}tail:${id}:${index}`,
  /** Uncompressed bytes of the gzip segment being filled. */
  gzip: (id: string) => `${STORAGE_PREFIX}gzip:${id}`,
  /** A pending wake-up of the alarm scheduler. */
  wake: (name: string) => `${STORAGE_PREFIX}wake:${name}`,
  wakePrefix: `${STORAGE_PREFIX}wake:`,
  /** Which export of this object belongs to a fleet backup run (`src/fleet/host.ts`). */
  fleetRun: (runId: string) => `${STORAGE_PREFIX}fleet:${runId}`,
  fleetPrefix: `${STORAGE_PREFIX}fleet:`,
} as const;
