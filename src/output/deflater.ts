import { Deflate, Z_FULL_FLUSH } from "pako";
import { concatBytes } from "../util/bytes.js";

/**
 * Which implementation deflates a gzip stream's segments: the runtime's native zlib
 * (`node:zlib`, present in workerd with `nodejs_compat`) or pako, JavaScript that runs anywhere.
 * Both write the same bytes at every level (zlib's algorithm, same defaults), so a stream may
 * switch between them; a job still records the one it started with and keeps it when it can.
 */
export type DeflateEngine = "node:zlib" | "pako";

/** A gzip compression level: 1 is the fastest, 9 the smallest, 6 zlib's default. */
export type GzipLevel = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/** The level of a job that names none. */
export const DEFAULT_GZIP_LEVEL: GzipLevel = 6;

/** Compresses the segments of one gzip stream. */
export interface Deflater {
  readonly engine: DeflateEngine;
  readonly level: GzipLevel;
  /**
   * Deflates `bytes` (at most {@link MAX_SEGMENT_BYTES}) on their own, ending with a full flush:
   * byte-aligned, non-final blocks that refer to nothing before them, so segments concatenate into
   * one raw deflate stream. The result has an ArrayBuffer of its own, which the caller may free
   * once it has read it.
   */
  segment(bytes: Uint8Array): Uint8Array;
  /** A native CRC-32 (same result as the JavaScript one), or null where the runtime has none. */
  readonly crc32: ((crc: number, bytes: Uint8Array) => number) | null;
}

/** The largest input of {@link Deflater.segment}. */
const MAX_SEGMENT_BYTES = 256 * 1024;

/**
 * Output buffer of one segment: above the deflate bound of {@link MAX_SEGMENT_BYTES} (stored
 * blocks add 5 bytes per 16 KiB), so each segment is compressed into one buffer, which the caller
 * frees at once, instead of 16 KiB chunks joined by a copy that only the collector would free.
 */
const OUTPUT_CHUNK_BYTES = MAX_SEGMENT_BYTES + 16 * 1024;

/** The parts of `node:zlib` the deflater uses. */
interface NodeZlib {
  deflateRawSync(bytes: Uint8Array, options: { level: number; finishFlush: number; chunkSize?: number }): Uint8Array;
  crc32?(bytes: Uint8Array, value?: number): number;
  constants: { Z_FULL_FLUSH: number };
}

let probed: NodeZlib | null | undefined;

/**
 * The runtime's `node:zlib` when it can deflate, else null; probed once per isolate. It is reached
 * through `process.getBuiltinModule`, never a static or literal dynamic import: a Worker without
 * `nodejs_compat` refuses to load a module naming `node:zlib` at all, whereas here it simply has no
 * `process` (or the module is missing or disabled, e.g. by `no_nodejs_zlib`) and pako is used.
 */
function nativeZlib(): NodeZlib | null {
  if (probed !== undefined) return probed;
  probed = null;
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const zlib = proc?.getBuiltinModule?.("node:zlib") as NodeZlib | undefined;
    if (zlib && typeof zlib.deflateRawSync === "function" && typeof zlib.constants?.Z_FULL_FLUSH === "number") {
      zlib.deflateRawSync(new Uint8Array(1), { level: DEFAULT_GZIP_LEVEL, finishFlush: zlib.constants.Z_FULL_FLUSH });
      probed = zlib;
    }
  } catch {
    // A stub that throws when used (a runtime with the module disabled): pako it is.
  }
  return probed;
}

/** The engine a new stream starts with: native zlib where the runtime has it. */
export function preferredEngine(): DeflateEngine {
  return nativeZlib() ? "node:zlib" : "pako";
}

/**
 * The deflater of a stream recorded with `engine` and `level`. A stream that started with native
 * zlib goes on with pako where the runtime lost it (its bytes are the same); one that started with
 * pako stays with pako.
 */
export function deflaterFor(engine: DeflateEngine, level: GzipLevel): Deflater {
  const zlib = engine === "node:zlib" ? nativeZlib() : null;
  if (zlib) {
    const options = { level, finishFlush: zlib.constants.Z_FULL_FLUSH, chunkSize: OUTPUT_CHUNK_BYTES };
    const crc = zlib.crc32;
    return {
      engine: "node:zlib",
      level,
      segment(bytes) {
        const out = zlib.deflateRawSync(bytes, options);
        // workerd returns a buffer of exactly the output's size, Node a view of its one chunk: either
        // is this call's own (Node's shared pool holds only buffers under 4 KiB). Anything else is copied.
        const own = out.byteOffset === 0 && (out.buffer.byteLength === out.byteLength || out.buffer.byteLength === OUTPUT_CHUNK_BYTES);
        return own ? out : out.slice();
      },
      crc32: typeof crc === "function" ? (value, bytes) => crc.call(zlib, bytes, value) : null,
    };
  }
  return {
    engine: "pako",
    level,
    segment(bytes) {
      const deflate = new Deflate({ raw: true, level, chunkSize: OUTPUT_CHUNK_BYTES });
      deflate.push(bytes, Z_FULL_FLUSH);
      if (deflate.err) throw new Error(`durable-dump: deflate failed: ${deflate.msg}`);
      return deflate.chunks.length === 1 ? deflate.chunks[0]! : concatBytes(deflate.chunks);
    },
    crc32: null,
  };
}
