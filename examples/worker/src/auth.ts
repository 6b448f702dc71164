/**
 * Per-tenant bearer tokens. Each tenant's token is the hex HMAC-SHA256 of its name under one
 * secret key (`TENANT_TOKEN_KEY`), so the Worker checks a token without storing any, a token
 * opens its own tenant and no other, and issuing one needs only the key:
 *
 *     printf %s acme | openssl dgst -sha256 -hmac "$TENANT_TOKEN_KEY" | sed 's/^.* //'
 *
 * Rotating the key revokes every token at once. To revoke one tenant alone, or to let tenants
 * rotate their own, keep a table of tokens instead (KV, or a column in your accounts database)
 * and compare the same way.
 */
import { bearerAuth } from "durable-dump";

/** The bindings auth reads. */
export interface AuthEnv {
  /** Secret key tenant tokens are derived from. Without it every request gets 401. */
  TENANT_TOKEN_KEY?: string;
}

/** The bearer token of `tenant`: hex HMAC-SHA256 of the tenant's name under `key`. */
export async function tenantToken(key: string, tenant: string): Promise<string> {
  const encoder = new TextEncoder();
  const hmacKey = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, encoder.encode(tenant)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether `request` carries `Authorization: Bearer <token of tenant>`, compared in constant time
 * (by the library's `bearerAuth`). A missing key refuses everything: a forgotten
 * `wrangler secret put` must not open the API.
 */
export async function authorizeTenant(env: AuthEnv, tenant: string, request: Request): Promise<boolean> {
  if (!env.TENANT_TOKEN_KEY) return false;
  return bearerAuth(await tenantToken(env.TENANT_TOKEN_KEY, tenant))(request);
}

/** R2 prefix of the dumps of the tenant whose object has id `id` (see Tenant's DumpEngine). */
export function dumpPrefix(id: DurableObjectId): string {
  return `tenants/${id.toString()}/`;
}

/**
 * Whether a restore into the object `self` may read R2 key `key`: one of its own dumps, or a dump
 * of the tenant the request names in `Durable-Dump-Source`, when it also carries that tenant's
 * token in `Durable-Dump-Source-Token`. Nobody restores a tenant's data without its token.
 */
export async function mayRestoreFrom(
  env: AuthEnv & { TENANTS: { idFromName(name: string): DurableObjectId } },
  self: DurableObjectId,
  key: string,
  request: Request,
): Promise<boolean> {
  if (key.startsWith(dumpPrefix(self))) return true;
  const source = request.headers.get("durable-dump-source");
  const token = request.headers.get("durable-dump-source-token");
  if (!source || !token || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(source)) return false;
  const asSource = new Request(request.url, { headers: { authorization: `Bearer ${token}` } });
  return (await authorizeTenant(env, source, asSource)) && key.startsWith(dumpPrefix(env.TENANTS.idFromName(source)));
}
