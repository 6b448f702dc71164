/**
 * Test Worker of the paged lists: `ListHost` fills a {@link PagedList} of the library over the
 * object's real storage, saves it as a checkpoint would, reads it back through a fresh list, and
 * reports the size of every stored page.
 */
import { LIST_LIMITS, partShape } from "../../src/persisted/dump-record.js";
import { PagedList } from "../../src/persisted/paged-list.js";
import { type Shape, string } from "../../src/persisted/shape.js";
import { MAX_KEYS_PER_CALL } from "../../src/persisted/storage.js";

interface Env {
  LISTS: DurableObjectNamespace;
}

/** What the test asks for: a list of `count` R2 parts, or of table names of `nameLength` characters. */
export interface ListRun {
  kind: "parts" | "plan";
  count: number;
  nameLength?: number;
}

function item(run: ListRun, i: number): unknown {
  if (run.kind === "plan") return `t${i}_${"é".repeat(run.nameLength ?? 100)}`;
  return { partNumber: i + 1, etag: `"${i.toString(16).padStart(32, "0")}"`, size: 5 * 1024 * 1024, sha256: i.toString(16).padStart(64, "0"), segment: null };
}

export class ListHost {
  constructor(private readonly ctx: DurableObjectState) {}

  async fetch(request: Request): Promise<Response> {
    const run = (await request.json()) as ListRun;
    const storage = this.ctx.storage;
    const shape = (run.kind === "parts" ? partShape : string) as Shape<unknown>;
    const keyOf = (page: number) => `test:${run.kind}:${page}`;
    const list = new PagedList<unknown>(storage, keyOf, [], shape, LIST_LIMITS[run.kind]);
    for (let i = 0; i < run.count; i++) {
      await list.push(item(run, i));
      // Saved every 100 items, as a checkpoint saves the pages it changed.
      if (i % 100 === 99 || i === run.count - 1) {
        const entries = Object.entries(list.dirtyEntries());
        for (let j = 0; j < entries.length; j += MAX_KEYS_PER_CALL) await storage.put(Object.fromEntries(entries.slice(j, j + MAX_KEYS_PER_CALL)));
        list.markSaved();
      }
    }
    const pageBytes: number[] = [];
    for (const key of list.pageKeys()) pageBytes.push(new TextEncoder().encode(JSON.stringify(await storage.get(key))).length);
    const reread = new PagedList<unknown>(storage, keyOf, list.sizes, shape, LIST_LIMITS[run.kind]);
    const all = await reread.all();
    const same = all.length === run.count && all.every((v, i) => JSON.stringify(v) === JSON.stringify(item(run, i)));
    const last = await new PagedList<unknown>(storage, keyOf, list.sizes, shape, LIST_LIMITS[run.kind]).at(run.count - 1);
    return Response.json({ sizes: list.sizes, pageBytes, same, lastMatches: JSON.stringify(last) === JSON.stringify(item(run, run.count - 1)) });
  }
}

export default {
  fetch(request: Request, env: Env) {
    return env.LISTS.get(env.LISTS.newUniqueId()).fetch(request);
  },
};
