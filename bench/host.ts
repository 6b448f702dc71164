/**
 * Bench host Worker for durable-dump (bundled by bench/run.mjs with esbuild, run by Miniflare).
 *
 * `BenchHost` is a SQLite-backed Durable Object that composes a DumpEngine the way a real host
 * does (the engine's `tick()` is called from `alarm()`), but hands it a bucket and a storage
 * wrapped in thin counters, so the bench can read R2 Class A operations and storage writes.
 *
 * Routes, `/<objectName>/<route>`:
 * - `POST /seed?from=&to=`   inserts rows [from, to] of the mixed table `bench` (one statement).
 * - `GET  /info`             { id, rows, databaseSize }
 * - `POST /start?format=&gzip=&sink=&tickBudgetMs=&partSize=` starts an export (alarm driven) and resets
 *                            counters; `gzip` a level, `sink` `prod` (the production-like sink, `SINK`),
 *                            `local` (local R2, `DUMPS`) or `null` (parts counted, not sent).
 * - `GET  /result`           the run's counters, ticks and whether the job completed.
 * - `POST /forget`           deletes the last run's job and its output (`engine.delete()`), to keep local R2 small.
 * - `POST /scan?batch=`      a plain keyset scan of `bench`, nothing rendered (the memory floor).
 * - `GET  /ping`             a trivial SQL read (the latency probe).
 * - `POST /naive?max=&page=&sink=` the naive baseline: LIMIT/OFFSET pages formatted in JS into one string, one put()
 *                            (into the production-like sink with `sink=prod`, else local R2).
 * - `POST /r2floor?bytes=&partSize=` the time local R2 takes to store that many bytes (nothing rendered).
 * - `POST /profile?format=&rows=&batch=` where the time goes, phase by phase (see README).
 * - `POST /renderfloor?format=&gzip=` the engine's scan and render of the whole table (and its
 *                            deflate, with `gzip`), nothing uploaded or checkpointed: the floor of an export.
 * - `GET  /deflater`         the deflate engine a gzip export would start with here.
 */
import { type DumpFormatter, DumpEngine, type GzipLevel, type TableInfo } from "../src/index.js";
import { GZIP_SEGMENT_BYTES } from "../src/output/gzip-stage.js";
import { deflaterFor, preferredEngine } from "../src/output/deflater.js";
import { SchemaReader } from "../src/sqlite/schema-reader.js";
import { TableReader } from "../src/sqlite/table-reader.js";
import { builtinFormatters } from "../src/formats/builtins.js";
import { encodeValue, rowBytesExpr, INLINE_ROW_BYTES } from "../src/sqlite/value-encoders.js";
import { quoteIdentifier } from "../src/util/sql-text.js";
import { LIMITS } from "../src/export/options.js";
import { maxSliceChars } from "../src/export/slices.js";
import { CREATE_MIXED as CREATE, SEED_MIXED as SEED } from "./mixed-table.js";

interface Env {
  BENCH: DurableObjectNamespace;
  /** Local R2 (Miniflare's simulator, by default in a second workerd process). */
  DUMPS: R2Bucket;
  /** The production-like sink (bench/r2-sink.mjs): R2's rules, a latency, no bytes kept. */
  SINK: R2Bucket;
}

/** Where an export's parts go. */
type Sink = "prod" | "local" | "null";

interface Counters {
  classA: { createMultipartUpload: number; uploadPart: number; complete: number; put: number; abort: number };
  classB: { head: number; get: number; list: number };
  uploadBytes: number;
  storage: {
    putCalls: number;
    putKeys: number;
    putBytes: number;
    deleteCalls: number;
    deleteKeys: number;
    setAlarm: number;
    getCalls: number;
    listCalls: number;
  };
}

function zero(): Counters {
  return {
    classA: { createMultipartUpload: 0, uploadPart: 0, complete: 0, put: 0, abort: 0 },
    classB: { head: 0, get: 0, list: 0 },
    uploadBytes: 0,
    storage: { putCalls: 0, putKeys: 0, putBytes: 0, deleteCalls: 0, deleteKeys: 0, setAlarm: 0, getCalls: 0, listCalls: 0 },
  };
}

