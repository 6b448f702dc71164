/** The export engine's own options and a job's start options: checks, defaults and bounds. */
import { DumpError } from "../errors.js";
import type { DumpFormatter } from "../formats/formatter.js";
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

const START_KEYS = new Set(["format", "tables", "exclude", "schema", "data", "gzip", "callbackUrl"]);

/** Validates {@link StartOptions} and applies defaults; tables are checked against the database later. */
export function resolveStartOptions(options: StartOptions | undefined, formatters: Record<string, DumpFormatter>): ResolvedStartOptions {
  const input = (options ?? {}) as Record<string, unknown>;
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw invalidOption("start() takes an options object.");
  for (const key of Object.keys(input)) {
    if (!START_KEYS.has(key)) throw invalidOption(`Unknown option ${JSON.stringify(key)}; expected one of ${[...START_KEYS].join(", ")}.`);
  }
  const format = input.format ?? "sql";
  if (typeof format !== "string" || !Object.hasOwn(formatters, format)) {
    throw new DumpError("UNKNOWN_FORMAT", `Unknown format ${JSON.stringify(format)}; available: ${Object.keys(formatters).join(", ")}.`);
  }
  for (const flag of ["schema", "data", "gzip"] as const) {
    if (input[flag] !== undefined && typeof input[flag] !== "boolean") throw invalidOption(`${flag} must be true or false.`);
  }
  const schema = (input.schema as boolean | undefined) ?? true;
  const data = (input.data as boolean | undefined) ?? true;
  if (!schema && !data) throw invalidOption("schema and data are both false: the dump would be empty.");
  return {
    format,
    tables: input.tables === undefined ? null : tableNames("tables", input.tables),
    exclude: input.exclude === undefined ? [] : tableNames("exclude", input.exclude),
    schema,
    data,
    gzip: (input.gzip as boolean | undefined) ?? false,
  };
}
