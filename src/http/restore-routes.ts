/** The restore routes under `{base}/restores`: start, list, status, abort. */
import type { RestoreEngine } from "../restore/restore-engine.js";
import type { RestoreStartOptions } from "../restore/types.js";
import { error, found, json, listPage, notAllowed, readJsonObject } from "./responses.js";

/** The restore engine methods the HTTP routes call; a {@link RestoreEngine} satisfies it. */
export type RestoreHttpEngine = Pick<RestoreEngine, "start" | "status" | "abort" | "list">;

/** Answers a request to `collection` (`{base}/restores`) or below it; `segments` are the decoded path segments after it. */
export async function restoreRoutes(
  request: Request,
  url: URL,
  collection: string,
  segments: string[],
  deps: { engine: RestoreHttpEngine; authorize: (key: string, request: Request) => boolean | Promise<boolean>; maxBodyBytes: number },
): Promise<Response> {
  const method = request.method;
  if (segments.length === 0) {
    if (method === "GET" || method === "HEAD") return listPage(url, "restores", (options) => deps.engine.list(options));
    if (method !== "POST") return notAllowed("GET, HEAD, POST");
    const body = await readJsonObject(request, deps.maxBodyBytes, '{"key":"durable-dump/<id>.sql"}');
    if (body instanceof Response) return body;
    // A key that is not a string is the engine's to refuse (INVALID_OPTIONS).
    if (typeof body.key === "string" && (await deps.authorize(body.key, request)) !== true) {
      return error(403, "FORBIDDEN", `This object may not restore from ${JSON.stringify(body.key)}.`);
    }
    const status = await deps.engine.start(body as unknown as RestoreStartOptions);
    return json(status, 202, { location: `${collection}/${encodeURIComponent(status.id)}` });
  }
  const id = segments[0]!;
  if (segments.length > 1) return error(404, "NOT_FOUND", `No route for ${url.pathname}.`);
  if (method === "GET" || method === "HEAD") return found(await deps.engine.status(id), id);
  if (method === "DELETE") return found(await deps.engine.abort(id), id);
  return notAllowed("DELETE, GET, HEAD");
}
