/**
 * What a restore's ticks work with besides its record: the parts of the source being read, the
 * decoded text and the statement splitter positioned at the checkpoint. The kind keeps it in
 * memory between ticks while storage still holds the same checkpoint, and rebuilds it from the
 * record otherwise.
 */
import { type RestorePart, RESTORE_PART_PAGE, type RestoreRecord, restorePartShape } from "../persisted/restore-record.js";
import { keys } from "../persisted/keys.js";
import { PagedList } from "../persisted/paged-list.js";
import type { StorageLike } from "../persisted/storage.js";
import { DecodedStream } from "./decoded-stream.js";
import { StatementSplitter } from "./statement-splitter.js";

/** The parts list of source `source` of job `id`. */
export function partList(storage: StorageLike, id: string, source: number, sizes: readonly number[]): PagedList<RestorePart> {
  return new PagedList(storage, (p) => keys.restoreParts(id, source, p), sizes, restorePartShape, RESTORE_PART_PAGE);
}

/** The text of one source being split into statements, from a checkpoint on. */
export interface Pipeline {
  source: number;
  stream: DecodedStream;
  splitter: StatementSplitter;
  /** The stream has no more text. */
  ended: boolean;
}

export class RestoreWork {
  record: RestoreRecord;
  #pipeline: Pipeline | null = null;
  readonly #storage: StorageLike;
  readonly #bucket: R2Bucket;
  readonly #rangeBytes: number;

  constructor(storage: StorageLike, bucket: R2Bucket, record: RestoreRecord, rangeBytes: number) {
    this.#storage = storage;
    this.#bucket = bucket;
    this.record = record;
    this.#rangeBytes = rangeBytes;
  }

  /** The pipeline of the current source, positioned at the record's checkpoint (rebuilt when it is not). */
  async pipeline(): Promise<Pipeline> {
    const cursor = this.record.cursor;
    const current = this.#pipeline;
    if (current && current.source === cursor.source && current.splitter.offset === cursor.offset) return current;
    const source = this.record.sources[cursor.source]!;
    const parts = source.partPages.length > 0 ? await partList(this.#storage, this.record.id, cursor.source, source.partPages).all() : null;
    this.#pipeline = {
      source: cursor.source,
      stream: new DecodedStream(this.#bucket, source, parts, cursor.offset, this.#rangeBytes),
      splitter: new StatementSplitter(cursor.offset),
      ended: false,
    };
    return this.#pipeline;
  }

  /** Drops the pipeline (a source ended, or its state is no longer the checkpoint's). */
  dropPipeline(): void {
    this.#pipeline = null;
  }
}
