import { constantTimeEqual } from "../util/bytes.js";

/**
 * An `authorize` hook for {@link createDumpHandler} that accepts `Authorization: Bearer <secret>`.
 *
 * The comparison takes the same time whatever the token: both sides are hashed with HMAC-SHA256
 * under a key drawn at random when the hook is built, and the digests are compared in constant
 * time, so neither the content nor the length of the secret leaks through timing. An empty or
 * missing secret refuses every request (a forgotten `wrangler secret put` must not open the API).
 *
 * @example
 * const dumps = createDumpHandler({ engine, bucket: env.DUMPS, authorize: bearerAuth(env.DUMPS_TOKEN) });
 */
export function bearerAuth(secret: string | undefined): (request: Request) => Promise<boolean> {
  const encoder = new TextEncoder();
  let key: Promise<CryptoKey> | undefined;
  let expected: Promise<ArrayBuffer> | undefined;
  return async (request) => {
    if (!secret) return false;
    const header = request.headers.get("authorization") ?? "";
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) return false;
    key ??= crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(32)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const k = await key;
    expected ??= crypto.subtle.sign("HMAC", k, encoder.encode(secret));
    const given = await crypto.subtle.sign("HMAC", k, encoder.encode(match[1]));
    return constantTimeEqual(new Uint8Array(await expected), new Uint8Array(given));
  };
}
