/** The storage the library works with: the subset of `DurableObjectStorage` it calls. */
import type { KvLister } from "../kv/entry-reader.js";

/**
 * The subset of `DurableObjectStorage` the engines need. `ctx.storage` satisfies it as is; a test
 * may wrap it to inject faults.
 */
export interface DumpStorage {
  get<T = unknown>(key: string): Promise<T | undefined>;
  get<T = unknown>(keys: string[]): Promise<Map<string, T>>;
  list<T = unknown>(options: { prefix: string; start?: string; startAfter?: string; limit?: number }): Promise<Map<string, T>>;
  put<T>(entries: Record<string, T>): Promise<void>;
  delete(keys: string[]): Promise<number>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
  /**
   * The synchronous key-value API of a SQLite-backed object (`ctx.storage.kv`), read by exports
   * with `kv: true` (only `list({ start, startAfter, end })`, whose iterator reads one entry at a
   * time). Optional: a storage without it refuses `kv: true` with `INVALID_OPTIONS`.
   */
  kv?: KvLister;
}

/**
 * A storage that also commits SQL writes and key-value writes together: `ctx.storage` as it is.
 * A restore applies a batch of statements and saves its checkpoint in one `transactionSync`,
 * reading and writing the record there through the synchronous `kv` API.
 */
export interface TransactionalStorage extends DumpStorage {
  /** Runs `closure` in one transaction: its SQL and `kv` writes commit together, or not at all when it throws. */
  transactionSync<T>(closure: () => T): T;
  /** The synchronous key-value API over the same keys as `get`/`put` (a restore of key-value entries writes, and with `replace` deletes, through it). */
  readonly kv: Pick<SyncKvStorage, "get" | "put" | "delete"> & KvLister;
  /** Resolves once every write so far is committed; no other event of the object runs meanwhile. */
  sync(): Promise<void>;
}

/** What the persisted layer itself reads and writes through. */
export type StorageLike = Pick<DumpStorage, "get" | "list" | "put" | "delete">;

/** At most this many keys go into one storage `get`, `put` or `delete` (the platform's limit). */
export const MAX_KEYS_PER_CALL = 128;

/** Deletes `keys`, at most {@link MAX_KEYS_PER_CALL} per call. */
export async function deleteKeys(storage: StorageLike, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += MAX_KEYS_PER_CALL) await storage.delete(keys.slice(i, i + MAX_KEYS_PER_CALL));
}