function sizeOf(v: unknown): number {
  if (v instanceof Uint8Array || v instanceof ArrayBuffer) return v.byteLength;
  try {
    return JSON.stringify(v)?.length ?? 0;
  } catch {
    return 0;
  }
}

function bodySize(body: unknown): number {
  if (typeof body === "string") return body.length;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return (body as ArrayBuffer).byteLength;
  return 0;
}

/** Counts Class A/B operations; everything else passes through. */
function countingBucket(bucket: R2Bucket, c: () => Counters, nullSink = false): R2Bucket {
  const wrapUpload = (u: R2MultipartUpload): R2MultipartUpload =>
    ({
      get key() {
        return u.key;
      },
      get uploadId() {
        return u.uploadId;
      },
      uploadPart(n: number, body: unknown, opts?: unknown) {
        c().classA.uploadPart++;
        c().uploadBytes += bodySize(body);
        if (nullSink) return Promise.resolve({ partNumber: n, etag: `null-${n}` });
        return (u.uploadPart as any)(n, body, opts);
      },
      complete(parts: R2UploadedPart[]) {
        c().classA.complete++;
        if (nullSink) return u.abort().then(() => ({}) as R2Object);
        return u.complete(parts);
      },
      abort() {
        c().classA.abort++;
        return u.abort();
      },
    }) as R2MultipartUpload;
  return {
    head(key: string) {
      c().classB.head++;
      return bucket.head(key);
    },
    get(key: string, opts?: any) {
      c().classB.get++;
      return bucket.get(key, opts);
    },
    list(opts?: any) {
      c().classB.list++;
      return bucket.list(opts);
    },
    put(key: string, value: any, opts?: any) {
      c().classA.put++;
      c().uploadBytes += bodySize(value);
      return bucket.put(key, value, opts);
    },
    delete(keys: any) {
      return bucket.delete(keys);
    },
    async createMultipartUpload(key: string, opts?: any) {
      c().classA.createMultipartUpload++;
      return wrapUpload(await bucket.createMultipartUpload(key, opts));
    },
    resumeMultipartUpload(key: string, id: string) {
      return wrapUpload(bucket.resumeMultipartUpload(key, id));
    },
  } as unknown as R2Bucket;
}

/** Counts storage writes (calls, keys, bytes) and alarm writes. */
function countingStorage(storage: DurableObjectStorage, c: () => Counters) {
  return {
    get(keys: any) {
      c().storage.getCalls++;
      return storage.get(keys);
    },
    list(opts: any) {
      c().storage.listCalls++;
      return storage.list(opts);
    },
    put(entries: Record<string, unknown>) {
      const s = c().storage;
      s.putCalls++;
      for (const v of Object.values(entries)) {
        s.putKeys++;
        s.putBytes += sizeOf(v);
      }
      return storage.put(entries);
    },
    delete(keys: string[]) {
      c().storage.deleteCalls++;
      c().storage.deleteKeys += keys.length;
      return storage.delete(keys);
    },
    getAlarm() {
      return storage.getAlarm();
    },
    setAlarm(t: number) {
      c().storage.setAlarm++;
      return storage.setAlarm(t);
    },
  } as any;
}

function json(v: unknown, status = 200): Response {
  return new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
}

const yieldNow = () => new Promise<void>((r) => setTimeout(r, 0));
/**
 * Reads the whole bench table in key order, `batch` rows per query with a yield between queries,
 * selecting `select` (whose first column is the id); `onRow` sees each row, and a batch's rows are
 * dropped once `onBatch` ran. Returns the number of rows.
 */
