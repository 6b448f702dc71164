/**
 * Test Worker of the restore suites: `RestoreHost` composes a {@link DumpEngine} and a
 * {@link RestoreEngine} sharing one scheduler, as a host that backs up and restores would, over
 * the fault wrappers of `test/reliability/worker/faults.ts` (storage, its transactions, R2 and
 * SQL), with a clock the tests control.
 *
 * Routes, `/<objectName>/<route>`, POST with a JSON body; every answer is 200 with `{ result }` or
 * `{ error: { code, message } }`, plus `fault` (the step that broke during the request, if any).
 * After a fault the engines are dropped, and the next request builds fresh ones over the same
 * storage, as after an eviction. `PUT /__r2/<key>` stores the body in R2 (for dumps written
 * elsewhere); `GET /__r2/<key>` reads an object. The `kv-*` routes store and describe key-value
 * entries (values of every structured-clone type, `test/kv/worker/cases.ts`).
 *
 * The host keeps its configuration under `durable-dump:test-host:config`, among the engines' keys,
 * which restores of key-value entries never count, export or replace.
 *
 * Clock: "virtual" (default) starts in 2030 and advances `clockStepMs` per read; `/restore-tick`
 * first moves it to the restore engine's wake-up (as the alarm would). "real" uses Date.now and
 * lets `alarm()` run `scheduler.run()`, which ticks both engines.
 */
import { AlarmScheduler, DumpEngine, DumpError, RestoreEngine, type RestoreEngineOptions } from "../../../src/index.js";
import { FaultController, type FaultPlan, faultyBucket, faultySql, faultyTransactionalStorage } from "../../reliability/worker/faults.js";
import { describe as describeValue } from "../../kv/worker/describe.js";
import { storableCases, variedValue } from "../../kv/worker/cases.js";
import { encodeValue } from "../../worker/host.js";
import { routeTestRequest } from "../../worker/routing.js";

interface Env {
  HOST: DurableObjectNamespace;
  DUMPS: R2Bucket;
}

/** Engine options the tests set (stored, so engines rebuilt after an eviction are the same). */
export interface RestoreHostConfig {
  tickBudgetMs?: number;
  readBytes?: number;
  partSize?: number;
  clock?: "virtual" | "real";
  clockStepMs?: number;
  /** Break SQL statements too (every `sql.exec` of the restore engine is then a step). */
  faultSql?: boolean;
}

const CONFIG_KEY = "durable-dump:test-host:config";
/** Values and descriptions longer than this are answered as their SHA-256 (values near 2 MB). */
const DESCRIPTION_CHARS = 4096;
const VIRTUAL_T0 = Date.UTC(2030, 0, 1);
const RESTORE_WAKE_KEY = "durable-dump:wake:durable-dump-restore";
const DUMP_WAKE_KEY = "durable-dump:wake:durable-dump";

type WireParam = string | number | null | { $blob: string };

function decodeParam(p: WireParam): SqlStorageValue {
  if (p !== null && typeof p === "object") {
    const hex = p.$blob;
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out.buffer;
  }
  return p;
}

function describe(e: unknown): { code: string; message: string } {
  if (e instanceof DumpError) return { code: e.code, message: e.message };
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: "INTERNAL", message: `${err.name}: ${err.message}\n${err.stack ?? ""}` };
}

export class RestoreHost {
  #engines: { dumps: DumpEngine; restores: RestoreEngine } | null = null;
  #faults = new FaultController();
  #plan: FaultPlan = { failAt: null, mode: "throw" };
  #virtualNow = VIRTUAL_T0;
  #config: RestoreHostConfig | null = null;
  /** A fault killed the engines: the next ones start as in a new isolate. */
  #evicted = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {}

