/**
 * The steps of an export's key-value object (`kv: true`): its header line, the entries in key
 * order a slice at a time, and the trailer. The cursor keeps the last key written, so a tick
 * redone from a checkpoint reads and writes the same entries again.
 */
import { DumpError, internalError } from "../errors.js";
import { type KvLister, readKvBatch } from "../kv/entry-reader.js";
import { KV_OBJECT, kvHeaderLine, kvTrailerLine } from "../kv/kv-file.js";
import { adaptBatch, yieldToEvents } from "../util/timing.js";
import type { DumpWork } from "./dump-work.js";
import { openOutput } from "./output-upload.js";
import { maxSliceChars } from "./slices.js";

const MIN_BATCH_ENTRIES = 16;
const MAX_BATCH_ENTRIES = 20_000;

/** What the key-value steps need from their engine. */
export interface KvStepsDeps {
  bucket: R2Bucket;
  /** The object's key-value entries; null when the engine's storage has no `kv`. */
  kv: KvLister | null;
  now: () => number;
}

/** Writes the key-value object of one job; one per tick, like the runner that owns it. */
export class KvSteps {
  readonly #work: DumpWork;
  readonly #deps: KvStepsDeps;
  readonly #write: (text: string) => Promise<void>;
  #batchEntries = 256;

  constructor(work: DumpWork, deps: KvStepsDeps, write: (text: string) => Promise<void>) {
    this.#work = work;
    this.#deps = deps;
    this.#write = write;
  }

  /** `kvHeader`: opens the object's upload if none is open, writes the header line. */
  async header(): Promise<void> {
    const work = this.#work;
    if (!work.writer) {
      const opened = await openOutput(this.#deps.bucket, work.record, KV_OBJECT, null, work.objects.length, true);
      work.begin(opened.upload, opened.state);
    }
    work.record.cursor.kv = { last: null, entries: 0 };
    await this.#write(kvHeaderLine());
    work.record.cursor.step = "kvEntries";
  }

  /** `kvEntries`: writes one slice of entries after the last key written, then yields to the host's requests. */
  async entries(): Promise<void> {
    const cursor = this.#work.record.cursor;
    const progress = cursor.kv;
    if (!progress) throw internalError("kvEntries step without key-value progress in the cursor");
    const kv = this.#deps.kv;
    if (!kv) throw new DumpError("INVALID_OPTIONS", "This job exports key-value entries, but the engine's storage has no kv: pass ctx.storage as storage.");
    const started = this.#deps.now();
    const batch = readKvBatch(kv, progress.last, this.#batchEntries, maxSliceChars(this.#work.record.options.gzip));
    await this.#write(batch.text);
    progress.last = batch.last;
    progress.entries += batch.entries;
    if (batch.done) cursor.step = "kvFooter";
    // Date.now() does not advance during synchronous work in workerd, so the slice is timed across the yield.
    await yieldToEvents();
    this.#batchEntries = adaptBatch(this.#batchEntries, this.#deps.now() - started, MIN_BATCH_ENTRIES, MAX_BATCH_ENTRIES);
  }

  /** `kvFooter`: writes the trailer and ends the gzip member. */
  async footer(): Promise<void> {
    const cursor = this.#work.record.cursor;
    await this.#write(kvTrailerLine(cursor.kv?.entries ?? 0));
    await this.#work.writer?.endCompression();
    cursor.step = "finish";
  }
}
