/**
 * What a restore will read, decided by `RestoreEngine.start`: the object `key` names (an SQL dump
 * or a key-value file), and, for an SQL dump whose manifest lists a key-value file, that file too
 * (after the SQL, in the same job) unless the options leave it out. Also the options' defaults,
 * which depend on what the objects are.
 */
import type { DumpError } from "../errors.js";
import { invalidOption } from "../jobs/engine-options.js";
import type { RestoreJobOptions } from "../persisted/restore-record.js";
import type { ResolvedRestoreStart } from "./options.js";
import { type InspectedSource, type Manifest, defaultManifestKey, inspectSource, readManifest } from "./source-inspection.js";

/** The sources of a restore, in order, with their parts, and its options with defaults applied. */
export interface RestorePlan {
  options: RestoreJobOptions;
  sources: InspectedSource[];
}

/**
 * Inspects `start.key` (and the key-value file its manifest lists, when it is restored too).
 *
 * @throws {DumpError} `INVALID_OPTIONS` (options that do not fit the object, `kv: true` without a key-value file), and what {@link inspectSource} and {@link readManifest} throw.
 */
export async function planRestore(bucket: R2Bucket, start: ResolvedRestoreStart): Promise<RestorePlan> {
  const { key, manifestKey, tables, exclude, replace } = start;
  const manifest = manifestKey === null ? null : await readManifest(bucket, manifestKey ?? defaultManifestKey(key), manifestKey !== undefined);
  const first = await inspectSource(bucket, key, manifest);
  if (first.source.kind === "kv") {
    if (tables !== null || exclude.length > 0 || start.schema === true || start.data === true || start.kv === false) {
      throw invalidOption(
        `${key} is a key-value file: a restore of it writes its entries alone (tables, exclude, schema: true, data: true and kv: false do not apply).`,
      );
    }
    return { options: { key, tables, exclude, schema: false, data: false, kv: true, replace }, sources: [first] };
  }
  const schema = start.schema ?? true;
  const data = start.data ?? true;
  const kvFile = manifest?.value.kv ?? null;
  const kv = start.kv ?? (kvFile !== null && tables === null && exclude.length === 0 && schema && data);
  if (kv && kvFile === null) throw missingKvFile(key, manifest);
  const sources = schema || data ? [first] : [];
  // The manifest names the file: inspectSource refuses it unless it is a key-value file.
  if (kv) sources.push(await inspectSource(bucket, kvFile!.key, manifest));
  return { options: { key, tables, exclude, schema, data, kv, replace }, sources };
}

function missingKvFile(key: string, manifest: Manifest | null): DumpError {
  if (manifest === null) {
    return invalidOption(
      `kv: true finds the key-value file through the dump's manifest, and ${key} has none (or manifestKey is null): restore the .kv.ndjson object itself in a restore of its own.`,
    );
  }
  return invalidOption(`kv: true, but the manifest ${manifest.key} lists no key-value file: the export ran without kv: true.`);
}
