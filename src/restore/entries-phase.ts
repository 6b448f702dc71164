/**
 * The entries phase of a restore: the key-value file of the current source, one batch of entries
 * per step, written with `ctx.storage.kv.put` and checkpointed (the reader's position: a byte
 * offset at a line boundary, the entries read, the last key) in one transaction, so that a crash
 * anywhere neither skips an entry nor leaves half a batch. Also what a restore of entries needs
 * of the target: that it holds no entry yet (unless `replace`), and deleting those it holds.
 */
import { DumpError } from "../errors.js";
import { firstOwnKeys } from "../kv/entry-reader.js";
import type { KvEntry } from "../kv/kv-file.js";
import { putKvEntries } from "../kv/kv-restore.js";
import type { RestoreRecord } from "../persisted/restore-record.js";
import type { TransactionalStorage } from "../persisted/storage.js";
import { adaptBatch, yieldToEvents } from "../util/timing.js";
import { type KvPipeline, type RestoreWork, moveToNextSource } from "./restore-work.js";
import type { PhaseCommit } from "./statements-phase.js";

/**
 * Bounds of a batch, in bytes of lines: it adapts so that a step takes about `SLICE_MS`. A line
 * larger than the batch (a value near 2 MB) is a batch of its own.
 */
const BATCH_BYTES = { initial: 256 * 1024, min: 16 * 1024, max: 4 * 1024 * 1024 };
/** Entries in one batch at most. */
const MAX_BATCH_ENTRIES = 20_000;
/** Entries deleted per commit by `replace`. */
const DELETE_BATCH = 256;
/** Keys a refusal names. */
const NAMED_KEYS = 10;

/** The synchronous key-value API the phase writes through: `ctx.storage.kv`. */
export type KvStorage = TransactionalStorage["kv"];

/** What the entries phase needs. */
export interface EntriesDeps {
  kv: KvStorage;
  now: () => number;
  commit: PhaseCommit;
}

export class EntriesPhase {
  readonly #work: RestoreWork;
  readonly #deps: EntriesDeps;
  #batchBytes = BATCH_BYTES.initial;

  constructor(work: RestoreWork, deps: EntriesDeps) {
    this.#work = work;
    this.#deps = deps;
  }

  get #record(): RestoreRecord {
    return this.#work.record;
  }

  /** Writes one batch of entries of the current source, or ends the source. */
  async step(): Promise<boolean> {
    const pipeline = await this.#work.kvPipeline();
    const started = this.#deps.now();
    const batch = await this.#batch(pipeline);
    if (batch.length === 0) return this.#endSource(pipeline);
    const record = this.#record;
    const saved = await this.#deps.commit(() => {
      putKvEntries(this.#deps.kv, batch);
      const { offset, ...position } = pipeline.reader.position;
      const cursor = record.cursor;
      cursor.offset = offset;
      cursor.kv = position;
      cursor.consumed = Math.max(cursor.consumed, pipeline.stream.consumed);
      record.stats.kvEntries += batch.length;
    });
    // Date.now() does not advance during synchronous work in workerd: the slice is timed across the yield.
    await yieldToEvents();
    this.#batchBytes = adaptBatch(this.#batchBytes, this.#deps.now() - started, BATCH_BYTES.min, BATCH_BYTES.max);
    return saved;
  }

  /** The entries of the next lines, about `#batchBytes` of them (at least one unless the file ended). */
  async #batch(pipeline: KvPipeline): Promise<KvEntry[]> {
    const reader = pipeline.reader;
    const from = reader.position.offset;
    const entries: KvEntry[] = [];
    while (!pipeline.ended && entries.length < MAX_BATCH_ENTRIES && (entries.length === 0 || reader.position.offset - from < this.#batchBytes)) {
      const piece = await pipeline.stream.next();
      if (!piece) {
        pipeline.ended = true;
        break;
      }
      for (const entry of reader.push(piece.bytes)) entries.push(entry);
    }
    return entries;
  }

  /** The end of the file: checks that it is complete and holds the entries its manifest counts, then moves on. */
  async #endSource(pipeline: KvPipeline): Promise<boolean> {
    const record = this.#record;
    const source = record.sources[record.cursor.source]!;
    pipeline.reader.finish();
    const held = pipeline.reader.position.entries;
    if (source.entries !== null && held !== source.entries) {
      throw new DumpError(
        "KV_FILE_INVALID",
        `${source.key} holds ${held} entries, its manifest ${source.manifestKey} counts ${source.entries}: the file is not the one the export wrote. Every entry it holds is restored.`,
      );
    }
    this.#work.dropPipeline();
    return this.#deps.commit(() => moveToNextSource(record));
  }
}

/**
 * Throws `TARGET_NOT_EMPTY` when the object holds a key-value entry outside the engines' keys.
 *
 * @throws {DumpError} `TARGET_NOT_EMPTY`.
 */
export function assertNoKvEntries(kv: KvStorage): void {
  const held = firstOwnKeys(kv, NAMED_KEYS + 1);
  if (held.length === 0) return;
  const names = held.slice(0, NAMED_KEYS).map((key) => JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key));
  throw new DumpError(
    "TARGET_NOT_EMPTY",
    `The object already holds key-value entries (${names.join(", ")}${held.length > NAMED_KEYS ? ", …" : ""}), and the restore writes the entries of a key-value file. ` +
      "Pass replace: true to delete them first, kv: false to leave the entries out, or restore into another object.",
  );
}

/**
 * Deletes a batch of the object's key-value entries (never the engines' keys), for `replace`.
 * Returns false when none was left to delete. Call it inside the commit.
 */
export function deleteKvBatch(kv: KvStorage): boolean {
  const keys = firstOwnKeys(kv, DELETE_BATCH);
  for (const key of keys) kv.delete(key);
  return keys.length > 0;
}
