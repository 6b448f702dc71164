/**
 * Bench host of `npm run bench:restore` (bundled by bench/restore.mjs, run by Miniflare):
 * `RestoreBench` is a SQLite-backed Durable Object composing a DumpEngine and a RestoreEngine on
 * one scheduler, driven by real alarms, as a host that backs up and restores does.
 *
 * Routes, `/<objectName>/<route>`:
 * - `POST /seed?from=&to=`  inserts rows [from, to] of the mixed table `bench` (one statement).
 * - `POST /dump?gzip=`      starts an SQL export of `bench`; `GET /dump-status?id=` its status.
 * - `POST /restore?key=`    starts a restore; `GET /restore-status?id=` its status.
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

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const name = decodeURIComponent(new URL(request.url).pathname.split("/")[1] ?? "");
    return env.BENCH.get(env.BENCH.idFromName(name)).fetch(request);
  },
} satisfies ExportedHandler<Env>;
