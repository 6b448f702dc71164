/**
 * What `RestoreEngine.start` learns about a dump before it queues the job: that the object
 * exists (and its ETag, which every later read asks for), whether it is gzip, and, from the
 * manifest next to it, the SHA-256 of every part and where gzip decoding can restart.
 */
import { DumpError } from "../errors.js";
import { JOB_METADATA_KEY } from "../output/r2-objects.js";
import type { RestorePart, RestoreSource } from "../persisted/restore-record.js";
import { type Infer, ShapeError, array, boolean, count, literal, nullable, object, optional, string } from "../persisted/shape.js";

/** The fields of a manifest (`DumpManifest`) a restore reads. */
const manifestShape = object({
  manifestVersion: literal(1),
  jobId: string,
  format: string,
  options: object({ gzip: optional(boolean, false) }),
  objects: array(
    object({
      key: string,
      bytes: count,
      gzipSegmentBytes: optional(nullable(count), null),
      parts: array(object({ size: count, sha256: string, gzipSegment: optional(nullable(object({ index: count, offset: count })), null) })),
    }),
  ),
});

/** Formats of this library that are not SQL. */
const NOT_SQL = new Set(["csv", "json", "ndjson"]);

/** The manifest this library writes next to a dump: `<key without .gz and its extension>.manifest.json`. */
export function defaultManifestKey(key: string): string {
  const base = key.replace(/\.gz$/, "").replace(/\.[^./]*$/, "");
  return `${base}.manifest.json`;
}

/** The source of a restore, and the parts its manifest lists (null without a manifest). */
export interface InspectedSource {
  source: RestoreSource;
  parts: RestorePart[] | null;
}

/**
 * Looks at the dump `key` and its manifest.
 *
 * @param manifestKey the manifest to read; undefined: the default one, if it exists; null: none.
 * @throws {DumpError} `SOURCE_NOT_FOUND`, `INVALID_MANIFEST` (unreadable, or describing another object), `NOT_A_DUMP` (a manifest of a format that is not SQL).
 */
export async function inspectSource(bucket: R2Bucket, key: string, manifestKey: string | null | undefined): Promise<InspectedSource> {
  const head = await bucket.head(key);
  if (!head) throw new DumpError("SOURCE_NOT_FOUND", `R2 holds no object ${JSON.stringify(key)}.`);
  const manifest = manifestKey === null ? null : await readManifest(bucket, manifestKey ?? defaultManifestKey(key), manifestKey !== undefined);
  let parts: RestorePart[] | null = null;
  let segmentBytes = 0;
  if (manifest) {
    const { key: mKey, value } = manifest;
    if (NOT_SQL.has(value.format)) throw new DumpError("NOT_A_DUMP", `${key} is a ${value.format} export (its manifest ${mKey} says so), not an SQL dump.`);
    const described = value.objects.find((o) => o.key === key);
    if (!described) throw new DumpError("INVALID_MANIFEST", `The manifest ${mKey} does not list ${key}.`);
    const jobId = head.customMetadata?.[JOB_METADATA_KEY];
    if (jobId !== undefined && jobId !== value.jobId)
      throw new DumpError("INVALID_MANIFEST", `${key} was written by job ${jobId}, the manifest ${mKey} by job ${value.jobId}.`);
    const total = described.parts.reduce((sum, p) => sum + p.size, 0);
    if (described.bytes !== head.size || total !== head.size) {
      throw new DumpError(
        "INVALID_MANIFEST",
        `${key} has ${head.size} bytes, its manifest ${mKey} says ${described.bytes} (parts: ${total}): the object is not the one the manifest describes.`,
      );
    }
    parts = described.parts.map((p) => ({ size: p.size, sha256: p.sha256, segment: p.gzipSegment }));
    segmentBytes = value.options.gzip && described.gzipSegmentBytes !== null && parts.some((p) => p.segment) ? described.gzipSegmentBytes : 0;
  }
  const gzip = await startsLikeGzip(bucket, key, head);
  return {
    source: {
      kind: "sql",
      key,
      etag: head.etag,
      size: head.size,
      encoding: !gzip ? "plain" : segmentBytes > 0 ? "segments" : "gzip",
      manifestKey: manifest?.key ?? null,
      partPages: [],
      segmentBytes,
    },
    parts,
  };
}

async function readManifest(bucket: R2Bucket, key: string, required: boolean): Promise<{ key: string; value: Infer<typeof manifestShape> } | null> {
  const object = await bucket.get(key);
  if (!object) {
    if (required) throw new DumpError("INVALID_MANIFEST", `R2 holds no manifest ${JSON.stringify(key)}.`);
    return null;
  }
  try {
    return { key, value: manifestShape.check(JSON.parse(await object.text()), key) };
  } catch (error) {
    if (!(error instanceof ShapeError) && !(error instanceof SyntaxError)) throw error;
    throw new DumpError("INVALID_MANIFEST", `${key} is not a durable-dump manifest this release reads: ${error.message}.`);
  }
}

/** Whether the object starts with the gzip magic bytes. */
async function startsLikeGzip(bucket: R2Bucket, key: string, head: R2Object): Promise<boolean> {
  if (head.size < 2) return false;
  const object = await bucket.get(key, { range: { offset: 0, length: 2 }, onlyIf: { etagMatches: head.etag } });
  if (!object || !("body" in object)) throw new DumpError("SOURCE_CHANGED", `${key} changed while the restore was being started.`);
  const magic = new Uint8Array(await object.arrayBuffer());
  return magic[0] === 0x1f && magic[1] === 0x8b;
}
