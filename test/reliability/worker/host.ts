/**
 * Test Worker of the reliability suite: `FaultHost` composes a {@link DumpEngine} over the fault
 * wrappers of `faults.ts` and a clock the tests control, and shares the alarm with periodic work
 * of its own through `engine.scheduler`.
 *
 * Every route answers 200 with `{ result }` or `{ error: { name, code, message } }`, plus
 * `fault` (the step that broke during the request, if any). The engine is dropped after a fault,
 * so the next request builds a fresh one over the same storage (a simulated eviction).
 *
 * Clock: "virtual" (default) starts at 2030-01-01 and advances `clockStepMs` per read, so runs
 * are deterministic and the engine's alarms never fire during a test; `/tick` first moves it to
 * the engine's wake-up time when that is later (as the alarm would). "real" uses Date.now and
 * lets `alarm()` drive the engine through `engine.scheduler.run()`.
 */
import { DumpEngine, DumpError, type DumpEngineOptions } from "../../../src/index.js";
import { variedValue } from "../../kv/worker/cases.js";
import { routeTestRequest } from "../../worker/routing.js";
import { FaultController, faultyBucket, faultyStorage, type FaultPlan } from "./faults.js";
import { type BodyProbe, type HttpConfig, dumpRoutes, probeBody } from "./http-routes.js";

interface Env {
  HOST: DurableObjectNamespace;
  DUMPS: R2Bucket;
}

export interface RelConfig {
  tickBudgetMs?: number;
  partSize?: number;
  keyPrefix?: string;
  maxQueuedJobs?: number;
  retentionMs?: number;
  clock?: "virtual" | "real";
  clockStepMs?: number;
  /** Extra raw engine options, passed as they are (for the fuzz tests). */
  raw?: Record<string, unknown>;
  callbackSecret?: string;
  allowInsecureCallbacks?: boolean;
  /** Install an onComplete hook that records each call (and throws the first `hookFailures` times). */
  hook?: boolean;
  hookFailures?: number;
  /** The HTTP routes served under `/<object>/http/…` (see http-routes.ts). */
  http?: HttpConfig;
  /** Each callback request moves the virtual clock this far: a slow receiver, without waiting. */
  callbackDelayMs?: number;
}

const CONFIG_KEY = "rel-host:config";
const PERIODIC_RUNS_KEY = "rel-host:periodic-runs";
const PERIODIC_EVERY_KEY = "rel-host:periodic-every";
const ALARM_RUNS_KEY = "rel-host:alarm-runs";
const ALARM_THROWS_KEY = "rel-host:alarm-throws";
const TICKS_IN_ALARM_KEY = "rel-host:alarm-ticks";
const PERIODIC = "host:periodic";
const VIRTUAL_T0 = Date.UTC(2030, 0, 1);
const HOOK_CALLS_KEY = "rel-host:hook-calls";

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

function describe(e: unknown): { name: string; code: string; message: string } {
  if (e instanceof DumpError) return { name: e.name, code: e.code, message: e.message };
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, code: "INTERNAL", message: `${err.message}\n${err.stack ?? ""}` };
}

export class FaultHost {
  #engine: DumpEngine | null = null;
  #faults = new FaultController();
  #plan: FaultPlan = { failAt: null, mode: "throw" };
  #virtualNow = VIRTUAL_T0;
  #config: RelConfig | null = null;
  /** Callbacks received by the fetch mock, newest last. */

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {}

