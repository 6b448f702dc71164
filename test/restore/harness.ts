import { Miniflare } from "miniflare";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { bundleWorker } from "../../tools/bundle-worker.mjs";
import type { DumpStatus, RestoreStartOptions, RestoreStatus, StartOptions, TickResult } from "../../src/index.js";
import { doBackend } from "../harness/backends.js";
import { ROOT } from "../harness/build.js";
import { type Snapshot, type TablePlan, planTables, takeSnapshot } from "../harness/snapshot.js";
import type { QueryResult, SqlParam, Statement } from "../harness/host-client.js";
import type { FaultPlan } from "../reliability/worker/faults.js";
import type { RestoreHostConfig } from "./worker/host.js";

const BUNDLE = join(ROOT, "test", ".tmp", "restore-host.js");

/** Where the host keeps its configuration: among the engines' keys, which restores of key-value entries leave alone. */
export const HOST_CONFIG_KEY = "durable-dump:test-host:config";

/** What a route answered, and the fault that fired during it, if one did. */
export interface Answer<T> {
  result?: T;
  error?: { code: string; message: string };
  fault: { step: number; kind: string; mode: string } | null;
}

/** Miniflare running the restore host; with `persist`, objects and R2 live on disk there. */
export interface RestoreHarness {
  mf: Miniflare;
  object(name?: string): RestoreObject;
  readObject(key: string): Promise<Uint8Array>;
  putObject(key: string, bytes: Uint8Array | string, contentEncoding?: string): Promise<void>;
  dispose(): Promise<void>;
}

let bundled: Promise<string> | null = null;

