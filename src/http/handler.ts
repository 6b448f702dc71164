import { DumpError, type DumpErrorCode } from "../errors.js";
import type { DumpEngine } from "../export/dump-engine.js";
import type { DumpOutput, DumpStatus, StartOptions } from "../export/types.js";
import { integerIn } from "../jobs/engine-options.js";
import { BODY_LIMIT, readJsonBody } from "./body.js";
import { serveObject } from "./download.js";

/** The engine methods the HTTP routes call; a {@link DumpEngine} satisfies it. */
export type DumpHttpEngine = Pick<DumpEngine, "start" | "status" | "abort" | "list">;

/** Options of {@link createDumpHandler}. */
export interface DumpHandlerOptions {
  /** The engine of this Durable Object. */
  engine: DumpHttpEngine;
  /** The bucket the engine writes to; downloads are read from it. */
  bucket: R2Bucket;
  /**
   * Decides whether a request may use the routes: only `true` (or a promise of `true`) lets it
   * through; anything else (`false`, a string, a `Response`) answers 401. Called once per request
   * that targets the routes, before anything else is read. Required on purpose: pass
   * {@link bearerAuth}, your own check, or `() => true` when an outer layer already authenticated.
   */
  authorize: (request: Request) => boolean | Promise<boolean>;
  /** Path the routes are mounted under, e.g. `"/admin"` for `/admin/dumps`. Default `""`. */
  basePath?: string;
  /**
   * Largest accepted `POST /dumps` body in bytes, counted as they arrive (a body without
   * `Content-Length` is read only up to this). Default 65,536; an integer from 0 to 1,048,576.
   */
  maxBodyBytes?: number;
}

/** Error codes the HTTP routes add to the {@link DumpErrorCode}s. */
export type DumpHttpErrorCode =
  | "UNAUTHORIZED"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "INVALID_JSON"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "PAYLOAD_TOO_LARGE"
  | "INVALID_REQUEST"
  | "NOT_COMPLETED"
  | "RANGE_NOT_SATISFIABLE"
  | "OUTPUT_MISSING"
  | "OUTPUT_CHANGED";

/** Page size of `GET /dumps`: the default and the largest, as `engine.list()` takes them. */
const LIST_DEFAULT = 100;
const LIST_MAX = 1_000;

/** HTTP status of each DumpError code the routes can meet; the rest are server errors. */
const STATUS_OF: Partial<Record<DumpErrorCode, number>> = {
  INVALID_OPTIONS: 400,
  UNKNOWN_FORMAT: 400,
  UNKNOWN_TABLE: 400,
  RESERVED_TABLE: 400,
  UNSUPPORTED_TABLE: 400,
  UNSUPPORTED_SCHEMA: 400,
  INVALID_ARGUMENT: 400,
  JOB_NOT_FOUND: 404,
  OUTPUT_EXISTS: 409,
  JOB_ACTIVE: 409,
  TOO_MANY_JOBS: 429,
};

/**
 * The dump routes as one `fetch`-style function: Request in, Response out, no framework. Mount it
 * in a Durable Object's `fetch` (the engine lives there) under any path:
 *
 * | route | answer |
 * |---|---|
 * | `POST {base}/dumps` | body: {@link StartOptions} as JSON (may be empty). 202, the job's {@link DumpStatus}, `Location` of the job |
 * | `GET {base}/dumps?limit=&after=` | 200 `{ dumps: DumpStatus[], next }`, oldest first: at most `limit` jobs (default 100, at most 1,000) created after the job `after`; `next` is the `after` of the next page, null on the last |
 * | `GET {base}/dumps/:id` | 200 DumpStatus; 404 for an unknown id |
 * | `DELETE {base}/dumps/:id` | aborts a queued or running job; 200 DumpStatus (a finished job is left as is) |
 * | `GET`/`HEAD {base}/dumps/:id/download` | streams the completed object: `Content-Type`, `Content-Disposition`, `ETag`, `Range` (206, 416), `If-None-Match` (304); 409 until the job completed |
 * | `GET {base}/dumps/:id/download?table=T` | formats with one object per table: that table's object. Without `table`, 300 with `{ outputs: [{ table, bytes, href }] }` (and `{ kv: true, bytes, href }`) |
 * | `GET {base}/dumps/:id/download?kv` | the key-value object of a job started with `kv: true` (also served without `kv` when the job wrote nothing else) |
 *
 * Errors are JSON `{ error: { code, message } }`: 400 for a bad body, query or refused options (the
 * {@link DumpError} code, e.g. `INVALID_OPTIONS`, `UNKNOWN_FORMAT`, `UNKNOWN_TABLE`), 401 unless
 * `authorize` says `true`, 404 for unknown paths and jobs, 405 (with `Allow`) for other methods,
 * 413 for a body over `maxBodyBytes`, 415 for a body that is not JSON.
 * Other errors (storage, R2) are thrown to the caller, so that the host logs them its own way.
 *
 * @example
 * export class Tenant extends DurableObject<Env> {
 *   readonly dumps = new DumpEngine({ sql: this.ctx.storage.sql, bucket: this.env.DUMPS, storage: this.ctx.storage });
 *   readonly http = createDumpHandler({ engine: this.dumps, bucket: this.env.DUMPS, authorize: bearerAuth(this.env.DUMPS_TOKEN) });
 *   async fetch(request: Request) { return this.http(request); }
 *   async alarm() { await this.dumps.tick(); }
 * }
 */
