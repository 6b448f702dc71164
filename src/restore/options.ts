/** The restore engine's own options and a restore's start options: checks, defaults and bounds. */
import { type ResolvedJobOptions, flag, integerIn, invalidOption, resolveJobOptions, tableNames } from "../jobs/engine-options.js";
import type { RestoreJobOptions } from "../persisted/restore-record.js";
import type { RestoreEngineOptions, RestoreStartOptions, RestoreStatus } from "./types.js";

const KiB = 1024;

/** Defaults and bounds of the restore engine's own options. */
export const RESTORE_LIMITS = {
  readBytes: { default: 4 * KiB * KiB, min: 64 * KiB, max: 16 * KiB * KiB },
  /** R2 keys are at most 1,024 bytes. */
  keyLength: 1_024,
} as const;

/** Restore engine options with defaults applied. */
export interface ResolvedRestoreEngineOptions extends ResolvedJobOptions<RestoreStatus> {
  readBytes: number;
}

/**
 * Start options, checked. `schema`, `data` and `kv` stay undefined when not given: their defaults
 * depend on what `key` turns out to be (an SQL dump or a key-value file) and on its manifest.
 */
export interface ResolvedRestoreStart extends Omit<RestoreJobOptions, "schema" | "data" | "kv"> {
  /** The manifest to use; undefined: look next to the object. */
  manifestKey: string | null | undefined;
  schema: boolean | undefined;
  data: boolean | undefined;
  kv: boolean | undefined;
}

/** Validates the constructor's options and applies defaults. */
export function resolveRestoreEngineOptions(options: RestoreEngineOptions): ResolvedRestoreEngineOptions {
  const shared = resolveJobOptions(options, "RestoreEngine");
  const storage = options.storage as Partial<RestoreEngineOptions["storage"]>;
  if (typeof storage.transactionSync !== "function" || typeof storage.kv?.get !== "function" || typeof storage.sync !== "function") {
    throw invalidOption("options.storage must be the object's storage, ctx.storage: a restore needs its transactionSync(), kv and sync().");
  }
  return { ...shared, readBytes: integerIn("readBytes", options.readBytes, RESTORE_LIMITS.readBytes) };
}

const START_KEYS = new Set(["key", "manifestKey", "tables", "exclude", "schema", "data", "kv", "replace", "callbackUrl"]);

/** A flag that stays undefined when not given. */
function optionalFlag(name: string, value: unknown): boolean | undefined {
  return value === undefined ? undefined : flag(name, value, false);
}

function r2Key(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || new TextEncoder().encode(value).length > RESTORE_LIMITS.keyLength) {
    throw invalidOption(`${name} must be the R2 key of an object: a non-empty string of at most ${RESTORE_LIMITS.keyLength} bytes.`);
  }
  return value;
}

/** Validates {@link RestoreStartOptions} and applies defaults. */
export function resolveRestoreStart(options: RestoreStartOptions | undefined): ResolvedRestoreStart {
  const input = options as unknown;
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw invalidOption('start() takes an options object: { key: "durable-dump/<id>.sql" }.');
  const given = input as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!START_KEYS.has(key)) throw invalidOption(`Unknown option ${JSON.stringify(key)}; expected one of ${[...START_KEYS].join(", ")}.`);
  }
  const schema = optionalFlag("schema", given.schema);
  const data = optionalFlag("data", given.data);
  const kv = optionalFlag("kv", given.kv);
  const replace = flag("replace", given.replace, false);
  if (schema === false && data === false && kv !== true) {
    throw invalidOption("schema and data are both false: the restore would do nothing (add kv: true to restore only the key-value entries).");
  }
  if (replace && schema === false && kv !== true) {
    throw invalidOption("replace drops tables before their schema is restored, or key-value entries before the file's are: it needs schema: true or kv: true.");
  }
  return {
    key: r2Key("key", given.key),
    manifestKey:
      given.manifestKey === undefined || given.manifestKey === null ? (given.manifestKey as null | undefined) : r2Key("manifestKey", given.manifestKey),
    tables: given.tables === undefined ? null : tableNames("tables", given.tables),
    exclude: given.exclude === undefined ? [] : tableNames("exclude", given.exclude),
    schema,
    data,
    kv,
    replace,
  };
}
