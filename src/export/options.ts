/** The export engine's own options and a job's start options: checks, defaults and bounds. */
import { DumpError } from "../errors.js";
import type { DumpFormatter, SqlDialect } from "../formats/formatter.js";
import { DEFAULT_GZIP_LEVEL, type GzipLevel } from "../output/deflater.js";
import { type ResolvedJobOptions, integerIn, invalidOption, resolveJobOptions, tableNames } from "../jobs/engine-options.js";
import type { DumpEngineOptions, DumpStatus, StartOptions } from "./types.js";

const MiB = 1024 * 1024;

/** Defaults and bounds of the export engine's own options. */
export const LIMITS = {
  /** 5 MiB, R2's least, keeps the two part buffers at 10 MiB of the isolate's 128 MB; 10,000 parts still make 48 GiB. */
  partSize: { default: 5 * MiB, min: 5 * MiB, max: 64 * MiB },
  keyPrefix: { default: "durable-dump/", maxLength: 512 },
} as const;

/** Export engine options with defaults applied. */
export interface ResolvedEngineOptions extends ResolvedJobOptions<DumpStatus> {
  partSize: number;
  keyPrefix: string;
  formatters: Record<string, DumpFormatter>;
}

/** Start options with defaults applied (tables not resolved against the database yet). */
export interface ResolvedStartOptions {
  format: string;
  tables: string[] | null;
  exclude: string[];
  schema: boolean;
  data: boolean;
  gzip: boolean;
  /** The gzip level (the default when `gzip` is false). */
  gzipLevel: GzipLevel;
  kv: boolean;
  /** Folder under the engine's keyPrefix, "" for none. */
  folder: string;
  dialect: SqlDialect;
}

/** Checks a key prefix: relative, no `..` or empty segments, no control characters. */
export function checkKeyPrefix(prefix: unknown): string {
  if (prefix === undefined) return LIMITS.keyPrefix.default;
  if (typeof prefix !== "string" || prefix.length > LIMITS.keyPrefix.maxLength) {
    throw invalidOption(`keyPrefix must be a string of at most ${LIMITS.keyPrefix.maxLength} characters.`);
  }
  const segments = prefix.split("/").slice(0, -1);
  if (prefix.startsWith("/") || segments.some((s) => s === "" || s === "." || s === "..") || /[\u0000-\u001f\u007f\\]/.test(prefix)) {
    throw invalidOption(`keyPrefix ${JSON.stringify(prefix)} must be a relative path like "backups/" without "..", "//", backslashes or control characters.`);
  }
  return prefix;
}

/**
 * Checks a job's `folder`: a relative path ending with "/" that goes between the engine's
 * keyPrefix and the job id, so it can only ever name keys under the engine's prefix.
 */
function checkFolder(folder: unknown, keyPrefix: string): string {
  if (folder === undefined) return "";
  if (typeof folder !== "string" || folder === "" || !folder.endsWith("/") || keyPrefix.length + folder.length > LIMITS.keyPrefix.maxLength) {
    throw invalidOption(`folder must be a path ending with "/", at most ${LIMITS.keyPrefix.maxLength} characters together with keyPrefix.`);
  }
  checkKeyPrefix(folder);
  return folder;
}

function checkFormatter(name: string, formatter: unknown): DumpFormatter {
  const f = formatter as Partial<DumpFormatter> | null;
  if (
    typeof f !== "object" ||
    f === null ||
    typeof f.row !== "function" ||
    typeof f.extension !== "string" ||
    !/^[A-Za-z0-9]{1,16}$/.test(f.extension) ||
    typeof f.contentType !== "string" ||
    typeof f.objectPerTable !== "boolean"
  ) {
    throw invalidOption(`formatters.${name} must implement DumpFormatter: extension (1-16 letters or digits), contentType, objectPerTable and row().`);
  }
  return f as DumpFormatter;
}

