import { DumpError } from "./errors.js";
import type { DumpStatus } from "./types.js";

/** Header carrying the body's HMAC-SHA256 signature: `sha256=<hex>`. */
export const SIGNATURE_HEADER = "Durable-Dump-Signature";

/** A notification still to deliver, kept on the job record. */
export interface NotifyRecord {
  /** Targets not delivered yet. */
  pending: ("url" | "hook")[];
  attempts: number;
  nextAt: number;
  lastError: string | null;
}

/** Delivery gives up after this many attempts (about 4 hours of backoff). */
export const MAX_NOTIFY_ATTEMPTS = 10;
const NOTIFY_BASE_MS = 5_000;
const NOTIFY_MAX_MS = 3_600_000;
const NOTIFY_TIMEOUT_MS = 10_000;

/** Delay before attempt `attempts + 1`. */
export function notifyBackoff(attempts: number): number {
  return Math.min(NOTIFY_MAX_MS, NOTIFY_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

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
    throw new DumpError("INVALID_OPTIONS", `callbackUrl must use https:${allowInsecure ? " or http:" : " (set allowInsecureCallbacks on the engine to allow http:)"}; got ${parsed.protocol}`);
  }
  if (parsed.username || parsed.password) throw new DumpError("INVALID_OPTIONS", "callbackUrl must not carry credentials; the body is signed with callbackSecret instead.");
  if (!hasSecret) throw new DumpError("INVALID_OPTIONS", "callbackUrl needs the engine option callbackSecret, used to sign the body.");
  return url;
}

/** Hex HMAC-SHA256 of `body` with `secret`. */
export async function sign(secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** POSTs the status to `url`, signed; throws unless the answer is 2xx. */
export async function postStatus(fetcher: typeof fetch, url: string, secret: string, status: DumpStatus): Promise<void> {
  const body = JSON.stringify(status);
  const response = await fetcher(url, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      [SIGNATURE_HEADER]: `sha256=${await sign(secret, body)}`,
      "Durable-Dump-Job": status.id,
    },
    signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`callback answered HTTP ${response.status}`);
}
