import { Miniflare } from "miniflare";
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../../tools/bundle-worker.mjs";
import type { DumpStatus, StartOptions, TickResult } from "../../src/index.js";
import type { FaultPlan } from "./worker/faults.js";
import type { RelConfig } from "./worker/host.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BUNDLE = join(ROOT, "test", ".tmp", "reliability-host.js");

/** What a route answered: a result, or a DumpError (or other error) description; and the fault, if one fired. */
export interface Answer<T> {
  result?: T;
  error?: { name: string; code: string; message: string };
  fault: { step: number; kind: string; mode: string } | null;
}

/** Bundles `worker/host.ts` with the engine from `src/` into one ES module for workerd. */
async function bundle(): Promise<string> {
  return bundleWorker({ entry: join(ROOT, "test", "reliability", "worker", "host.ts"), outfile: BUNDLE });
}

export interface RelHarness {
  mf: Miniflare;
  object(name?: string): RelObject;
  readObject(key: string): Promise<Uint8Array | null>;
  dispose(): Promise<void>;
}

/** Starts workerd with the reliability host. `outbound` receives the Worker's outgoing fetches. */
export async function createRelHarness(options: { outbound?: (request: Request) => Response | Promise<Response> } = {}): Promise<RelHarness> {
  const scriptPath = await bundle();
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    compatibilityDate: "2025-04-01",
    durableObjects: { HOST: { className: "FaultHost", useSQLite: true } },
    r2Buckets: ["DUMPS"],
    ...(options.outbound ? { outboundService: options.outbound as never } : {}),
  });
  await mf.ready;
  return {
    mf,
    object: (name = `obj-${randomUUID()}`) => new RelObject(mf, name),
    async readObject(key) {
      const response = await mf.dispatchFetch(`http://host/__r2/${encodeURIComponent(key)}`);
      return response.status === 404 ? null : new Uint8Array(await response.arrayBuffer());
    },
    dispose: () => mf.dispose(),
  };
}

/** Client of one FaultHost object. */
export class RelObject {
  constructor(
    private readonly mf: Miniflare,
    readonly name: string,
  ) {}

  async call<T>(route: string, body?: unknown): Promise<Answer<T>> {
    const res = await this.mf.dispatchFetch(`http://host/${encodeURIComponent(this.name)}/${route}`, {
      method: "POST",
      body: JSON.stringify(body ?? null),
    });
    return (await res.json()) as Answer<T>;
  }

  /** A request to the object's HTTP routes: `createDumpHandler` mounted at `/http` (configure it with `config({ http })`). */
  http(path: string, init?: RequestInit): Promise<Response> {
    return this.mf.dispatchFetch(`http://host/${encodeURIComponent(this.name)}/http${path}`, init as never) as unknown as Promise<Response>;
  }

  /** Calls a route and returns its result, throwing on an error answer. */
  async ok<T>(route: string, body?: unknown): Promise<T> {
    const a = await this.call<T>(route, body);
    if (a.error) throw new Error(`${route}: ${a.error.code} ${a.error.message}`);
    return a.result as T;
  }

  config(cfg: RelConfig) {
    return this.ok("config", cfg);
  }
  fault(plan: FaultPlan) {
    return this.ok("fault", plan);
  }
  seed(rows: number, maxText: number) {
    return this.ok<{ bytes: number }>("seed", { rows, maxText });
  }
  /** Key-value entries: `small` ones of varied types under unicode keys, `big` ones near the 2 MB limit. */
  seedKv(small: number, big: number) {
    return this.ok<{ entries: number }>("seed-kv", { small, big });
  }
  start(options: StartOptions = {}) {
    return this.call<DumpStatus>("start", options);
  }
  tick() {
    return this.call<TickResult>("tick");
  }
  status(id: unknown) {
    return this.call<DumpStatus | null>("status", { id });
  }
  abort(id: unknown) {
    return this.call<DumpStatus | null>("abort", { id });
  }
  delete(id: unknown) {
    return this.call<boolean>("delete", { id });
  }
  list(options?: { limit?: number; after?: string }) {
    return this.ok<DumpStatus[]>("list", options);
  }
  io() {
    return this.ok<{ log: string[]; writes: Record<string, number>; reads: string[] }>("io");
  }
  /** Bytes of every value the engine stores, by key. */
  valueSizes() {
    return this.ok<Record<string, number>>("value-sizes");
  }
  keys(prefix = "") {
    return this.ok<string[]>(`keys`, { prefix });
  }
  exec(statements: (string | { sql: string; params?: unknown[] })[]) {
    return this.ok<{ rowsWritten: number }>("exec", { statements: statements.map((s) => (typeof s === "string" ? { sql: s } : s)) });
  }
  query(sql: string, params: unknown[] = []) {
    return this.ok<unknown[][]>("query", { sql, params });
  }
}

export const TERMINAL = new Set(["completed", "failed", "aborted"]);

/**
 * Ticks until job `id` is terminal. Ticks that fail (an injected fault) are retried like the
 * platform retries an alarm; `afterTick` runs after each tick.
 */
export async function drive(
  obj: RelObject,
  id: string,
  opts: { maxTicks?: number; afterTick?: (n: number, a: Answer<TickResult>) => Promise<unknown> } = {},
): Promise<DumpStatus> {
  const max = opts.maxTicks ?? 2_000;
  for (let n = 1; n <= max; n++) {
    const a = await obj.tick();
    if (opts.afterTick) await opts.afterTick(n, a);
    const st = (await obj.status(id)).result;
    if (st && TERMINAL.has(st.state)) return st;
    if (!a.error && a.result && !a.result.more) throw new Error(`no more work but job is ${st?.state}`);
  }
  throw new Error(`job ${id} not finished after ${max} ticks`);
}