/** Validates the constructor's options and applies defaults. */
export function resolveEngineOptions(options: DumpEngineOptions, builtins: Record<string, DumpFormatter>): ResolvedEngineOptions {
  const shared = resolveJobOptions(options, "DumpEngine");
  const formatters: Record<string, DumpFormatter> = { ...builtins };
  for (const [name, formatter] of Object.entries(options.formatters ?? {})) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw invalidOption(`Formatter name ${JSON.stringify(name)} must be lower-case letters, digits and dashes.`);
    formatters[name] = checkFormatter(name, formatter);
  }
  return {
    ...shared,
    partSize: integerIn("partSize", options.partSize, LIMITS.partSize),
    keyPrefix: checkKeyPrefix(options.keyPrefix),
    formatters,
  };
}

const START_KEYS = new Set(["format", "tables", "exclude", "schema", "data", "gzip", "kv", "folder", "dialect", "callbackUrl"]);
const DIALECTS: readonly SqlDialect[] = ["sqlite3", "d1"];

/** Validates {@link StartOptions} and applies defaults; tables are checked against the database later. */
export function resolveStartOptions(options: StartOptions | undefined, formatters: Record<string, DumpFormatter>, keyPrefix: string): ResolvedStartOptions {
  const input = (options ?? {}) as Record<string, unknown>;
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw invalidOption("start() takes an options object.");
  for (const key of Object.keys(input)) {
    if (!START_KEYS.has(key)) throw invalidOption(`Unknown option ${JSON.stringify(key)}; expected one of ${[...START_KEYS].join(", ")}.`);
  }
  const format = input.format ?? "sql";
  if (typeof format !== "string" || !Object.hasOwn(formatters, format)) {
    throw new DumpError("UNKNOWN_FORMAT", `Unknown format ${JSON.stringify(format)}; available: ${Object.keys(formatters).join(", ")}.`);
  }
  for (const flag of ["schema", "data", "kv"] as const) {
    if (input[flag] !== undefined && typeof input[flag] !== "boolean") throw invalidOption(`${flag} must be true or false.`);
  }
  const schema = (input.schema as boolean | undefined) ?? true;
  const data = (input.data as boolean | undefined) ?? true;
  const kv = (input.kv as boolean | undefined) ?? false;
  if (!schema && !data && !kv) throw invalidOption("schema, data and kv are all false: the dump would be empty.");
  const dialect = input.dialect ?? "sqlite3";
  if (!DIALECTS.includes(dialect as SqlDialect)) throw invalidOption(`dialect must be "sqlite3" or "d1"; got ${JSON.stringify(dialect)}.`);
  if (input.dialect !== undefined && format !== "sql") throw invalidOption(`dialect applies to the sql format only, not ${JSON.stringify(format)}.`);
  return {
    format,
    tables: input.tables === undefined ? null : tableNames("tables", input.tables),
    exclude: input.exclude === undefined ? [] : tableNames("exclude", input.exclude),
    schema,
    data,
    ...gzipOption(input.gzip),
    kv,
    folder: checkFolder(input.folder, keyPrefix),
    dialect: dialect as SqlDialect,
  };
}

/** `gzip`: a boolean, or `{ level }` with an integer level from 1 to 9 (compression on). */
function gzipOption(value: unknown): { gzip: boolean; gzipLevel: GzipLevel } {
  if (value === undefined || typeof value === "boolean") return { gzip: value ?? false, gzipLevel: DEFAULT_GZIP_LEVEL };
  const fail = () => invalidOption("gzip must be true, false or { level } with an integer level from 1 (fastest) to 9 (smallest).");
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw fail();
  for (const key of Object.keys(value)) if (key !== "level") throw fail();
  const { level = DEFAULT_GZIP_LEVEL } = value as { level?: unknown };
  if (typeof level !== "number" || !Number.isInteger(level) || level < 1 || level > 9) throw fail();
  return { gzip: true, gzipLevel: level as GzipLevel };
}
