/**
 * What a restore's ticks work with besides its record: the parts of the source being read, the
 * decoded text, and the statement splitter (SQL) or the key-value file reader positioned at the
 * checkpoint. The kind keeps it in memory between ticks while storage still holds the same
 * checkpoint, and rebuilds it from the record otherwise.
 */
import { KvFileReader } from "../kv/kv-restore.js";
import { type RestorePart, RESTORE_PART_PAGE, type RestorePhase, type RestoreRecord, type SourceKind, restorePartShape } from "../persisted/restore-record.js";
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

/** The lines of a key-value source being read into entries, from a checkpoint on. */
export interface KvPipeline {
  source: number;
  stream: DecodedStream;
  reader: KvFileReader;
  /** The stream has no more text. */
  ended: boolean;
}

/** The phase that applies a source of this kind. */
function phaseOf(kind: SourceKind): RestorePhase {
  return kind === "kv" ? "entries" : "statements";
}

/** The phase that applies the cursor's source. */
export function sourcePhase(record: RestoreRecord): RestorePhase {
  return phaseOf(record.sources[record.cursor.source]!.kind);
}

/** Whether the job applies an SQL dump (else only key-value entries). */
export function restoresSql(record: RestoreRecord): boolean {
  return record.sources.some((source) => source.kind === "sql");
}

/** Moves the cursor to the start of the next source, or to the finish after the last one. */
export function moveToNextSource(record: RestoreRecord): void {
  const cursor = record.cursor;
  Object.assign(cursor, { offset: 0, consumed: 0, transaction: false, announced: null, kv: null });
  if (cursor.source + 1 < record.sources.length) {
    cursor.source++;
    cursor.phase = sourcePhase(record);
    return;
  }
  cursor.phase = "finish";
  if (restoresSql(record)) record.foreignKeyViolations = 0;
}

export class RestoreWork {
  record: RestoreRecord;
  #pipeline: Pipeline | null = null;
  #kvPipeline: KvPipeline | null = null;
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
    this.#pipeline = { source: cursor.source, stream: await this.#stream(), splitter: new StatementSplitter(cursor.offset), ended: false };
    return this.#pipeline;
  }

  /** The pipeline of the current key-value source, positioned at the record's checkpoint (rebuilt when it is not). */
  async kvPipeline(): Promise<KvPipeline> {
    const cursor = this.record.cursor;
    const current = this.#kvPipeline;
    if (current && current.source === cursor.source && current.reader.position.offset === cursor.offset) return current;
    const reader = new KvFileReader(cursor.kv ? { ...cursor.kv, offset: cursor.offset } : undefined);
    this.#kvPipeline = { source: cursor.source, stream: await this.#stream(), reader, ended: false };
    return this.#kvPipeline;
  }

  /** The decoded text of the current source, from the checkpoint's offset. */
  async #stream(): Promise<DecodedStream> {
    const { source: index, offset } = this.record.cursor;
    const source = this.record.sources[index]!;
    const parts = source.partPages.length > 0 ? await partList(this.#storage, this.record.id, index, source.partPages).all() : null;
    return new DecodedStream(this.#bucket, source, parts, offset, this.#rangeBytes);
  }

  /** Drops the pipelines (a source ended, or their state is no longer the checkpoint's). */
  dropPipeline(): void {
    this.#pipeline = null;
    this.#kvPipeline = null;
  }
}
