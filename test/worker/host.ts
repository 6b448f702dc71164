/**
 * Test Worker for durable-dump's end-to-end tests.
 *
 * `TestHost` is a SQLite-backed Durable Object that composes a {@link DumpEngine} the way a real
 * host would, and exposes JSON-over-fetch control routes so Node-side tests (Miniflare) can drive
 * it. The default fetch handler routes `/<objectName>/<route>` to `HOST.idFromName(objectName)`,
 * so each test can use a fresh object.
 *
 * Routes (all bodies and answers are JSON; values that JSON cannot carry are tagged, see
 * {@link encodeValue}):
 * - `POST /config`    engine options `{ tickBudgetMs?, partSize?, keyPrefix?, clockStepMs? }`,
 *                     stored in ctx.storage so an engine rebuilt after `/evict` is the same.
 * - `POST /exec`      `{ statements: [{ sql, params? }] }` run in order; every cursor is drained.
 * - `POST /query`     `{ sql, params? }` → `{ columns, rows }` (rows as arrays).
 * - `POST /start`     StartOptions → DumpStatus.
 * - `POST /tick`      one `engine.tick()` → TickResult.
 * - `GET  /status/:id`, `POST /abort/:id`, `GET /list`.
 * - `POST /evict`     drop the engine; the next route builds a fresh one over the same storage.
 * - `POST /mode`      `{ mode: "manual" | "auto" }`: whether `alarm()` calls `engine.tick()`.
 * - `GET  /alarm`     `{ alarm, alarmRuns, alarmErrors, mode }` for diagnostics.
 * - `GET  /kv/:prefix` keys of ctx.storage (the KV API) starting with the prefix.
 * - `GET  /kv-value/:key` the value stored under a key of ctx.storage (null when absent).
 *
 * A {@link DumpError} is answered with status 400 and `{ error: { code, message } }`; any other
 * error with status 500 and `{ error: { code: "INTERNAL", message, stack } }`.
 */
import { DumpEngine, DumpError } from "../../src/index.js";
import { routeTestRequest } from "./routing.js";

interface Env {
  HOST: DurableObjectNamespace;
  DUMPS: R2Bucket;
}

/** Engine options the tests may set; stored under {@link CONFIG_KEY}. */
export interface HostConfig {
  tickBudgetMs?: number;
  partSize?: number;
  keyPrefix?: string;
  /**
   * When set, the engine's clock advances by this many ms on every call (and never runs behind
   * the real clock), so a tick with a small budget does one unit of work. Meant for manual mode:
   * the clock runs ahead of real time, so alarms it schedules would lie in the future.
   */
  clockStepMs?: number;
}

/** Whether `alarm()` drives the engine ("auto") or does nothing ("manual", the default). */
export type HostMode = "manual" | "auto";

// The host's own keys; they must not start with the engine's "durable-dump:" prefix.
const CONFIG_KEY = "test-host:config";
const MODE_KEY = "test-host:mode";
const ALARM_RUNS_KEY = "test-host:alarm-runs";
const ALARM_ERRORS_KEY = "test-host:alarm-errors";

/** A SQL parameter as sent by the tests: JSON scalars, or `{ $blob: hex }`. */
type WireParam = string | number | null | { $blob: string };

/** Makes a value JSON-safe without losing anything: blobs, -0, ±Infinity and NaN are tagged. */
export function encodeValue(v: unknown): unknown {
  if (v instanceof ArrayBuffer) return { $blob: toHex(new Uint8Array(v)) };
  if (typeof v === "number" && (Object.is(v, -0) || !Number.isFinite(v))) return { $real: String(Object.is(v, -0) ? "-0" : v) };
  return v;
}

function decodeParam(p: WireParam): SqlStorageValue {
  if (p !== null && typeof p === "object") return fromHex(p.$blob).buffer as ArrayBuffer;
  return p;
}

function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

