/** The JSON answers of the HTTP routes: bodies, errors and their statuses. */
import { DumpError, type DumpErrorCode } from "../errors.js";

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

/** HTTP status of each DumpError code the routes can meet; the rest are thrown to the host. */
const STATUS_OF: Partial<Record<DumpErrorCode, number>> = {
  INVALID_OPTIONS: 400,
  UNKNOWN_FORMAT: 400,
  UNKNOWN_TABLE: 400,
  RESERVED_TABLE: 400,
  UNSUPPORTED_TABLE: 400,
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
 * Reads a JSON object body of at most `maxBytes` bytes (an empty body is `{}`): the object, or
 * the answer refusing it (415, 413, 400).
 */
export async function readJsonObject(request: Request, maxBytes: number, example: string): Promise<Record<string, unknown> | Response> {
  const type = request.headers.get("content-type");
  if (type !== null && !/^application\/(.+\+)?json\b/i.test(type)) {
    return error(415, "UNSUPPORTED_MEDIA_TYPE", `Send the options as application/json, not ${type}.`);
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return error(413, "PAYLOAD_TOO_LARGE", `The body may hold at most ${maxBytes} bytes.`);
  const text = await request.text();
  if (text.length > maxBytes) return error(413, "PAYLOAD_TOO_LARGE", `The body may hold at most ${maxBytes} bytes.`);
  let body: unknown = {};
  if (text.trim() !== "") {
    try {
      body = JSON.parse(text);
    } catch (e) {
      return error(400, "INVALID_JSON", `The body is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return error(400, "INVALID_OPTIONS", `The body must be a JSON object of start options, e.g. ${example}.`);
  }
  return body as Record<string, unknown>;
}