export function createDumpHandler(options: DumpHandlerOptions): (request: Request) => Promise<Response> {
  if (typeof options !== "object" || options === null) throw new DumpError("INVALID_OPTIONS", "createDumpHandler takes { engine, bucket, authorize }.");
  const { engine, bucket, basePath = "" } = options;
  if (typeof engine !== "object" || engine === null || (["start", "status", "abort", "list"] as const).some((m) => typeof engine[m] !== "function")) {
    throw new DumpError("INVALID_OPTIONS", "createDumpHandler needs engine: the DumpEngine of this object.");
  }
  if (typeof bucket !== "object" || bucket === null || typeof bucket.head !== "function" || typeof bucket.get !== "function") {
    throw new DumpError("INVALID_OPTIONS", "createDumpHandler needs bucket: the R2Bucket the engine writes to.");
  }
  const base = typeof basePath === "string" ? basePath.replace(/\/+$/, "") : null;
  if (base === null || (base !== "" && !base.startsWith("/")))
    throw new DumpError("INVALID_OPTIONS", `basePath ${JSON.stringify(basePath)} must be a path that starts with "/", e.g. "/admin".`);
  if (typeof options.authorize !== "function") {
    throw new DumpError(
      "INVALID_OPTIONS",
      "createDumpHandler needs authorize: pass bearerAuth(secret), your own check, or () => true behind another auth layer.",
    );
  }
  const maxBodyBytes = integerIn("maxBodyBytes", options.maxBodyBytes, BODY_LIMIT);
  const collection = `${base}/dumps`;

  return async (request) => {
    const url = new URL(request.url);
    const rest = url.pathname === collection ? "" : url.pathname.startsWith(collection + "/") ? url.pathname.slice(collection.length + 1) : null;
    if (rest === null) return error(404, "NOT_FOUND", `No route for ${url.pathname}; the dump routes live under ${collection}.`);
    // Only `true` authorizes: a hook that returns a Response or the string "false" by mistake must not open the routes.
    if ((await options.authorize(request)) !== true) {
      return error(401, "UNAUTHORIZED", "Missing or wrong credentials.", { "www-authenticate": 'Bearer realm="durable-dump"' });
    }
    const segments = rest === "" ? [] : rest.split("/");
    const id = segments[0] === undefined ? undefined : safeDecode(segments[0]);
    const method = request.method;
    try {
      if (segments.length === 0) {
        if (method === "POST") return await start(request, collection, options.engine, maxBodyBytes);
        if (method === "GET" || method === "HEAD") return await list(url, options.engine);
        return notAllowed("GET, HEAD, POST");
      }
      if (id === undefined || id === null || id === "" || segments.length > 2 || (segments.length === 2 && segments[1] !== "download")) {
        return error(404, "NOT_FOUND", `No route for ${url.pathname}.`);
      }
      if (segments.length === 1) {
        if (method === "GET" || method === "HEAD") return found(await options.engine.status(id), id);
        if (method === "DELETE") return found(await options.engine.abort(id), id);
        return notAllowed("DELETE, GET, HEAD");
      }
      if (method !== "GET" && method !== "HEAD") return notAllowed("GET, HEAD");
      return await download(request, url, `${collection}/${segments[0]}/download`, options, id);
    } catch (e) {
      if (e instanceof DumpError && STATUS_OF[e.code] !== undefined) return error(STATUS_OF[e.code]!, e.code, e.message);
      throw e;
    }
  };
}

async function start(request: Request, collection: string, engine: DumpHttpEngine, maxBodyBytes: number): Promise<Response> {
  const type = request.headers.get("content-type");
  if (type !== null && !/^application\/(.+\+)?json\b/i.test(type)) {
    return error(415, "UNSUPPORTED_MEDIA_TYPE", `Send the options as application/json, not ${type}.`);
  }
  const read = await readJsonBody(request, maxBodyBytes);
  if (!read.ok) return read.reason === "too-large" ? error(413, "PAYLOAD_TOO_LARGE", read.message) : error(400, "INVALID_JSON", read.message);
  const body = read.value;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return error(400, "INVALID_OPTIONS", 'The body must be a JSON object of start options, e.g. {"format":"sql"}.');
  }
  const status = await engine.start(body as StartOptions);
  return json(status, 202, { location: `${collection}/${encodeURIComponent(status.id)}` });
}

