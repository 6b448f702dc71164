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
