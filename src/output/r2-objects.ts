/** The R2 objects a job writes: their keys, the metadata that marks them as the job's, and their removal. */
import { DumpError } from "../errors.js";

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

/**
 * Throws `OUTPUT_EXISTS` when R2 holds `key` and the object was not written by job `id`: a job
 * never overwrites an object it did not create.
 */
export async function assertOwnKey(bucket: R2Bucket, key: string, id: string): Promise<void> {
  const head = await bucket.head(key);
  if (head && head.customMetadata?.[JOB_METADATA_KEY] !== id) {
    throw new DumpError("OUTPUT_EXISTS", `R2 already holds ${key}, written by something else than job ${id}; choose another keyPrefix.`);
  }
}

/** Aborts a multipart upload, ignoring errors: it may be gone already (completed, aborted or expired). */
export async function abortUploadQuietly(bucket: R2Bucket, upload: { key: string; uploadId: string }): Promise<void> {
  try {
    await bucket.resumeMultipartUpload(upload.key, upload.uploadId).abort();
  } catch {
    // Nothing is left to free; R2 drops incomplete uploads after 7 days in any case.
  }
}

/** Deletes those of the R2 objects `keys` that still carry job `id` in their metadata. */
export async function deleteOwnedObjects(bucket: R2Bucket, keys: string[], id: string): Promise<void> {
  for (const key of keys) {
    const head = await bucket.head(key);
    if (head?.customMetadata?.[JOB_METADATA_KEY] === id) await bucket.delete(key);
  }
}
