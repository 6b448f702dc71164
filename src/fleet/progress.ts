/** An instance's progress document, kept up to date while its objects are backed up. */
import { type ProgressDocument, totalsOf, writeDocument } from "./documents.js";
import type { FleetEntry } from "./types.js";

/** The exact document of an instance whose objects all ended with `entries`. */
export function finalProgress(listed: number, entries: readonly FleetEntry[], now: number): ProgressDocument {
  const { objects, completed, failed, bytes, rows } = totalsOf(entries);
  return { listed, done: objects, completed, failed, bytes, rows, updatedAt: now };
}

/**
 * Counts the outcomes of an instance's objects and writes them to R2 at most every `intervalMs`.
 * The writes happen outside steps (a progress line is not worth a step per object), so a replay
 * after a restart counts again from zero as the cached steps return; the final document is exact
 * (see {@link close}). Write errors are ignored: progress never fails a run.
 */
export class ProgressWriter {
  readonly #bucket: R2Bucket;
  readonly #key: string;
  readonly #intervalMs: number;
  readonly #doc: ProgressDocument;
  #lastWrite = Date.now();
  #writing: Promise<void> | null = null;
  #wrote = false;
  #closed = false;

  constructor(bucket: R2Bucket, key: string, listed: number, intervalMs: number) {
    this.#bucket = bucket;
    this.#key = key;
    this.#intervalMs = intervalMs;
    this.#doc = { listed, done: 0, completed: 0, failed: 0, bytes: 0, rows: 0, updatedAt: 0 };
  }

  /** Counts one object's outcome; writes the document when `intervalMs` has passed since the last write. */
  add(entry: FleetEntry): void {
    const doc = this.#doc;
    doc.done++;
    if (entry.state === "completed") doc.completed++;
    else doc.failed++;
    doc.bytes += entry.bytes;
    doc.rows += entry.rows;
    const now = Date.now();
    if (this.#closed || this.#intervalMs === 0 || this.#writing !== null || now - this.#lastWrite < this.#intervalMs) return;
    this.#lastWrite = now;
    this.#wrote = true;
    this.#writing = writeDocument(this.#bucket, this.#key, { ...doc, updatedAt: now })
      .catch(() => {})
      .finally(() => {
        this.#writing = null;
      });
  }

  /**
   * Stops the periodic writes and, if this execution wrote any, writes the exact final document
   * over them (the page step already wrote it once, but a replay's counts may have landed after).
   */
  async close(entries: readonly FleetEntry[]): Promise<void> {
    this.#closed = true;
    await this.#writing;
    if (this.#wrote) await writeDocument(this.#bucket, this.#key, finalProgress(this.#doc.listed, entries, Date.now())).catch(() => {});
  }
}
