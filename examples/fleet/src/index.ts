/**
 * durable-dump fleet example: a Durable Object per tenant, the tenants listed in D1, and a
 * Workflow that backs them all up every night (cron in wrangler.jsonc) into R2.
 *
 * - `POST /tenants/<name>/notes` `{ text }`: the app; registers the tenant in D1 on first write.
 * - `POST /backups`: start a run now (409 while one is in progress); `GET /backups`: the runs kept;
 *   `GET /backups/<runId>`: its manifest once it ended, its progress before;
 *   `POST /backups/<runId>/restore` `{ tenant, into? }`: restore a tenant's backup into itself or
 *   into another (new) tenant. The `/backups` routes need `Authorization: Bearer <ADMIN_TOKEN>`.
 */
import { bearerAuth } from "durable-dump";
import { listFleetRuns, readFleetManifest, readFleetProgress, startFleetBackup } from "durable-dump/fleet";
import type { Env } from "./env.js";
import { registerTenant } from "./tenants.js";

export { Tenant } from "./tenant.js";
export { TenantBackups } from "./backups.js";

const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;

const error = (status: number, code: string, message: string) => Response.json({ error: { code, message } }, { status });

async function backups(request: Request, env: Env, path: string[]): Promise<Response> {
  if (!(await bearerAuth(env.ADMIN_TOKEN)(request))) return error(401, "UNAUTHORIZED", "Missing or wrong credentials.");
  const [runId, action] = path;
  if (runId === undefined) {
    if (request.method === "GET") return Response.json(await listFleetRuns(env.DUMPS));
    const started = await startFleetBackup(env.TENANT_BACKUPS, env.DUMPS, { name: "manual" });
    return Response.json(started, { status: started.started ? 202 : 409 });
  }
  if (action === "restore" && request.method === "POST") {
    const body = (await request.json()) as { tenant?: string; into?: string };
    const into = body.into ?? body.tenant;
    if (typeof body.tenant !== "string" || typeof into !== "string" || !TENANT.test(into))
      return error(400, "INVALID_REQUEST", "{ tenant, into? } with valid tenant names.");
    return Response.json(await env.TENANTS.getByName(into).restoreFromRun(runId, body.tenant), { status: 202 });
  }
  const manifest = await readFleetManifest(env.DUMPS, { runId });
  return Response.json(manifest ?? { runId, progress: await readFleetProgress(env.DUMPS, { runId }) });
}

export default {
  async fetch(request, env) {
    const [, area, name, route] = new URL(request.url).pathname.split("/");
    if (area === "backups")
      return backups(
        request,
        env,
        [name, route].filter((s): s is string => s !== undefined && s !== ""),
      );
    if (area === "tenants" && name && TENANT.test(name) && route === "notes") {
      const tenant = env.TENANTS.getByName(name);
      if (request.method === "GET") return Response.json({ notes: await tenant.countNotes() });
      const { text } = (await request.json()) as { text?: unknown };
      if (typeof text !== "string") return error(400, "INVALID_REQUEST", "{ text } is required.");
      await registerTenant(env.DB, name);
      return Response.json({ id: await tenant.addNote(text) }, { status: 201 });
    }
    return error(404, "NOT_FOUND", "Routes: /tenants/<name>/notes, /backups[/<runId>[/restore]].");
  },

  /** The nightly cron: one run per scheduled time, none while another is in progress. */
  async scheduled(controller, env) {
    await startFleetBackup(env.TENANT_BACKUPS, env.DUMPS, { name: "nightly", time: controller.scheduledTime });
  },
} satisfies ExportedHandler<Env>;
