/** The export routes under `{base}/dumps`: start, list, status, abort, download. */
import type { DumpEngine } from "../export/dump-engine.js";
import type { DumpOutput, DumpStatus, StartOptions } from "../export/types.js";
import { serveObject } from "./download.js";
import { error, found, json, listPage, notAllowed, notFoundJob, readJsonObject } from "./responses.js";

/** The engine methods the HTTP routes call; a {@link DumpEngine} satisfies it. */
export type DumpHttpEngine = Pick<DumpEngine, "start" | "status" | "abort" | "list">;

/** What the export routes need. */
export interface DumpRouteDeps {
  engine: DumpHttpEngine;
  bucket: R2Bucket;
  maxBodyBytes: number;
}

/**
 * Answers a request to `collection` (`{base}/dumps`) or below it; `segments` are the decoded path
 * segments after the collection (`[]`, `[id]` or `[id, "download"]`).
 */
export async function dumpRoutes(request: Request, url: URL, collection: string, segments: string[], deps: DumpRouteDeps): Promise<Response> {
  const method = request.method;
  if (segments.length === 0) {
    if (method === "POST") return start(request, collection, deps);
    if (method === "GET" || method === "HEAD") return listPage(url, "dumps", (options) => deps.engine.list(options));
    return notAllowed("GET, HEAD, POST");
  }
  const id = segments[0]!;
  if (segments.length > 2 || (segments.length === 2 && segments[1] !== "download")) return error(404, "NOT_FOUND", `No route for ${url.pathname}.`);
  if (segments.length === 1) {
    if (method === "GET" || method === "HEAD") return found(await deps.engine.status(id), id);
    if (method === "DELETE") return found(await deps.engine.abort(id), id);
    return notAllowed("DELETE, GET, HEAD");
  }
  if (method !== "GET" && method !== "HEAD") return notAllowed("GET, HEAD");
  return download(request, url, `${collection}/${encodeURIComponent(id)}/download`, deps, id);
}

async function start(request: Request, collection: string, deps: DumpRouteDeps): Promise<Response> {
  const body = await readJsonObject(request, deps.maxBodyBytes, '{"format":"sql"}');
  if (body instanceof Response) return body;
  const status = await deps.engine.start(body as StartOptions);
  return json(status, 202, { location: `${collection}/${encodeURIComponent(status.id)}` });
}

async function download(request: Request, url: URL, href: string, deps: DumpRouteDeps, id: string): Promise<Response> {
  const status = await deps.engine.status(id);
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
  return serveObject(deps.bucket, output.key, filename(status, output), request);
}

/** `<job id>.<ext>` or `<job id>-<table>.<ext>`, from the object's key. */
function filename(status: DumpStatus, output: DumpOutput): string {
  const last = output.key.slice(output.key.lastIndexOf("/") + 1);
  const stem = output.table === undefined ? status.id : encodeURIComponent(output.table);
  const extension = last.startsWith(stem) ? last.slice(stem.length) : last.slice(Math.max(0, last.lastIndexOf(".")));
  return output.table === undefined ? `${status.id}${extension}` : `${status.id}-${output.table}${extension}`;
}
