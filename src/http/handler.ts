import { DumpError } from "../errors.js";
import { type DumpHttpEngine, dumpRoutes } from "./dump-routes.js";
import { type RestoreHttpEngine, restoreRoutes } from "./restore-routes.js";
import { error, refusal } from "./responses.js";

/** Options of {@link createDumpHandler}. */
export interface DumpHandlerOptions {
  /** The export engine of this Durable Object. */
  engine: DumpHttpEngine;
  /** The bucket the engine writes to; downloads are read from it. */
  bucket: R2Bucket;
  /**
   * The restore engine of this Durable Object: with it, the `{base}/restores` routes exist. The
   * key a restore reads may be any key of its bucket: authorize accordingly.
   */
  restores?: RestoreHttpEngine;
  /**
   * Decides whether a request may use the routes; `false` answers 401. Called once per request
   * that targets the routes, before anything else is read. Required on purpose: pass
   * {@link bearerAuth}, your own check, or `() => true` when an outer layer already authenticated.
   */
  authorize: (request: Request) => boolean | Promise<boolean>;
  /** Path the routes are mounted under, e.g. `"/admin"` for `/admin/dumps`. Default `""`. */
  basePath?: string;
  /** Largest accepted `POST` body in bytes. Default 65,536. */
  maxBodyBytes?: number;
}

/**
 * The dump (and restore) routes as one `fetch`-style function: Request in, Response out, no
 * framework. Mount it in a Durable Object's `fetch` (the engines live there) under any path:
 *
 * | route | answer |
 * |---|---|
 * | `POST {base}/dumps` | body: {@link StartOptions} as JSON (may be empty). 202, the job's {@link DumpStatus}, `Location` of the job |
 * | `GET {base}/dumps` | 200 `{ dumps: DumpStatus[] }`, oldest first |
 * | `GET {base}/dumps/:id` | 200 DumpStatus; 404 for an unknown id |
 * | `DELETE {base}/dumps/:id` | aborts a queued or running job; 200 DumpStatus (a finished job is left as is) |
 * | `GET`/`HEAD {base}/dumps/:id/download` | streams the completed object: `Content-Type`, `Content-Disposition`, `ETag`, `Range` (206, 416), `If-None-Match` (304); 409 until the job completed |
 * | `GET {base}/dumps/:id/download?table=T` | formats with one object per table: that table's object. Without `table`, 300 with `{ outputs: [{ table, bytes, href }] }` |
 * | `POST {base}/restores` | with `restores`: body {@link RestoreStartOptions} as JSON (`{ key }` at least). 202, the restore's {@link RestoreStatus}, `Location` |
 * | `GET {base}/restores`, `GET`/`DELETE {base}/restores/:id` | `{ restores: RestoreStatus[] }`; a restore's status; aborting one |
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
  const dumps = `${base}/dumps`;
  const restores = `${base}/restores`;
  const restoreEngine = options.restores;

  return async (request) => {
    const url = new URL(request.url);
    const collection = [dumps, ...(restoreEngine ? [restores] : [])].find((c) => url.pathname === c || url.pathname.startsWith(`${c}/`));
    if (collection === undefined) {
      return error(404, "NOT_FOUND", `No route for ${url.pathname}; the routes live under ${dumps}${restoreEngine ? ` and ${restores}` : ""}.`);
    }
    if (!(await options.authorize(request))) {
      return error(401, "UNAUTHORIZED", "Missing or wrong credentials.", { "www-authenticate": 'Bearer realm="durable-dump"' });
    }
    const rest = url.pathname.slice(collection.length + 1);
    const segments = rest === "" ? [] : rest.split("/").map(safeDecode);
    if (segments.some((s) => s === null || s === "")) return error(404, "NOT_FOUND", `No route for ${url.pathname}.`);
    try {
      if (collection === dumps)
        return await dumpRoutes(request, url, collection, segments as string[], { engine: options.engine, bucket: options.bucket, maxBodyBytes });
      return await restoreRoutes(request, url, collection, segments as string[], { engine: restoreEngine!, maxBodyBytes });
    } catch (e) {
      const answer = refusal(e);
      if (answer) return answer;
      throw e;
    }
  };
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