/** A page of jobs: `?limit=` (1 to 1,000, default 100) jobs created after `?after=`, and the cursor of the next page. */
async function list(url: URL, engine: DumpHttpEngine): Promise<Response> {
  const param = url.searchParams.get("limit");
  const limit = param === null ? LIST_DEFAULT : /^\d{1,4}$/.test(param) ? Number(param) : Number.NaN;
  if (!(limit >= 1 && limit <= LIST_MAX)) {
    return error(400, "INVALID_REQUEST", `limit must be an integer from 1 to ${LIST_MAX}; got ${JSON.stringify(param)}.`);
  }
  const after = url.searchParams.get("after") ?? undefined;
  const dumps = await engine.list({ limit, after });
  const last = dumps[dumps.length - 1];
  // A full page may be the last one: look one job further before handing out a cursor.
  const more = last !== undefined && dumps.length === limit && (await engine.list({ limit: 1, after: last.id })).length > 0;
  return json({ dumps, next: more ? last.id : null });
}

async function download(request: Request, url: URL, href: string, options: DumpHandlerOptions, id: string): Promise<Response> {
  const status = await options.engine.status(id);
  if (!status) return notFoundJob(id);
  if (status.state !== "completed") {
    return error(409, "NOT_COMPLETED", `Job ${id} is ${status.state}; only a completed job can be downloaded. Poll GET ${href.replace(/\/download$/, "")}.`);
  }
  const table = url.searchParams.get("table");
  const kvOutput = status.outputs.find((o) => o.kv);
  const tableOutputs = status.outputs.filter((o) => !o.kv);
  const perTable = tableOutputs.some((o) => o.table !== undefined);
  let output: DumpOutput | undefined;
  if (url.searchParams.has("kv")) {
    if (table !== null) return error(400, "INVALID_REQUEST", "Ask for a table's object or for the key-value object, not both.");
    if (!kvOutput) return error(404, "NOT_FOUND", `Job ${id} wrote no key-value object (start it with kv: true).`);
    output = kvOutput;
  } else if (tableOutputs.length === 0 && kvOutput) {
    output = kvOutput;
  } else if (!perTable) {
    if (table !== null) return error(400, "INVALID_REQUEST", `Job ${id} wrote one object for all tables; drop the table parameter.`);
    output = tableOutputs[0];
  } else if (table === null) {
    const outputs: { table?: string; kv?: true; bytes: number; href: string }[] = tableOutputs.map((o) => ({
      table: o.table,
      bytes: o.bytes,
      href: `${href}?table=${encodeURIComponent(o.table ?? "")}`,
    }));
    if (kvOutput) outputs.push({ kv: true, bytes: kvOutput.bytes, href: `${href}?kv` });
    return json({ outputs }, 300);
  } else {
    output = tableOutputs.find((o) => o.table === table);
    if (!output) return error(404, "NOT_FOUND", `Job ${id} has no object for table ${JSON.stringify(table)}.`);
  }
  if (!output) return error(404, "NOT_FOUND", `Job ${id} wrote no object.`);
  return serveObject(options.bucket, output.key, filename(status, output), request);
}

/** `<job id>.<ext>` or `<job id>-<table>.<ext>`, from the object's key. */
function filename(status: DumpStatus, output: DumpOutput): string {
  const last = output.key.slice(output.key.lastIndexOf("/") + 1);
  const stem = output.table === undefined ? status.id : encodeURIComponent(output.table);
  const extension = last.startsWith(stem) ? last.slice(stem.length) : last.slice(Math.max(0, last.lastIndexOf(".")));
  return output.table === undefined ? `${status.id}${extension}` : `${status.id}-${output.table}${extension}`;
}

function found(status: DumpStatus | null, id: string): Response {
  return status ? json(status) : notFoundJob(id);
}

function notFoundJob(id: string): Response {
  return error(404, "JOB_NOT_FOUND", `No job ${JSON.stringify(id)} in this object; GET the collection to list the jobs.`);
}

function notAllowed(allow: string): Response {
  return error(405, "METHOD_NOT_ALLOWED", `Allowed here: ${allow}.`, { allow });
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers } });
}

function error(status: number, code: DumpErrorCode | DumpHttpErrorCode, message: string, headers: Record<string, string> = {}): Response {
  return json({ error: { code, message } }, status, headers);
}
