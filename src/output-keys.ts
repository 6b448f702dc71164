/** Custom metadata key on every object the engine writes; its value is the job id. */
export const JOB_METADATA_KEY = "durable-dump-job";

/**
 * R2 key of an output object: `<base>.<ext>` for a whole-job object, `<base>/<table>.<ext>` for a
 * per-table one, with the table name percent-encoded so that no name can escape the prefix.
 */
export function objectKey(base: string, extension: string, table: string | null): string {
  return table === null ? `${base}.${extension}` : `${base}/${encodeURIComponent(table)}.${extension}`;
}

/** R2 key of a job's manifest: next to its output, `<base>.manifest.json`. */
export function manifestKey(base: string): string {
  return `${base}.manifest.json`;
}
