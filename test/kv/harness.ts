import { Miniflare } from "miniflare";
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../../tools/bundle-worker.mjs";
import type { DumpManifest, DumpStatus, StartOptions, TickResult } from "../../src/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Miniflare running the key-value test host (`worker/host.ts`), with local R2. */
export interface KvHarness {
  mf: Miniflare;
  object(name?: string): KvObject;
  readObject(key: string): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

/** Starts workerd; with `persist`, objects' storage and local R2 live in that directory (a restart resumes them). */
export async function createKvHarness(options: { persist?: string } = {}): Promise<KvHarness> {
  const scriptPath = await bundleWorker({ entry: join(ROOT, "test", "kv", "worker", "host.ts"), outfile: join(ROOT, "test", ".tmp", "kv-host.js") });
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    compatibilityDate: "2025-04-01",
    durableObjects: { HOST: { className: "KvHost", useSQLite: true } },
    r2Buckets: ["DUMPS"],
    ...(options.persist ? { durableObjectsPersist: join(options.persist, "do"), r2Persist: join(options.persist, "r2") } : {}),
  });
  await mf.ready;
  return {
    mf,
    object: (name = `kv-${randomUUID()}`) => new KvObject(mf, name),
    async readObject(key) {
      const response = await mf.dispatchFetch(`http://host/__r2/${encodeURIComponent(key)}`);
      if (response.status === 404) throw new Error(`R2 object not found: ${key}`);
      return new Uint8Array(await response.arrayBuffer());
    },
    dispose: () => mf.dispose(),
  };
}

/** An error the host answered. */
export class KvHostError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Client of one KvHost object. */
export class KvObject {
  constructor(
    private readonly mf: Miniflare,
    readonly name: string,
  ) {}

  async call<T>(route: string, body: unknown = {}): Promise<T> {
    const res = await this.mf.dispatchFetch(`http://host/${encodeURIComponent(this.name)}/${route}`, { method: "POST", body: JSON.stringify(body) });
    const answer = (await res.json()) as { result?: T; error?: { code: string; message: string } };
    if (answer.error) throw new KvHostError(answer.error.code, answer.error.message);
    return answer.result as T;
  }

  seedCases() {
    return this.call<string[]>("seed-cases");
  }
  seedRefused(name: string) {
    return this.call("seed-refused", { name });
  }
  putStrings(entries: [string, number][]) {
    return this.call("put-strings", { entries });
  }
  /** Every entry of `ctx.storage.kv.list()`, described type for type. */
  describe() {
    return this.call<Record<string, string>>("describe");
  }
  keys() {
    return this.call<string[]>("keys");
  }
  start(options: StartOptions) {
    return this.call<DumpStatus>("start", options);
  }
  tick() {
    return this.call<TickResult>("tick");
  }
  status(id: string) {
    return this.call<DumpStatus | null>("status", { id });
  }
  restore(key: string, chunk: number, gzip = false) {
    return this.call<{ entries: number; chunks: number; position: { offset: number; entries: number; ended: boolean } }>("restore", { key, chunk, gzip });
  }

  /** Starts an export and ticks until it ends; returns its final status. */
  async export(options: StartOptions): Promise<DumpStatus> {
    return this.tickUntil((await this.start(options)).id, () => false);
  }

  /** Ticks job `id` until it ended or `stop(status)` holds; returns its status then. */
  async tickUntil(id: string, stop: (status: DumpStatus) => boolean): Promise<DumpStatus> {
    for (let n = 0; n < 5_000; n++) {
      const status = await this.status(id);
      if (status && (["completed", "failed", "aborted"].includes(status.state) || stop(status))) return status;
      await this.tick();
    }
    throw new Error(`job ${id} did not end`);
  }
}

/** The manifest of a completed job. */
export async function readManifest(h: KvHarness, status: DumpStatus): Promise<DumpManifest> {
  if (!status.manifestKey) throw new Error(`job ${status.id} has no manifest`);
  return JSON.parse(new TextDecoder().decode(await h.readObject(status.manifestKey))) as DumpManifest;
}

/** Entries of a description map, without the engine's keys. */
export function withoutEngineKeys(described: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(described).filter(([key]) => !key.startsWith("durable-dump:")));
}
