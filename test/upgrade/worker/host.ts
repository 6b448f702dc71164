/**
 * Test Worker of the upgrade suite: `UpgradeHost` composes a {@link DumpEngine} with a virtual
 * clock, so that a job captured mid-way by one release of the library (see
 * `test/upgrade/capture-fixture.mjs`) can be resumed by another from the same persisted storage.
 *
 * Routes, `/<objectName>/<route>`, JSON in and out: `POST /exec` `{ statements }`, `POST /start`
 * (start options), `POST /tick`, `GET /status/:id`, `GET /list`, `GET /keys` (every stored key).
 */
import { DumpEngine } from "../../../src/index.js";
import { routeTestRequest } from "../../worker/routing.js";

interface Env {
  HOST: DurableObjectNamespace;
  DUMPS: R2Bucket;
}

/** Every clock read advances the virtual time by this much. */
const CLOCK_STEP_MS = 20;
const CLOCK_KEY = "upgrade-host:clock";

export class UpgradeHost {
  #engine: DumpEngine | null = null;
  #now = 0;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {}

  async #getEngine(): Promise<DumpEngine> {
    if (this.#engine) return this.#engine;
    // The virtual clock starts in 2030 and goes on from where it stood when the fixture was taken.
    this.#now = (await this.ctx.storage.get<number>(CLOCK_KEY)) ?? Date.UTC(2030, 0, 1);
    this.#engine = new DumpEngine({
      sql: this.ctx.storage.sql,
      bucket: this.env.DUMPS,
      storage: this.ctx.storage,
      tickBudgetMs: 100,
      retentionMs: 3_650 * 86_400_000,
      now: () => (this.#now += CLOCK_STEP_MS),
    });
    return this.#engine;
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const [route = "", arg = ""] = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const body = request.method === "POST" ? JSON.parse((await request.text()) || "null") : null;
    try {
      const result = await this.#route(route, arg, body);
      await this.ctx.storage.put(CLOCK_KEY, this.#now);
      return Response.json({ result: result ?? null });
    } catch (e) {
      const err = e as { code?: string; message?: string; stack?: string };
      return Response.json({ error: { code: err.code ?? "INTERNAL", message: `${err.message}\n${err.stack ?? ""}` } });
    }
  }

  /** The suite ticks by hand: the virtual clock's alarms lie years ahead and never fire. */
  async alarm(): Promise<void> {}

  async #route(route: string, arg: string, body: any): Promise<unknown> {
    const engine = await this.#getEngine();
    switch (route) {
      case "exec":
        for (const s of body.statements as { sql: string }[]) this.ctx.storage.sql.exec(s.sql).toArray();
        return { ok: true };
      case "start":
        return engine.start(body ?? {});
      case "tick":
        return engine.tick();
      case "status":
        return engine.status(arg);
      case "list":
        return engine.list();
      case "keys":
        return [...(await this.ctx.storage.list()).keys()];
      default:
        throw new Error(`no route ${route}`);
    }
  }
}

export default {
  fetch: (request: Request, env: Env) => routeTestRequest(request, env.HOST, env.DUMPS),
} satisfies ExportedHandler<Env>;
