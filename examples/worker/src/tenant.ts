import { DurableObject } from "cloudflare:workers";
import { DumpEngine, RestoreEngine, createDumpHandler } from "durable-dump";
import { type AuthEnv, authorizeTenant, dumpPrefix, mayRestoreFrom } from "./auth.js";
import { CLEANUP_WAKE, EventsCleanup } from "./housekeeping.js";

export interface Env extends AuthEnv {
  TENANTS: DurableObjectNamespace<Tenant>;
  DUMPS: R2Bucket;
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
 * of its own, and `restores` imports a dump into it (its own, or another tenant's for a caller
 * who holds both tokens: to fork a tenant into a new object, or to move it).
 *
 * Nothing is stored and no alarm is armed until the tenant writes: the `events` table is created
 * by the first event, the cleanup is scheduled when events are written and stops when none are
 * left, and the engine stores a job (and arms the alarm) only when an export starts.
 *
 * Routes (all under `/<tenant>`, the tenant's bearer token required, see auth.ts):
 * - `POST /events` `{ kind, payload? }` records an event; `GET /events` counts them and shows the cleanup's stats.
 * - `/dumps...` and `/restores...`: the routes of durable-dump's `createDumpHandler`. A restore
 *   reads this tenant's own dumps, or another tenant's when the request also carries that
 *   tenant's name and token (`Durable-Dump-Source`, `Durable-Dump-Source-Token`): a fork.
 */
export class Tenant extends DurableObject<Env> {
  readonly dumps: DumpEngine;
  readonly restores: RestoreEngine;
  readonly #cleanup: EventsCleanup;
  #http: ((request: Request) => Promise<Response>) | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Constructing the engines reads and writes nothing.
    const tickBudget = env.DUMP_TICK_BUDGET_MS ? { tickBudgetMs: Number(env.DUMP_TICK_BUDGET_MS) } : {};
    this.dumps = new DumpEngine({ sql: ctx.storage.sql, bucket: env.DUMPS, storage: ctx.storage, keyPrefix: dumpPrefix(ctx.id), ...tickBudget });
    // One scheduler for both engines: the alarm's scheduler.run() ticks exports and restores alike.
    this.restores = new RestoreEngine({ sql: ctx.storage.sql, bucket: env.DUMPS, storage: ctx.storage, scheduler: this.dumps.scheduler, ...tickBudget });
    this.#cleanup = new EventsCleanup(ctx.storage, Number(env.CLEANUP_INTERVAL_MS ?? 600_000), Number(env.EVENT_RETENTION_MS ?? 30 * 86_400_000));
  }

  /**
   * Whether the request carries this tenant's token. The Worker checked it before addressing the
   * object; checking again here keeps the object closed if a route is ever added to the Worker
   * that forgets to. The tenant is the first path segment, the name the Worker addressed us by.
   */
  protected authorize(request: Request): Promise<boolean> {
    return authorizeTenant(this.env, new URL(request.url).pathname.split("/")[1] ?? "", request);
  }

  /** The Worker forwards `/<tenant>/...` here unchanged; the tenant is the first path segment. */
  override async fetch(request: Request): Promise<Response> {
    if (!(await this.authorize(request))) {
      return Response.json({ error: { code: "UNAUTHORIZED", message: "Missing or wrong credentials." } }, { status: 401 });
    }
    const url = new URL(request.url);
    const [, tenant = "", route = ""] = url.pathname.split("/");
    if (route === "dumps" || route === "restores") {
      // fetch() authenticated the request already.
      this.#http ??= createDumpHandler({
        engine: this.dumps,
        restores: this.restores,
        bucket: this.env.DUMPS,
        authorize: () => true,
        // Its own dumps, or another tenant's for someone who also holds that tenant's token.
        authorizeRestore: (key, request) => mayRestoreFrom(this.env, this.ctx.id, key, request),
        basePath: `/${tenant}`,
      });
      return this.#http(request);
    }
    if (route === "events" && url.pathname === `/${tenant}/events`) return this.#events(request);
    return Response.json({ error: { code: "NOT_FOUND", message: `No route for ${url.pathname}.` } }, { status: 404 });
  }

  /** Creates the `events` table on first use, so that an object nobody wrote to stays empty. */
  protected ensureEventsTable(): void {
    this.ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT);
       CREATE INDEX IF NOT EXISTS events_at ON events (at);`,
    );
  }

  /**
   * After events were written: makes sure the cleanup will run. Its wake-up lives in the engine's
   * scheduler, which arms the alarm; a time already stored is kept (only ever moved sooner).
   */
  protected async scheduleCleanup(): Promise<void> {
    await this.dumps.scheduler.scheduleNoLaterThan(CLEANUP_WAKE, Date.now() + this.#cleanup.intervalMs);
  }

  /**
   * One alarm, three users: `run()` runs every due wake-up of the engines' scheduler, earliest
   * first: the export engine's (named `durable-dump`) and the restore engine's
   * (`durable-dump-restore`), each one tick bounded by its tick budget and registered by its
   * engine, and the host's cleanup (bounded to one slice), which schedules its next run itself
   * while events are left. Then it re-arms the alarm for the earliest wake-up left, so none starves.
   */
  override async alarm(): Promise<void> {
    await this.dumps.scheduler.run({
      [CLEANUP_WAKE]: async () => {
        // With no event left the cleanup is not scheduled again (the next event schedules it).
        const next = await this.#cleanup.run();
        if (next !== null) await this.dumps.scheduler.schedule(CLEANUP_WAKE, next);
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
      this.ensureEventsTable();
      const [row] = sql.exec<{ id: number }>("INSERT INTO events (at, kind, payload) VALUES (?, ?, ?) RETURNING id", at, body.kind, payload).toArray();
      await this.scheduleCleanup();
      return Response.json({ id: row?.id }, { status: 201 });
    }
    if (request.method === "GET") {
      const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").toArray().length > 0;
      const count = exists ? sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n : 0;
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
