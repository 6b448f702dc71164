/**
 * What one export job's ticks work with besides its record: the paged lists it keeps (table plan,
 * rows per table, finished objects, parts of the open upload) and the writer of the open upload.
 * It loads them from storage and gathers what a checkpoint must save, so that the runner only
 * produces bytes.
 */
import { internalError } from "../errors.js";
import { type Deflater, deflaterFor } from "../output/deflater.js";
import { GzipStage } from "../output/gzip-stage.js";
import { PartWriter, TAIL_CHUNK_BYTES } from "../output/part-writer.js";
import { JOB_METADATA_KEY } from "../output/r2-objects.js";
import { type DumpRecord, LIST_LIMITS, type OutputObject, type PartRecord, type UploadState, objectShape, partShape } from "../persisted/dump-record.js";
import { keys } from "../persisted/keys.js";
import { PagedList } from "../persisted/paged-list.js";
import { count, string } from "../persisted/shape.js";
import type { StorageLike } from "../persisted/storage.js";
import { asBytes } from "../util/bytes.js";

/** The table plan of a job: names in export order. */
export function planList(storage: StorageLike, record: Pick<DumpRecord, "id" | "plan">): PagedList<string> {
  return new PagedList(storage, (p) => keys.scratchPage("plan", record.id, p), record.plan, string, LIST_LIMITS.plan);
}

/** A job's finished objects. */
export function objectList(storage: StorageLike, record: Pick<DumpRecord, "id" | "objects">): PagedList<OutputObject> {
  return new PagedList(storage, (p) => keys.recordPage("job", record.id, "objects", p), record.objects, objectShape, LIST_LIMITS.objects);
}

/** The parts of object number `object` of job `id`. */
export function partList(storage: StorageLike, id: string, object: number, sizes: readonly number[]): PagedList<PartRecord> {
  return new PagedList(storage, (p) => keys.scratchPage("parts", id, p, object), sizes, partShape, LIST_LIMITS.parts);
}

export class DumpWork {
  /** The job's record; replaced by the engine with the one it read back when it reuses the work. */
  record: DumpRecord;
  readonly plan: PagedList<string>;
  readonly rows: PagedList<number>;
  readonly objects: PagedList<OutputObject>;
  #parts: PagedList<PartRecord> | null;
  #writer: PartWriter | null;
  readonly #storage: StorageLike;
  /** Part pages of an object completed since the last checkpoint, still to be saved. */
  #storeParts: Record<string, unknown> = {};
  /** Part lists of the objects this work completed, as they are in memory (the manifest reads them). */
  readonly #completedParts = new Map<number, PagedList<PartRecord>>();

  private constructor(storage: StorageLike, record: DumpRecord, parts: PagedList<PartRecord> | null, writer: PartWriter | null) {
    this.#storage = storage;
    this.record = record;
    this.plan = planList(storage, record);
    this.rows = new PagedList(storage, (p) => keys.scratchPage("rows", record.id, p), record.rows, count, LIST_LIMITS.rows);
    this.objects = objectList(storage, record);
    this.#parts = parts;
    this.#writer = writer;
  }

  /** The work of `record` as storage holds it: the writer of its open upload is rebuilt from the tail and gzip state saved with the record. */
  static async load(storage: StorageLike, bucket: R2Bucket, record: DumpRecord): Promise<DumpWork> {
    const upload = record.upload;
    if (!upload) return new DumpWork(storage, record, null, null);
    const tail = await readTail(storage, record.id, upload.tailLength);
    const gzip = await readGzip(storage, record, upload);
    const writer = new PartWriter(
      bucket.resumeMultipartUpload(upload.key, upload.uploadId),
      record.partSize,
      { parts: upload.partCount, bytes: upload.uploadedBytes },
      tail,
      gzip,
      upload.segment,
    );
    return new DumpWork(storage, record, partList(storage, record.id, upload.object, upload.partPages), writer);
  }

  /** The writer of the open upload, if any. */
  get writer(): PartWriter | null {
    return this.#writer;
  }

