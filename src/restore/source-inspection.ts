/**
 * What `RestoreEngine.start` learns about an object before it queues the job: that it exists (and
 * its ETag, which every later read asks for), whether it is gzip, whether it is an SQL dump or a
 * key-value file (told by its first line), and, from the manifest, the SHA-256 of every part and
 * where gzip decoding can restart.
 */
import { Inflate } from "pako";
import { DumpError } from "../errors.js";
import { KvFileDecoder, isKvHeaderLine } from "../kv/kv-file.js";
import { JOB_METADATA_KEY } from "../output/r2-objects.js";
import type { RestorePart, RestoreSource } from "../persisted/restore-record.js";
import { type Infer, ShapeError, array, boolean, count, literal, nullable, object, optional, string } from "../persisted/shape.js";
import { concatBytes } from "../util/bytes.js";

/** The fields of a manifest (`DumpManifest`) a restore reads. */
const manifestShape = object({
  manifestVersion: literal(1),
  jobId: string,
  format: string,
  options: object({ gzip: optional(boolean, false) }),
  objects: array(
    object({
      key: string,
      kv: optional(boolean, false),
      bytes: count,
      gzipSegmentBytes: optional(nullable(count), null),
      parts: array(object({ size: count, sha256: string, gzipSegment: optional(nullable(object({ index: count, offset: count })), null) })),
    }),
  ),
  kv: optional(nullable(object({ key: string, entries: count })), null),
});

/** A manifest as read: its key and what it says. */
export interface Manifest {
  key: string;
  value: Infer<typeof manifestShape>;
}

/** Formats of this library that are not SQL. */
const NOT_SQL = new Set(["csv", "json", "ndjson"]);

/** Bytes read at the start of an object to tell what it is. */
const PEEK_BYTES = 4096;
/** Compressed bytes inflated at once while looking for the first line. */
const PEEK_SLICE = 256;

/** The manifest this library writes next to a dump: `<key without .gz and its extension (.sql, .kv.ndjson, …)>.manifest.json`. */
export function defaultManifestKey(key: string): string {
  const plain = key.replace(/\.gz$/, "");
  const base = plain.endsWith(".kv.ndjson") ? plain.slice(0, -".kv.ndjson".length) : plain.replace(/\.[^./]*$/, "");
  return `${base}.manifest.json`;
}

/** An object of a restore, and the parts its manifest lists (null without a manifest). */
export interface InspectedSource {
  source: RestoreSource;
  parts: RestorePart[] | null;
}

/**
 * Reads the manifest at `key`.
 *
 * @param required throw when it does not exist (else: null).
 * @throws {DumpError} `INVALID_MANIFEST` when it does not exist (if required) or is not a manifest this release reads.
 */
export async function readManifest(bucket: R2Bucket, key: string, required: boolean): Promise<Manifest | null> {
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

/**
 * Looks at object `key`, as `manifest` (if any) describes it.
 *
 * @throws {DumpError} `SOURCE_NOT_FOUND`, `SOURCE_CHANGED`, `INVALID_MANIFEST` (the manifest does not list the object, or describes another one), `NOT_A_DUMP` (a manifest of a format that is not SQL, for an object that is not a key-value file), `KV_FILE_INVALID` (a key-value file of another version or codec, or an object the manifest lists as one that is not).
 */
export async function inspectSource(bucket: R2Bucket, key: string, manifest: Manifest | null): Promise<InspectedSource> {
  const head = await bucket.head(key);
  if (!head) throw new DumpError("SOURCE_NOT_FOUND", `R2 holds no object ${JSON.stringify(key)}.`);
  let parts: RestorePart[] | null = null;
  let segmentBytes = 0;
  let listedAsKv = false;
  if (manifest) {
    const { key: mKey, value } = manifest;
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
    listedAsKv = described.kv || value.kv?.key === key;
  }
  const { gzip, firstLine } = await peek(bucket, key, head);
  const kind = firstLine !== null && isKvHeaderLine(firstLine) ? "kv" : "sql";
  if (kind === "kv") {
    // A version or codec this release does not read is refused now, before anything is stored.
    new KvFileDecoder().accept(firstLine!);
  } else if (listedAsKv) {
    throw new DumpError("KV_FILE_INVALID", `${key} does not begin with the header of a key-value file, though its manifest ${manifest!.key} lists it as one.`);
  } else if (manifest && NOT_SQL.has(manifest.value.format)) {
    throw new DumpError("NOT_A_DUMP", `${key} is a ${manifest.value.format} export (its manifest ${manifest.key} says so), not an SQL dump.`);
  }
  const kvListing = manifest?.value.kv;
  return {
    source: {
      kind,
      key,
      etag: head.etag,
      size: head.size,
      encoding: !gzip ? "plain" : segmentBytes > 0 ? "segments" : "gzip",
      manifestKey: manifest?.key ?? null,
      partPages: [],
      segmentBytes,
      entries: kind === "kv" && kvListing?.key === key ? kvListing.entries : null,
    },
    parts,
  };
}

/**
 * Whether the object starts with the gzip magic bytes, and its first line of text (decompressed),
 * or null when none ends within the first {@link PEEK_BYTES} bytes read.
 */
async function peek(bucket: R2Bucket, key: string, head: R2Object): Promise<{ gzip: boolean; firstLine: string | null }> {
  if (head.size === 0) return { gzip: false, firstLine: null };
  const object = await bucket.get(key, { range: { offset: 0, length: Math.min(PEEK_BYTES, head.size) }, onlyIf: { etagMatches: head.etag } });
  if (!object || !("body" in object)) throw new DumpError("SOURCE_CHANGED", `${key} changed while the restore was being started.`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return { gzip, firstLine: firstLineOf(gzip ? inflatedStart(bytes) : bytes) };
}

/** The text the first bytes of a gzip stream decode to, inflated a slice at a time until a line ends (whatever decodes before an error). */
function inflatedStart(bytes: Uint8Array): Uint8Array {
  const inflate = new Inflate({ windowBits: 31 });
  const out: Uint8Array[] = [];
  inflate.onData = (chunk) => {
    out.push(chunk);
  };
  inflate.onEnd = () => {};
  for (let at = 0; at < bytes.length && !inflate.ended && !inflate.err && !out.some((c) => c.includes(10)); at += PEEK_SLICE) {
    inflate.push(bytes.subarray(at, at + PEEK_SLICE), 2 /* Z_SYNC_FLUSH */);
  }
  return concatBytes(out);
}

/** The first line of `bytes` (without its newline), decoded leniently, or null when no newline is there. */
function firstLineOf(bytes: Uint8Array): string | null {
  const end = bytes.indexOf(10);
  return end < 0 ? null : new TextDecoder().decode(bytes.subarray(0, end));
}
