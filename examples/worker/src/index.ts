/**
 * durable-dump example Worker: `/<tenant>/...` goes to that tenant's own Durable Object, which
 * holds the tenant's database and exports it to R2. A tenant name picks exactly one object
 * (`idFromName`), and each object only ever serves its own storage and its own R2 prefix, so no
 * route reaches another tenant's data.
 */
import type { Env } from "./tenant.js";

export { Tenant } from "./tenant.js";

/** Tenant names: lower-case letters, digits and dashes, 1 to 63 characters. */
const TENANT = /^\/([a-z0-9][a-z0-9-]{0,62})(?:\/|$)/;

export default {
  async fetch(request, env) {
    const match = TENANT.exec(new URL(request.url).pathname);
    if (!match) {
      return Response.json({ error: { code: "NOT_FOUND", message: "Paths look like /<tenant>/dumps; a tenant is 1-63 of a-z, 0-9 and -." } }, { status: 404 });
    }
    return env.TENANTS.getByName(match[1]!).fetch(request);
  },
} satisfies ExportedHandler<Env>;