  /** Starts writing a newly opened upload. */
  begin(upload: R2MultipartUpload, state: UploadState): void {
    this.record.upload = state;
    this.#parts = partList(this.#storage, this.record.id, state.object, []);
    this.#writer = new PartWriter(
      upload,
      this.record.partSize,
      { parts: 0, bytes: 0 },
      new Uint8Array(0),
      state.gzip ? new GzipStage(state.gzip, new Uint8Array(0), jobDeflater(this.record)) : null,
    );
  }

  /**
   * Completes the open upload with every part (the last one uploaded already) and lists the object
   * among the finished ones. The record must have been saved after the last part: an attempt cut
   * off after `complete()` then finds every part, and the completed object, next time.
   */
  async complete(bucket: R2Bucket): Promise<void> {
    const upload = this.record.upload;
    const writer = this.#writer;
    const parts = this.#parts;
    if (!upload || !writer || !parts) throw internalError("complete() without an open upload");
    await this.#recordNewParts();
    const all = await parts.all();
    try {
      await bucket.resumeMultipartUpload(upload.key, upload.uploadId).complete(all.map(({ partNumber, etag }) => ({ partNumber, etag })));
    } catch (error) {
      // An earlier attempt may have completed the upload and been cut off before saving that.
      const head = await bucket.head(upload.key);
      if (head?.customMetadata?.[JOB_METADATA_KEY] !== this.record.id || head.size !== writer.bytes) throw error;
    }
    await this.objects.push({ key: upload.key, table: upload.table, bytes: writer.bytes, parts: all.length, partPages: parts.sizes, kv: upload.kv });
    this.#completedParts.set(upload.object, parts);
    this.#storeParts = { ...this.#storeParts, ...parts.dirtyEntries() };
    this.record.upload = null;
    writer.release();
    this.#writer = null;
    this.#parts = null;
  }

  /**
   * Brings the record up to date with the writer and the lists, and returns what the checkpoint
   * saves with it: the pages that changed, the tail chunks and pending gzip bytes not saved yet.
   * Call {@link saved} once the checkpoint is stored.
   */
  async changes(): Promise<Record<string, unknown>> {
    const record = this.record;
    const entries: Record<string, unknown> = { ...this.#storeParts };
    const writer = this.#writer;
    if (record.upload && writer && this.#parts) {
      await this.#recordNewParts();
      const uploaded = writer.uploaded;
      record.upload.partPages = this.#parts.sizes;
      record.upload.partCount = uploaded.parts;
      record.upload.uploadedBytes = uploaded.bytes;
      record.upload.tailLength = writer.tailLength;
      if (writer.gzip) {
        record.upload.gzip = writer.gzip.state;
        record.upload.segment = writer.segment;
      }
      Object.assign(entries, this.#parts.dirtyEntries());
      for (const chunk of writer.dirtyChunks()) entries[keys.tail(record.id, chunk.index)] = chunk.bytes;
      const pending = writer.gzip?.dirtyPending();
      if (pending) entries[keys.gzip(record.id)] = pending;
    }
    record.plan = this.plan.sizes;
    record.rows = this.rows.sizes;
    record.objects = this.objects.sizes;
    Object.assign(entries, this.plan.dirtyEntries(), this.rows.dirtyEntries(), this.objects.dirtyEntries());
    return entries;
  }

  /** Records that the last {@link changes} are stored. */
  saved(): void {
    this.#writer?.markPersisted();
    for (const list of [this.plan, this.rows, this.objects, this.#parts]) list?.markSaved();
    this.#storeParts = {};
  }

  /** The parts of finished object number `index` (from memory when this work completed it). */
  partsOf(index: number, object: OutputObject): PagedList<PartRecord> {
    return this.#completedParts.get(index) ?? partList(this.#storage, this.record.id, index, object.partPages);
  }

  /** Frees the writer's buffers (the work is not used after). */
  release(): void {
    this.#writer?.release();
  }

  async #recordNewParts(): Promise<void> {
    for (const part of this.#writer?.takeNewParts() ?? []) await this.#parts!.push(part);
  }
}

/** The tail bytes of the open upload, from their chunks. */
async function readTail(storage: StorageLike, id: string, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const chunkKeys = Array.from({ length: Math.ceil(length / TAIL_CHUNK_BYTES) }, (_, i) => keys.tail(id, i));
  const chunks = await storage.get<Uint8Array | ArrayBuffer>(chunkKeys);
  chunkKeys.forEach((key, i) => {
    const chunk = chunks.get(key);
    if (!chunk) throw internalError(`tail chunk ${key} is missing from storage`);
    out.set(asBytes(chunk).subarray(0, Math.min(chunk.byteLength, length - i * TAIL_CHUNK_BYTES)), i * TAIL_CHUNK_BYTES);
  });
  return out;
}

/** The compression stage of the open upload, with its pending bytes; null without gzip. */
async function readGzip(storage: StorageLike, record: DumpRecord, upload: UploadState): Promise<GzipStage | null> {
  const id = record.id;
  const state = upload.gzip;
  if (!state) return null;
  const pending = state.pending === 0 ? new Uint8Array(0) : await storage.get<Uint8Array | ArrayBuffer>(keys.gzip(id));
  if (!pending) throw internalError(`pending gzip bytes of job ${id} are missing from storage`);
  return new GzipStage(state, asBytes(pending).subarray(0, state.pending), jobDeflater(record));
}

/** The deflater of a job's gzip streams: the engine and level it started with. */
function jobDeflater(record: DumpRecord): Deflater {
  return deflaterFor(record.options.deflater, record.options.gzipLevel);
}
