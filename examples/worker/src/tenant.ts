import { DurableObject } from "cloudflare:workers";
import { DumpEngine, RestoreEngine, bearerAuth, createDumpHandler } from "durable-dump";
import { CLEANUP_WAKE, EventsCleanup } from "./housekeeping.js";

export interface Env {
  TENANTS: DurableObjectNamespace<Tenant>;
  DUMPS: R2Bucket;
  /** Bearer token of the API (a secret). Without it every request gets 401. */
  DUMPS_TOKEN?: string;
  /** Interval of the `events` cleanup in ms. Default 600,000. */
  CLEANUP_INTERVAL_MS?: string;
  /** Age in ms past which events are purged. Default 30 days. */
  EVENT_RETENTION_MS?: string;
  /** Wall time of one export or restore tick in ms. Default: the engines' (5,000). */
  DUMP_TICK_BUDGET_MS?: string;
}

/**
 * One tenant's Durable Object. Its database holds the tenant's data (here an `events` table the
 * app writes and a periodic cleanup trims); `dumps` exports that database to R2 under a prefix
 * of its own, and `restores` imports a dump into it (its own, or another tenant's: to fork a
 * tenant into a new object, or to move it).
 *
 * Routes (all under `/<tenant>`, bearer token required):
 * - `POST /events` `{ kind, payload? }` records an event; `GET /events` counts them and shows the cleanup's stats.
 * - `/dumps...` and `/restores...`: the routes of durable-dump's `createDumpHandler`. A restore
 *   may read any key of the bucket: the token is the operator's, not a tenant's.
 */
export class Tenant extends DurableObject<Env> {
  readonly dumps: DumpEngine;
  readonly restores: RestoreEngine;
  protected readonly authorize: (request: Request) => Promise<boolean>;
  readonly #cleanup: EventsCleanup;
  #http: ((request: Request) => Promise<Response>) | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const tickBudget = env.DUMP_TICK_BUDGET_MS ? { tickBudgetMs: Number(env.DUMP_TICK_BUDGET_MS) } : {};
    this.dumps = new DumpEngine({ sql: ctx.storage.sql, bucket: env.DUMPS, storage: ctx.storage, keyPrefix: `tenants/${ctx.id.toString()}/`, ...tickBudget });
    // One scheduler for both engines: the alarm's scheduler.run() ticks exports and restores alike.
    this.restores = new RestoreEngine({ sql: ctx.storage.sql, bucket: env.DUMPS, storage: ctx.storage, scheduler: this.dumps.scheduler, ...tickBudget });
    this.authorize = bearerAuth(env.DUMPS_TOKEN);
    this.#cleanup = new EventsCleanup(ctx.storage, Number(env.CLEANUP_INTERVAL_MS ?? 600_000), Number(env.EVENT_RETENTION_MS ?? 30 * 86_400_000));
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        `CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT);
         CREATE INDEX IF NOT EXISTS events_at ON events (at);`,
      );
      // The cleanup is a named wake-up in the engine's scheduler, persisted in storage. The first
      // start schedules it; later starts keep the time already stored (only ever moving it sooner).
      await this.dumps.scheduler.scheduleNoLaterThan(CLEANUP_WAKE, Date.now() + this.#cleanup.intervalMs);
    });
  }

  /** The Worker forwards `/<tenant>/...` here unchanged; the tenant is the first path segment. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const [, tenant = "", route = ""] = url.pathname.split("/");
    if (route === "dumps" || route === "restores") {
      this.#http ??= createDumpHandler({
        engine: this.dumps,
        restores: this.restores,
        bucket: this.env.DUMPS,
        authorize: this.authorize,
        basePath: `/${tenant}`,
      });
      return this.#http(request);
    }
    if (route === "events" && url.pathname === `/${tenant}/events`) {
      if (!(await this.authorize(request)))
        return Response.json({ error: { code: "UNAUTHORIZED", message: "Missing or wrong credentials." } }, { status: 401 });
      return this.#events(request);
    }
    return Response.json({ error: { code: "NOT_FOUND", message: `No route for ${url.pathname}.` } }, { status: 404 });
  }

  /**
   * One alarm, three users: `run()` runs every due wake-up of the engines' scheduler, earliest
   * first: the export engine's (named `durable-dump`) and the restore engine's
   * (`durable-dump-restore`), each one tick bounded by its tick budget and registered by its
   * engine, and the host's cleanup (bounded to one slice), which schedules its next run itself.
   * Then it re-arms the alarm for the earliest wake-up left, so none starves.
   */
  override async alarm(): Promise<void> {
    await this.dumps.scheduler.run({
      [CLEANUP_WAKE]: async () => {
        await this.dumps.scheduler.schedule(CLEANUP_WAKE, await this.#cleanup.run());
      },
    });
  }

  async #events(request: Request): Promise<Response> {
    const sql = this.ctx.storage.sql;
    if (request.method === "POST") {
      let body: { kind?: unknown; payload?: unknown; at?: unknown };
      try {
        body = (await request.json()) as typeof body;
      } catch {
        return Response.json({ error: { code: "INVALID_JSON", message: "The body must be JSON: { kind, payload? }." } }, { status: 400 });
      }
      if (typeof body !== "object" || body === null || typeof body.kind !== "string" || body.kind === "") {
        return Response.json({ error: { code: "INVALID_REQUEST", message: "kind must be a non-empty string." } }, { status: 400 });
      }
      const at = typeof body.at === "number" && Number.isFinite(body.at) ? Math.trunc(body.at) : Date.now();
      const payload = body.payload === undefined ? null : JSON.stringify(body.payload);
      const [row] = sql.exec<{ id: number }>("INSERT INTO events (at, kind, payload) VALUES (?, ?, ?) RETURNING id", at, body.kind, payload).toArray();
      return Response.json({ id: row?.id }, { status: 201 });
    }
    if (request.method === "GET") {
      const count = sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n;
      return Response.json({
        events: count,
        cleanup: await this.#cleanup.stats(),
        alarm: await this.ctx.storage.getAlarm(),
        wakes: await this.dumps.scheduler.pending(),
      });
    }
    return Response.json({ error: { code: "METHOD_NOT_ALLOWED", message: "GET or POST." } }, { status: 405, headers: { allow: "GET, POST" } });
  }
}
