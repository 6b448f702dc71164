/**
 * Completion callbacks on the wire: checking a callback URL, signing the body, verifying a
 * signature, and POSTing a final status.
 */
import { DumpError } from "../errors.js";
import { constantTimeEqual, fromHex, toHex } from "../util/bytes.js";
import type { BackoffPolicy } from "./retry.js";

/** Header carrying the body's HMAC-SHA256 signature: `sha256=<hex>`. */
export const SIGNATURE_HEADER = "Durable-Dump-Signature";

/** Header naming the job a callback is about. */
export const JOB_HEADER = "Durable-Dump-Job";

/** Delivery of a notification: 5 s doubling to 1 h, 10 attempts. */
export const NOTIFY_RETRY: BackoffPolicy = { baseMs: 5_000, maxMs: 3_600_000, attempts: 10 };

const NOTIFY_TIMEOUT_MS = 10_000;

/**
 * Checks a callback URL: absolute, `https:` (or `http:` when insecure URLs are allowed), without
 * credentials, at most 2,048 characters.
 */
export function checkCallbackUrl(url: unknown, allowInsecure: boolean, hasSecret: boolean): string {
  if (typeof url !== "string" || url.length > 2048) throw new DumpError("INVALID_OPTIONS", "callbackUrl must be a URL string of at most 2,048 characters.");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DumpError("INVALID_OPTIONS", `callbackUrl ${JSON.stringify(url)} is not an absolute URL.`);
  }
  const allowed = allowInsecure ? ["https:", "http:"] : ["https:"];
  if (!allowed.includes(parsed.protocol)) {
    throw new DumpError(
      "INVALID_OPTIONS",
      `callbackUrl must use https:${allowInsecure ? " or http:" : " (set allowInsecureCallbacks on the engine to allow http:)"}; got ${parsed.protocol}`,
    );
  }
  if (parsed.username || parsed.password)
    throw new DumpError("INVALID_OPTIONS", "callbackUrl must not carry credentials; the body is signed with callbackSecret instead.");
  if (!hasSecret) throw new DumpError("INVALID_OPTIONS", "callbackUrl needs the engine option callbackSecret, used to sign the body.");
  return url;
}

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/**
 * The signature of a callback body: the hex HMAC-SHA256 of the raw body under `secret`, as the
 * `Durable-Dump-Signature` header carries it after `sha256=`.
 */
export async function signCallbackBody(secret: string, body: string): Promise<string> {
  return toHex(await hmac(secret, body));
}

/**
 * Whether `header` (the `Durable-Dump-Signature` header of a callback) signs `body` under `secret`.
 * Compares in constant time. Verify before trusting the body.
 *
 * @example
 * const body = await request.text();
 * if (!(await verifyCallbackSignature(env.DUMP_CALLBACK_SECRET, body, request.headers.get("Durable-Dump-Signature")))) return new Response(null, { status: 401 });
 */
export async function verifyCallbackSignature(secret: string, body: string, header: string | null): Promise<boolean> {
  const given = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? "");
  const bytes = given ? fromHex(given[1]!) : null;
  if (!bytes || !secret) return false;
  return constantTimeEqual(await hmac(secret, body), bytes);
}

/** POSTs `status` (a job's final status) to `url`, signed; throws unless the answer is 2xx. */
export async function postStatus(fetcher: typeof fetch, url: string, secret: string, status: { id: string }): Promise<void> {
  const body = JSON.stringify(status);
  const response = await fetcher(url, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      [SIGNATURE_HEADER]: `sha256=${await signCallbackBody(secret, body)}`,
      [JOB_HEADER]: status.id,
    },
    signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`callback answered HTTP ${response.status}`);
}
