/**
 * Bench host of `npm run bench:restore` (bundled by bench/restore-measure.mjs, run by Miniflare):
 * `RestoreBench` is a SQLite-backed Durable Object composing a DumpEngine and a RestoreEngine on
 * one scheduler, driven by real alarms, as a host that backs up and restores does.
 *
 * Routes, `/<objectName>/<route>`:
 * - `POST /seed?from=&to=`  inserts rows [from, to] of the mixed table `bench` (one statement).
 * - `POST /dump?gzip=`      starts an SQL export of `bench`; `GET /dump-status?id=` its status.
 * - `POST /restore?key=`    starts a restore; `GET /restore-status?id=` its status.
 * - `POST /control-sql?from=&to=&rowsPerInsert=&bound=` the control of the runtime's cost: rows like
 *                           the dump's, as INSERT text built in JavaScript and run 16 KB at a time,
 *                           a few per transaction with a yield between (what a restore does, without
 *                           durable-dump); `rowsPerInsert` rows per INSERT (default 1), or with
 *                           `bound=1` one prepared 16-row INSERT with bound parameters.
 * - `GET  /digest`          aggregates of `bench` that a restore must reproduce.
 * - `GET  /download?key=`   an R2 object, streamed.
 * - `GET  /ping`            a trivial SQL read (the latency probe).
 */
import { DumpEngine, RestoreEngine } from "../src/index.js";
import { CREATE_MIXED, SEED_MIXED } from "./mixed-table.js";
import { DIGEST_SQL } from "./restore-digest.mjs";

interface Env {
  BENCH: DurableObjectNamespace;
  DUMPS: R2Bucket;
}

export class RestoreBench implements DurableObject {
  readonly #ctx: DurableObjectState;
  readonly #env: Env;
  readonly #dumps: DumpEngine;
  readonly #restores: RestoreEngine;

  constructor(ctx: DurableObjectState, env: Env) {
    this.#ctx = ctx;
    this.#env = env;
    this.#dumps = new DumpEngine({ sql: ctx.storage.sql, bucket: env.DUMPS, storage: ctx.storage, keyPrefix: `bench-restore/${ctx.id.toString()}/` });
    this.#restores = new RestoreEngine({ sql: ctx.storage.sql, bucket: env.DUMPS, storage: ctx.storage, scheduler: this.#dumps.scheduler });
  }

  async alarm(): Promise<void> {
    await this.#dumps.scheduler.run();
  }

  /**
   * Rows `from` to `to` of the control table, written as a restore writes (see `control-sql`):
   * queries of up to 16 KB, eight per transaction, a yield between transactions. Each query holds
   * INSERT text with `rowsPerInsert` rows per INSERT, or with `bound`, is one prepared INSERT of
   * 16 rows (96 bound parameters), the same text every time.
   */
  async #controlSql(from: number, to: number, rowsPerInsert: number, bound: boolean): Promise<void> {
    const sql = this.#ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS control(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n TEXT)");
    for (let x = from; x <= to; ) {
      this.#ctx.storage.transactionSync(() => {
        for (let queries = 0; queries < 8 && x <= to; queries++) {
          if (bound) {
            // About 16 KB of rows, as the text queries hold.
            for (let bytes = 0; bytes < 16_000 && x <= to; ) {
              const values = [];
              let n = 0;
              for (; n < BOUND_ROWS && x <= to; n++) values.push(...controlValues(x++));
              bytes += n * 100;
              const cursor = sql.exec(n === BOUND_ROWS ? BOUND_INSERT : boundInsert(n), ...values);
              while (!cursor.next().done);
            }
            continue;
          }
          let text = "";
          while (text.length < 16_000 && x <= to) {
            const tuples = [];
            for (let n = 0; n < rowsPerInsert && x <= to; n++) tuples.push(controlTuple(x++));
            text += `INSERT INTO "control" VALUES${tuples.join(",")};\n`;
          }
          const cursor = sql.exec(text);
          while (!cursor.next().done);
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const route = url.pathname.split("/").slice(2).join("/");
    const q = (k: string) => url.searchParams.get(k);
    const sql = this.#ctx.storage.sql;
    try {
      switch (route) {
        case "ping":
          return Response.json({ ok: sql.exec("SELECT 1 AS one").one().one === 1 });
        case "seed":
          sql.exec(CREATE_MIXED);
          sql.exec(SEED_MIXED, Number(q("from")), Number(q("to")));
          return Response.json({ ok: true });
        case "dump":
          return Response.json(await this.#dumps.start({ format: "sql", tables: ["bench"], gzip: q("gzip") === "true" }));
        case "dump-status":
          return Response.json(await this.#dumps.status(q("id") ?? ""));
        case "restore":
          return Response.json(await this.#restores.start({ key: q("key") ?? "" }));
        case "restore-status":
          return Response.json(await this.#restores.status(q("id") ?? ""));
        case "control-sql":
          await this.#controlSql(Number(q("from")), Number(q("to")), Number(q("rowsPerInsert") ?? "1"), q("bound") === "1");
          return Response.json({ ok: true });
        case "digest":
          return Response.json(sql.exec(DIGEST_SQL).one());
        case "download": {
          const object = await this.#env.DUMPS.get(q("key") ?? "");
          return object ? new Response(object.body) : Response.json({ error: "no such object" }, { status: 404 });
        }
        default:
          return Response.json({ error: `no route ${route}` }, { status: 404 });
      }
    } catch (e) {
      return Response.json({ error: String((e as Error).stack ?? e) }, { status: 500 });
    }
  }
}

/** Row `x` of the control table as a tuple of SQL literals, like a row of the dump (text with a newline and quotes, a blob one row in three). */
function controlTuple(x: number): string {
  const blob = x % 3 === 0 ? `X'${blobHex(x)}'` : "NULL";
  return `(${x},${x * 7919 - 5000000},${x * 0.3721 + 1 / x},'${controlText(x).replaceAll("'", "''")}',${blob},${x % 10 === 0 ? `'note ${x}'` : "NULL"})`;
}

/** Row `x` of the control table as values to bind (the same values as {@link controlTuple}). */
function controlValues(x: number): (number | string | ArrayBuffer | null)[] {
  const blob = x % 3 === 0 ? Uint8Array.from(blobHex(x).match(/../g) ?? [], (h) => Number.parseInt(h, 16)).buffer : null;
  return [x, x * 7919 - 5000000, x * 0.3721 + 1 / x, controlText(x), blob, x % 10 === 0 ? `note ${x}` : null];
}

const controlText = (x: number) => `row ${x}\nit's "text", ${x.toString(16)}`;
const blobHex = (x: number) => (x * 2654435761).toString(16).padStart(16, "0");

/** Rows per bound INSERT of the control: 6 columns each, within the 100 bound parameters a query may have. */
const BOUND_ROWS = 16;
const boundInsert = (rows: number) => `INSERT INTO "control" VALUES${Array.from({ length: rows }, () => "(?,?,?,?,?,?)").join(",")}`;
const BOUND_INSERT = boundInsert(BOUND_ROWS);

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const name = decodeURIComponent(new URL(request.url).pathname.split("/")[1] ?? "");
    return env.BENCH.get(env.BENCH.idFromName(name)).fetch(request);
  },
} satisfies ExportedHandler<Env>;
