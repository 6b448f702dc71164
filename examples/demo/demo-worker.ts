/**
 * The example Worker plus two routes the demo needs and a real app would not have:
 * - `POST /<tenant>/_demo/seed` `{ step }` runs one slice of the seeding plan (a few hundred
 *   milliseconds of recursive-CTE inserts; the first also puts the tenant's settings, key-value
 *   entries of many structured-clone types) and answers `{ step, steps, table, rows, done }`;
 * - `GET /<tenant>/_demo/checksum` answers, per table, the row count and the SHA-256 of the rows'
 *   canonical text, with the query that produced that text so the demo runs the very same
 *   query on the restored copy; and the settings entries as devalue text (types included).
 * Both need the bearer token.
 */
import { stringify } from "devalue";
import { Tenant, type Env } from "../worker/src/tenant.js";
import { SEED_PLAN } from "./seed-plan.js";
import { tableChecksums } from "./canonical.js";

/** The key-value entries the demo backs up with the tables (`kv: true`) and restores into the fork. */
const SETTINGS_PREFIX = "settings:";

function demoSettings(): Record<string, unknown> {
  return {
    "settings:plan": "business",
    "settings:seats": 250,
    "settings:created": new Date(Date.UTC(2024, 0, 15, 9, 30)),
    "settings:quota-bytes": 10n * 1024n ** 4n,
    "settings:features": new Set(["sso", "audit-log", "exports"]),
    "settings:limits": new Map<string, number>([
      ["requests/min", 6000],
      ["discount", -0],
    ]),
    "settings:logo": new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    "settings:slug-pattern": /^[a-z0-9-]{3,32}$/i,
    "settings:owner": { name: "Ada", email: "ada@example.com", since: new Date(Date.UTC(2023, 5, 1)) },
  };
}

export { default } from "../worker/src/index.js";

export class DemoTenant extends Tenant {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const [, , area, action] = url.pathname.split("/");
    if (area !== "_demo") return super.fetch(request);
    if (!(await this.authorize(request))) return Response.json({ error: { code: "UNAUTHORIZED", message: "token" } }, { status: 401 });
    if (action === "seed" && request.method === "POST") return this.#seed((await request.json()) as { step: number });
    if (action === "checksum" && request.method === "GET") {
      const settings = await this.ctx.storage.list({ prefix: SETTINGS_PREFIX });
      return Response.json({ ...(await tableChecksums(this.ctx.storage.sql)), settings: { entries: settings.size, devalue: stringify(settings) } });
    }
    return Response.json({ error: { code: "NOT_FOUND", message: url.pathname } }, { status: 404 });
  }

  async #seed({ step }: { step: number }): Promise<Response> {
    const slice = SEED_PLAN[step];
    if (!Number.isInteger(step) || !slice)
      return Response.json({ error: { code: "INVALID_REQUEST", message: `step 0..${SEED_PLAN.length - 1}` } }, { status: 400 });
    const sql = this.ctx.storage.sql;
    if (step === 0) await this.ctx.storage.put(demoSettings());
    if (slice.table === "events") this.ensureEventsTable();
    for (const statement of slice.statements(Date.now())) sql.exec(statement).toArray();
    if (slice.table === "events") await this.scheduleCleanup();
    return Response.json({ step, steps: SEED_PLAN.length, table: slice.table, rows: slice.rows, done: step === SEED_PLAN.length - 1 });
  }
}
