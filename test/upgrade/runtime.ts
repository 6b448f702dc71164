/**
 * The runtime of the upgrade suite: Miniflare with the upgrade host, persisting the objects'
 * storage and local R2 in one directory, and the jobs a fixture holds.
 */
import { Miniflare } from "miniflare";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../../tools/bundle-worker.mjs";
import { corpusStatements } from "../harness/corpus.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the fixture of `release` lives. */
export function fixtureDir(release: string): string {
  return join(ROOT, "test", "upgrade", "fixtures", release);
}

/** A job as the status routes report it; only what the suite compares. */
export interface JobView {
  id: string;
  state: string;
  outputs: { key: string; table?: string; bytes: number; complete: boolean }[];
  manifestKey: string | null;
  progress: { rowsWritten: number; partsUploaded: number; tablesDone: number };
}

/** Client of one upgrade host object. */
export class UpgradeObject {
  constructor(
    private readonly mf: Miniflare,
    readonly name: string,
  ) {}

  async call<T>(route: string, body?: unknown): Promise<T> {
    const res = await this.mf.dispatchFetch(`http://host/${encodeURIComponent(this.name)}/${route}`, {
      method: body === undefined ? "GET" : "POST",
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = (await res.json()) as { result?: T; error?: { code: string; message: string } };
    if (answer.error) throw new Error(`${route}: ${answer.error.code} ${answer.error.message}`);
    return answer.result as T;
  }

  exec(statements: { sql: string }[]) {
    return this.call("exec", { statements });
  }
  start(options: Record<string, unknown>) {
    return this.call<JobView>("start", options);
  }
  tick() {
    return this.call<{ jobId: string | null; state: string | null; more: boolean }>("tick", {});
  }
  list() {
    return this.call<JobView[]>("list");
  }
  keys() {
    return this.call<string[]>("keys");
  }
  async status(id: string) {
    return this.call<JobView | null>(`status/${encodeURIComponent(id)}`);
  }

  /** Ticks until `done(status)` holds for job `id`. */
  async tickUntil(id: string, done: (status: JobView) => boolean): Promise<JobView> {
    for (let n = 0; n < 5_000; n++) {
      const status = await this.status(id);
      if (status && done(status)) return status;
      await this.tick();
    }
    throw new Error(`job ${id} never reached the wanted state`);
  }

  /** Ticks until no job has work left. */
  async drain(): Promise<void> {
    for (let n = 0; n < 5_000; n++) if (!(await this.tick()).more) return;
    throw new Error(`object ${this.name} still has work after 5,000 ticks`);
  }
}

/** Miniflare running the upgrade host over the storage persisted in `dir`. */
export interface UpgradeRuntime {
  object(name: string): UpgradeObject;
  readObject(key: string): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

export async function startUpgradeRuntime(dir: string): Promise<UpgradeRuntime> {
  const scriptPath = await bundleWorker({ entry: join(ROOT, "test", "upgrade", "worker", "host.ts"), outfile: join(ROOT, "test", ".tmp", "upgrade-host.js") });
  const mf = new Miniflare({
    name: "upgrade",
    modules: true,
    scriptPath,
    compatibilityDate: "2025-04-01",
    durableObjects: { HOST: { className: "UpgradeHost", useSQLite: true } },
    r2Buckets: ["DUMPS"],
    durableObjectsPersist: join(dir, "do"),
    r2Persist: join(dir, "r2"),
  });
  await mf.ready;
  return {
    object: (name) => new UpgradeObject(mf, name),
    async readObject(key) {
      const response = await mf.dispatchFetch(`http://host/__r2/${encodeURIComponent(key)}`);
      if (response.status === 404) throw new Error(`R2 object not found: ${key}`);
      return new Uint8Array(await response.arrayBuffer());
    },
    dispose: () => mf.dispose(),
  };
}

/** The corpus without its largest rows; with `bulk`, a compressible table that makes an SQL dump span two parts. */
function seed(bulk = false): { sql: string }[] {
  const corpus = corpusStatements().filter((s) => !/randomblob\((500000|1900000|950000)\)|150000|300000|100000\)/.test(s.sql));
  if (!bulk) return corpus;
  return [
    ...corpus,
    { sql: "CREATE TABLE bulk (id INTEGER PRIMARY KEY, label TEXT, n INTEGER, r REAL)" },
    {
      sql: `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 60000)
        INSERT INTO bulk SELECT i, 'row ' || i || ' ' || substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26) || ' ' || substr('0123456789', 1 + i % 10), i * 1000003, i / 7.0 FROM s`,
    },
  ];
}

/** The objects of a fixture and how each is brought to its captured state. */
export const UPGRADE_OBJECTS: { name: string; prepare(obj: UpgradeObject): Promise<void> }[] = [
  {
    // A multi-part SQL dump with one part uploaded and bytes in the tail; a gzip dump queued behind it.
    name: "sql-multipart",
    async prepare(obj) {
      await obj.exec(seed(true));
      const job = await obj.start({ format: "sql" });
      await obj.start({ format: "sql", gzip: true });
      await obj.tickUntil(job.id, (s) => s.progress.partsUploaded >= 1 && s.state === "running");
    },
  },
  {
    // A gzip dump stopped mid-segment (pending bytes and CRC in the checkpoint).
    name: "sql-gzip",
    async prepare(obj) {
      await obj.exec(seed());
      const job = await obj.start({ format: "sql", gzip: true });
      await obj.tickUntil(job.id, (s) => s.progress.rowsWritten > 50 && s.state === "running");
    },
  },
  {
    // A completed CSV job, an NDJSON job with some tables done, and a JSON job queued.
    name: "per-table",
    async prepare(obj) {
      await obj.exec(seed());
      const csv = await obj.start({ format: "csv" });
      await obj.tickUntil(csv.id, (s) => s.state === "completed");
      const ndjson = await obj.start({ format: "ndjson", gzip: true });
      await obj.start({ format: "json", tables: ["values", "kv"] });
      await obj.tickUntil(ndjson.id, (s) => s.outputs.filter((o) => o.complete).length >= 3 && s.state === "running");
    },
  },
];

/** Every job's final state, and each of its objects (manifest included) by size and SHA-256. */
export async function outputDigests(jobs: JobView[], read: (key: string) => Promise<Uint8Array>) {
  const result = [];
  for (const job of jobs) {
    const objects: Record<string, { bytes: number; sha256: string }> = {};
    for (const o of job.outputs) {
      const bytes = await read(o.key);
      objects[o.key] = { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
    }
    const manifest = job.manifestKey ? JSON.parse(new TextDecoder().decode(await read(job.manifestKey))) : null;
    result.push({ id: job.id, state: job.state, objects, manifest: manifest && asReleased(manifest) });
  }
  return result;
}

/**
 * The manifest as the old release wrote it: without its times, which follow the clock rather than
 * the data, and without the fields added since, checked here instead (`options.dialect`:
 * `"sqlite3"` for an SQL job, null for the other formats, absent where the old release wrote it)
 * or of later releases' own (gzip segment starts, for restores).
 */
function asReleased(manifest: Record<string, unknown>) {
  const { createdAt: _c, startedAt: _s, finishedAt: _f, ...rest } = manifest;
  const { dialect, ...options } = rest.options as Record<string, unknown>;
  // Absent from manifests the old release wrote itself (jobs it completed).
  if (dialect !== undefined && dialect !== (rest.format === "sql" ? "sqlite3" : null))
    throw new Error(`manifest of job ${String(rest.jobId)}: dialect ${String(dialect)}`);
  const objects = (rest.objects as Record<string, unknown>[]).map(({ gzipSegmentBytes: _g, parts, ...object }) => ({
    ...object,
    parts: (parts as Record<string, unknown>[]).map(({ gzipSegment: _segment, ...part }) => part),
  }));
  return { ...rest, options, objects };
}
