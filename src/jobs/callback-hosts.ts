/**
 * Which hosts callbacks may go to: an optional list of exact names and `*.example.com`
 * wildcards, and IP literals refused unless listed one by one. Host names are compared as the
 * URL parser normalises them (lower case, punycode, IPv4 in dotted decimal whatever its spelling:
 * `0x7f.1` and `2130706433` are `127.0.0.1`; `[::ffff:127.0.0.1]` is `[::ffff:7f00:1]`).
 */
import { DumpError } from "../errors.js";

const invalidOption = (message: string) => new DumpError("INVALID_OPTIONS", message);

/** An allowed callback host: an exact (normalised) name or IP literal, or every subdomain of `suffix`. */
export type CallbackHostRule = { exact: string } | { suffix: string };

/** At most this many entries in `callbackHosts`. */
const MAX_RULES = 100;

/** The host of `https://<name>/` as the URL parser normalises it, without a trailing dot; null when it is not a host. */
function normalHost(name: string): string | null {
  // No port (the parser would drop a default one silently), path, query or credentials.
  if (name === "" || /[/?#@\\\s]/.test(name) || (name.startsWith("[") ? !name.endsWith("]") : name.includes(":"))) return null;
  try {
    const url = new URL(`https://${name}/`);
    const host = url.hostname.replace(/\.$/, "");
    // The parser lets through names no DNS holds, such as "*": only labels of letters, digits, "-" and "_".
    return url.port === "" && (isIpLiteral(host) || /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(host)) ? host : null;
  } catch {
    return null;
  }
}

/** Whether a normalised host is an IP literal: IPv6 in brackets, or IPv4 (the parser turns every IPv4 spelling into dotted decimal). */
function isIpLiteral(host: string): boolean {
  return host.startsWith("[") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/**
 * Checks the engine option `callbackHosts`: host names (`hooks.example.com`), wildcards for every
 * subdomain (`*.example.com`, which does not match `example.com` itself) and IP literals
 * (`10.0.0.7`, `[::1]`), which are allowed only when listed exactly. Undefined means any host
 * name, but no IP literal.
 *
 * @throws {DumpError} `INVALID_OPTIONS` for anything else.
 */
export function resolveCallbackHosts(value: unknown): CallbackHostRule[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length > MAX_RULES) throw invalidOption(`callbackHosts must be an array of at most ${MAX_RULES} host names.`);
  return value.map((entry): CallbackHostRule => {
    const wildcard = typeof entry === "string" && entry.startsWith("*.");
    const host = typeof entry === "string" ? normalHost(wildcard ? entry.slice(2) : entry) : null;
    if (host === null || (wildcard && (isIpLiteral(host) || !host.includes(".")))) {
      throw invalidOption(
        `callbackHosts: ${JSON.stringify(entry)} is not a host name, an IP literal or a wildcard like "*.example.com" (no scheme, port or path).`,
      );
    }
    return wildcard ? { suffix: `.${host}` } : { exact: host };
  });
}

/**
 * Why a callback may not go to `hostname` (as `new URL()` gives it), or null when it may: with
 * no rules any host name but no IP literal; with rules, a host they list, an IP literal only when
 * listed exactly.
 */
export function refusedHost(hostname: string, rules: readonly CallbackHostRule[] | null): string | null {
  const host = hostname.replace(/\.$/, "");
  const ip = isIpLiteral(host);
  if (rules === null) return ip ? `${host} is an IP address; list it in the engine option callbackHosts to allow it` : null;
  const allowed = rules.some((rule) => ("exact" in rule ? rule.exact === host : !ip && host.endsWith(rule.suffix)));
  return allowed ? null : `${host} is not in the engine option callbackHosts`;
}
