import { Miniflare } from "miniflare";
import { existsSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { HOST_BUNDLE, buildHostWorker } from "./build.js";
import { HostObject } from "./host-client.js";

/** One Miniflare instance running the test Worker, with helpers to reach its objects and bucket. */
export interface Harness {
  mf: Miniflare;
  /** A client for the Durable Object named `name` (default: a fresh random name). */
  object(name?: string): HostObject;
  /** The local R2 bucket the engine writes to. */
  bucket(): Promise<R2BucketLike>;
  /** Reads a whole R2 object; throws when it does not exist. */
  readObject(key: string): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

/** The parts of Miniflare's R2 bucket the tests use. */
export interface R2BucketLike {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer>; size: number; httpMetadata?: unknown } | null>;
  head(key: string): Promise<{ size: number } | null>;
  list(options?: { prefix?: string }): Promise<{ objects: { key: string; size: number }[] }>;
}

/** Variants of the runtime {@link createHarness} starts; the default is a Worker without compatibility flags, in memory. */
export interface HarnessOptions {
  /** Compatibility flags of the Worker, e.g. `["nodejs_compat"]` (native zlib for gzip). */
  compatibilityFlags?: string[];
  /** Persist the objects' storage and local R2 under this directory, so that another runtime started on it finds them. */
  persistDir?: string;
}

/**
 * Starts Miniflare (workerd) with the bundled test Worker: `HOST` is the SQLite-backed
 * `TestHost` class, `DUMPS` a local in-memory R2 bucket. Call once per test file; dispose in
 * `afterAll`. Builds the Worker if the globalSetup has not.
 */
export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  if (!existsSync(HOST_BUNDLE)) await buildHostWorker();
  const mf = new Miniflare({
    modules: true,
    scriptPath: HOST_BUNDLE,
    compatibilityDate: "2025-04-01",
    ...(options.compatibilityFlags ? { compatibilityFlags: options.compatibilityFlags } : {}),
    durableObjects: { HOST: { className: "TestHost", useSQLite: true } },
    r2Buckets: ["DUMPS"],
    ...(options.persistDir ? { durableObjectsPersist: join(options.persistDir, "do"), r2Persist: join(options.persistDir, "r2") } : {}),
  });
  await mf.ready;
  const bucket = async () => (await mf.getR2Bucket("DUMPS")) as unknown as R2BucketLike;
  return {
    mf,
    object: (name = `obj-${randomUUID()}`) => new HostObject(mf, name),
    bucket,
    async readObject(key) {
      const response = await mf.dispatchFetch(`http://host/__r2/${encodeURIComponent(key)}`);
      if (response.status === 404) throw new Error(`R2 object not found: ${key}`);
      return new Uint8Array(await response.arrayBuffer());
    },
    dispose: () => mf.dispose(),
  };
}