  async #cfg(): Promise<RelConfig> {
    this.#config ??= (await this.ctx.storage.get<RelConfig>(CONFIG_KEY)) ?? {};
    return this.#config;
  }

  #now(cfg: RelConfig): () => number {
    if (cfg.clock === "real") return Date.now;
    const step = cfg.clockStepMs ?? 20;
    return () => (this.#virtualNow += step);
  }

  async #getEngine(): Promise<DumpEngine> {
    if (this.#engine) return this.#engine;
    const cfg = await this.#cfg();
    this.#faults = new FaultController(this.#plan);
    const { clock: _clock, clockStepMs: _step, raw, hook, hookFailures, http: _http, callbackDelayMs, ...opts } = cfg;
    const storage = this.ctx.storage;
    const onComplete = async (status: { id: string; state: string }) => {
      const calls = (await storage.get<unknown[]>(HOOK_CALLS_KEY)) ?? [];
      calls.push({ id: status.id, state: status.state });
      await storage.put(HOOK_CALLS_KEY, calls);
      if (calls.length <= (hookFailures ?? 0)) throw new Error("hook failed (injected)");
    };
    this.#engine = new DumpEngine({
      sql: this.ctx.storage.sql,
      bucket: faultyBucket(this.env.DUMPS, this.#faults),
      storage: faultyStorage(this.ctx.storage, this.#faults),
      now: this.#now(cfg),
      // No jitter: the tests check the nominal retry delays.
      random: () => 0,
      ...opts,
      ...(hook ? { onComplete } : {}),
      ...(callbackDelayMs
        ? {
            fetch: (input: RequestInfo | URL, init?: RequestInit) => {
              this.#virtualNow += callbackDelayMs;
              return fetch(input, init);
            },
          }
        : {}),
      ...(raw as Partial<DumpEngineOptions> | undefined),
    });
    const engine = this.#engine;
    this.#faults.abortJobs = async () => {
      for (const job of await engine.list()) if (job.state === "queued" || job.state === "running") await engine.abort(job.id);
    };
    return this.#engine;
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/http" || url.pathname.startsWith("/http/")) {
      return dumpRoutes(await this.#getEngine(), this.env.DUMPS, (await this.#cfg()).http)(request);
    }
    const [route = "", arg = ""] = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const text = request.method === "POST" ? await request.text() : "";
    const body = text ? JSON.parse(text) : undefined;
    const faults = this.#engine ? this.#faults : null;
    try {
      const result = await this.#route(route, arg, body);
      return json({ result: result ?? null, fault: this.#afterRequest() });
    } catch (e) {
      return json({ error: describe(e), fault: this.#afterRequest(faults) });
    }
  }

  /** Drops the engine after a fault: the next request builds a fresh one, as after an eviction. */
  #afterRequest(_before?: FaultController | null): FaultController["triggered"] {
    const fault = this.#faults.triggered;
    if (fault) {
      this.#engine = null;
      if (!this.#plan.kind || (this.#plan.times ?? 0) <= 0) this.#plan = { failAt: null, mode: "throw" };
      this.#faults = new FaultController(this.#plan);
    }
    return fault;
  }

  async #route(route: string, arg: string, body: any): Promise<unknown> {
    const storage = this.ctx.storage;
    switch (route) {
      case "config":
        await storage.put(CONFIG_KEY, body as RelConfig);
        this.#config = body as RelConfig;
        this.#engine = null;
        return { ok: true };
      case "construct": {
        // Builds an engine from raw options (fuzzing); the stored one is left alone.
        const c = new FaultController();
        new DumpEngine({ sql: storage.sql, bucket: faultyBucket(this.env.DUMPS, c), storage: faultyStorage(storage, c), ...(body as object) });
        return { writes: c.writes };
      }
      case "fault":
        this.#plan = body as FaultPlan;
        this.#engine = null;
        await this.#getEngine();
        return { ok: true };
      case "seed":
        return this.#seed(body as { rows: number; maxText: number });
      case "body-probe":
        return probeBody(dumpRoutes(await this.#getEngine(), this.env.DUMPS, (await this.#cfg()).http), body as BodyProbe);
      case "seed-kv":
        return this.#seedKv(body as { small: number; big: number });
      case "exec": {
        let rows = 0;
        for (const s of body.statements as { sql: string; params?: SqlStorageValue[] }[]) {
          const cursor = storage.sql.exec(s.sql, ...(s.params ?? []));
          cursor.toArray();
          rows += cursor.rowsWritten;
        }
        return { rowsWritten: rows };
      }
      case "query":
        return [...storage.sql.exec(body.sql, ...(body.params ?? [])).raw()];
      case "start":
        return (await this.#getEngine()).start(body);
      case "tick": {
        const engine = await this.#getEngine();
        const cfg = await this.#cfg();
        if (cfg.clock !== "real") {
          // An alarm fires at the wake-up time: the virtual clock jumps there.
          const at = await storage.get<number>("durable-dump:wake:durable-dump");
          if (at !== undefined && at > this.#virtualNow) this.#virtualNow = at;
        }
        return engine.tick();
      }
      case "status":
        return (await this.#getEngine()).status(body?.id ?? arg);
      case "abort":
        return (await this.#getEngine()).abort(body?.id ?? arg);
      case "delete":
        return (await this.#getEngine()).delete(body?.id ?? arg);
      case "list":
        return (await this.#getEngine()).list(body ?? undefined);
      case "evict":
        this.#engine = null;
        return { ok: true };
      case "io":
        return { log: this.#faults.log, writes: this.#faults.writes, reads: this.#faults.reads };
      case "value-sizes": {
        // Bytes of every stored value of the engine: binary as is, the rest as JSON in UTF-8 (what a record costs).
        const sizes: Record<string, number> = {};
        for (const [key, value] of await storage.list({ prefix: "durable-dump:" })) {
          sizes[key] = value instanceof ArrayBuffer || ArrayBuffer.isView(value) ? value.byteLength : new TextEncoder().encode(JSON.stringify(value)).length;
        }
        return sizes;
      }
      case "reset-io":
        this.#faults = new FaultController(this.#plan);
        this.#engine = null;
        await this.#getEngine();
        return { ok: true };
      case "keys": {
        const map = await storage.list({ prefix: arg || body?.prefix || "" });
        return [...map.keys()];
      }
      case "record":
        return (await storage.get(`durable-dump:job:${arg}`)) ?? null;
      case "lose-upload": {
        // Aborts the job's multipart upload behind the engine's back (R2's 7-day cleanup, say).
        const record = await storage.get<{ upload: { key: string; uploadId: string } | null }>(`durable-dump:job:${arg}`);
        if (!record?.upload) throw new Error("job has no open upload");
        await this.env.DUMPS.resumeMultipartUpload(record.upload.key, record.upload.uploadId).abort();
        return { ok: true };
      }
      case "clock":
        this.#virtualNow += (body as { advanceMs: number }).advanceMs;
        return { now: this.#virtualNow };
      case "periodic": {
        const every = (body as { everyMs: number }).everyMs;
        await storage.put(PERIODIC_EVERY_KEY, every);
        await (await this.#getEngine()).scheduler.schedule(PERIODIC, Date.now() + every);
        return { ok: true };
      }
      case "sched": {
        // Direct access to the scheduler and the alarm, for the scheduler's own tests.
        const scheduler = (await this.#getEngine()).scheduler;
        const { op, name, at } = body as { op: string; name: string; at: number };
        if (op === "schedule") return scheduler.schedule(name, at);
        if (op === "cancel") return scheduler.cancel(name);
        if (op === "pending") return scheduler.pending();
        if (op === "run") return scheduler.run({ [name]: () => undefined });
        if (op === "runRescheduleSame") return scheduler.run({ [name]: () => scheduler.schedule(name, at) });
        if (op === "setAlarm") return storage.setAlarm(at);
        if (op === "deleteAlarm") return storage.deleteAlarm();
        if (op === "getAlarm") return storage.getAlarm();
        if (op === "now") return Date.now();
        throw new Error(`bad op ${op}`);
      }
      case "hook-calls":
        return (await storage.get(HOOK_CALLS_KEY)) ?? [];
      case "alarm-throws":
        await storage.put(ALARM_THROWS_KEY, (body as { times: number }).times);
        return { ok: true };
      case "host-state":
        return {
          periodicRuns: (await storage.get<number>(PERIODIC_RUNS_KEY)) ?? 0,
          alarmRuns: (await storage.get<number>(ALARM_RUNS_KEY)) ?? 0,
          ticksInAlarm: (await storage.get<number>(TICKS_IN_ALARM_KEY)) ?? 0,
          alarmThrowsLeft: (await storage.get<number>(ALARM_THROWS_KEY)) ?? 0,
          alarm: await storage.getAlarm(),
          wakes: await (await this.#getEngine()).scheduler.pending(),
        };
      default:
        throw new Error(`no route ${route}`);
    }
  }

  /** Deterministic rows of varied sizes in two tables, about `rows * maxText / 2` bytes of text. */
  #seed({ rows, maxText }: { rows: number; maxText: number }): { bytes: number } {
    const sql = this.ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS small (k TEXT PRIMARY KEY, v) WITHOUT ROWID`);
    sql.exec(`INSERT OR REPLACE INTO small VALUES ('a', 1), ('b', x'00ff'), ('c', 'it''s')`);
    sql.exec(`CREATE TABLE IF NOT EXISTS big (id INTEGER PRIMARY KEY, t TEXT, b BLOB, r REAL)`);
    sql.exec(
      `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?1)
       INSERT INTO big SELECT i, printf('row %d:', i) || substr(replace(hex(zeroblob(?2)), '0', char(97 + i % 26)), 1, (i * 7919) % ?2),
         CASE WHEN i % 3 = 0 THEN zeroblob(i % 97) END, i * 0.25 FROM c`,
      rows,
      maxText,
    );
    return { bytes: sql.databaseSize };
  }

  /**
   * Deterministic key-value entries: `small` entries of varied types under keys that mix ASCII,
   * accents, CJK and emoji (so that UTF-8 order differs from UTF-16 order), and `big` values near
   * the 2 MB limit (strings of 2,000,000 characters, ArrayBuffers of 1,500,000 pseudo-random bytes).
   */
  #seedKv({ small, big }: { small: number; big: number }): { entries: number } {
    const kv = this.ctx.storage.kv;
    const letters = ["a", "é", "中", "😀", "Z", "~", "\u00ff", "\uffef", "\ud7ff"];
    for (let i = 0; i < small; i++) {
      kv.put(`${letters[i % letters.length]}${letters[(i * 7) % letters.length]}${i}`, variedValue(i));
    }
    let seed = 1;
    for (let j = 0; j < big; j++) {
      if (j % 2 === 0) kv.put(`big:${j}`, String.fromCharCode(97 + j).repeat(2_000_000));
      else {
        const bytes = new Uint8Array(1_500_000);
        for (let k = 0; k < bytes.length; k++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          bytes[k] = seed >>> 24;
        }
        kv.put(`big:${j}`, bytes.buffer);
      }
    }
    return { entries: small + big };
  }

  /** Runs due wake-ups: the engine's (registered by the engine) and the host's periodic work. */
  async alarm(): Promise<void> {
    const storage = this.ctx.storage;
    await storage.put(ALARM_RUNS_KEY, ((await storage.get<number>(ALARM_RUNS_KEY)) ?? 0) + 1);
    const engine = await this.#getEngine();
    const result = await engine.scheduler.run({
      [PERIODIC]: async () => {
        await storage.put(PERIODIC_RUNS_KEY, ((await storage.get<number>(PERIODIC_RUNS_KEY)) ?? 0) + 1);
        const every = (await storage.get<number>(PERIODIC_EVERY_KEY)) ?? 50;
        await engine.scheduler.schedule(PERIODIC, Date.now() + every);
      },
    });
    if (result.ran.includes("durable-dump")) await storage.put(TICKS_IN_ALARM_KEY, ((await storage.get<number>(TICKS_IN_ALARM_KEY)) ?? 0) + 1);
    const throws = (await storage.get<number>(ALARM_THROWS_KEY)) ?? 0;
    if (throws > 0) {
      await storage.put(ALARM_THROWS_KEY, throws - 1);
      throw new Error("host alarm failed after its work (injected)");
    }
  }
}

export default {
  fetch: (request: Request, env: Env) => routeTestRequest(request, env.HOST, env.DUMPS),
} satisfies ExportedHandler<Env>;