export async function createRestoreHarness(persist?: string): Promise<RestoreHarness> {
  bundled ??= bundleWorker({ entry: join(ROOT, "test", "restore", "worker", "host.ts"), outfile: BUNDLE });
  const mf = new Miniflare({
    modules: true,
    scriptPath: await bundled,
    compatibilityDate: "2025-04-01",
    durableObjects: { HOST: { className: "RestoreHost", useSQLite: true } },
    r2Buckets: ["DUMPS"],
    ...(persist ? { durableObjectsPersist: join(persist, "do"), r2Persist: join(persist, "r2") } : {}),
  });
  await mf.ready;
  return {
    mf,
    object: (name = `obj-${randomUUID()}`) => new RestoreObject(mf, name),
    async readObject(key) {
      const response = await mf.dispatchFetch(`http://host/__r2/${encodeURIComponent(key)}`);
      if (response.status === 404) throw new Error(`R2 object not found: ${key}`);
      return new Uint8Array(await response.arrayBuffer());
    },
    async putObject(key, bytes, contentEncoding) {
      const response = await mf.dispatchFetch(`http://host/__r2/${encodeURIComponent(key)}`, {
        method: "PUT",
        body: typeof bytes === "string" ? bytes : Buffer.from(bytes),
        headers: contentEncoding ? { "x-content-encoding": contentEncoding } : {},
      });
      if (!response.ok) throw new Error(`put ${key}: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    },
    dispose: () => mf.dispose(),
  };
}

/** Client of one RestoreHost object. */
export class RestoreObject {
  constructor(
    private readonly mf: Miniflare,
    readonly name: string,
  ) {}

  async call<T>(route: string, body?: unknown): Promise<Answer<T>> {
    const res = await this.mf.dispatchFetch(`http://host/${encodeURIComponent(this.name)}/${route}`, { method: "POST", body: JSON.stringify(body ?? null) });
    return (await res.json()) as Answer<T>;
  }

  /** Calls a route and returns its result; throws on an error answer. */
  async ok<T>(route: string, body?: unknown): Promise<T> {
    const a = await this.call<T>(route, body);
    if (a.error) throw new Error(`${route}: ${a.error.code} ${a.error.message}`);
    return a.result as T;
  }

  config(cfg: RestoreHostConfig) {
    return this.ok("config", cfg);
  }
  fault(plan: FaultPlan) {
    return this.ok("fault", plan);
  }
  exec(statements: (Statement | string)[]) {
    return this.ok<{ rowsWritten: number }>("exec", { statements: statements.map((s) => (typeof s === "string" ? { sql: s } : s)) });
  }
  query(sql: string, params: SqlParam[] = []): Promise<QueryResult> {
    return this.ok<QueryResult>("query", { sql, params });
  }
  /** Exports the database (ticked to the end inside the object) and returns the final status. */
  dump(options: StartOptions = {}) {
    return this.ok<DumpStatus>("dump", options);
  }
  start(options: RestoreStartOptions) {
    return this.call<RestoreStatus>("restore-start", options);
  }
  tick() {
    return this.call<TickResult>("restore-tick");
  }
  status(id: string) {
    return this.ok<RestoreStatus | null>("restore-status", { id });
  }
  abort(id: string) {
    return this.ok<RestoreStatus | null>("restore-abort", { id });
  }
  list() {
    return this.ok<RestoreStatus[]>("restore-list");
  }
  io() {
    return this.ok<{ log: string[]; writes: Record<string, number>; threw: number[] }>("io");
  }
  keys(prefix = "") {
    return this.ok<string[]>("keys", { prefix });
  }
  /** Stores values of every structured-clone type under `case:<name>`, and keys around the engines' prefix. */
  kvSeedCases() {
    return this.ok<number>("kv-seed-cases");
  }
  /** Stores `small` entries of varied types and `big` values near 2 MB (every other one incompressible: random bytes, `bytes` long). */
  kvSeed(small: number, big: number, options: { bytes?: number; incompressible?: boolean } = {}) {
    return this.ok<{ entries: number }>("kv-seed", { small, big, ...options });
  }
  kvPut(entries: Record<string, unknown>) {
    return this.ok("kv-put", entries);
  }
  /** Every entry of `ctx.storage.list()` but the engines' keys, described type for type (large values by digest). */
  kvDescribe() {
    return this.ok<Record<string, string>>("kv-describe");
  }
}

const TERMINAL = new Set(["completed", "failed", "aborted"]);

/**
 * Ticks until restore `id` is terminal and returns its status. A tick that answers with an
 * error (an injected fault) is simply followed by the next one, as the platform retries an alarm.
 * Fails when a tick throws from the engine (never allowed) without a fault.
 */
export async function driveRestore(
  obj: RestoreObject,
  id: string,
  opts: { maxTicks?: number; afterTick?: (n: number, a: Answer<TickResult>) => Promise<unknown> } = {},
): Promise<RestoreStatus> {
  const max = opts.maxTicks ?? 5_000;
  for (let n = 1; n <= max; n++) {
    const a = await obj.tick();
    if (a.error && !a.fault) throw new Error(`tick threw: ${a.error.code} ${a.error.message}`);
    if (opts.afterTick) await opts.afterTick(n, a);
    const st = await obj.status(id);
    if (st && TERMINAL.has(st.state)) return st;
    if (!a.error && a.result && !a.result.more) throw new Error(`no more work but restore ${id} is ${st?.state}`);
  }
  throw new Error(`restore ${id} not finished after ${max} ticks`);
}

/** Starts a restore and drives it to its end; throws when start() refuses. */
export async function restore(obj: RestoreObject, options: RestoreStartOptions, maxTicks?: number): Promise<RestoreStatus> {
  const started = await obj.start(options);
  if (!started.result) throw new Error(`start: ${started.error?.code} ${started.error?.message}`);
  return driveRestore(obj, started.result.id, maxTicks === undefined ? {} : { maxTicks });
}

let uploads = 0;

/** Uploads `bytes` and restores them (no manifest) into a fresh object in small ticks: the restore's status, and the object. */
export async function restoreUpload(
  h: RestoreHarness,
  bytes: Uint8Array | string,
  config: RestoreHostConfig = {},
): Promise<{ status: RestoreStatus; target: RestoreObject }> {
  const key = `uploads/${uploads++}.sql`;
  await h.putObject(key, bytes);
  const target = h.object();
  await target.config({ tickBudgetMs: 100, clockStepMs: 30, ...config });
  return { status: await restore(target, { key, manifestKey: null }), target };
}

/** A harness with an object filled by `statements`, and how its tables are read and what they hold. */
export async function seededSource(
  statements: (Statement | string)[],
): Promise<{ h: RestoreHarness; source: RestoreObject; plans: TablePlan[]; expected: Snapshot }> {
  const h = await createRestoreHarness();
  const source = h.object();
  await source.exec(statements);
  const plans = await planTables(doBackend(source));
  return { h, source, plans, expected: await takeSnapshot(doBackend(source), plans) };
}
