import type { TableInfo } from "./formatters/formatter.js";
import type { KeyPart } from "./table-reader.js";
import type { PartRecord, PartWriter } from "./part-writer.js";
import { TAIL_CHUNK_BYTES } from "./part-writer.js";
import { GzipStage, type GzipState } from "./gzip-stage.js";
import type { DumpState, DumpStorage } from "./types.js";
import type { NotifyRecord } from "./callbacks.js";

/** Every storage key of the engine starts with this. */
export const STORAGE_PREFIX = "durable-dump:";
const JOB_PREFIX = `${STORAGE_PREFIX}job:`;
const TAIL_PREFIX = `${STORAGE_PREFIX}tail:`;
/** Pending uncompressed bytes of a gzip-compressed upload (under one segment, so one value). */
const GZIP_PREFIX = `${STORAGE_PREFIX}gzip:`;

/** Where the producer is in the job: the next thing it writes. */
export interface JobCursor {
  step: "header" | "tableHeader" | "rows" | "tableFooter" | "footer" | "finish" | "done";
  /** Index in `tables` of the table being written. */
  table: number;
  /** Key of the last row written of that table. */
  key: KeyPart[] | null;
  rowsInTable: number;
  /**
   * The table as it was when its header was written: its rows and footer are written from this,
   * so a table altered or dropped meanwhile still ends consistently. Null between tables.
   */
  snapshot?: TableInfo | null;
  /** Tables whose header was written in the current object. */
  written?: number;
}

/** The multipart upload being written. */
export interface UploadRecord {
  key: string;
  uploadId: string;
  table: string | null;
  parts: PartRecord[];
  /** Bytes written past the last part, held in tail chunks. */
  tailLength: number;
  /** Compression state of a gzip-compressed object; its pending bytes are stored apart. */
  gzip?: GzipState;
}

/** A finished object. */
export interface OutputRecord {
  key: string;
  table: string | null;
  bytes: number;
  parts: PartRecord[];
}

/** Everything the engine keeps about a job; the checkpoint is part of it. */
export interface JobRecord {
  v: 1;
  id: string;
  state: DumpState;
  format: string;
  /** Part size the upload was started with; fixed for the job's life. */
  partSize: number;
  options: { schema: boolean; data: boolean; tables: string[] | null; exclude: string[]; gzip: boolean };
  /** Key of the single object, or prefix of the per-table objects. */
  keyBase: string;
  tables: string[];
  cursor: JobCursor;
  upload: UploadRecord | null;
  outputs: OutputRecord[];
  /** `tableRows[i]`: rows written of `tables[i]`, set when the job leaves that table. */
  stats: { rowsWritten: number; tablesDone: number; tableRows?: number[] };
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  finishedAt: number | null;
  databaseSize: number;
  error: { code: string; message: string } | null;
  /** R2 key of the manifest, written just before the job completes. */
  manifestKey?: string;
  /** Consecutive failed ticks; reset by a tick that saves progress. */
  attempts: number;
  /** Earliest time of the next attempt after a failure. */
  retryAt: number | null;
  /** Counts checkpoints, so an engine can tell whether its in-memory tail is current. */
  seq: number;
  /**
   * Set with a terminal state while the job's upload may still need aborting and its tail
   * chunks deleting; cleared once done. A tick finishes the cleanup after a crash.
   */
  cleanup?: boolean;
  /** Where to POST the final status, if anywhere. */
  callbackUrl?: string | null;
  /** Completion notification still to deliver (callback URL, onComplete hook). */
  notify?: NotifyRecord | null;
}

/** Reads and writes job records and their tail bytes in the object's storage. */
export class JobStore {
  readonly #storage: DumpStorage;

  constructor(storage: DumpStorage) {
    this.#storage = storage;
  }

  async get(id: string): Promise<JobRecord | null> {
    return (await this.#storage.get<JobRecord>(JOB_PREFIX + id)) ?? null;
  }

  /** All jobs, oldest first (ids sort by creation time). */
  async all(): Promise<JobRecord[]> {
    const map = await this.#storage.list<JobRecord>({ prefix: JOB_PREFIX });
    return [...map.values()];
  }

  /** Saves the record and, in the same atomic write, the tail bytes storage does not have yet. */
  async save(record: JobRecord, writer?: PartWriter): Promise<void> {
    const entries: Record<string, unknown> = { [JOB_PREFIX + record.id]: record };
    if (writer) for (const chunk of writer.dirtyChunks()) entries[tailKey(record.id, chunk.index)] = chunk.bytes;
    const pending = writer?.gzip?.dirtyPending();
    if (pending) entries[GZIP_PREFIX + record.id] = pending;
    await this.#storage.put(entries);
    writer?.markPersisted();
  }

  /** The tail bytes of the record's upload. */
  async tail(record: JobRecord): Promise<Uint8Array> {
    const length = record.upload?.tailLength ?? 0;
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const keys = Array.from({ length: Math.ceil(length / TAIL_CHUNK_BYTES) }, (_, i) => tailKey(record.id, i));
    const chunks = await this.#storage.get<Uint8Array>(keys);
    keys.forEach((key, i) => {
      const chunk = chunks.get(key);
      if (!chunk) throw new Error(`durable-dump: tail chunk ${key} is missing from storage`);
      out.set(chunk.subarray(0, Math.min(chunk.length, length - i * TAIL_CHUNK_BYTES)), i * TAIL_CHUNK_BYTES);
    });
    return out;
  }

  /** The compression stage of the record's upload, with its pending bytes; null without gzip. */
  async gzipStage(record: JobRecord): Promise<GzipStage | null> {
    const state = record.upload?.gzip;
    if (!state) return null;
    const pending = state.pending === 0 ? new Uint8Array(0) : await this.#storage.get<Uint8Array>(GZIP_PREFIX + record.id);
    if (!pending) throw new Error(`durable-dump: pending gzip bytes of job ${record.id} are missing from storage`);
    return new GzipStage(state, pending.subarray(0, state.pending));
  }

  /** Removes the tail chunks (and pending gzip bytes) of a job whose parts are at most `partSize` bytes. */
  async deleteTail(id: string, partSize: number): Promise<void> {
    const keys = [...Array.from({ length: Math.ceil(partSize / TAIL_CHUNK_BYTES) }, (_, i) => tailKey(id, i)), GZIP_PREFIX + id];
    for (let i = 0; i < keys.length; i += 128) await this.#storage.delete(keys.slice(i, i + 128));
  }

  /** Removes a job's record and tail. */
  async delete(id: string, partSize: number): Promise<void> {
    await this.deleteTail(id, partSize);
    await this.#storage.delete([JOB_PREFIX + id]);
  }
}

function tailKey(id: string, index: number): string {
  return `${TAIL_PREFIX}${id}:${index}`;
}
