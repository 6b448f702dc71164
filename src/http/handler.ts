import { DumpError } from "../errors.js";
import { integerIn } from "../jobs/engine-options.js";
import { BODY_LIMIT } from "./body.js";
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
   * With `restores`, required: whether this request may restore from R2 key `key` (only `true`
   * allows; anything else answers 403 `FORBIDDEN`). A restore reads whatever key it is given, so
   * this is where a host keeps one tenant from restoring another's dump, e.g.
   * `(key) => key.startsWith(myPrefix)`. With a dump's key, the restore also reads the key-value
   * file the dump's manifest names: an object of the same export (the manifest must list `key`).
   */
  authorizeRestore?: (key: string, request: Request) => boolean | Promise<boolean>;
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
   * Largest accepted `POST` body in bytes, counted as they arrive (a body without
   * `Content-Length` is read only up to this). Default 65,536; an integer from 0 to 1,048,576.
   */
  maxBodyBytes?: number;
}

/**
 * The dump (and restore) routes as one `fetch`-style function: Request in, Response out, no
 * framework. Mount it in a Durable Object's `fetch` (the engines live there) under any path:
 *
 * | route | answer |
 * |---|---|
 * | `POST {base}/dumps` | body: {@link StartOptions} as JSON (may be empty). 202, the job's {@link DumpStatus}, `Location` of the job |
 * | `GET {base}/dumps?limit=&after=` | 200 `{ dumps: DumpStatus[], next }`, oldest first, a page of `limit` (default 100, at most 1,000) jobs after the job `after`; `next` is the next page's `after`, or null |
 * | `GET {base}/dumps/:id` | 200 DumpStatus; 404 for an unknown id |
 * | `DELETE {base}/dumps/:id` | aborts a queued or running job; 200 DumpStatus (a finished job is left as is) |
 * | `GET`/`HEAD {base}/dumps/:id/download` | streams the completed object: `Content-Type`, `Content-Disposition`, `ETag`, `Range` (206, 416), `If-None-Match` (304); 409 until the job completed |
 * | `GET {base}/dumps/:id/download?table=T` | formats with one object per table: that table's object. Without `table`, 300 with `{ outputs: [{ table, bytes, href }] }` (and `{ kv: true, bytes, href }`) |
 * | `GET {base}/dumps/:id/download?kv` | the key-value object of a job started with `kv: true` (also served without `kv` when the job wrote nothing else) |
 * | `POST {base}/restores` | with `restores`: body {@link RestoreStartOptions} as JSON (`{ key }` at least). 202, the restore's {@link RestoreStatus}, `Location` |
 * | `GET {base}/restores?limit=&after=`, `GET`/`DELETE {base}/restores/:id` | `{ restores: RestoreStatus[], next }`, paged as the dumps; a restore's status; aborting one |
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
  if (typeof options !== "object" || options === null) throw new DumpError("INVALID_OPTIONS", "createDumpHandler takes { engine, bucket, authorize }.");
  const { engine, bucket, basePath = "" } = options;
  const methods = ["start", "status", "abort", "list"] as const;
  if (typeof engine !== "object" || engine === null || methods.some((m) => typeof engine[m] !== "function")) {
    throw new DumpError("INVALID_OPTIONS", "createDumpHandler needs engine: the DumpEngine of this object.");
  }
  const restoreEngine = options.restores;
  if (
    restoreEngine !== undefined &&
    (typeof restoreEngine !== "object" || restoreEngine === null || methods.some((m) => typeof restoreEngine[m] !== "function"))
  ) {
    throw new DumpError("INVALID_OPTIONS", "createDumpHandler's restores must be the RestoreEngine of this object.");
  }
  if (restoreEngine !== undefined && typeof options.authorizeRestore !== "function") {
    throw new DumpError(
      "INVALID_OPTIONS",
      "createDumpHandler's restores need authorizeRestore(key, request): which R2 keys this object may restore from (a restore reads whatever key it is given).",
    );
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
  const dumps = `${base}/dumps`;
  const restores = `${base}/restores`;

  return async (request) => {
    const url = new URL(request.url);
    const collection = [dumps, ...(restoreEngine ? [restores] : [])].find((c) => url.pathname === c || url.pathname.startsWith(`${c}/`));
    if (collection === undefined) {
      return error(404, "NOT_FOUND", `No route for ${url.pathname}; the routes live under ${dumps}${restoreEngine ? ` and ${restores}` : ""}.`);
    }
    // Only `true` authorizes: a hook that returns a Response or the string "false" by mistake must not open the routes.
    if ((await options.authorize(request)) !== true) {
      return error(401, "UNAUTHORIZED", "Missing or wrong credentials.", { "www-authenticate": 'Bearer realm="durable-dump"' });
    }
    const rest = url.pathname.slice(collection.length + 1);
    const segments = rest === "" ? [] : rest.split("/").map(safeDecode);
    if (segments.some((s) => s === null || s === "")) return error(404, "NOT_FOUND", `No route for ${url.pathname}.`);
    try {
      if (collection === dumps) return await dumpRoutes(request, url, collection, segments as string[], { engine, bucket, maxBodyBytes });
      return await restoreRoutes(request, url, collection, segments as string[], {
        engine: restoreEngine!,
        authorize: options.authorizeRestore!,
        maxBodyBytes,
      });
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
