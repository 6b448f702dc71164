import { DumpError } from "./errors.js";
import type { DumpFormatter } from "./formatters/formatter.js";
import { GzipStage } from "./gzip-stage.js";
import type { JobRecord, UploadRecord } from "./job-store.js";
import { JOB_METADATA_KEY, objectKey } from "./output-keys.js";

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

/**
 * Opens the multipart upload of one output object of the job (of `table`, for formats with one
 * object per table): key `<keyBase>[/<table>].<extension>[.gz]`, the formatter's Content-Type,
 * `Content-Encoding: gzip` when compressed, and the job id in the custom metadata.
 */
export async function openOutput(bucket: R2Bucket, record: JobRecord, formatter: DumpFormatter, table: string | null): Promise<{ upload: R2MultipartUpload; record: UploadRecord }> {
  const gzip = record.options.gzip;
  const key = objectKey(record.keyBase, gzip ? `${formatter.extension}.gz` : formatter.extension, table);
  await assertOwnKey(bucket, key, record.id);
  const upload = await bucket.createMultipartUpload(key, {
    httpMetadata: gzip ? { contentType: formatter.contentType, contentEncoding: "gzip" } : { contentType: formatter.contentType },
    customMetadata: { [JOB_METADATA_KEY]: record.id },
  });
  const uploadRecord: UploadRecord = { key, uploadId: upload.uploadId, table, parts: [], tailLength: 0 };
  if (gzip) uploadRecord.gzip = GzipStage.initialState();
  return { upload, record: uploadRecord };
}
