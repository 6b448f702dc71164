import { DumpError, type DumpErrorCode } from "../errors.js";
import type { DumpEngine } from "../export/dump-engine.js";
import type { DumpOutput, DumpStatus, StartOptions } from "../export/types.js";
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
   * Decides whether a request may use the routes; `false` answers 401. Called once per request
   * that targets the routes, before anything else is read. Required on purpose: pass
   * {@link bearerAuth}, your own check, or `() => true` when an outer layer already authenticated.
   */
  authorize: (request: Request) => boolean | Promise<boolean>;
  /** Path the routes are mounted under, e.g. `"/admin"` for `/admin/dumps`. Default `""`. */
  basePath?: string;
  /** Largest accepted `POST /dumps` body in bytes. Default 65,536. */
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
 * | `GET {base}/dumps` | 200 `{ dumps: DumpStatus[] }`, oldest first |
 * | `GET {base}/dumps/:id` | 200 DumpStatus; 404 for an unknown id |
 * | `DELETE {base}/dumps/:id` | aborts a queued or running job; 200 DumpStatus (a finished job is left as is) |
 * | `GET`/`HEAD {base}/dumps/:id/download` | streams the completed object: `Content-Type`, `Content-Disposition`, `ETag`, `Range` (206, 416), `If-None-Match` (304); 409 until the job completed |
 * | `GET {base}/dumps/:id/download?table=T` | formats with one object per table: that table's object. Without `table`, 300 with `{ outputs: [{ table, bytes, href }] }` |
 *
 * Errors are JSON `{ error: { code, message } }`: 400 for a bad body or refused options (the
 * {@link DumpError} code, e.g. `INVALID_OPTIONS`, `UNKNOWN_FORMAT`, `UNKNOWN_TABLE`), 401 when
 * `authorize` says no, 404 for unknown paths and jobs, 405 (with `Allow`) for other methods.
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
  const base = (options.basePath ?? "").replace(/\/+$/, "");
  if (base !== "" && !base.startsWith("/"))
    throw new DumpError("INVALID_OPTIONS", `basePath ${JSON.stringify(options.basePath)} must start with "/", e.g. "/admin".`);
  if (typeof options.authorize !== "function") {
    throw new DumpError(
      "INVALID_OPTIONS",
      "createDumpHandler needs authorize: pass bearerAuth(secret), your own check, or () => true behind another auth layer.",
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? 65_536;
  const collection = `${base}/dumps`;

  return async (request) => {
    const url = new URL(request.url);
    const rest = url.pathname === collection ? "" : url.pathname.startsWith(collection + "/") ? url.pathname.slice(collection.length + 1) : null;
    if (rest === null) return error(404, "NOT_FOUND", `No route for ${url.pathname}; the dump routes live under ${collection}.`);
    if (!(await options.authorize(request))) {
      return error(401, "UNAUTHORIZED", "Missing or wrong credentials.", { "www-authenticate": 'Bearer realm="durable-dump"' });
    }
    const segments = rest === "" ? [] : rest.split("/");
    const id = segments[0] === undefined ? undefined : safeDecode(segments[0]);
    const method = request.method;
    try {
      if (segments.length === 0) {
        if (method === "POST") return await start(request, collection, options.engine, maxBodyBytes);
        if (method === "GET" || method === "HEAD") return json({ dumps: await options.engine.list() });
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
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBodyBytes) return error(413, "PAYLOAD_TOO_LARGE", `The body may hold at most ${maxBodyBytes} bytes.`);
  const text = await request.text();
  if (text.length > maxBodyBytes) return error(413, "PAYLOAD_TOO_LARGE", `The body may hold at most ${maxBodyBytes} bytes.`);
  let body: unknown = {};
  if (text.trim() !== "") {
    try {
      body = JSON.parse(text);
    } catch (e) {
      return error(400, "INVALID_JSON", `The body is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return error(400, "INVALID_OPTIONS", 'The body must be a JSON object of start options, e.g. {"format":"sql"}.');
  }
  const status = await engine.start(body as StartOptions);
  return json(status, 202, { location: `${collection}/${encodeURIComponent(status.id)}` });
}

async function download(request: Request, url: URL, href: string, options: DumpHandlerOptions, id: string): Promise<Response> {
  const status = await options.engine.status(id);
  if (!status) return notFoundJob(id);
  if (status.state !== "completed") {
    return error(409, "NOT_COMPLETED", `Job ${id} is ${status.state}; only a completed job can be downloaded. Poll GET ${href.replace(/\/download$/, "")}.`);
  }
  const table = url.searchParams.get("table");
  const perTable = status.outputs.some((o) => o.table !== undefined);
  let output: DumpOutput | undefined;
  if (!perTable) {
    if (table !== null) return error(400, "INVALID_REQUEST", `Job ${id} wrote one object for all tables; drop the table parameter.`);
    output = status.outputs[0];
  } else if (table === null) {
    const outputs = status.outputs.map((o) => ({ table: o.table, bytes: o.bytes, href: `${href}?table=${encodeURIComponent(o.table ?? "")}` }));
    return json({ outputs }, 300);
  } else {
    output = status.outputs.find((o) => o.table === table);
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
