import type { DumpStorage } from "../../src/index.js";

/**
 * An in-memory `DumpStorage` for the Node unit tests of modules that only need a key-value map and
 * an alarm (the scheduler, paged lists). Keys list in UTF-16 order, which equals the platform's
 * UTF-8 order for the ASCII keys used here. Runtime behaviour is tested in workerd, never here.
 */
export class MemoryStorage implements DumpStorage {
  readonly map = new Map<string, unknown>();
  alarm: number | null = null;
  /** Calls by method, to assert what a module reads and writes. */
  readonly calls: Record<string, number> = {};

  #count(name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  get<T = unknown>(key: string): Promise<T | undefined>;
  get<T = unknown>(keys: string[]): Promise<Map<string, T>>;
  async get<T>(keys: string | string[]): Promise<T | undefined | Map<string, T>> {
    this.#count("get");
    if (typeof keys === "string") return structuredClone(this.map.get(keys)) as T | undefined;
    const out = new Map<string, T>();
    for (const key of keys) if (this.map.has(key)) out.set(key, structuredClone(this.map.get(key)) as T);
    return out;
  }

  async list<T = unknown>(options: { prefix: string; start?: string; startAfter?: string; limit?: number }): Promise<Map<string, T>> {
    this.#count("list");
    const keys = [...this.map.keys()]
      .filter(
        (k) =>
          k.startsWith(options.prefix) && (options.start === undefined || k >= options.start) && (options.startAfter === undefined || k > options.startAfter),
      )
      .sort()
      .slice(0, options.limit ?? Number.POSITIVE_INFINITY);
    return new Map(keys.map((k) => [k, structuredClone(this.map.get(k)) as T]));
  }

  async put<T>(entries: Record<string, T>): Promise<void> {
    this.#count("put");
    for (const [key, value] of Object.entries(entries)) this.map.set(key, structuredClone(value));
  }

  async delete(keys: string[]): Promise<number> {
    this.#count("delete");
    let n = 0;
    for (const key of keys) if (this.map.delete(key)) n++;
    return n;
  }

  async getAlarm(): Promise<number | null> {
    return this.alarm;
  }

  async setAlarm(at: number): Promise<void> {
    this.#count("setAlarm");
    this.alarm = at;
  }
}
