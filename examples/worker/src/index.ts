/**
 * durable-dump example Worker: `/<tenant>/...` goes to that tenant's own Durable Object, which
 * holds the tenant's database and exports it to R2. A tenant name picks exactly one object
 * (`getByName`), and each object only ever serves its own storage and its own R2 prefix.
 *
 * The Worker authenticates every request with the tenant's own token (auth.ts) **before** it
 * touches the object: an object comes into being when it is first addressed, so a request for
 * an invented tenant name must be turned away here, not inside the object.
 */
import { authorizeTenant } from "./auth.js";
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
    const tenant = match[1]!;
    if (!(await authorizeTenant(env, tenant, request))) {
      return Response.json(
        { error: { code: "UNAUTHORIZED", message: `Missing or wrong credentials for tenant ${tenant}.` } },
        { status: 401, headers: { "www-authenticate": 'Bearer realm="durable-dump"' } },
      );
    }
    return env.TENANTS.getByName(tenant).fetch(request);
  },
} satisfies ExportedHandler<Env>;
