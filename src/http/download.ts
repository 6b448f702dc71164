/** A byte range resolved against an object's size: `offset` and `length` both within it. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * Parses a `Range` header against an object of `size` bytes (RFC 9110 §14). Returns null when the
 * whole object should be sent (no header, another unit, several ranges, or a malformed value,
 * all of which a server may ignore), `"unsatisfiable"` for a well-formed range that lies outside
 * the object (answer 416), else the one range.
 */
export function parseRange(header: string | null, size: number): ByteRange | "unsatisfiable" | null {
  if (header === null) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const first = Number(m[1]);
  if (m[2] !== "" && Number(m[2]) < first) return null;
  if (first >= size) return "unsatisfiable";
  const last = m[2] === "" ? size - 1 : Number(m[2]);
  return { offset: first, length: Math.min(last, size - 1) - first + 1 };
}

/** Whether an `If-None-Match` header matches the (quoted) entity tag, by weak comparison. */
export function noneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === "*") return true;
  const strip = (t: string) => t.trim().replace(/^W\//, "");
  return header.split(",").some((t) => strip(t) === strip(etag));
}

/** Whether an `If-Range` header still allows a partial answer: absent, or the same strong tag. */
function ifRangeHolds(header: string | null, etag: string): boolean {
  return header === null || (!header.trim().startsWith("W/") && header.trim() === etag);
}

/** `attachment` with an ASCII fallback name and the exact name in RFC 8187 form. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}

/**
 * Answers a GET or HEAD for one R2 object: 200 with the whole object, 206 with one range, 416
 * for a range outside it, 304 when `If-None-Match` matches, 410 when the object is gone.
 * Compressed objects are served as stored (`application/gzip`, no `Content-Encoding`), so that
 * the download is the file in R2 byte for byte and ranges address those bytes.
 */
export async function serveObject(bucket: R2Bucket, key: string, filename: string, request: Request): Promise<Response> {
  const head = await bucket.head(key);
  if (!head) return gone(key);
  const etag = head.httpEtag;
  const gzip = /gzip/i.test(head.httpMetadata?.contentEncoding ?? "");
  const headers = new Headers({
    "content-type": gzip ? "application/gzip" : (head.httpMetadata?.contentType ?? "application/octet-stream"),
    "content-disposition": contentDisposition(filename),
    etag,
    "accept-ranges": "bytes",
    "cache-control": "private, no-cache",
    "last-modified": head.uploaded.toUTCString(),
  });
  if (noneMatch(request.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });

  const size = head.size;
  const range = ifRangeHolds(request.headers.get("if-range"), etag) ? parseRange(request.headers.get("range"), size) : null;
  if (range === "unsatisfiable") {
    headers.set("content-range", `bytes */${size}`);
    headers.delete("content-disposition");
    headers.set("content-type", "application/json");
    const body = JSON.stringify({ error: { code: "RANGE_NOT_SATISFIABLE", message: `The object has ${size} bytes.` } });
    return new Response(body, { status: 416, headers });
  }
  const length = range ? range.length : size;
  headers.set("content-length", String(length));
  if (range) headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${size}`);
  const status = range ? 206 : 200;
  if (request.method === "HEAD") return new Response(null, { status, headers });

  // The etag condition guards against the object changing between head() and get().
  const object = await bucket.get(key, {
    onlyIf: { etagMatches: head.etag },
    ...(range && range.length > 0 ? { range } : {}),
  });
  if (!object) return gone(key);
  if (!("body" in object) || !object.body) {
    return Response.json(
      { error: { code: "OUTPUT_CHANGED", message: "The object changed while it was read; retry." } },
      { status: 503, headers: { "retry-after": "1" } },
    );
  }
  return new Response(object.body, { status, headers });
}

function gone(key: string): Response {
  const message = `R2 no longer holds ${key}: it was deleted outside durable-dump.`;
  return Response.json({ error: { code: "OUTPUT_MISSING", message } }, { status: 410 });
}
