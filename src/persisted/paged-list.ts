import { DumpError } from "../errors.js";
import { type Shape, array, readable } from "./shape.js";
import type { StorageLike } from "./storage.js";

/** How a list is cut into pages: a page closes at this many items or (estimated) bytes, whichever comes first. */
export interface PageLimits {
  items: number;
  bytes: number;
}

/** A page's size estimate: 2 bytes per string character (V8 keeps two-byte strings) and 16 per number. */
export function estimateBytes(value: unknown): number {
  if (typeof value === "string") return 2 * value.length + 8;
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + estimateBytes(v), 8);
  if (typeof value === "object" && value !== null) return Object.values(value).reduce((sum: number, v) => sum + estimateBytes(v), 8);
  return 16;
}

/** Cuts `items` into pages as {@link PagedList.push} would, one by one. */
export function paginate<T>(items: readonly T[], limits: PageLimits): T[][] {
  const pages: T[][] = [];
  let bytes = 0;
  for (const item of items) {
    const size = estimateBytes(item);
    const last = pages[pages.length - 1];
    if (last && !full(last.length, bytes, size, limits)) {
      last.push(item);
      bytes += size;
    } else {
      pages.push([item]);
      bytes = 8 + size;
    }
  }
  return pages;
}

/** Whether a page of `items` items and `bytes` bytes has no room for one more of `size` bytes. */
function full(items: number, bytes: number, size: number, limits: PageLimits): boolean {
  return items >= limits.items || bytes + size > limits.bytes;
}

/**
 * An append-only list kept in pages under keys of its own, so that no stored value grows with the
 * list (a record holds only the page sizes). Pages load on first use; `push` changes the last page
 * in memory, and the caller saves {@link dirtyEntries} with its checkpoint, in the same `put`.
 */
export class PagedList<T> {
  readonly #storage: StorageLike;
  readonly #keyOf: (page: number) => string;
  readonly #pageShape: Shape<T[]>;
  readonly #limits: PageLimits;
  readonly #sizes: number[];
  readonly #pages = new Map<number, T[]>();
  readonly #dirty = new Set<number>();
  #lastPageBytes: number | null = null;

  /** A list whose pages hold `sizes[p]` items each (`[]` for a new list). */
  constructor(storage: StorageLike, keyOf: (page: number) => string, sizes: readonly number[], item: Shape<T>, limits: PageLimits) {
    this.#storage = storage;
    this.#keyOf = keyOf;
    this.#sizes = [...sizes];
    this.#pageShape = array(item);
    this.#limits = limits;
  }

  get length(): number {
    return this.#sizes.reduce((sum, n) => sum + n, 0);
  }

  /** Items per page, as the record keeps them. */
  get sizes(): number[] {
    return [...this.#sizes];
  }

  /** The key of every page. */
  pageKeys(): string[] {
    return this.#sizes.map((_, page) => this.#keyOf(page));
  }

  /** Item `index`; throws RangeError past the end. */
  async at(index: number): Promise<T> {
    let page = 0;
    let first = 0;
    while (page < this.#sizes.length && index >= first + this.#sizes[page]!) first += this.#sizes[page++]!;
    if (index < 0 || page === this.#sizes.length) throw new RangeError(`index ${index} of a list of ${this.length}`);
    return (await this.#page(page))[index - first]!;
  }

  /** Every item, in order (reads every page). */
  async all(): Promise<T[]> {
    const out: T[] = [];
    for (let page = 0; page < this.#sizes.length; page++) out.push(...(await this.#page(page)));
    return out;
  }

  /** Appends an item, opening a new page when the last one is full. */
  async push(item: T): Promise<void> {
    const size = estimateBytes(item);
    let last = this.#sizes.length - 1;
    if (last >= 0) {
      const items = await this.#page(last);
      this.#lastPageBytes ??= estimateBytes(items);
      if (full(items.length, this.#lastPageBytes, size, this.#limits)) last = -1;
    }
    if (last < 0) {
      last = this.#sizes.length;
      this.#sizes.push(0);
      this.#pages.set(last, []);
      this.#lastPageBytes = 8;
    }
    this.#pages.get(last)!.push(item);
    this.#sizes[last]!++;
    this.#lastPageBytes = (this.#lastPageBytes ?? 8) + size;
    this.#dirty.add(last);
  }

  /** The pages changed since the last {@link markSaved}, by key. */
  dirtyEntries(): Record<string, T[]> {
    const entries: Record<string, T[]> = {};
    for (const page of this.#dirty) entries[this.#keyOf(page)] = this.#pages.get(page)!;
    return entries;
  }

  /** Records that storage holds every page as it is now. */
  markSaved(): void {
    this.#dirty.clear();
  }

  async #page(page: number): Promise<T[]> {
    const loaded = this.#pages.get(page);
    if (loaded) return loaded;
    const key = this.#keyOf(page);
    const value = await this.#storage.get(key);
    if (value === undefined) throw new DumpError("RECORD_UNREADABLE", `${key} is missing from storage.`);
    const items = readable(() => this.#pageShape.check(value, key));
    if (items.length !== this.#sizes[page])
      throw new DumpError("RECORD_UNREADABLE", `${key} holds ${items.length} items, the record says ${this.#sizes[page]}.`);
    this.#pages.set(page, items);
    return items;
  }
}
