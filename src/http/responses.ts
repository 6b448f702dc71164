/** The JSON answers of the HTTP routes: bodies, errors and their statuses. */
import { DumpError, type DumpErrorCode } from "../errors.js";
import { readJsonBody } from "./body.js";

/** Error codes the HTTP routes add to the {@link DumpErrorCode}s. */
export type DumpHttpErrorCode =
  | "UNAUTHORIZED"
  | "FORBIDDEN"
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

/** HTTP status of each DumpError code the routes can meet; the rest are thrown to the host. */
const STATUS_OF: Partial<Record<DumpErrorCode, number>> = {
  INVALID_OPTIONS: 400,
  UNKNOWN_FORMAT: 400,
  UNKNOWN_TABLE: 400,
  RESERVED_TABLE: 400,
  UNSUPPORTED_TABLE: 400,
  UNSUPPORTED_SCHEMA: 400,
  INVALID_ARGUMENT: 400,
  INVALID_MANIFEST: 400,
  NOT_A_DUMP: 400,
  JOB_NOT_FOUND: 404,
  SOURCE_NOT_FOUND: 404,
  OUTPUT_EXISTS: 409,
  JOB_ACTIVE: 409,
  TARGET_NOT_EMPTY: 409,
  SOURCE_CHANGED: 409,
  TOO_MANY_JOBS: 429,
};

/** The answer to a refused request, or null for an error that is not the caller's (storage, R2): the host gets those. */
export function refusal(e: unknown): Response | null {
  if (e instanceof DumpError && STATUS_OF[e.code] !== undefined) return error(STATUS_OF[e.code]!, e.code, e.message);
  return null;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers } });
}

export function error(status: number, code: DumpErrorCode | DumpHttpErrorCode, message: string, headers: Record<string, string> = {}): Response {
  return json({ error: { code, message } }, status, headers);
}

export function notAllowed(allow: string): Response {
  return error(405, "METHOD_NOT_ALLOWED", `Allowed here: ${allow}.`, { allow });
}

/** A job's status, or 404 `JOB_NOT_FOUND`. */
export function found(status: unknown, id: string): Response {
  return status ? json(status) : notFoundJob(id);
}

export function notFoundJob(id: string): Response {
  return error(404, "JOB_NOT_FOUND", `No job ${JSON.stringify(id)} in this object; GET the collection to list the jobs.`);
}

/**
 * Reads a JSON object body of at most `maxBytes` bytes, counted as they arrive (an empty body is
 * `{}`): the object, or the answer refusing it (415, 413, 400).
 */
export async function readJsonObject(request: Request, maxBytes: number, example: string): Promise<Record<string, unknown> | Response> {
  const type = request.headers.get("content-type");
  if (type !== null && !/^application\/(.+\+)?json\b/i.test(type)) {
    return error(415, "UNSUPPORTED_MEDIA_TYPE", `Send the options as application/json, not ${type}.`);
  }
  const read = await readJsonBody(request, maxBytes);
  if (!read.ok) return read.reason === "too-large" ? error(413, "PAYLOAD_TOO_LARGE", read.message) : error(400, "INVALID_JSON", read.message);
  const body = read.value;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return error(400, "INVALID_OPTIONS", `The body must be a JSON object of start options, e.g. ${example}.`);
  }
  return body as Record<string, unknown>;
}

/** Page size of a list route: the default and the largest, as the engines' `list()` takes them. */
const LIST_DEFAULT = 100;
const LIST_MAX = 1_000;

/**
 * A page of jobs for a list route: `?limit=` (1 to 1,000, default 100) jobs created after
 * `?after=`, as `{ [name]: jobs, next }`, where `next` is the cursor of the next page or null.
 */
export async function listPage<S extends { id: string }>(
  url: URL,
  name: string,
  list: (options: { limit: number; after?: string }) => Promise<S[]>,
): Promise<Response> {
  const param = url.searchParams.get("limit");
  const limit = param === null ? LIST_DEFAULT : /^\d{1,4}$/.test(param) ? Number(param) : Number.NaN;
  if (!(limit >= 1 && limit <= LIST_MAX)) {
    return error(400, "INVALID_REQUEST", `limit must be an integer from 1 to ${LIST_MAX}; got ${JSON.stringify(param)}.`);
  }
  const after = url.searchParams.get("after") ?? undefined;
  const jobs = await list({ limit, ...(after === undefined ? {} : { after }) });
  const last = jobs[jobs.length - 1];
  // A full page may be the last one: look one job further before handing out a cursor.
  const more = last !== undefined && jobs.length === limit && (await list({ limit: 1, after: last.id })).length > 0;
  return json({ [name]: jobs, next: more ? last.id : null });
}
