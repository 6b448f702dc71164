/**
 * The fleet example plus routes the demo, the tests and the benchmark need and a real app would
 * not have (no token, never deploy this):
 * - `POST /_demo/seed` `{ tenant, rows, salt }`: registers the tenant and fills its database with
 *   `rows` notes of varied sizes (and tags for some), in one statement per table;
 * - `GET /_demo/checksum/<tenant>`: per table, the row count and SHA-256 of its canonical lines;
 * - `GET /_demo/run/<runId>`: the status of the run's instance (null when there is none), its
 *   manifest once it ended, its progress;
 * - `POST /_demo/restore` `{ runId, tenant, into }` and `GET /_demo/restore/<into>/<id>`: restore a
 *   backup into another object and follow it (`{ available: false }` without a RestoreEngine).
 */
import { readFleetManifest, readFleetProgress } from "durable-dump/fleet";
import { tableChecksums } from "../../demo/canonical.js";
import type { Env } from "../src/env.js";
import worker from "../src/index.js";
import { Tenant, notesTable } from "../src/tenant.js";
import { registerTenant } from "../src/tenants.js";

export { TenantBackups } from "../src/backups.js";

/** A tenant with the demo's seeding and checksums. */
export class DemoTenant extends Tenant {
  /** Fills the database: `rows` notes (text of varied length, a blob in every fifth) and, when `salt` is odd, a tags table. */
  seed(rows: number, salt: number): number {
    const sql = notesTable(this.ctx.storage.sql);
    sql.exec(
      `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
       INSERT INTO notes (at, text, data)
       SELECT 1700000000000 + i * 1000 + ?, 'note ' || i || ' ' || substr(hex(randomblob(80)), 1, (i * 7 + ?) % 150), CASE WHEN i % 5 = 0 THEN randomblob(i % 300) END FROM s`,
      rows,
      salt,
      salt,
    );
    if (salt % 2 === 1 && rows > 0) {
      sql.exec("CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, note INTEGER NOT NULL, tag TEXT NOT NULL, weight REAL)");
      sql.exec("INSERT INTO tags (note, tag, weight) SELECT id, 'tag-' || (id % 17), id / 7.0 FROM notes WHERE id % 3 = 0");
    }
    return this.countNotes();
  }

  checksums() {
    return tableChecksums(this.ctx.storage.sql);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, area, action, ...rest] = url.pathname.split("/");
    if (area !== "_demo") return worker.fetch(request, env);
    // The namespace's class is DemoTenant here (see runtime.mjs).
    const tenants = env.TENANTS as unknown as DurableObjectNamespace<DemoTenant>;
    if (action === "seed") {
      const { tenant, rows, salt } = (await request.json()) as { tenant: string; rows: number; salt: number };
      await registerTenant(env.DB, tenant);
      return Response.json({ rows: await tenants.getByName(tenant).seed(rows, salt) });
    }
    if (action === "checksum") return Response.json(await tenants.getByName(rest[0]!).checksums());
    if (action === "run") {
      const runId = rest[0]!;
      const instance = await env.TENANT_BACKUPS.get(runId).then(
        (i) => i.status(),
        () => null,
      );
      return Response.json({ instance, manifest: await readFleetManifest(env.DUMPS, { runId }), progress: await readFleetProgress(env.DUMPS, { runId }) });
    }
    if (action === "restore" && request.method === "POST") {
      const { runId, tenant, into } = (await request.json()) as { runId: string; tenant: string; into: string };
      const target = tenants.getByName(into);
      return Response.json({ status: await target.restoreFromRun(runId, tenant) });
    }
    if (action === "restore") return Response.json(await tenants.getByName(rest[0]!).restoreStatus(rest[1]!));
    return Response.json({ error: { code: "NOT_FOUND", message: url.pathname } }, { status: 404 });
  },
  scheduled: worker.scheduled,
} satisfies ExportedHandler<Env>;
