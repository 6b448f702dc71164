import { GzipStage } from "../output/gzip-stage.js";
import { JOB_METADATA_KEY, assertOwnKey, objectKey } from "../output/r2-objects.js";
import type { DumpRecord, UploadState } from "../persisted/dump-record.js";

/** What an output object is written as: a formatter's extension and Content-Type, or the key-value file's. */
export interface OutputKind {
  extension: string;
  contentType: string;
}

/**
 * Opens the multipart upload of the job's next output object (of `table`, for formats with one
 * object per table; the key-value object with `kv`): key `<keyBase>[/<table>].<extension>[.gz]`,
 * the kind's Content-Type, `Content-Encoding: gzip` when compressed, and the job id in the custom
 * metadata. `object` is the index the object will have among the job's finished objects.
 */
export async function openOutput(
  bucket: R2Bucket,
  record: DumpRecord,
  kind: OutputKind,
  table: string | null,
  object: number,
  kv = false,
): Promise<{ upload: R2MultipartUpload; state: UploadState }> {
  const gzip = record.options.gzip;
  const key = objectKey(record.keyBase, gzip ? `${kind.extension}.gz` : kind.extension, table);
  await assertOwnKey(bucket, key, record.id);
  const upload = await bucket.createMultipartUpload(key, {
    httpMetadata: gzip ? { contentType: kind.contentType, contentEncoding: "gzip" } : { contentType: kind.contentType },
    customMetadata: { [JOB_METADATA_KEY]: record.id },
  });
  const state: UploadState = {
    key,
    uploadId: upload.uploadId,
    table,
    object,
    partPages: [],
    partCount: 0,
    uploadedBytes: 0,
    tailLength: 0,
    gzip: gzip ? GzipStage.initialState() : null,
    kv,
    segment: null,
  };
  return { upload, state };
}
