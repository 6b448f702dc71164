/**
 * The example Worker plus two routes the demo needs and a real app would not have:
 * - `POST /<tenant>/_demo/seed` `{ step }` runs one slice of the seeding plan (a few hundred
 *   milliseconds of recursive-CTE inserts) and answers `{ step, steps, table, rows, done }`;
 * - `GET /<tenant>/_demo/checksum` answers, per table, the row count and the SHA-256 of the rows'
 *   canonical text, with the query that produced that text so the demo runs the very same
 *   query on the restored copy.
 * Both need the bearer token.
 */
import { Tenant, type Env } from "../worker/src/tenant.js";
import { SEED_PLAN } from "./seed-plan.js";
import { canonicalQueries } from "./canonical.js";

export { default } from "../worker/src/index.js";

/** Rows hashed per page: the cursor is drained before every await. */
const PAGE_ROWS = 2_000;

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
    if (action === "checksum" && request.method === "GET") return Response.json(await this.#checksums());
    return Response.json({ error: { code: "NOT_FOUND", message: url.pathname } }, { status: 404 });
  }

  async #seed({ step }: { step: number }): Promise<Response> {
    const slice = SEED_PLAN[step];
    if (!Number.isInteger(step) || !slice)
      return Response.json({ error: { code: "INVALID_REQUEST", message: `step 0..${SEED_PLAN.length - 1}` } }, { status: 400 });
    const sql = this.ctx.storage.sql;
    if (slice.table === "events") this.ensureEventsTable();
    for (const statement of slice.statements(Date.now())) sql.exec(statement).toArray();
    if (slice.table === "events") await this.scheduleCleanup();
    return Response.json({ step, steps: SEED_PLAN.length, table: slice.table, rows: slice.rows, done: step === SEED_PLAN.length - 1 });
  }

  async #checksums(): Promise<{ tables: { name: string; rows: number; sha256: string; query: string }[]; schema: string[] }> {
    const sql = this.ctx.storage.sql;
    const out = [];
    for (const q of canonicalQueries(sql)) {
      const digest = new crypto.DigestStream("SHA-256");
      const writer = digest.getWriter();
      const encoder = new TextEncoder();
      let rows = 0;
      let after: number | null = null;
      for (;;) {
        const page: { k: number; r: string }[] = sql.exec<{ k: number; r: string }>(q.page, after ?? -Infinity, PAGE_ROWS).toArray();
        if (page.length === 0) break;
        rows += page.length;
        after = page[page.length - 1]!.k;
        await writer.write(encoder.encode(page.map((p) => p.r + "\n").join("")));
      }
      await writer.close();
      const hash = [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      out.push({ name: q.table, rows, sha256: hash, query: q.full });
    }
    const schema = sql
      .exec<{ s: string }>(
        `SELECT type || ' ' || name AS s FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name`,
      )
      .toArray()
      .map((r) => r.s);
    return { tables: out, schema };
  }
}