  async #cfg(): Promise<RestoreHostConfig> {
    this.#config ??= (await this.ctx.storage.get<RestoreHostConfig>(CONFIG_KEY)) ?? {};
    return this.#config;
  }

  async #getEngines(): Promise<{ dumps: DumpEngine; restores: RestoreEngine }> {
    if (this.#engines) return this.#engines;
    const cfg = await this.#cfg();
    if (this.#evicted) {
      // An evicted object comes back with a fresh SQLite connection, foreign keys enforced.
      await this.ctx.storage.sync();
      this.ctx.storage.sql.exec("PRAGMA foreign_keys=ON");
      this.#evicted = false;
    }
    this.#faults = new FaultController(this.#plan);
    const step = cfg.clockStepMs ?? 20;
    const now = cfg.clock === "real" ? Date.now : () => (this.#virtualNow += step);
    const storage = faultyTransactionalStorage(this.ctx.storage, this.#faults);
    const bucket = faultyBucket(this.env.DUMPS, this.#faults);
    // One scheduler for both engines, over the faulty storage: the restore's wake-ups are steps too.
    const scheduler = new AlarmScheduler(storage, { now });
    const dumps = new DumpEngine({
      sql: this.ctx.storage.sql,
      bucket: this.env.DUMPS,
      storage: this.ctx.storage,
      scheduler,
      now,
      random: () => 0,
      ...(cfg.tickBudgetMs ? { tickBudgetMs: cfg.tickBudgetMs } : {}),
      ...(cfg.partSize ? { partSize: cfg.partSize } : {}),
    });
    const options: RestoreEngineOptions = {
      sql: cfg.faultSql ? faultySql(this.ctx.storage.sql, this.#faults) : this.ctx.storage.sql,
      bucket,
      storage,
      scheduler,
      now,
      random: () => 0,
      ...(cfg.tickBudgetMs ? { tickBudgetMs: cfg.tickBudgetMs } : {}),
      ...(cfg.readBytes ? { readBytes: cfg.readBytes } : {}),
    };
    this.#engines = { dumps, restores: new RestoreEngine(options) };
    return this.#engines;
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const [route = "", arg = ""] = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const text = await request.text();
    const body = text ? JSON.parse(text) : undefined;
    try {
      const result = await this.#route(route, arg, body);
      return Response.json({ result: result ?? null, fault: this.#afterRequest() });
    } catch (e) {
      return Response.json({ error: describe(e), fault: this.#afterRequest() });
    }
  }

  /** Drops the engines after a fault: the next request builds fresh ones, as after an eviction. */
  #afterRequest(): FaultController["triggered"] {
    const fault = this.#faults.triggered;
    if (fault) {
      this.#engines = null;
      this.#evicted = true;
      this.#plan = { failAt: null, mode: "throw" };
      this.#faults = new FaultController(this.#plan);
    }
    return fault;
  }

  async #route(route: string, arg: string, body: any): Promise<unknown> {
    const storage = this.ctx.storage;
    const sql = storage.sql;
    switch (route) {
      case "config":
        await storage.put(CONFIG_KEY, body as RestoreHostConfig);
        this.#config = body as RestoreHostConfig;
        this.#engines = null;
        return { ok: true };
      case "fault":
        this.#plan = body as FaultPlan;
        this.#engines = null;
        await this.#getEngines();
        return { ok: true };
      case "exec": {
        let rowsWritten = 0;
        for (const s of body.statements as { sql: string; params?: WireParam[] }[]) {
          const cursor = sql.exec(s.sql, ...(s.params ?? []).map(decodeParam));
          cursor.toArray();
          rowsWritten += cursor.rowsWritten;
        }
        return { rowsWritten };
      }
      case "query": {
        const cursor = sql.exec(body.sql, ...((body.params ?? []) as WireParam[]).map(decodeParam));
        const rows = [...cursor.raw()].map((r) => r.map(encodeValue));
        return { columns: cursor.columnNames, rows };
      }
      case "dump": {
        // Exports the database and ticks until the export ends (the export engine is not under test here).
        const { dumps } = await this.#getEngines();
        const started = await dumps.start(body ?? {});
        for (let n = 0; n < 100_000; n++) {
          const at = await storage.get<number>(DUMP_WAKE_KEY);
          if (at !== undefined && at > this.#virtualNow) this.#virtualNow = at;
          const tick = await dumps.tick();
          if (tick.jobId === started.id && tick.state !== "running" && tick.state !== "queued") break;
        }
        return dumps.status(started.id);
      }
      case "restore-start":
        return (await this.#getEngines()).restores.start(body);
      case "restore-tick": {
        const { restores } = await this.#getEngines();
        if ((await this.#cfg()).clock !== "real") {
          const at = await storage.get<number>(RESTORE_WAKE_KEY);
          if (at !== undefined && at > this.#virtualNow) this.#virtualNow = at;
        }
        return restores.tick();
      }
      case "restore-status":
        return (await this.#getEngines()).restores.status(body?.id ?? arg);
      case "restore-abort":
        return (await this.#getEngines()).restores.abort(body?.id ?? arg);
      case "restore-list":
        return (await this.#getEngines()).restores.list();
      case "evict":
        this.#engines = null;
        return { ok: true };
      case "io":
        return { log: this.#faults.log, writes: this.#faults.writes, threw: this.#faults.threw };
      case "reset-io":
        this.#engines = null;
        await this.#getEngines();
        return { ok: true };
      case "keys":
        return [...(await storage.list({ prefix: body?.prefix ?? "" })).keys()];
      case "kv-seed-cases": {
        const cases = storableCases();
        for (const [name, value] of Object.entries(cases)) storage.kv.put(`case:${name}`, value);
        // Around the engines' prefix: kept; under it: never exported, never restored.
        for (const key of ["durable-dum", "durable-dump", "durable-dump;", "é", "😀", "\uffef"]) storage.kv.put(key, `neighbour ${key}`);
        return Object.keys(cases).length;
      }
      case "kv-seed": {
        // body: { small, big, bytes?, incompressible? }: small entries of varied types; values near 2 MB
        // (or of `bytes`), every other one incompressible (or all of them).
        const { small, big, bytes = 1_400_000, incompressible = false } = body as { small: number; big: number; bytes?: number; incompressible?: boolean };
        for (let i = 0; i < small; i++) storage.kv.put(`small:${String(i).padStart(4, "0")}`, variedValue(i));
        let seed = 7;
        for (let j = 0; j < big; j++) {
          if (j % 2 === 0 && !incompressible) storage.kv.put(`big:${String(j).padStart(2, "0")}`, String.fromCharCode(97 + j).repeat(1_900_000));
          else {
            const random = new Uint8Array(bytes);
            for (let k = 0; k < random.length; k++) {
              seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
              random[k] = seed >>> 24;
            }
            storage.kv.put(`big:${String(j).padStart(2, "0")}`, random.buffer);
          }
        }
        return { entries: small + big };
      }
      case "kv-put":
        for (const [key, value] of Object.entries(body as Record<string, unknown>)) storage.kv.put(key, value);
        return { ok: true };
      case "kv-describe": {
        // Every entry of ctx.storage.list(), the engines' keys aside, described type for type.
        const out: Record<string, string> = {};
        for (const [key, value] of await storage.list()) {
          if (key.startsWith("durable-dump:")) continue;
          out[key] = await describeEntry(value);
        }
        return out;
      }
      case "ping": {
        // A trivial request; with a restore's id, it also tells how far that restore's last checkpoint is.
        const record = body?.id ? storage.kv.get<{ stats: { statements: number } }>(`durable-dump:restore:${body.id}`) : undefined;
        return { tables: sql.exec("SELECT count(*) AS n FROM sqlite_master").one().n, statements: record?.stats.statements ?? null };
      }
      default:
        throw new Error(`no route ${route}`);
    }
  }

  /** Real clock: one alarm runs every due wake-up, ticking whichever engine has work. */
  async alarm(): Promise<void> {
    await (await this.#getEngines()).dumps.scheduler.run();
  }
}

/** The description of a stored value; large buffers and strings (and long descriptions) by their SHA-256, which is much faster. */
async function describeEntry(value: unknown): Promise<string> {
  if (
    value instanceof ArrayBuffer &&
    Object.getPrototypeOf(value) === ArrayBuffer.prototype &&
    !(value as { resizable?: boolean }).resizable &&
    value.byteLength > DESCRIPTION_CHARS
  ) {
    return `ArrayBuffer(bytes=${value.byteLength} sha256:${await sha256(new Uint8Array(value))})`;
  }
  if (typeof value === "string" && value.length > DESCRIPTION_CHARS)
    return `str:len=${value.length} sha256:${await sha256(new TextEncoder().encode(JSON.stringify(value)))}`;
  const description = describeValue(value);
  return description.length > DESCRIPTION_CHARS ? `sha256:${await sha256(new TextEncoder().encode(description))}` : description;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "PUT" && url.pathname.startsWith("/__r2/")) {
      const key = decodeURIComponent(url.pathname.slice("/__r2/".length));
      const contentEncoding = request.headers.get("x-content-encoding");
      await env.DUMPS.put(key, await request.arrayBuffer(), contentEncoding ? { httpMetadata: { contentEncoding } } : {});
      return Response.json({ ok: true });
    }
    return routeTestRequest(request, env.HOST, env.DUMPS);
  },
} satisfies ExportedHandler<Env>;
