/**
 * Reads and writes the job records of one kind and their index. A record is checked when it is
 * read (its version is used: older versions are migrated); the index lets a tick find the next
 * job, the notifications due and the records to purge without reading every record.
 */
import { isJobId } from "./job-id.js";
import { type IndexEntry, type JobRecordBase, indexEntryOf, indexEntryShape } from "./job-record.js";
import { type JobNamespace, keys } from "./keys.js";
import { internalError } from "../errors.js";
import { ShapeError, readable } from "./shape.js";
import { MAX_KEYS_PER_CALL, type StorageLike, type TransactionalStorage, deleteKeys } from "./storage.js";

/** The layout this release writes: version 2 has the index (release 0.1.0 had none). */
const LAYOUT_VERSION = 2;

/** Reads a record of this kind, of any version this release knows, and the pages an older version's lists move to. */
export type RecordParser<R> = (value: unknown, key: string) => { record: R; pages: Record<string, unknown> };

/** A record as read, with the pages a migration produced (saved with the record's next save). */
export interface Loaded<R> {
  record: R;
  pages: Record<string, unknown>;
}

/** An index entry with its job's id. */
export interface IndexedJob extends IndexEntry {
  id: string;
}

/** A job's record as read inside a transaction: the record, none, or one that cannot be read. */
export type SyncLoaded<R> = R | null | "unreadable";

/** The records of a kind inside one synchronous transaction ({@link JobStore.transaction}). */
export interface SyncRecords<R> {
  load(id: string): SyncLoaded<R>;
  save(record: R): void;
}

/** The jobs of one kind in an object's storage. */
export class JobStore<R extends JobRecordBase> {
  readonly #storage: StorageLike;
  readonly #ns: JobNamespace;
  readonly #parse: RecordParser<R>;
  /**
   * Whether storage is known to have the current layout ("marked"), has no job of any release yet
   * ("unmarked": the first save writes the layout key, so that an object nothing was ever stored
   * in stays empty), or was not looked at yet.
   */
  #layout: "unknown" | "unmarked" | "marked" = "unknown";

  constructor(storage: StorageLike, ns: JobNamespace, parse: RecordParser<R>) {
    this.#storage = storage;
    this.#ns = ns;
    this.#parse = parse;
  }