function fromHex(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** SQLite-backed Durable Object hosting one {@link DumpEngine}. */
export class TestHost {
  private engine: DumpEngine | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {}

  /** Builds the engine from the stored config, once per instance (and again after `/evict`). */
  private async getEngine(): Promise<DumpEngine> {
    if (this.engine) return this.engine;
    const cfg = (await this.ctx.storage.get<HostConfig>(CONFIG_KEY)) ?? {};
    const { clockStepMs, ...opts } = cfg;
    let now: (() => number) | undefined;
    if (clockStepMs !== undefined) {
      let last = 0;
      now = () => (last = Math.max(Date.now(), last) + clockStepMs);
    }
    this.engine = new DumpEngine({
      sql: this.ctx.storage.sql,
      bucket: this.env.DUMPS,
      storage: this.ctx.storage,
      ...opts,
      ...(now ? { now } : {}),
    });
    return this.engine;
  }

  async fetch(request: Request): Promise<Response> {
    try {
      return await this.route(request);
    } catch (e) {
      if (e instanceof DumpError) return json({ error: { code: e.code, message: e.message } }, 400);
      const err = e instanceof Error ? e : new Error(String(e));
      return json({ error: { code: "INTERNAL", message: err.message, stack: err.stack } }, 500);
    }
  }

  private async route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const [route = "", arg] = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const body = request.method === "POST" ? await readJson(request) : undefined;
    const sql = this.ctx.storage.sql;

    switch (route) {
      case "config":
        await this.ctx.storage.put(CONFIG_KEY, body as HostConfig);
        this.engine = null;
        return json({ ok: true });
      case "mode": {
        const mode = (body as { mode: HostMode }).mode;
        if (mode !== "manual" && mode !== "auto") return json({ error: { code: "BAD_MODE", message: String(mode) } }, 400);
        await this.ctx.storage.put(MODE_KEY, mode);
        return json({ ok: true });
      }
      case "exec": {
        const { statements } = body as { statements: { sql: string; params?: WireParam[] }[] };
        let rowsWritten = 0;
        for (const st of statements) {
          const cursor = sql.exec(st.sql, ...(st.params ?? []).map(decodeParam));
          cursor.toArray();
          rowsWritten += cursor.rowsWritten;
        }
        return json({ rowsWritten });
      }
      case "query": {
        const q = body as { sql: string; params?: WireParam[] };
        const cursor = sql.exec(q.sql, ...(q.params ?? []).map(decodeParam));
        const rows = [...cursor.raw()].map((r) => r.map(encodeValue));
        return json({ columns: cursor.columnNames, rows });
      }
      case "start":
        return json(await (await this.getEngine()).start((body ?? {}) as Parameters<DumpEngine["start"]>[0]));
      case "tick":
        return json(await (await this.getEngine()).tick());
      case "status":
        return json((await (await this.getEngine()).status(arg ?? "")) ?? null);
      case "abort":
        return json((await (await this.getEngine()).abort(arg ?? "")) ?? null);
      case "list":
        return json(await (await this.getEngine()).list());
      case "kv":
        return json([...(await this.ctx.storage.list({ prefix: arg ?? "" })).keys()]);
      case "kv-value":
        return json((await this.ctx.storage.get(arg ?? "")) ?? null);
      case "evict":
        this.engine = null;
        return json({ ok: true });
      case "alarm":
        return json({
          alarm: await this.ctx.storage.getAlarm(),
          alarmRuns: (await this.ctx.storage.get<number>(ALARM_RUNS_KEY)) ?? 0,
          alarmErrors: (await this.ctx.storage.get<string[]>(ALARM_ERRORS_KEY)) ?? [],
          mode: (await this.ctx.storage.get<HostMode>(MODE_KEY)) ?? "manual",
        });
      default:
        return json({ error: { code: "NO_ROUTE", message: `${request.method} ${url.pathname}` } }, 404);
    }
  }

  /** In "auto" mode runs one engine tick (the engine re-arms the alarm while work remains). */
  async alarm(): Promise<void> {
    const mode = (await this.ctx.storage.get<HostMode>(MODE_KEY)) ?? "manual";
    if (mode !== "auto") return;
    await this.ctx.storage.put(ALARM_RUNS_KEY, ((await this.ctx.storage.get<number>(ALARM_RUNS_KEY)) ?? 0) + 1);
    try {
      await (await this.getEngine()).tick();
    } catch (e) {
      const errors = (await this.ctx.storage.get<string[]>(ALARM_ERRORS_KEY)) ?? [];
      errors.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      await this.ctx.storage.put(ALARM_ERRORS_KEY, errors.slice(-20));
      throw e;
    }
  }
}

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  return text ? JSON.parse(text) : undefined;
}

export default {
  fetch: (request: Request, env: Env) => routeTestRequest(request, env.HOST, env.DUMPS),
} satisfies ExportedHandler<Env>;