async function scanBench(
  sql: SqlStorage,
  batch: number,
  select: string,
  onRow: (row: SqlStorageValue[]) => void = () => {},
  onBatch: () => void = () => {},
): Promise<number> {
  let last = 0;
  let rows = 0;
  for (;;) {
    let n = 0;
    for (const row of sql.exec(`SELECT ${select} FROM bench WHERE id > ? ORDER BY id LIMIT ?`, last, batch).raw()) {
      last = row[0] as number;
      onRow(row);
      n++;
    }
    rows += n;
    onBatch();
    await yieldNow();
    if (n < batch) return rows;
  }
}

/** Decodes the UTF-8 batches of TableReader for the selfcheck's text comparison. */
const UTF8 = new TextDecoder();

/** The mixed table: ints (some 64-bit), reals, text with newlines and quotes, blobs, NULLs. */

interface Run {
  jobId: string;
  format: string;
  /** The deflate engine of a gzip export. */
  deflater: string | null;
  startedAt: number;
  completedAt: number | null;
  state: string | null;
  error: unknown;
  ticks: { startMs: number; ms: number; putCalls: number; putKeys: number; putBytes: number; setAlarm: number; deleteKeys: number }[];
  counters: Counters;
}

export class BenchHost implements DurableObject {
  readonly #ctx: DurableObjectState;
  readonly #env: Env;
  #counters: Counters = zero();
  #engine: DumpEngine | null = null;
  #run: Run | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    this.#ctx = ctx;
    this.#env = env;
  }

  #makeEngine(opts: { tickBudgetMs?: number; partSize?: number }, sink: Sink): DumpEngine {
    return new DumpEngine({
      sql: this.#ctx.storage.sql,
      bucket: countingBucket(sink === "prod" ? this.#env.SINK : this.#env.DUMPS, () => this.#counters, sink === "null"),
      storage: countingStorage(this.#ctx.storage, () => this.#counters),
      keyPrefix: `bench/${Date.now()}-${Math.random().toString(36).slice(2, 8)}/`,
      ...opts,
    });
  }

  async alarm(): Promise<void> {
    const engine = this.#engine;
    const run = this.#run;
    if (!engine || !run) return;
    const before = structuredClone(this.#counters.storage);
    const t0 = Date.now();
    const result = await engine.tick();
    const after = this.#counters.storage;
    run.ticks.push({
      startMs: t0 - run.startedAt,
      ms: Date.now() - t0,
      putCalls: after.putCalls - before.putCalls,
      putKeys: after.putKeys - before.putKeys,
      putBytes: after.putBytes - before.putBytes,
      setAlarm: after.setAlarm - before.setAlarm,
      deleteKeys: after.deleteKeys - before.deleteKeys,
    });
    run.state = result.state;
    if (result.state !== "running" && result.state !== "queued" && run.completedAt === null) {
      run.completedAt = Date.now();
      const status = await engine.status(run.jobId);
      run.error = status && (status as any).error;
      (run as any).status = status;
    }
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const route = url.pathname.split("/").slice(2).join("/");
    const q = (k: string) => url.searchParams.get(k);
    const sql = this.#ctx.storage.sql;
    try {
      switch (route) {
        case "ping": {
          const row = sql.exec("SELECT 1 AS one").one();
          return json({ ok: row.one === 1 });
        }
        case "seed": {
          sql.exec(CREATE);
          sql.exec(SEED, Number(q("from")), Number(q("to")));
          return json({ ok: true });
        }
        case "info": {
          const rows = sql.exec("SELECT count(*) AS n FROM bench").one().n;
          return json({ id: this.#ctx.id.toString(), rows, databaseSize: sql.databaseSize });
        }
        case "start": {
          const tickBudgetMs = q("tickBudgetMs") ? Number(q("tickBudgetMs")) : undefined;
          const partSize = q("partSize") ? Number(q("partSize")) : undefined;
          // sink=null: parts are counted but not sent anywhere (isolates the engine).
          this.#engine = this.#makeEngine({ tickBudgetMs, partSize }, (q("sink") ?? "prod") as Sink);
          this.#counters = zero();
          const format = q("format") ?? "sql";
          const gzip = q("gzip") ? { level: Number(q("gzip")) as GzipLevel } : false;
          const startedAt = Date.now();
          const status = await this.#engine.start({ format, tables: ["bench"], gzip });
          this.#run = {
            jobId: status.id,
            format,
            deflater: gzip ? preferredEngine() : null,
            startedAt,
            completedAt: null,
            state: status.state,
            error: null,
            ticks: [],
            counters: this.#counters,
          };
          return json(status);
        }
        case "forget": {
          const run = this.#run;
          if (!run || !this.#engine) return json({ error: "no run" }, 404);
          return json({ deleted: await this.#engine.delete(run.jobId) });
        }
        case "result": {
          const run = this.#run;
          if (!run) return json({ error: "no run" }, 404);
          return json({
            ...run,
            counters: this.#counters,
            done: run.completedAt !== null,
            wallMs: run.completedAt === null ? null : run.completedAt - run.startedAt,
          });
        }
        case "r2floor":
          return json(await this.#r2Floor(Number(q("bytes")), Number(q("partSize") ?? LIMITS.partSize.default)));
        case "realsweep":
          return json(this.#realSweep(Number(q("per") ?? 1000)));
        case "naive":
          return json(await this.#naive(Number(q("max") ?? 1e6), Number(q("page") ?? 1000), q("sink") === "prod" ? this.#env.SINK : this.#env.DUMPS));
        case "selfcheck":
          return json(this.#selfcheck());
        case "scan": {
          // A plain scan (every column into JS, nothing rendered): the memory floor of any export.
          const t0 = Date.now();
          const rows = await scanBench(sql, Number(q("batch") ?? 2000), "*");
          return json({ rows, ms: Date.now() - t0 });
        }
        case "renderfloor":
          return json(await this.#renderFloor(q("format") ?? "sql", q("gzip") ? (Number(q("gzip")) as GzipLevel) : null));
        case "deflater":
          return json({ engine: preferredEngine() });
        case "profile":
          return json(await this.#profile(q("format") ?? "sql", Number(q("batch") ?? 2000), Number(q("parts") ?? 3)));
      }
      return json({ error: `unknown route ${route}` }, 404);
    } catch (error) {
      return json({ error: String(error), stack: (error as Error).stack }, 500);
    }
  }

  /**
   * Checks that the fast paths (rows concatenated by SQLite, blobs as marked hex) give exactly the
   * text of the per-row path: the same rows in a rowid table (fast paths) and in a WITHOUT ROWID
   * table (per-row path only), with blobs, U+0001 in text next to blobs, NULLs, a 300 KB row.
   */
  #selfcheck() {
    const sql = this.#ctx.storage.sql;
    const body = `(id INTEGER PRIMARY KEY, t TEXT, b BLOB, r REAL)`;
    // A fresh object per bench run; the tables are left in place (a cursor a batch broke out of keeps them locked).
    sql.exec(`CREATE TABLE chk_a${body}; CREATE TABLE chk_b${body} WITHOUT ROWID`);
    const fill = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500) SELECT x,
      CASE x % 9 WHEN 0 THEN NULL WHEN 1 THEN 'a' || char(1) || 'b' WHEN 2 THEN char(1) WHEN 3 THEN '' WHEN 4 THEN 'q"uo''te' || char(10) ELSE 'txt ' || x END,
      CASE x % 4 WHEN 0 THEN randomblob(x % 13) WHEN 1 THEN x'' WHEN 2 THEN NULL ELSE 'notblob' END,
      CASE WHEN x % 5 = 0 THEN NULL ELSE x * 1.5 END FROM c`;
    sql.exec(`INSERT INTO chk_a ${fill}`);
    sql.exec(`UPDATE chk_a SET t = replace(hex(zeroblob(150000)), '00', 'x') WHERE id = 250`);
    sql.exec(`INSERT INTO chk_b SELECT * FROM chk_a`);
    const schema = new SchemaReader(sql);
    const results: Record<string, unknown> = {};
    for (const format of ["csv", "ndjson", "json", "sql"]) {
      const formatter = builtinFormatters[format];
      if (!formatter) continue;
      const render = (name: string, batch: number) => {
        const reader = readerOf(sql, schema, schema.table(name)!, formatter);
        let key = null;
        let out = "";
        for (let first = true; ; first = false) {
          const b = reader.read(key, 0, batch, 64 * 1024, first);
          out += typeof b.text === "string" ? b.text : UTF8.decode(b.text);
          key = b.last;
          if (b.done) break;
        }
        return out.replaceAll("chk_a", "chk_b");
      };
      const reference = render("chk_b", 7);
      const fast = [7, 64, 1000].map((n) => render("chk_a", n));
      results[format] = { chars: reference.length, identical: fast.every((f) => f === reference), hasMarks: reference.includes("\u0001") };
    }
    return results;
  }

  /**
   * Where SQLite's own decimal conversions of doubles are exact. For every decimal exponent from
   * -323 to 308, `per` random doubles of that magnitude (both signs) are stored, then counted when
   * `quote()` writes text that JavaScript's correctly rounding parser reads as another double
   * (`quoteInexact`), and when SQLite's parser reads JavaScript's shortest round-trip text as another
   * double (`parseInexact`, what restoring a decimal dump into a Durable Object would do).
   */
  #realSweep(per: number) {
    const sql = this.#ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS real_sweep(e INTEGER, x REAL)");
    sql.exec("DELETE FROM real_sweep");
    const random = new Uint32Array(2);
    for (let e = -323; e <= 308; e++) {
      for (let i = 0; i < per; i++) {
        crypto.getRandomValues(random);
        const mantissa = 1 + ((random[0]! * 2 ** 21 + (random[1]! >>> 11)) / 2 ** 53) * 9;
        const x = (i % 2 ? -1 : 1) * mantissa * 10 ** e;
        if (Number.isFinite(x) && x !== 0) sql.exec("INSERT INTO real_sweep VALUES (?, ?)", e, x);
      }
    }
    const quoteInexact: Record<number, number> = {};
    const parseInexact: Record<number, number> = {};
    let values = 0;
    for (const row of sql.exec("SELECT e, x, quote(x) FROM real_sweep").raw()) {
      const [e, x, quoted] = row as [number, number, string];
      values++;
      if (!Object.is(parseFloat(quoted), x)) quoteInexact[e] = (quoteInexact[e] ?? 0) + 1;
      if (sql.exec("SELECT CAST(? AS REAL) = ? AS same", String(x), x).one().same !== 1) parseInexact[e] = (parseInexact[e] ?? 0) + 1;
    }
    const range = (counts: Record<number, number>) => {
      const exps = Object.keys(counts).map(Number);
      const inner = (side: number) => exps.filter((e) => Math.sign(e) === side).reduce((a, b) => (side > 0 ? Math.min(a, b) : Math.max(a, b)), side * 999);
      return { exponents: exps.length, innermostNegative: inner(-1), innermostPositive: inner(1), values: Object.values(counts).reduce((a, b) => a + b, 0) };
    };
    return { values, quoteInexact: range(quoteInexact), parseInexact: range(parseInexact) };
  }

  /**
   * The floor local R2 sets for any exporter: `bytes` of constant data sent as one multipart upload
   * in parts of `partSize` (one part in flight while the next is "produced", as the engine does),
   * completed, then deleted. Nothing is read or rendered, so this is what storing that many bytes
   * costs in this layout; an export of the same size cannot finish faster.
   */
  async #r2Floor(bytes: number, partSize: number) {
    const key = `floor/${Date.now()}`;
    const data = new Uint8Array(partSize).fill(0x61);
    const t0 = Date.now();
    const upload = await this.#env.DUMPS.createMultipartUpload(key);
    const parts: R2UploadedPart[] = [];
    let inFlight: Promise<void> | null = null;
    for (let n = 1, offset = 0; offset < bytes; n++, offset += partSize) {
      const body = data.subarray(0, Math.min(partSize, bytes - offset));
      const sending: Promise<void> = upload.uploadPart(n, body).then((part) => void parts.push(part));
      if (inFlight) await inFlight;
      inFlight = sending;
    }
    await inFlight;
    await upload.complete(parts.sort((a, b) => a.partNumber - b.partNumber));
    const ms = Date.now() - t0;
    await this.#env.DUMPS.delete(key);
    return { ms, parts: parts.length };
  }

  /**
   * The prior art: OFFSET pages, every value formatted in JavaScript, the whole dump in one string,
   * one put(). Capped at `max` rows.
   */
  async #naive(max: number, page: number, bucket: R2Bucket) {
    const sql = this.#ctx.storage.sql;
    const t0 = Date.now();
    const create = sql.exec("SELECT sql FROM sqlite_master WHERE name = 'bench'").one().sql as string;
    let out = `PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n${create};\n`;
    let rows = 0;
    try {
      for (let offset = 0; offset < max; offset += page) {
        const cursor = sql.exec("SELECT * FROM bench LIMIT ? OFFSET ?", Math.min(page, max - offset), offset);
        let n = 0;
        for (const row of cursor.raw()) {
          out += "INSERT INTO bench VALUES(" + row.map(literal).join(",") + ");\n";
          n++;
        }
        rows += n;
        if (n < page) break;
      }
      out += "COMMIT;\n";
      const tRendered = Date.now();
      const key = `naive/${Date.now()}.sql`;
      // With local R2 in its own process, pooled loopback connections do not survive the object's
      // thread being blocked for seconds: the put fails with "Network connection lost" until a
      // fresh connection is used, so it is retried (the retries are reported, their time counted).
      let putRetries = 0;
      for (;;) {
        try {
          await bucket.put(key, out);
          break;
        } catch (error) {
          if (!String(error).includes("Network connection lost") || putRetries === 5) throw error;
          putRetries++;
        }
      }
      const t1 = Date.now();
      return { ok: true, rows, chars: out.length, ms: t1 - t0, renderMs: tRendered - t0, putMs: t1 - tRendered, putRetries };
    } catch (error) {
      return { ok: false, rows, chars: out.length, ms: Date.now() - t0, error: String(error) };
    }
  }

  /**
   * The floor of an export in `format`: the engine's own scan and render of the whole table
   * (`TableReader.read`, the same batches and yields), each batch copied into a reused 5 MiB
   * buffer like the part writer does, and with `gzip` deflated in the engine's segments (CRC-32
   * included), but nothing uploaded, checkpointed or hashed. An export cannot be faster.
   */
  async #renderFloor(format: string, gzip: GzipLevel | null) {
    const sql = this.#ctx.storage.sql;
    const schema = new SchemaReader(sql);
    const formatter = builtinFormatters[format];
    if (!formatter) return { error: `no formatter ${format}` };
    const reader = readerOf(sql, schema, schema.table("bench")!, formatter);
    const deflater = gzip === null ? null : deflaterFor(preferredEngine(), gzip);
    const encoder = new TextEncoder();
    const part = new Uint8Array(LIMITS.partSize.default);
    const segment = new Uint8Array(GZIP_SEGMENT_BYTES);
    let fill = 0;
    let crc = 0;
    let bytes = 0;
    let compressed = 0;
    const copy = (from: Uint8Array, into: Uint8Array, full: () => void) => {
      for (let off = 0; off < from.length; ) {
        const take = Math.min(into.length - fill, from.length - off);
        into.set(from.subarray(off, off + take), fill);
        fill += take;
        off += take;
        if (fill === into.length) {
          full();
          fill = 0;
        }
      }
    };
    await yieldNow();
    const t0 = Date.now();
    let key = null;
    let slice = 0;
    for (let first = true; ; first = false) {
      // The engine's limits (export-runner.ts): batches of at most 256 KiB, a yield every slice.
      const b = reader.read(key, 0, 20_000, 256 * 1024, first);
      key = b.last;
      const batch = typeof b.text === "string" ? encoder.encode(b.text) : b.text;
      bytes += batch.length;
      slice += batch.length;
      if (deflater) {
        crc = deflater.crc32 ? deflater.crc32(crc, batch) : crc;
        copy(batch, segment, () => {
          compressed += deflater.segment(segment).length;
        });
      } else copy(batch, part, () => {});
      if (b.done) break;
      if (slice >= maxSliceChars(deflater !== null)) {
        slice = 0;
        await yieldNow();
      }
    }
    if (deflater && fill > 0) compressed += deflater.segment(segment.subarray(0, fill)).length;
    return { ms: Date.now() - t0, bytes, compressed, engine: deflater?.engine ?? null, crc };
  }

  /**
   * Where the time goes: each phase runs over the whole table in the engine's batches, yielding
   * between batches like the engine does (workerd's clock only advances across I/O, so a phase is
   * timed from the outside of its awaits). Each phase adds one step to the previous one.
   */
  async #profile(format: string, batch: number, parts: number) {
    const sql = this.#ctx.storage.sql;
    const schema = new SchemaReader(sql);
    const table = schema.table("bench")!;
    const formatter = builtinFormatters[format];
    if (!formatter) return { error: `no formatter ${format}` };
    const ctx = { dialect: "sqlite3" as const, schema: true, data: true, tables: [table], tableIndex: 0 };
    const template = formatter.row(table, ctx)!;
    const reader = new TableReader(sql, table, schema.tableKey(table), template, formatter.rowSeparator ?? "", { d1Stage: null });
    const out: Record<string, number> = {};
    const time = async (name: string, fn: () => Promise<unknown>) => {
      await yieldNow();
      const t0 = Date.now();
      await fn();
      out[name] = Date.now() - t0;
    };
    const encoder = new TextEncoder();
    const partBuf = new Uint8Array(LIMITS.partSize.default);
    let totalBytes = 0;
    let batches = 0;
    const scanByKey = (select: string, onRow?: (row: SqlStorageValue[]) => void, onBatch?: () => void) => scanBench(sql, batch, select, onRow, onBatch);
    // 1. the yields alone (batches counted in phase 3)
    // 2. a plain scan: SELECT * in key order, values to JS, nothing rendered
    await time("scanPlain", () => scanByKey("*"));
    // 2b. the same scan rendering each row in SQL (the engine's row expression), no JS concat
    const lineExpr = template
      .map((p) =>
        typeof p === "string" ? `'${p.replaceAll("'", "''")}'` : "column" in p ? `(${encodeValue(quoteIdentifier(p.column), p.encoding)})` : `(${p.expr})`,
      )
      .join(" || ");
    await time("sqlRenderNoConcat", () => scanByKey(`id, ${lineExpr}`));
    // 2c. + the row-size guard the engine wraps around the row expression
    const guarded = `CASE WHEN (${rowBytesExpr(table.columns.map((c) => quoteIdentifier(c.name)))}) <= ${INLINE_ROW_BYTES} THEN ${lineExpr} END`;
    await time("sqlRenderGuardedNoConcat", () => scanByKey(`id, ${guarded}`));
    // 2e. the same, concatenated inside SQLite: one string per batch crosses into JS
    await time("sqlGroupConcat", async () => {
      let last = 0;
      for (;;) {
        const row = sql
          .exec(
            `SELECT count(*), max(id), group_concat(line, '') FROM (SELECT id, ${guarded} AS line FROM bench WHERE id > ? ORDER BY id LIMIT ?)`,
            last,
            batch,
          )
          .raw()
          .next().value!;
        const n = row[0] as number;
        last = row[1] as number;
        await yieldNow();
        if (n < batch) break;
      }
    });
    // 2d. + the concat in JS
    let concatenated = 0;
    await time("sqlRenderGuardedConcat", () => {
      let text = "";
      return scanByKey(
        `id, ${guarded}`,
        (row) => {
          text += row[1] as string;
        },
        () => {
          concatenated += text.length;
          text = "";
        },
      );
    });
    out.sqlRenderGuardedConcatChars = concatenated;
    /** Reads the whole table through the engine's TableReader, handing each batch to `onText`, with a yield between batches. */
    const readByReader = async (onText: (text: string | Uint8Array) => void) => {
      let key = null;
      for (let first = true; ; first = false) {
        const b = reader.read(key, 0, batch, 1024 * 1024, first);
        key = b.last;
        onText(b.text);
        await yieldNow();
        if (b.done) break;
      }
    };
    // 3. the engine's read(): SQL render (with its row-size guard), each batch as UTF-8 bytes (text on the per-row path)
    await time("readRender", () =>
      readByReader((text) => {
        totalBytes += text.length;
        batches++;
      }),
    );
    await time("yieldsOnly", async () => {
      for (let i = 0; i < batches; i++) await yieldNow();
    });
    // 4. read() + copy into the part buffer, as the engine's PartWriter does
    let fill = 0;
    await time("readCopy", () =>
      readByReader((text) => {
        const bytes = typeof text === "string" ? encoder.encode(text) : text;
        for (let off = 0; off < bytes.length; ) {
          const take = Math.min(partBuf.length - fill, bytes.length - off);
          partBuf.set(bytes.subarray(off, off + take), fill);
          fill += take;
          off += take;
          if (fill === partBuf.length) fill = 0;
        }
      }),
    );
    // 5. SHA-256 of full parts (the engine hashes every part)
    const fullParts = Math.max(1, Math.floor(totalBytes / partBuf.length));
    await time("sha256PerPart", async () => {
      await crypto.subtle.digest("SHA-256", partBuf);
    });
    // 6. uploading a few parts of the default size to R2
    const upload = await this.#env.DUMPS.createMultipartUpload(`profile/${Date.now()}`);
    await time("uploadParts", async () => {
      for (let i = 1; i <= parts; i++) await upload.uploadPart(i, partBuf);
    });
    await upload.abort();
    // 7. one checkpoint with a full tail: 8 chunks of 1 MiB + the record
    const chunk = partBuf.subarray(0, 1024 * 1024);
    await time("checkpoint8MiB", async () => {
      const entries: Record<string, unknown> = { "profile:rec": { x: 1 } };
      for (let i = 0; i < 8; i++) entries[`profile:tail:${i}`] = chunk.slice();
      await this.#ctx.storage.put(entries);
    });
    await time("checkpointRecordOnly", async () => {
      await this.#ctx.storage.put({ "profile:rec": { x: 2 } });
    });
    await this.#ctx.storage.delete(["profile:rec", ...Array.from({ length: 8 }, (_, i) => `profile:tail:${i}`)]);
    return { ...out, batches, batch, totalBytes, fullParts, parts };
  }
}

/** The engine's reader of `table` in the formatter's row layout (schema and data, as an export of that table). */
function readerOf(sql: SqlStorage, schema: SchemaReader, table: TableInfo, formatter: DumpFormatter): TableReader {
  return new TableReader(
    sql,
    table,
    schema.tableKey(table),
    formatter.row(table, { dialect: "sqlite3", schema: true, data: true, tables: [table], tableIndex: 0 })!,
    formatter.rowSeparator ?? "",
    { d1Stage: null },
  );
}

/** SQL literal in JavaScript, as the naive prior art writes it. */
function literal(v: unknown): string {
  if (v === null) return "NULL";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === "string") return "'" + v.replaceAll("'", "''") + "'";
  if (v instanceof ArrayBuffer) {
    const b = new Uint8Array(v);
    let s = "X'";
    for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? "0" : "") + b[i]!.toString(16);
    return s + "'";
  }
  return String(v);
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const name = decodeURIComponent(new URL(request.url).pathname.split("/")[1] ?? "");
    if (!name) return new Response("object name required", { status: 400 });
    return env.BENCH.get(env.BENCH.idFromName(name)).fetch(request);
  },
};
