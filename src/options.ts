import { DumpError } from "./errors.js";
import type { DumpFormatter } from "./formatters/formatter.js";
import type { DumpEngineOptions, StartOptions } from "./types.js";

const MiB = 1024 * 1024;

/** Defaults and bounds of the engine options. */
export const LIMITS = {
  tickBudgetMs: { default: 5_000, min: 100, max: 600_000 },
  /** 5 MiB, R2's least, keeps the two part buffers at 10 MiB of the isolate's 128 MB; 10,000 parts still make 48 GiB. */
  partSize: { default: 5 * MiB, min: 5 * MiB, max: 64 * MiB },
  keyPrefix: { default: "durable-dump/", maxLength: 512 },
  maxQueuedJobs: { default: 10, min: 1, max: 1_000 },
  retentionMs: { default: 7 * 86_400_000, min: 0, max: 3_650 * 86_400_000 },
} as const;

/** Engine options with defaults applied. */
export interface ResolvedEngineOptions {
  tickBudgetMs: number;
  partSize: number;
  keyPrefix: string;
  formatters: Record<string, DumpFormatter>;
  now: () => number;
  maxQueuedJobs: number;
  retentionMs: number;
  callbackSecret: string | null;
  allowInsecureCallbacks: boolean;
  onComplete: ((status: import("./types.js").DumpStatus) => unknown) | null;
  fetch: typeof fetch | null;
}

/** Start options with defaults applied (tables not resolved against the database yet). */
export interface ResolvedStartOptions {
  format: string;
  tables: string[] | null;
  exclude: string[];
  schema: boolean;
  data: boolean;
  gzip: boolean;
}

function invalid(message: string): DumpError {
  return new DumpError("INVALID_OPTIONS", message);
}

function integerIn(name: string, value: unknown, bounds: { default: number; min: number; max: number }): number {
  if (value === undefined) return bounds.default;
  if (typeof value !== "number" || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw invalid(`${name} must be an integer from ${bounds.min} to ${bounds.max}; got ${String(value)}.`);
  }
  return value;
}

/** Checks a key prefix: relative, no `..` or empty segments, no control characters. */
export function checkKeyPrefix(prefix: unknown): string {
  if (prefix === undefined) return LIMITS.keyPrefix.default;
  if (typeof prefix !== "string" || prefix.length > LIMITS.keyPrefix.maxLength) {
    throw invalid(`keyPrefix must be a string of at most ${LIMITS.keyPrefix.maxLength} characters.`);
  }
  const segments = prefix.split("/").slice(0, -1);
  if (prefix.startsWith("/") || segments.some((s) => s === "" || s === "." || s === "..") || /[\u0000-\u001f\u007f\\]/.test(prefix)) {
    throw invalid(`keyPrefix ${JSON.stringify(prefix)} must be a relative path like "backups/" without "..", "//", backslashes or control characters.`);
  }
  return prefix;
}

function checkFormatter(name: string, formatter: unknown): DumpFormatter {
  const f = formatter as Partial<DumpFormatter> | null;
  if (
    typeof f !== "object" || f === null || typeof f.row !== "function" || typeof f.extension !== "string" ||
    !/^[A-Za-z0-9]{1,16}$/.test(f.extension) || typeof f.contentType !== "string" || typeof f.objectPerTable !== "boolean"
  ) {
    throw invalid(`formatters.${name} must implement DumpFormatter: extension (1-16 letters or digits), contentType, objectPerTable and row().`);
  }
  return f as DumpFormatter;
}

