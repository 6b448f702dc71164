import { JOB_METADATA_KEY } from "./output-keys.js";

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