  /** Every job of the index, oldest first. */
  async index(): Promise<IndexedJob[]> {
    await this.#ensureLayout();
    const prefix = keys.indexPrefix(this.#ns);
    const map = await this.#storage.list<unknown>({ prefix });
    const jobs: IndexedJob[] = [];
    for (const [key, value] of map) jobs.push({ id: key.slice(prefix.length), ...entryOrFailed(value, key) });
    return jobs.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * The record of job `id`, or null when there is none. A record of an older version is upgraded
   * as it is read: stored again in the current version, with the pages its lists moved to.
   *
   * @throws {DumpError} `RECORD_UNREADABLE` when it cannot be read (damaged, or written by a newer release).
   */
  async load(id: string): Promise<R | null> {
    const key = keys.record(this.#ns, id);
    const value = await this.#storage.get(key);
    if (value === undefined) return null;
    const { record, pages } = readable(() => this.#parse(value, key));
    if ((value as { v?: unknown }).v !== (record as { v?: unknown }).v) await this.save(record, pages);
    return record;
  }

  /** Saves the record and its index entry, with `extra` entries (pages, scratch bytes), in one atomic `put`. */
  async save(record: R, extra: Record<string, unknown> = {}): Promise<void> {
    const entries = { ...extra, [keys.record(this.#ns, record.id)]: record, [keys.indexEntry(this.#ns, record.id)]: indexEntryOf(record) };
    if (this.#layout === "unmarked") entries[keys.layout(this.#ns)] = LAYOUT_VERSION;
    if (Object.keys(entries).length > MAX_KEYS_PER_CALL) throw internalError(`one save of ${Object.keys(entries).length} keys`);
    await this.#storage.put(entries);
    this.#layout = "marked";
  }

  /**
   * Runs `closure` in one synchronous transaction of the storage (`transactionSync`), reading and
   * saving records through the synchronous `kv` API: whatever else the closure writes (SQL)
   * commits together with the records it saves, or nothing does.
   */
  transaction<T>(closure: (records: SyncRecords<R>) => T): T {
    const storage = this.#storage as Partial<TransactionalStorage>;
    if (typeof storage.transactionSync !== "function" || !storage.kv) throw internalError("a synchronous commit needs ctx.storage (transactionSync, kv)");
    const kv = storage.kv;
    let saved = false;
    const result = storage.transactionSync(() =>
      closure({
        load: (id) => {
          const key = keys.record(this.#ns, id);
          const value = kv.get(key);
          if (value === undefined) return null;
          try {
            const { record, pages } = this.#parse(value, key);
            if (Object.keys(pages).length > 0) throw internalError(`${key} needs migrating; read it with load() first`);
            return record;
          } catch (error) {
            if (error instanceof ShapeError) return "unreadable";
            throw error;
          }
        },
        save: (record) => {
          kv.put(keys.record(this.#ns, record.id), record);
          kv.put(keys.indexEntry(this.#ns, record.id), indexEntryOf(record));
          if (this.#layout === "unmarked") kv.put(keys.layout(this.#ns), LAYOUT_VERSION);
          saved = true;
        },
      }),
    );
    if (saved) this.#layout = "marked";
    return result;
  }

  /** Marks job `id` failed in the index, for a record that cannot be read; the record itself is left as it is. */
  async markUnreadable(entry: IndexedJob, now: number): Promise<void> {
    const { id, ...rest } = entry;
    await this.#storage.put({
      [keys.indexEntry(this.#ns, id)]: { ...rest, state: "failed", finishedAt: rest.finishedAt ?? now, notifyAt: null, cleanup: false },
    });
  }

  /** Removes job `id`'s record, its index entry and `extra` keys. */
  async remove(id: string, extra: readonly string[] = []): Promise<void> {
    await deleteKeys(this.#storage, [...extra, keys.record(this.#ns, id), keys.indexEntry(this.#ns, id)]);
  }

  /**
   * Builds the index of records written before it existed (release 0.1.0), once per object: lists
   * the records a few at a time (old ones could be large), writes an entry for each, then the
   * layout version. A record that cannot be read gets a failed entry.
   */
  async #ensureLayout(): Promise<void> {
    if (this.#layout !== "unknown") return;
    const layoutKey = keys.layout(this.#ns);
    if ((await this.#storage.get(layoutKey)) === LAYOUT_VERSION) {
      this.#layout = "marked";
      return;
    }
    const prefix = keys.record(this.#ns, "");
    let after: string | undefined;
    let found = false;
    for (;;) {
      const page = await this.#storage.list<unknown>({ prefix, limit: 8, ...(after === undefined ? {} : { startAfter: after }) });
      const entries: Record<string, IndexEntry> = {};
      for (const [key, value] of page) {
        after = key;
        const id = key.slice(prefix.length);
        if (!isJobId(id)) continue; // an index entry, or a record's page
        entries[keys.indexEntry(this.#ns, id)] = this.#entryOfStored(value, key);
      }
      if (Object.keys(entries).length > 0) {
        await this.#storage.put(entries);
        found = true;
      }
      if (page.size < 8) break;
    }
    if (found) await this.#storage.put({ [layoutKey]: LAYOUT_VERSION });
    this.#layout = found ? "marked" : "unmarked";
  }

  #entryOfStored(value: unknown, key: string): IndexEntry {
    try {
      return indexEntryOf(this.#parse(value, key).record);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      return failedEntry(value);
    }
  }
}

/** The entry of a job whose state cannot be read: failed, so that the other jobs go on. */
function failedEntry(value: unknown): IndexEntry {
  const createdAt = (value as { createdAt?: unknown } | null)?.createdAt;
  return { state: "failed", createdAt: typeof createdAt === "number" ? createdAt : 0, finishedAt: 0, notifyAt: null, cleanup: false };
}

/** An index entry as stored, or a failed one when it cannot be read. */
function entryOrFailed(value: unknown, key: string): IndexEntry {
  try {
    return indexEntryShape.check(value, key);
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error;
    return failedEntry(value);
  }
}