/** Validates the constructor's options and applies defaults. */
export function resolveEngineOptions(options: DumpEngineOptions, builtins: Record<string, DumpFormatter>): ResolvedEngineOptions {
  if (typeof options !== "object" || options === null) throw invalid("DumpEngine needs an options object: { sql, bucket, storage }.");
  if (!options.sql || typeof options.sql.exec !== "function") throw invalid("options.sql must be the object's SqlStorage: ctx.storage.sql.");
  if (!options.bucket || typeof options.bucket.createMultipartUpload !== "function") throw invalid("options.bucket must be an R2Bucket binding.");
  if (!options.storage || typeof options.storage.put !== "function" || typeof options.storage.setAlarm !== "function") {
    throw invalid("options.storage must be the object's storage: ctx.storage.");
  }
  if (options.now !== undefined && typeof options.now !== "function") throw invalid("options.now must be a function returning epoch milliseconds.");
  if (options.scheduler !== undefined && (typeof options.scheduler !== "object" || options.scheduler === null || typeof options.scheduler.register !== "function")) {
    throw invalid("options.scheduler must be an AlarmScheduler.");
  }
  const formatters: Record<string, DumpFormatter> = { ...builtins };
  for (const [name, formatter] of Object.entries(options.formatters ?? {})) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw invalid(`Formatter name ${JSON.stringify(name)} must be lower-case letters, digits and dashes.`);
    formatters[name] = checkFormatter(name, formatter);
  }
  return {
    tickBudgetMs: integerIn("tickBudgetMs", options.tickBudgetMs, LIMITS.tickBudgetMs),
    partSize: integerIn("partSize", options.partSize, LIMITS.partSize),
    keyPrefix: checkKeyPrefix(options.keyPrefix),
    formatters,
    now: options.now ?? Date.now,
    maxQueuedJobs: integerIn("maxQueuedJobs", options.maxQueuedJobs, LIMITS.maxQueuedJobs),
    retentionMs: integerIn("retentionMs", options.retentionMs, LIMITS.retentionMs),
    ...callbackOptions(options),
  };
}

function callbackOptions(options: DumpEngineOptions): Pick<ResolvedEngineOptions, "callbackSecret" | "allowInsecureCallbacks" | "onComplete" | "fetch"> {
  const { callbackSecret, allowInsecureCallbacks, onComplete, fetch } = options;
  if (callbackSecret !== undefined && (typeof callbackSecret !== "string" || callbackSecret.length === 0 || callbackSecret.length > 1024)) {
    throw invalid("callbackSecret must be a non-empty string of at most 1,024 characters.");
  }
  if (allowInsecureCallbacks !== undefined && typeof allowInsecureCallbacks !== "boolean") throw invalid("allowInsecureCallbacks must be true or false.");
  if (onComplete !== undefined && typeof onComplete !== "function") throw invalid("onComplete must be a function taking the job's final status.");
  if (fetch !== undefined && typeof fetch !== "function") throw invalid("fetch must be a function like the global fetch.");
  return { callbackSecret: callbackSecret ?? null, allowInsecureCallbacks: allowInsecureCallbacks ?? false, onComplete: onComplete ?? null, fetch: fetch ?? null };
}

const START_KEYS = new Set(["format", "tables", "exclude", "schema", "data", "gzip", "callbackUrl"]);

function tableList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((t) => typeof t !== "string" || t.length === 0)) {
    throw invalid(`${name} must be an array of table names.`);
  }
  if (new Set(value).size !== value.length) throw invalid(`${name} names a table twice.`);
  return value as string[];
}

/** Validates {@link StartOptions} and applies defaults; tables are checked against the database later. */
export function resolveStartOptions(options: StartOptions | undefined, formatters: Record<string, DumpFormatter>): ResolvedStartOptions {
  const input = (options ?? {}) as Record<string, unknown>;
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw invalid("start() takes an options object.");
  for (const key of Object.keys(input)) {
    if (!START_KEYS.has(key)) throw invalid(`Unknown option ${JSON.stringify(key)}; expected one of ${[...START_KEYS].join(", ")}.`);
  }
  const format = input.format ?? "sql";
  if (typeof format !== "string" || !Object.hasOwn(formatters, format)) {
    throw new DumpError("UNKNOWN_FORMAT", `Unknown format ${JSON.stringify(format)}; available: ${Object.keys(formatters).join(", ")}.`);
  }
  for (const flag of ["schema", "data", "gzip"] as const) {
    if (input[flag] !== undefined && typeof input[flag] !== "boolean") throw invalid(`${flag} must be true or false.`);
  }
  const schema = (input.schema as boolean | undefined) ?? true;
  const data = (input.data as boolean | undefined) ?? true;
  if (!schema && !data) throw invalid("schema and data are both false: the dump would be empty.");
  return {
    format,
    tables: input.tables === undefined ? null : tableList("tables", input.tables),
    exclude: input.exclude === undefined ? [] : tableList("exclude", input.exclude),
    schema,
    data,
    gzip: (input.gzip as boolean | undefined) ?? false,
  };
}
