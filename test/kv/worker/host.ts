/**
 * Test Worker of the key-value suite. `KvHost` is a SQLite-backed Durable Object that stores
 * values of every structured-clone type with `ctx.storage.kv.put`, exports them with a
 * {@link DumpEngine} (`kv: true`), and restores a key-value file from R2 with the restore-side
 * component (`KvFileReader` + `putKvEntries` inside `transactionSync`), resuming from the saved
 * position at every chunk as a restore job would across ticks.
 *
 * Routes: POST `/<object>/<route>` with a JSON body; answers `{ result }` or `{ error: { code, message } }`.
 */
import { DumpEngine, DumpError } from "../../../src/index.js";
import { type KvReadPosition, KvFileReader, putKvEntries } from "../../../src/kv/kv-restore.js";
import { routeTestRequest } from "../../worker/routing.js";
import { refusedCases, storableCases } from "./cases.js";
import { describe } from "./describe.js";

interface Env {
  HOST: DurableObjectNamespace;
  DUMPS: R2Bucket;
}

/** Entries the host writes besides the cases, around (and inside) the engine's `durable-dump:` range. */
const NEIGHBOURS: Record<string, string> = {
  "durable-dum": "before the engine's keys",
  "durable-dump": "before too: no colon",
  "durable-dump;": "right after the engine's keys",
  "durable-dump:host-key": "under the engine's prefix: left out",
  "durable-dumq": "after",
};

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

export class KvHost {
  #engine: DumpEngine | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {}

  #getEngine(): DumpEngine {
    let last = 0;
    // Each read of the clock advances it, so that a tick of 100 ms does a few slices.
    this.#engine ??= new DumpEngine({
      sql: this.ctx.storage.sql,
      bucket: this.env.DUMPS,
      storage: this.ctx.storage,
      tickBudgetMs: 100,
      now: () => (last = Math.max(Date.now(), last) + 10),
    });
    return this.#engine;
  }

  async fetch(request: Request): Promise<Response> {
    const route = new URL(request.url).pathname.split("/").filter(Boolean)[0] ?? "";
    const text = await request.text();
    try {
      return json({ result: (await this.#route(route, text ? JSON.parse(text) : {})) ?? null });
    } catch (e) {
      const code = e instanceof DumpError ? e.code : "INTERNAL";
      return json({ error: { code, message: e instanceof Error ? `${e.message}${code === "INTERNAL" ? `\n${e.stack}` : ""}` : String(e) } });
    }
  }

  async #route(route: string, body: any): Promise<unknown> {
    const kv = this.ctx.storage.kv;
    switch (route) {
      case "seed-cases": {
        const cases = storableCases();
        for (const [name, value] of Object.entries(cases)) kv.put(`case:${name}`, value);
        for (const [key, value] of Object.entries(NEIGHBOURS)) kv.put(key, value);
        this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
        this.ctx.storage.sql.exec("INSERT OR REPLACE INTO t VALUES (1, 'one'), (2, 'two')");
        return Object.keys(cases);
      }
      case "seed-refused": {
        const name = body.name as string;
        kv.put(`refused:${name}`, refusedCases()[name]);
        return { ok: true };
      }
      case "put-strings":
        // body.entries: [key, length] → a string of that many characters.
        for (const [key, length] of body.entries as [string, number][]) kv.put(key, "v".repeat(length));
        return { ok: true };
      case "delete":
        return kv.delete(body.key);
      case "describe": {
        const out: Record<string, string> = {};
        for (const [key, value] of kv.list()) out[key] = describe(value);
        return out;
      }
      case "keys":
        return [...kv.list()].map(([key]) => key);
      case "start":
        return this.#getEngine().start(body);
      case "tick":
        return this.#getEngine().tick();
      case "status":
        return this.#getEngine().status(body.id);
      case "restore":
        return this.#restore(body.key, body.chunk, body.gzip === true);
      default:
        throw new Error(`no route ${route}`);
    }
  }

  /**
   * Restores the key-value file at `key` into this object, as a restore job would: reads it
   * `chunk` bytes at a time and writes each chunk's entries in one `transactionSync`; every third
   * chunk it drops the reader and resumes from the saved position (reading R2 again from
   * `position.offset`), as a job does in its next tick. A gzip object is inflated whole first (a
   * test of the file format, not of inflating).
   */
  async #restore(key: string, chunk: number, gzip: boolean): Promise<{ entries: number; position: KvReadPosition; chunks: number }> {
    const bytes = gzip ? await this.#inflate(key) : null;
    const total = bytes ? bytes.length : await this.#size(key);
    let reader = new KvFileReader();
    let offset = 0;
    let resumedAt = 0;
    let chunks = 0;
    let entries = 0;
    while (offset < total) {
      const piece = bytes ? bytes.subarray(offset, offset + chunk) : await this.#range(key, offset, chunk);
      const batch = reader.push(piece);
      this.ctx.storage.transactionSync(() => {
        entries += putKvEntries(this.ctx.storage.kv, batch);
      });
      offset += piece.length;
      const position = reader.position;
      // Within a line longer than three chunks, resuming would start it over: go on reading it.
      if (++chunks % 3 === 0 && position.offset > resumedAt) {
        reader = new KvFileReader(position);
        offset = resumedAt = position.offset;
      }
    }
    reader.finish();
    return { entries, position: reader.position, chunks };
  }

  /** The tests tick the engine themselves: the alarm the engine sets does nothing here. */
  async alarm(): Promise<void> {}

  async #range(key: string, offset: number, length: number): Promise<Uint8Array> {
    const object = await this.env.DUMPS.get(key, { range: { offset, length } });
    if (!object) throw new Error(`no object ${key}`);
    return new Uint8Array(await object.arrayBuffer());
  }

  async #size(key: string): Promise<number> {
    const head = await this.env.DUMPS.head(key);
    if (!head) throw new Error(`no object ${key}`);
    return head.size;
  }

  async #inflate(key: string): Promise<Uint8Array> {
    const object = await this.env.DUMPS.get(key);
    if (!object) throw new Error(`no object ${key}`);
    return new Uint8Array(await new Response(object.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
  }
}

export default {
  fetch: (request: Request, env: Env) => routeTestRequest(request, env.HOST, env.DUMPS),
} satisfies ExportedHandler<Env>;
