/**
 * Completion callbacks on the wire: checking a callback URL, signing the body with a timestamp,
 * verifying a signature, and POSTing a final status. Shared by every kind of job.
 */
import { DumpError } from "../errors.js";
import { constantTimeEqual, fromHex, toHex } from "../util/bytes.js";
import { type CallbackHostRule, refusedHost } from "./callback-hosts.js";
import type { BackoffPolicy } from "./retry.js";

/** Header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = "Durable-Dump-Signature";

/** Header naming the job a callback is about. */
export const JOB_HEADER = "Durable-Dump-Job";

/**
 * Delivery of a notification: 12 attempts, 15 s doubling to 1 h between them, so the last comes
 * 4 h 3 min 45 s after the first (each delay up to 25% longer at random: at most 5 h 5 min).
 */
export const NOTIFY_RETRY: BackoffPolicy = { baseMs: 15_000, maxMs: 3_600_000, attempts: 12 };

/** How long one callback request may take before it counts as failed. */
const NOTIFY_TIMEOUT_MS = 10_000;

/** Default of `toleranceSeconds` in {@link verifyCallbackSignature}: how far a signature's time may be from the receiver's clock. */
const DEFAULT_TOLERANCE_SECONDS = 300;

/** What decides where callbacks may go: the engine options of that name, resolved. */
export interface CallbackPolicy {
  callbackSecret: string | null;
  allowInsecureCallbacks: boolean;
  callbackHosts: readonly CallbackHostRule[] | null;
}

/**
 * Why a callback may not go to `url` under `policy`, or null when it may: an absolute `https:`
 * URL (or `http:` when insecure URLs are allowed), without credentials, at most 2,048
 * characters, to a host the policy allows.
 */
function refusedUrl(url: unknown, policy: CallbackPolicy): string | null {
  if (typeof url !== "string" || url.length > 2048) return "callbackUrl must be a URL string of at most 2,048 characters.";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `callbackUrl ${JSON.stringify(url)} is not an absolute URL.`;
  }
  const allowed = policy.allowInsecureCallbacks ? ["https:", "http:"] : ["https:"];
  if (!allowed.includes(parsed.protocol)) {
    const hint = policy.allowInsecureCallbacks ? " or http:" : " (set allowInsecureCallbacks on the engine to allow http:)";
    return `callbackUrl must use https:${hint}; got ${parsed.protocol}`;
  }
  if (parsed.username || parsed.password) return "callbackUrl must not carry credentials; the body is signed with callbackSecret instead.";
  const host = refusedHost(parsed.hostname, policy.callbackHosts);
  return host === null ? null : `callbackUrl: ${host}.`;
}

/**
 * Checks a callback URL against the engine's policy (see {@link refusedUrl}); returns it.
 *
 * @throws {DumpError} `INVALID_OPTIONS` saying why it is refused, or that the engine has no `callbackSecret`.
 */
export function checkCallbackUrl(url: unknown, policy: CallbackPolicy): string {
  const refused = refusedUrl(url, policy);
  if (refused !== null) throw new DumpError("INVALID_OPTIONS", refused);
  if (policy.callbackSecret === null) throw new DumpError("INVALID_OPTIONS", "callbackUrl needs the engine option callbackSecret, used to sign the body.");
  return url as string;
}

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/**
 * The `Durable-Dump-Signature` header of a callback body sent at `timestamp` (unix seconds, now by
 * default): `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>" under secret>`. Signing the
 * time with the body lets a receiver refuse a replayed callback.
 */
export async function signCallbackBody(secret: string, body: string, timestamp: number = Math.floor(Date.now() / 1000)): Promise<string> {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new DumpError("INVALID_ARGUMENT", "timestamp must be a whole number of seconds since 1970.");
  return `t=${timestamp},v1=${toHex(await hmac(secret, `${timestamp}.${body}`))}`;
}

/** Options of {@link verifyCallbackSignature}. */
export interface VerifyCallbackOptions {
  /** How far the signed time may lie from `now`, either way. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** The receiver's clock in epoch milliseconds. Default `Date.now()`. */
  now?: number;
}

/**
 * Whether `header` (a callback's `Durable-Dump-Signature`) signs `body` under `secret` at a time
 * within `toleranceSeconds` of now. Compares the HMAC in constant time. Verify the raw body
 * before parsing it; a callback that fails is a forgery, a replay older than the tolerance, or
 * a receiver whose clock is off.
 *
 * @example
 * const body = await request.text();
 * const signature = request.headers.get("Durable-Dump-Signature");
 * if (!(await verifyCallbackSignature(env.DUMP_CALLBACK_SECRET, body, signature))) return new Response(null, { status: 401 });
 * const status = JSON.parse(body);
 */
export async function verifyCallbackSignature(secret: string, body: string, header: string | null, options: VerifyCallbackOptions = {}): Promise<boolean> {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new DumpError("INVALID_ARGUMENT", "toleranceSeconds must be a number ≥ 0.");
  if (typeof secret !== "string" || !secret || typeof body !== "string" || typeof header !== "string" || header.length > 1024) return false;
  let timestamp: string | null = null;
  const signatures: Uint8Array[] = [];
  for (const item of header.split(",")) {
    const [name, value = ""] = item.trim().split("=", 2) as [string, string?];
    if (name === "t" && /^\d{1,15}$/.test(value)) timestamp = value;
    if (name === "v1" && value.length === 64) signatures.push(fromHex(value) ?? new Uint8Array(0));
  }
  if (timestamp === null || signatures.length === 0) return false;
  const now = (options.now ?? Date.now()) / 1000;
  if (Math.abs(now - Number(timestamp)) > tolerance) return false;
  const expected = await hmac(secret, `${timestamp}.${body}`);
  let valid = false;
  for (const signature of signatures) valid = constantTimeEqual(expected, signature) || valid;
  return valid;
}

/** A delivery that trying again cannot help: the engine's policy no longer allows the URL. */
export class UndeliverableError extends Error {
  override readonly name = "UndeliverableError";
}

/**
 * POSTs `status` (a job's final status) to `url`, signed at `now`; throws unless the answer is
 * 2xx. Redirects are not followed (a 3xx fails the attempt): the signed body goes to the URL the
 * policy allowed and nowhere else. The URL is checked against the policy as it is now.
 */
export async function postStatus(fetcher: typeof fetch, url: string, policy: CallbackPolicy, status: { id: string }, now: number): Promise<void> {
  const refused = refusedUrl(url, policy);
  if (refused !== null) throw new UndeliverableError(refused);
  // Retried: a secret missing from one deployment may be back in the next.
  if (policy.callbackSecret === null) throw new Error("no callbackSecret to sign the callback with");
  const body = JSON.stringify(status);
  const response = await fetcher(url, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      [SIGNATURE_HEADER]: await signCallbackBody(policy.callbackSecret, body, Math.floor(now / 1000)),
      [JOB_HEADER]: status.id,
    },
    redirect: "manual",
    signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (response.status >= 300 && response.status < 400) throw new Error(`callback answered HTTP ${response.status}, a redirect, which is not followed`);
  if (!response.ok) throw new Error(`callback answered HTTP ${response.status}`);
}
